"""Socket objects of the simulated network.

A `SimSocket` looks like a non-blocking `socket.socket` to code that holds
one: ``server.sockets[0]``, ``transport.get_extra_info("socket")``,
`Network.socket` for the ``loop.sock_*`` API. It has no file descriptor
(`fileno` gives a number no real call accepts); options are remembered and
read back, never applied. What would block or need the kernel (a blocking
``connect``, ``recv`` with nothing to read on a blocking socket) raises
`simloop.RealIOError` and names the ``loop.sock_*`` coroutine to use instead.
"""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING, Any

from .._errors import RealIOError
from ._addresses import (
    IPV4_ANY,
    IPV6_ANY,
    SockAddr,
    check_sockaddr,
    os_error,
    sockaddr,
)
from ._tcp import Listener, TcpEndpoint

if TYPE_CHECKING:
    import asyncio

    from ._network import Host, Network
    from ._udp import UdpEndpoint

_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_TYPES = (socket.SOCK_STREAM, socket.SOCK_DGRAM)


class SimSocket:
    """A simulated TCP or UDP socket on one host of a `Network`."""

    def __init__(
        self,
        network: Network,
        family: int = socket.AF_INET,
        type: int = socket.SOCK_STREAM,
        proto: int = 0,
        *,
        host: Host | None = None,
    ) -> None:
        if family not in _FAMILIES:
            raise ValueError(f"simulated sockets have family AF_INET or AF_INET6, not {family!r}")
        kind = type & ~(getattr(socket, "SOCK_NONBLOCK", 0) | getattr(socket, "SOCK_CLOEXEC", 0))
        if kind not in _TYPES:
            raise ValueError(f"simulated sockets have type SOCK_STREAM or SOCK_DGRAM, not {type!r}")
        self._network = network
        self._host = network.current_host() if host is None else host
        self._family = socket.AddressFamily(family)
        self._type = socket.SocketKind(kind)
        self._proto = proto or (
            socket.IPPROTO_TCP if kind == socket.SOCK_STREAM else socket.IPPROTO_UDP
        )
        self._fd = network.descriptor()
        self._timeout: float | None = None
        self._options: dict[tuple[int, int], Any] = {}
        #: (family, ip, port) this socket holds in its host's port table
        self._binding: tuple[int, str, int] | None = None
        self._local: SockAddr | None = None
        self._endpoint: TcpEndpoint | None = None
        self._listener: Listener | None = None
        self._udp: UdpEndpoint | None = None
        self._connecting = False
        self._closed = False
        self._open_key: int | None = network.opened(self)
        #: futures of loop.sock_* calls waiting for something to arrive / for room
        self._read_waiters: list[asyncio.Future[None]] = []
        self._write_waiters: list[asyncio.Future[None]] = []

    def __repr__(self) -> str:
        parts = [
            f"<simloop socket fd={self.fileno()}",
            f"family={self._family.name}",
            f"type={self._type.name}",
            f"proto={self._proto}",
        ]
        if self._local is not None:
            parts.append(f"laddr={self._local}")
        if self._endpoint is not None:
            parts.append(f"raddr={self._endpoint.remote}")
        return ", ".join(parts) + ">"

    # -- what socket.socket has -------------------------------------------

    @property
    def family(self) -> socket.AddressFamily:
        return self._family

    @property
    def type(self) -> socket.SocketKind:
        return self._type

    @property
    def proto(self) -> int:
        return self._proto

    def fileno(self) -> int:
        """A descriptor number for display; no real call accepts it. -1 once closed."""
        return -1 if self._closed else self._fd

    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0

    def getblocking(self) -> bool:
        return self._timeout != 0.0

    def settimeout(self, value: float | None) -> None:
        self._timeout = value

    def gettimeout(self) -> float | None:
        return self._timeout

    def setsockopt(self, level: int, option: int, value: Any, optlen: int | None = None) -> None:
        self._check_open()
        self._options[level, option] = value

    def getsockopt(self, level: int, option: int, buflen: int | None = None) -> Any:
        self._check_open()
        if (level, option) == (socket.SOL_SOCKET, socket.SO_TYPE):
            return int(self._type)
        if (level, option) == (socket.SOL_SOCKET, socket.SO_ERROR):
            return 0
        return self._options.get((level, option), 0)

    def getsockname(self) -> SockAddr:
        self._check_open()
        if self._local is not None:
            return self._local
        return sockaddr(self._family, IPV6_ANY if self._family == socket.AF_INET6 else IPV4_ANY, 0)

    def getpeername(self) -> SockAddr:
        self._check_open()
        if self._endpoint is not None:
            return self._endpoint.remote
        if self._udp is not None and self._udp.remote is not None:
            return self._udp.remote
        raise os_error(errno.ENOTCONN)

    def bind(self, address: SockAddr) -> None:
        """Bind to `address`, which must be one of this socket's host's addresses."""
        self._check_open()
        if self._local is not None:
            raise os_error(errno.EINVAL)
        ip, port = check_sockaddr(address, self._family, "bind")
        self._bind(ip, port)

    def _bind(self, ip: str, port: int) -> None:
        host = self._host
        if not host.owns(ip):
            raise os_error(errno.EADDRNOTAVAIL)
        table = host.tcp_bound if self._type == socket.SOCK_STREAM else host.udp_bound
        if port == 0:
            port = host.free_port(table, self._family)
        elif host.conflicts(table, self._family, ip, port):
            raise os_error(errno.EADDRINUSE)
        key = (int(self._family), ip, port)
        table[key] = self  # type: ignore[assignment]
        self._binding = key
        self._local = sockaddr(self._family, ip, port)

    def _bind_for(self, destination: str) -> None:
        """Bind an unbound socket to an ephemeral port, as connect() does."""
        if self._local is None:
            self._bind(self._host.source_address(self._family, destination), 0)

    def listen(self, backlog: int = 128) -> None:
        """Start listening (binding an ephemeral port first if unbound, as Linux does)."""
        self._check_open()
        if self._type != socket.SOCK_STREAM:
            raise os_error(errno.EOPNOTSUPP)
        if self._listener is not None:
            return
        if self._endpoint is not None:
            raise os_error(errno.EINVAL)
        if self._local is None:
            self._bind(IPV6_ANY if self._family == socket.AF_INET6 else IPV4_ANY, 0)
        assert self._local is not None
        self._listener = Listener(self._network, self._host, self._family, self._local)
        self._listener.on_ready = self._wake_readers

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._close_endpoint()
        if self._open_key is not None:
            self._network.closed(self._open_key)
            self._open_key = None
        self._wake_readers()
        self._wake_writers()

    def _close_endpoint(self) -> None:
        if self._endpoint is not None:
            self._endpoint.close()
        if self._listener is not None:
            self._listener.close()
        if self._udp is not None:
            self._udp.close()
        self._release_port()

    def _release_port(self) -> None:
        if self._binding is not None:
            table: dict[Any, Any] = (
                self._host.tcp_bound if self._type == socket.SOCK_STREAM else self._host.udp_bound
            )
            if table.get(self._binding) is self:
                del table[self._binding]
            self._binding = None

    def detach(self) -> int:
        raise self._refuse("socket.detach()", "a simulated socket has no descriptor to hand over")

    def shutdown(self, how: int) -> None:
        self._check_open()
        endpoint = self._endpoint
        if endpoint is None:
            raise os_error(errno.ENOTCONN)
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            endpoint.shutdown_write()

    def __enter__(self) -> SimSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- non-blocking I/O, as on a socket with setblocking(False) ---------

    def send(self, data: bytes | bytearray | memoryview, flags: int = 0) -> int:
        endpoint = self._connected()
        sent = endpoint.send(data)
        if sent == 0 and len(data):
            if self.getblocking():
                raise self._refuse("socket.send()", "use await loop.sock_sendall(sock, data)")
            raise os_error(errno.EAGAIN)
        return sent

    def sendall(self, data: bytes | bytearray | memoryview, flags: int = 0) -> None:
        raise self._refuse("socket.sendall()", "use await loop.sock_sendall(sock, data)")

    def recv(self, size: int, flags: int = 0) -> bytes:
        if size < 0:
            raise ValueError("negative buffersize in recv")
        endpoint = self._connected()
        if endpoint.inbox:
            return endpoint.take(size)
        if endpoint.error is not None:
            raise endpoint.error
        if endpoint.fin_received or endpoint.closed:
            return b""
        if self.getblocking():
            raise self._refuse("socket.recv()", "use await loop.sock_recv(sock, size)")
        raise os_error(errno.EAGAIN)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        view = memoryview(buffer).cast("B")
        size = nbytes or len(view)
        data = self.recv(size)
        view[: len(data)] = data
        return len(data)

    def connect(self, address: SockAddr) -> None:
        raise self._refuse("socket.connect()", "use await loop.sock_connect(sock, address)")

    def connect_ex(self, address: SockAddr) -> int:
        raise self._refuse("socket.connect_ex()", "use await loop.sock_connect(sock, address)")

    def accept(self) -> tuple[SimSocket, SockAddr]:
        self._check_open()
        listener = self._listener
        if listener is None:
            raise os_error(errno.EINVAL)
        endpoint = listener.accept()
        if endpoint is None:
            if self.getblocking():
                raise self._refuse("socket.accept()", "use await loop.sock_accept(sock)")
            raise os_error(errno.EAGAIN)
        return self._accepted(endpoint), endpoint.remote

    def _accepted(self, endpoint: TcpEndpoint) -> SimSocket:
        accepted = SimSocket(self._network, self._family, self._type, self._proto, host=self._host)
        accepted._adopt(endpoint)
        return accepted

    def _adopt(self, endpoint: TcpEndpoint) -> None:
        self._endpoint = endpoint
        self._local = endpoint.local
        endpoint.reader = self._wake_readers
        endpoint.writer = self._wake_writers
        self._timeout = 0.0

    def sendto(self, data: bytes, *args: Any) -> int:
        udp = self._datagram_endpoint()
        address = args[-1] if args else None
        return udp.sendto(data, address)

    def recvfrom(self, size: int, flags: int = 0) -> tuple[bytes, SockAddr]:
        udp = self._datagram_endpoint()
        if udp.inbox:
            data, address = udp.inbox.popleft()
            return data[:size], address
        if self.getblocking():
            raise self._refuse("socket.recvfrom()", "use await loop.sock_recvfrom(sock, size)")
        raise os_error(errno.EAGAIN)

    def recvfrom_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> tuple[int, SockAddr]:
        view = memoryview(buffer).cast("B")
        data, address = self.recvfrom(nbytes or len(view))
        view[: len(data)] = data
        return len(data), address

    # -- for the loop and the transports ------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise os_error(errno.EBADF, "Bad file descriptor")

    def _connected(self) -> TcpEndpoint:
        self._check_open()
        endpoint = self._endpoint
        if endpoint is None:
            if self._type == socket.SOCK_DGRAM:
                raise self._refuse("TCP call on a UDP socket", "use sendto/recvfrom")
            raise os_error(errno.ENOTCONN)
        return endpoint

    def _datagram_endpoint(self) -> UdpEndpoint:
        self._check_open()
        if self._type != socket.SOCK_DGRAM:
            raise os_error(errno.EOPNOTSUPP)
        if self._udp is None:
            from ._udp import UdpEndpoint

            if self._local is None:  # Linux binds an unbound socket on first use
                self._bind(wildcard_of(self._family), 0)
            assert self._local is not None
            self._udp = UdpEndpoint(self._network, self._host, self._local, self._binding)
            self._udp.reader = self._wake_readers
        return self._udp

    def _owned_by_transport(self) -> None:
        """A transport took this socket over: it is the transport's to close."""
        if self._open_key is not None:
            self._network.closed(self._open_key)
            self._open_key = None

    def _wake_readers(self) -> None:
        waiters, self._read_waiters = self._read_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _wake_writers(self) -> None:
        waiters, self._write_waiters = self._write_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _refuse(self, call: str, instead: str) -> RealIOError:
        loop = self._network.loop
        return RealIOError(
            f"{call} on a simulated socket would block the loop; {instead}",
            seed=loop.seed,
            virtual_time=loop.virtual_time(),
        )


def wildcard_of(family: int) -> str:
    return IPV6_ANY if family == socket.AF_INET6 else IPV4_ANY
