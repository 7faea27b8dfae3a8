"""Addresses, ports and the errors the real resolver and socket calls give.

The simulated network speaks the socket module's address forms: ``(ip, port)``
for IPv4 and ``(ip, port, flowinfo, scope_id)`` for IPv6. Errors are the ones
glibc and CPython raise, with the same errno and text, so code that handles
them on a real network handles them here.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
from typing import Any

#: What a socket address looks like: ("10.0.0.2", 6379) or ("::1", 80, 0, 0).
SockAddr = tuple[Any, ...]

IPV4_ANY = "0.0.0.0"
IPV6_ANY = "::"
IPV4_LOOPBACK = "127.0.0.1"
IPV6_LOOPBACK = "::1"
#: The first port Linux hands out for an unbound socket (net.ipv4.ip_local_port_range).
EPHEMERAL_FIRST = 32768
EPHEMERAL_LAST = 60999

# Service names getaddrinfo accepts for a port, and getnameinfo gives back. A
# fixed table rather than the machine's /etc/services, so that a seed reads
# the same on every machine.
SERVICES: dict[str, int] = {
    "ftp": 21,
    "ssh": 22,
    "smtp": 25,
    "domain": 53,
    "http": 80,
    "pop3": 110,
    "imap": 143,
    "https": 443,
    "mysql": 3306,
    "postgresql": 5432,
    "amqp": 5672,
    "redis": 6379,
    "http-alt": 8080,
}
_SERVICE_NAMES = {port: name for name, port in SERVICES.items()}
#: the services above that UDP has too; the others are TCP-only, as in Debian's /etc/services
UDP_SERVICES = frozenset({"domain"})


def parse_ip(text: object) -> tuple[int, str] | None:
    """(family, canonical text) of a numeric IPv4 or IPv6 address, or None."""
    if not isinstance(text, str):
        return None
    if "%" in text:  # an IPv6 scope ("fe80::1%eth0") is kept as given
        head = text.split("%", 1)[0]
        parsed = parse_ip(head)
        return None if parsed is None or parsed[0] != socket.AF_INET6 else parsed
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 4:
        return socket.AF_INET, str(address)
    return socket.AF_INET6, str(address)


def is_loopback(ip: str) -> bool:
    return ip == IPV6_LOOPBACK or ip.startswith("127.")


def is_wildcard(ip: str) -> bool:
    return ip in (IPV4_ANY, IPV6_ANY)


def sockaddr(family: int, ip: str, port: int) -> SockAddr:
    """The socket module's address tuple for `family`."""
    if family == socket.AF_INET6:
        return (ip, port, 0, 0)
    return (ip, port)


def family_of(ip: str) -> int:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def format_address(address: SockAddr) -> str:
    """``10.0.0.2:6379`` or ``[::1]:80``."""
    ip, port = address[0], address[1]
    return f"[{ip}]:{port}" if ":" in str(ip) else f"{ip}:{port}"


def check_port(port: object, call: str) -> int:
    """`port` if a socket call would take it, else the error it raises."""
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"'{type(port).__name__}' object cannot be interpreted as an integer")
    if not 0 <= port <= 0xFFFF:
        raise OverflowError(f"{call}(): port must be 0-65535.")
    return port


def check_sockaddr(address: object, family: int, call: str) -> tuple[str, int]:
    """(ip, port) of a numeric socket address given to `call`, or the error
    `socket.socket.<call>` raises."""
    family_name = "AF_INET6" if family == socket.AF_INET6 else "AF_INET"
    if not isinstance(address, tuple):
        raise TypeError(
            f"{call}(): {family_name} address must be tuple, not {type(address).__name__}"
        )
    if family == socket.AF_INET and len(address) != 2:
        raise TypeError(f"{call}(): AF_INET address must be a pair (host, port)")
    if family == socket.AF_INET6 and not 2 <= len(address) <= 4:
        raise TypeError(
            f"{call}(): AF_INET6 address must be a tuple (host, port[, flowinfo[, scopeid]])"
        )
    host, port = address[0], address[1]
    check_port(port, call)
    if host in ("", None):
        host = IPV6_ANY if family == socket.AF_INET6 else IPV4_ANY
    parsed = parse_ip(host)
    if parsed is None:
        if isinstance(host, str):
            raise name_unknown()
        raise TypeError(f"str, bytes or bytearray expected, not {type(host).__name__}")
    if parsed[0] != family:
        raise family_unsupported()
    return parsed[1], port


def service_port(port: object, socktype: int) -> int:
    """The port getaddrinfo makes of `port` (None, a number, a numeric string
    or a service name); ports wrap modulo 65536, as glibc's do."""
    if port is None:
        return 0
    if isinstance(port, bytes):
        port = port.decode("ascii", "replace")
    if isinstance(port, int) and not isinstance(port, bool):
        if port < 0:
            raise service_unknown()
        return port & 0xFFFF
    if isinstance(port, str):
        if port == "":
            return 0
        if port.isdigit():
            return int(port) & 0xFFFF
        number = SERVICES.get(port.lower())
        if number is not None and socktype != socket.SOCK_RAW:
            return number
        raise service_unknown()
    raise OSError("Int or String expected")


def service_name(port: int, numeric: bool) -> str:
    return str(port) if numeric else _SERVICE_NAMES.get(port, str(port))


def name_unknown() -> socket.gaierror:
    return socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def family_unsupported() -> socket.gaierror:
    code = getattr(socket, "EAI_ADDRFAMILY", -9)
    return socket.gaierror(code, "Address family for hostname not supported")


def service_unknown() -> socket.gaierror:
    return socket.gaierror(socket.EAI_SERVICE, "Servname not supported for ai_socktype")


def os_error(code: int, text: str | None = None) -> OSError:
    """The OSError subclass the kernel's `code` maps to, as CPython builds it."""
    return OSError(code, os.strerror(code) if text is None else text)


def connect_failed(code: int, address: SockAddr) -> OSError:
    """What `loop.sock_connect` raises when the connect fails with `code`."""
    return OSError(code, f"Connect call failed {address}")


def bind_failed(address: SockAddr) -> OSError:
    """What `loop.create_server` raises for a port already in use."""
    return OSError(
        errno.EADDRINUSE,
        f"error while attempting to bind on address {address!r}: address already in use",
    )


def reset_by_peer() -> ConnectionResetError:
    return ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
