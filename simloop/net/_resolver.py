"""The simulated resolver: what getaddrinfo and getnameinfo answer.

Answers follow glibc's: ``localhost`` is 127.0.0.1, a passive lookup of no
host gives the wildcards, ports wrap modulo 65536, service names come from a
fixed table, and the errors carry glibc's codes and texts. The loop
(`_loop_api.py`) delays each answer by a DNS delivery time.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from ._addresses import (
    UDP_SERVICES,
    SockAddr,
    family_unsupported,
    name_unknown,
    parse_ip,
    service_name,
    service_port,
    sockaddr,
)

if TYPE_CHECKING:
    from ._network import Network

AddrInfo = tuple[int, int, int, str, SockAddr]
PROTOCOLS: dict[int, int] = {
    socket.SOCK_STREAM: socket.IPPROTO_TCP,
    socket.SOCK_DGRAM: socket.IPPROTO_UDP,
}
_EVERY_TYPE = (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW)


def numeric_info(host: object, port: object, family: int, type: int, proto: int) -> AddrInfo | None:
    """The address info of a numeric `host`, which asyncio builds without asking
    the resolver (so the port is not checked here: connect and bind check it)."""
    if not isinstance(host, (str, bytes)) or type not in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        return None
    if isinstance(host, bytes):
        host = host.decode("idna")
    if port is None or port in (b"", ""):
        port = 0
    try:
        number = int(port)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    parsed = parse_ip(host)
    if parsed is None or "%" in host:
        return None
    found_family, ip = parsed
    if family not in (socket.AF_UNSPEC, found_family):
        return None
    proto = proto or PROTOCOLS[type]
    return (
        socket.AddressFamily(found_family),
        socket.SocketKind(type),
        proto,
        "",
        sockaddr(found_family, host if found_family == socket.AF_INET6 else ip, number),
    )


def resolve(
    network: Network, host: object, port: object, family: int, type: int, proto: int, flags: int
) -> list[AddrInfo]:
    """What getaddrinfo answers on `network` (raises what glibc would)."""
    if isinstance(host, bytes):
        host = host.decode("idna")
    if host is not None and not isinstance(host, str):
        raise TypeError(f"getaddrinfo() argument 1 must be string or None, not {host!r}")
    if family not in (socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6):
        raise socket.gaierror(socket.EAI_FAMILY, "ai_family not supported")
    types: tuple[int, ...] = _EVERY_TYPE if type == 0 else (type,)
    number = service_port(port, type)
    if isinstance(port, str) and not port.isdigit() and port:
        # A service name exists for the socket types /etc/services lists.
        types = (
            tuple(
                kind
                for kind in types
                if kind == socket.SOCK_STREAM
                or (kind == socket.SOCK_DGRAM and port.lower() in UDP_SERVICES)
            )
            or types
        )
    if host is None:
        passive = bool(flags & socket.AI_PASSIVE)
        ips = ["0.0.0.0", "::"] if passive else ["::1", "127.0.0.1"]
    else:
        parsed = parse_ip(host)
        if parsed is not None:
            if family not in (socket.AF_UNSPEC, parsed[0]):
                raise family_unsupported()
            ips = [parsed[1] if parsed[0] == socket.AF_INET else host]
        elif flags & socket.AI_NUMERICHOST:
            raise name_unknown()
        else:
            found = network.lookup(host)
            if found is None:
                raise name_unknown()
            ips = found
    canonical = host if host is not None and flags & socket.AI_CANONNAME else ""
    answer: list[AddrInfo] = []
    for ip in ips:
        ip_family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        if family not in (socket.AF_UNSPEC, ip_family):
            continue
        for kind in types:
            answer.append(
                (
                    socket.AddressFamily(ip_family),
                    socket.SocketKind(kind),
                    proto or PROTOCOLS.get(kind, 0),
                    canonical if not answer else "",
                    sockaddr(ip_family, ip, number),
                )
            )
    if not answer:
        raise name_unknown()
    return answer


def name_info(network: Network, address: SockAddr, flags: int) -> tuple[str, str]:
    """What getnameinfo answers for `address` on `network` (raises what glibc would)."""
    if len(address) < 2:
        raise TypeError("getnameinfo() argument 1 must be a tuple")
    ip, port = address[0], address[1]
    parsed = parse_ip(ip)
    if parsed is None:
        raise name_unknown()
    name = None if flags & socket.NI_NUMERICHOST else network.name_of(parsed[1])
    if name is None and flags & socket.NI_NAMEREQD:
        raise name_unknown()
    return name or ip, service_name(int(port) & 0xFFFF, bool(flags & socket.NI_NUMERICSERV))
