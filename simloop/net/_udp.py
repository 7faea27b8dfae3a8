"""UDP: datagrams, each on its own; with faults, lost, duplicated and reordered.

Every datagram gets its own delivery time. On a healthy network the
datagrams from one endpoint to one address arrive in the order sent (each
once); inside a fault episode the strategy may lose or duplicate one
(`Choices.datagram_copies`) and they may overtake each other; a partition
loses them. A datagram to a port nobody has
bound is dropped, and a *connected* sender hears of it (ICMP port
unreachable) as ``error_received(ConnectionRefusedError)``, as on Linux.
"""

from __future__ import annotations

import errno
import logging
import math
import socket
from asyncio import transports
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._addresses import (
    IPV4_ANY,
    IPV6_ANY,
    SockAddr,
    check_sockaddr,
    format_address,
    is_wildcard,
    os_error,
    sockaddr,
)
from ._states import PARTITIONED

if TYPE_CHECKING:
    import asyncio

    from ._network import Host, Network
    from ._socket import SimSocket

logger = logging.getLogger("asyncio")

#: Largest UDP payload over IPv4 (65535 - 8 - 20 bytes of headers).
MAX_DATAGRAM = 65507
_LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5


class UdpEndpoint:
    """A bound UDP port as the kernel keeps it."""

    __slots__ = (
        "_last_arrival",
        "binding",
        "closed",
        "errors",
        "family",
        "host",
        "inbox",
        "local",
        "network",
        "reader",
        "receiver",
        "remote",
    )
    _simloop_network_timer = True

    def __init__(
        self,
        network: Network,
        host: Host,
        local: SockAddr,
        binding: tuple[int, str, int] | None,
    ) -> None:
        self.network = network
        self.host = host
        self.local = local
        self.family = socket.AF_INET6 if len(local) == 4 else socket.AF_INET
        self.binding = binding
        #: the only peer, once connected
        self.remote: SockAddr | None = None
        self.closed = False
        #: datagrams waiting for a socket reader (unused when a transport receives)
        self.inbox: deque[tuple[bytes, SockAddr]] = deque()
        self.reader: Callable[[], object] | None = None
        #: a transport's intake: called with (data, address) for each datagram
        self.receiver: Callable[[bytes, SockAddr], object] | None = None
        #: a transport's error intake (ICMP errors)
        self.errors: Callable[[OSError], object] | None = None
        #: destination -> when the last datagram sent there arrives (healthy order)
        self._last_arrival: dict[tuple[str, int], float] = {}
        if binding is not None:
            host.udp_bound[binding] = self

    def __repr__(self) -> str:
        return f"<UdpEndpoint {self.host.name} {format_address(self.local)}>"

    def sendto(self, data: bytes | bytearray | memoryview, address: SockAddr | None) -> int:
        if self.closed:
            raise os_error(errno.EBADF, "Bad file descriptor")
        if address is None:
            if self.remote is None:
                raise os_error(errno.EDESTADDRREQ)
            address = self.remote
        ip, port = check_sockaddr(address, self.family, "sendto")
        size = len(data)
        if size > MAX_DATAGRAM:
            raise os_error(errno.EMSGSIZE)
        payload = bytes(data)
        network = self.network
        source = self.host
        target = network.host_at(ip, source)
        if target is None:
            return size  # nobody owns the address: the datagram vanishes
        link = network.link(source, target)
        state, _ = network.route(link)
        if state == PARTITIONED:
            return size
        destination = (ip, port)
        local_ip = self.local[0]
        if is_wildcard(local_ip):
            local_ip = source.source_address(self.family, ip)
        sender = sockaddr(self.family, local_ip, self.local[1])

        def what() -> str:
            return f"datagram to {format_address(destination)} ({size} bytes)"

        faulty = network.faulty()
        copies = network.choices.datagram_copies(what) if faulty else 1
        loop = network.loop
        for _ in range(copies):
            arrival = network.arrival(link, "datagram", what)
            if arrival is not None:
                if not faulty:  # a healthy network keeps one flow in order
                    last = self._last_arrival.get(destination, 0.0)
                    if arrival <= last:
                        # Just after, not with, the one ahead: timers due
                        # together may fire in any order.
                        arrival = math.nextafter(last, math.inf)
                    self._last_arrival[destination] = arrival
                loop.call_at(arrival, self._land, target, destination, payload, sender)
        return size

    def _land(
        self, target: Host, destination: tuple[str, int], data: bytes, sender: SockAddr
    ) -> None:
        """A datagram reached `target`: give it to whoever bound the port."""
        ip, port = destination
        found = target.udp_bound.get((self.family, ip, port))
        if found is None:
            wildcard = IPV6_ANY if self.family == socket.AF_INET6 else IPV4_ANY
            found = target.udp_bound.get((self.family, wildcard, port))
        if found is None or found.closed:
            if self.remote is not None and not self.closed:
                self._port_unreachable(target)
            return
        if found.remote is not None and tuple(found.remote[:2]) != tuple(sender[:2]):
            return  # a connected socket only hears its peer
        found.deliver(data, sender)

    def _port_unreachable(self, target: Host) -> None:
        network = self.network
        arrival = network.arrival(
            network.link(target, self.host),
            "datagram",
            lambda: f"port unreachable from {format_address(self.remote or ())}",
        )
        if arrival is not None:
            network.loop.call_at(arrival, self._refused)

    def _refused(self) -> None:
        if self.errors is not None and not self.closed:
            self.errors(ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"))

    def deliver(self, data: bytes, sender: SockAddr) -> None:
        receiver = self.receiver
        if receiver is not None:
            receiver(data, sender)
            return
        self.inbox.append((data, sender))
        if self.reader is not None:
            self.reader()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.receiver = self.reader = self.errors = None
        if self.binding is not None and self.host.udp_bound.get(self.binding) is self:
            del self.host.udp_bound[self.binding]


class UdpTransport(transports.DatagramTransport):
    """An `asyncio.DatagramTransport` over a simulated UDP socket."""

    def __init__(
        self,
        loop: Any,
        sock: SimSocket,
        protocol: asyncio.DatagramProtocol,
        address: SockAddr | None = None,
        waiter: asyncio.Future[None] | None = None,
    ) -> None:
        super().__init__(None)
        self._loop = loop
        self._sock: SimSocket | None = sock
        endpoint = sock._datagram_endpoint()
        self._endpoint = endpoint
        self._network = sock._network
        self._protocol: Any = protocol
        self._address = address
        self._closing = False
        self._conn_lost = 0
        self._paused = False
        self._backlog: deque[tuple[bytes, SockAddr]] = deque()
        self._sockname = endpoint.local
        sock._owned_by_transport()
        self._open_key = self._network.opened(self)
        loop.call_soon(self._protocol.connection_made, self)
        loop.call_soon(self._start_reading)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def __repr__(self) -> str:
        state = "closed" if self._sock is None else ("closing" if self._closing else "open")
        peer = "" if self._address is None else f" -> {format_address(self._address)}"
        return f"<simloop UDP transport {format_address(self._sockname)}{peer} {state}>"

    def _start_reading(self) -> None:
        if self._closing:
            return
        endpoint = self._endpoint
        endpoint.receiver = self._datagram
        endpoint.errors = self._error
        while endpoint.inbox:  # what arrived before reading started
            self._datagram(*endpoint.inbox.popleft())

    def _datagram(self, data: bytes, address: SockAddr) -> None:
        if self._closing:
            return
        if self._paused:
            self._backlog.append((data, address))
            return
        self._protocol.datagram_received(data, address)

    def _error(self, error: OSError) -> None:
        if not self._closing:
            self._protocol.error_received(error)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._address
        if name == "sockname":
            return self._sockname
        if name == "socket":
            return self._sock
        return default

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol  # type: ignore[no-any-return]

    def is_closing(self) -> bool:
        return self._closing

    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def pause_reading(self) -> None:
        self._paused = True

    def resume_reading(self) -> None:
        if not self._paused:
            return
        self._paused = False
        self._loop.call_soon(self._drain_backlog)

    def _drain_backlog(self) -> None:
        while self._backlog and not self._paused and not self._closing:
            self._protocol.datagram_received(*self._backlog.popleft())

    def get_write_buffer_size(self) -> int:
        return 0

    def sendto(self, data: Any, addr: Any = None) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"data argument must be a bytes-like object, not {type(data).__name__!r}"
            )
        if self._address:
            if addr not in (None, self._address):
                raise ValueError(f"Invalid address: must be None or {self._address}")
            addr = self._address
        if self._conn_lost and self._address:
            if self._conn_lost >= _LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                logger.warning("socket.send() raised exception.")
            self._conn_lost += 1
            return
        if self._closing:
            return
        try:
            if addr is None:
                family = "AF_INET6" if self._endpoint.family == socket.AF_INET6 else "AF_INET"
                raise TypeError(f"sendto(): {family} address must be tuple, not NoneType")
            self._endpoint.sendto(data, addr)
        except OSError as exc:
            self._protocol.error_received(exc)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal_error(exc, "Fatal write error on datagram transport")

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._network.closed(self._open_key)
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, None)

    def abort(self) -> None:
        self._force_close(None)

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        if not isinstance(exc, OSError):
            self._loop.call_exception_handler(
                {
                    "message": message,
                    "exception": exc,
                    "transport": self,
                    "protocol": self._protocol,
                }
            )
        self._force_close(exc)

    def _force_close(self, exc: BaseException | None) -> None:
        if self._conn_lost:
            return
        self._closing = True
        self._network.closed(self._open_key)
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: BaseException | None) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            sock = self._sock
            if sock is not None:
                self._sock = None
                sock.close()
            self._protocol = None


def _set_result_unless_cancelled(future: asyncio.Future[None], result: None) -> None:
    if not future.cancelled():
        future.set_result(result)
