"""asyncio's network methods, on the simulated network: the half of `SimLoop`
that `simloop.net` provides.

`NetworkLoop` is a mixin `SimLoop` inherits ahead of `asyncio.BaseEventLoop`.
Its methods keep the stock signatures, argument checks and error messages
(they are what programs catch), and hand `simloop.net`'s sockets, resolver
and transports to asyncio's streams and protocols, which run unchanged.
Numeric hosts skip the resolver, as asyncio's do; names are answered after
a DNS delay the strategy draws.
"""

from __future__ import annotations

import asyncio
import collections.abc
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._errors import RealIOError
from ._addresses import SockAddr, check_sockaddr, connect_failed, sockaddr
from ._guard import install_guard, remove_guard
from ._network import Network
from ._resolver import AddrInfo, name_info, numeric_info, resolve
from ._server import SimServer
from ._socket import SimSocket
from ._tcp import Connector, TcpEndpoint
from ._transport import TcpTransport
from ._udp import UdpTransport

if TYPE_CHECKING:
    from .._core import CoreLoop


def _set_result_unless_done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class NetworkLoop:
    """asyncio's network API on `simloop.net` (mixed into `SimLoop`)."""

    _network: Network | None = None

    # -- the world ---------------------------------------------------------

    @property
    def network(self) -> Network:
        """This simulation's network (made on first use)."""
        network = self._network
        if network is None:
            network = self._network = Network(self._sim)
        return network

    @property
    def _sim(self) -> CoreLoop:
        """This loop as the core it is mixed into (`simloop.SimLoop`)."""
        return self  # type: ignore[return-value]

    def open_transports(self) -> list[str]:
        """Descriptions of the transports, servers and sockets still open."""
        if self._network is None:
            return []
        return self._network.open_resources()

    # -- the core's extension points ---------------------------------------

    def take_over_process(self) -> None:
        super().take_over_process()  # type: ignore[misc]
        install_guard()

    def give_back_process(self) -> None:
        remove_guard()
        super().give_back_process()  # type: ignore[misc]

    def stop_faults(self) -> None:
        """Heal every partition, lift every clog and stop the strategy's faults
        (`Network.stop_faults`)."""
        self.network.stop_faults()

    def close(self) -> None:
        # The simulated world ends before the loop does: every transport,
        # server and socket still open is aborted (as a process exiting would).
        sim = self._sim
        if self._network is not None and not sim.is_closed() and not sim.is_running():
            self._network.tear_down()
        super().close()  # type: ignore[misc]

    # -- the resolver ------------------------------------------------------

    async def getaddrinfo(
        self,
        host: bytes | str | None,
        port: bytes | str | int | None,
        *,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[AddrInfo]:
        """Resolve `host` with the simulated DNS, after a delay the strategy draws."""
        describe = f"DNS answer for {host!r}"
        try:
            answer: list[AddrInfo] | BaseException = resolve(
                self.network, host, port, family, type, proto, flags
            )
        except (socket.gaierror, OSError, TypeError, UnicodeError) as error:
            answer = error
        await self._dns_delay(describe)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def _dns_delay(self, describe: str) -> None:
        network = self.network
        answered: asyncio.Future[None] = self._sim.create_future()
        when = network.delivery_time("dns", lambda: describe)
        network.loop.call_at(when, _set_result_unless_done, answered)
        await answered

    async def getnameinfo(self, sockaddr: SockAddr, flags: int = 0) -> tuple[str, str]:
        """The name and service of `sockaddr`, from the simulated DNS."""
        result: tuple[str, str] | BaseException
        try:
            result = name_info(self.network, sockaddr, flags)
        except (socket.gaierror, TypeError, ValueError) as error:
            result = error
        await self._dns_delay(f"reverse DNS answer for {sockaddr[0]!r}")
        if isinstance(result, BaseException):
            raise result
        return result

    async def _infos(
        self, host: object, port: object, family: int, type: int, proto: int, flags: int
    ) -> list[AddrInfo]:
        """What asyncio's ``_ensure_resolved`` gives: a numeric host at once, a name via DNS."""
        numeric = numeric_info(host, port, family, type, proto)
        if numeric is not None:
            return [numeric]
        return await self.getaddrinfo(
            host,  # type: ignore[arg-type]
            port,  # type: ignore[arg-type]
            family=family,
            type=type,
            proto=proto,
            flags=flags,
        )

    # -- TCP ---------------------------------------------------------------

    async def create_connection(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | None = None,
        port: int | str | None = None,
        *,
        ssl: Any = None,
        family: int = 0,
        proto: int = 0,
        flags: int = 0,
        sock: Any = None,
        local_addr: tuple[str, int] | None = None,
        server_hostname: str | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        happy_eyeballs_delay: float | None = None,
        interleave: int | None = None,
        all_errors: bool = False,
    ) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        """Connect over the simulated network (asyncio's semantics and errors;
        addresses are tried one after the other, happy eyeballs or not)."""
        self._check_tls(
            "create_connection", ssl, server_hostname, ssl_handshake_timeout, ssl_shutdown_timeout
        )
        if host is not None or port is not None:
            if sock is not None:
                raise ValueError("host/port and sock can not be specified at the same time")
            infos = await self._infos(host, port, family, socket.SOCK_STREAM, proto, flags)
            if not infos:
                raise OSError("getaddrinfo() returned empty list")
            local_infos = None
            if local_addr is not None:
                local_infos = await self._infos(
                    *local_addr, family, socket.SOCK_STREAM, proto, flags
                )
                if not local_infos:
                    raise OSError("getaddrinfo() returned empty list")
            exceptions: list[OSError] = []
            for info in infos:
                try:
                    sock = await self._connect_info(info, local_infos)
                    break
                except OSError as exc:
                    exceptions.append(exc)
            else:
                if all_errors:
                    raise ExceptionGroup("create_connection failed", exceptions)
                if len(exceptions) == 1 or all(
                    str(exc) == str(exceptions[0]) for exc in exceptions
                ):
                    raise exceptions[0]
                raise OSError(
                    "Multiple exceptions: {}".format(", ".join(str(exc) for exc in exceptions))
                )
        else:
            if sock is None:
                raise ValueError("host and port was not specified and no sock specified")
            sock = self._simulated(sock, "create_connection")
            if sock.type != socket.SOCK_STREAM:
                raise ValueError(f"A Stream Socket was expected, got {sock!r}")
        return await self._make_tcp_transport(sock, protocol_factory)

    async def _connect_info(self, info: AddrInfo, local_infos: list[AddrInfo] | None) -> SimSocket:
        family, type_, proto, _, address = info
        sock = SimSocket(self.network, family, type_, proto)
        try:
            sock.setblocking(False)
            if local_infos is not None:
                errors = []
                for local_family, _, _, _, local in local_infos:
                    if local_family != family:
                        continue
                    try:
                        sock.bind(local)
                        break
                    except OSError as exc:
                        errors.append(
                            OSError(
                                exc.errno,
                                f"error while attempting to bind on address {local!r}: "
                                f"{(exc.strerror or '').lower()}",
                            )
                        )
                else:
                    if errors:
                        raise errors.pop()
                    raise OSError(f"no matching local address with family={family} found")
            await self._connect(sock, address)
            return sock
        except BaseException:
            sock.close()
            raise

    async def _connect(self, sock: SimSocket, address: SockAddr) -> None:
        """The TCP handshake for `sock` towards numeric `address`."""
        ip, port = check_sockaddr(address, sock.family, "connect")
        if sock._endpoint is not None:
            raise OSError(106, "Transport endpoint is already connected")
        network = self.network
        remote = sockaddr(sock.family, ip, port)
        try:
            sock._bind_for(ip)
        except OSError as error:  # no route: what connect() says at once
            raise connect_failed(error.errno or 0, remote) from None
        assert sock._local is not None
        endpoint = TcpEndpoint(network, sock._host, sock._local, remote)
        future: asyncio.Future[None] = self._sim.create_future()
        Connector(network, endpoint, network.host_at(ip, sock._host), remote, future).start()
        try:
            await future
        except BaseException:
            # Given up (cancelled, refused, timed out): a half-open connection
            # is reset, as the kernel does when a socket closes before its
            # SYN-ACK; one that completed just before the cancel closes.
            established = future.done() and not future.cancelled() and not future.exception()
            endpoint.close(reset=not established)
            raise
        sock._adopt(endpoint)

    async def _make_tcp_transport(
        self, sock: SimSocket, protocol_factory: Callable[[], asyncio.BaseProtocol]
    ) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        protocol = protocol_factory()
        waiter: asyncio.Future[None] = self._sim.create_future()
        transport = TcpTransport(self._sim, sock, protocol, waiter)
        try:
            await waiter
        except BaseException:
            transport.close()
            raise
        return transport, protocol

    async def connect_accepted_socket(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        sock: Any,
        *,
        ssl: Any = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
    ) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        self._check_tls(
            "connect_accepted_socket", ssl, None, ssl_handshake_timeout, ssl_shutdown_timeout
        )
        sock = self._simulated(sock, "connect_accepted_socket")
        if sock.type != socket.SOCK_STREAM:
            raise ValueError(f"A Stream Socket was expected, got {sock!r}")
        return await self._make_tcp_transport(sock, protocol_factory)

    async def create_server(
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: str | collections.abc.Sequence[str] | None = None,
        port: int | None = None,
        *,
        family: int = socket.AF_UNSPEC,
        flags: int = socket.AI_PASSIVE,
        sock: Any = None,
        backlog: int = 100,
        ssl: Any = None,
        reuse_address: bool | None = None,
        reuse_port: bool | None = None,
        keep_alive: bool | None = None,
        ssl_handshake_timeout: float | None = None,
        ssl_shutdown_timeout: float | None = None,
        start_serving: bool = True,
    ) -> SimServer:
        """A TCP server on the current host (see `Network.on`); ``port=0`` picks
        a free port, and ``server.sockets[0].getsockname()`` tells which."""
        if isinstance(ssl, bool):
            raise TypeError("ssl argument must be an SSLContext or None")
        self._check_tls("create_server", ssl, None, ssl_handshake_timeout, ssl_shutdown_timeout)
        if host is not None or port is not None:
            if sock is not None:
                raise ValueError("host/port and sock can not be specified at the same time")
            if host == "":
                hosts: list[Any] = [None]
            elif isinstance(host, str) or not isinstance(host, collections.abc.Iterable):
                hosts = [host]
            else:
                hosts = list(host)
            infos: list[AddrInfo] = []
            for one in hosts:
                for info in await self._infos(one, port, family, socket.SOCK_STREAM, 0, flags):
                    if info not in infos:  # asyncio uses a set; a list keeps the order fixed
                        infos.append(info)
            sockets: list[SimSocket] = []
            completed = False
            try:
                for address_family, kind, proto, _, address in infos:
                    made = SimSocket(self.network, address_family, kind, proto)
                    sockets.append(made)
                    try:
                        made.bind(address)
                    except OSError as err:
                        raise OSError(
                            err.errno,
                            f"error while attempting to bind on address {address!r}: "
                            f"{(err.strerror or '').lower()}",
                        ) from None
                completed = True
            finally:
                if not completed:
                    for made in sockets:
                        made.close()
        else:
            if sock is None:
                raise ValueError("Neither host/port nor sock were specified")
            sock = self._simulated(sock, "create_server")
            if sock.type != socket.SOCK_STREAM:
                raise ValueError(f"A Stream Socket was expected, got {sock!r}")
            sockets = [sock]
        server = SimServer(self, sockets, protocol_factory, backlog)
        if start_serving:
            server._start_serving()
            await asyncio.sleep(0)
        return server

    # -- UDP ---------------------------------------------------------------

    async def create_datagram_endpoint(
        self,
        protocol_factory: Callable[[], asyncio.DatagramProtocol],
        local_addr: tuple[str, int] | None = None,
        remote_addr: tuple[str, int] | None = None,
        *,
        family: int = 0,
        proto: int = 0,
        flags: int = 0,
        reuse_address: Any = None,
        reuse_port: bool | None = None,
        allow_broadcast: bool | None = None,
        sock: Any = None,
    ) -> tuple[asyncio.DatagramTransport, asyncio.DatagramProtocol]:
        """A UDP endpoint on the current host (asyncio's semantics and errors)."""
        remote: SockAddr | None = None
        if sock is not None:
            if any((local_addr, remote_addr, family, proto, flags, reuse_port, allow_broadcast)):
                opts = {
                    "local_addr": local_addr,
                    "remote_addr": remote_addr,
                    "family": family,
                    "proto": proto,
                    "flags": flags,
                    "reuse_address": reuse_address,
                    "reuse_port": reuse_port,
                    "allow_broadcast": allow_broadcast,
                }
                problems = ", ".join(f"{k}={v}" for k, v in opts.items() if v)
                raise ValueError(
                    f"socket modifier keyword arguments can not be used when sock is "
                    f"specified. ({problems})"
                )
            sock = self._simulated(sock, "create_datagram_endpoint")
            if sock.type != socket.SOCK_DGRAM:
                raise ValueError(f"A datagram socket was expected, got {sock!r}")
            sock.setblocking(False)
        else:
            if reuse_address:
                raise ValueError(
                    "Passing `reuse_address=True` is no longer supported, as the usage of "
                    "SO_REUSEPORT in UDP poses a significant security concern."
                )
            local_info = remote_info = None
            if local_addr is not None:
                local_info = await self._infos(*local_addr, family, socket.SOCK_DGRAM, proto, flags)
            if remote_addr is not None:
                remote_info = await self._infos(
                    *remote_addr, family, socket.SOCK_DGRAM, proto, flags
                )
            if local_info is None and remote_info is None:
                if family == 0:
                    raise ValueError("unexpected address family")
                chosen_family = family
            else:
                candidates = [info[0] for info in (local_info or remote_info or [])]
                if local_info is not None and remote_info is not None:
                    remote_families = {info[0] for info in remote_info}
                    candidates = [f for f in candidates if f in remote_families]
                if not candidates:
                    raise ValueError("can not get address information")
                chosen_family = candidates[0]
            sock = SimSocket(self.network, chosen_family, socket.SOCK_DGRAM, proto)
            try:
                if local_info is not None:
                    address = next(info[4] for info in local_info if info[0] == chosen_family)
                    sock.bind(address)
                if remote_info is not None:
                    remote = next(info[4] for info in remote_info if info[0] == chosen_family)
                    if sock._local is None:
                        sock._bind_for(remote[0])
                    endpoint = sock._datagram_endpoint()
                    check_sockaddr(remote, chosen_family, "connect")
                    endpoint.remote = remote
            except BaseException:
                sock.close()
                raise
        protocol = protocol_factory()
        waiter: asyncio.Future[None] = self._sim.create_future()
        transport = UdpTransport(self, sock, protocol, remote, waiter)
        try:
            await waiter
        except BaseException:
            transport.close()
            raise
        return transport, protocol

    # -- the low-level socket API ------------------------------------------

    async def sock_connect(self, sock: Any, address: Any) -> None:
        sim = self._simulated(sock, "sock_connect")
        self._check_non_blocking(sim)
        if sim.type == socket.SOCK_DGRAM:
            infos = await self._infos(
                address[0], address[1], sim.family, socket.SOCK_DGRAM, sim.proto, 0
            )
            endpoint = sim._datagram_endpoint()
            endpoint.remote = infos[0][4]
            return
        infos = await self._infos(address[0], address[1], sim.family, sim.type, sim.proto, 0)
        target = infos[0][4]
        if sim.family == socket.AF_INET6 and len(address) == 4:
            target = (target[0], target[1], *address[2:])
        await self._connect(sim, target)

    async def sock_accept(self, sock: Any) -> tuple[SimSocket, SockAddr]:
        sim = self._simulated(sock, "sock_accept")
        self._check_non_blocking(sim)
        while True:
            listener = sim._listener
            if listener is None:
                raise OSError(22, "Invalid argument")
            endpoint = listener.accept()
            if endpoint is not None:
                return sim._accepted(endpoint), endpoint.remote
            await self._wait(sim._read_waiters)

    async def sock_recv(self, sock: Any, n: int) -> bytes:
        sim = self._simulated(sock, "sock_recv")
        self._check_non_blocking(sim)
        while True:
            endpoint = sim._connected()
            if endpoint.inbox:
                return endpoint.take(n)
            if endpoint.error is not None:
                raise endpoint.error
            if endpoint.fin_received or endpoint.closed:
                return b""
            await self._wait(sim._read_waiters)

    async def sock_recv_into(self, sock: Any, buf: Any) -> int:
        view = memoryview(buf).cast("B")
        data = await self.sock_recv(sock, len(view))
        view[: len(data)] = data
        return len(data)

    async def sock_sendall(self, sock: Any, data: bytes | bytearray | memoryview) -> None:
        sim = self._simulated(sock, "sock_sendall")
        self._check_non_blocking(sim)
        view = memoryview(data).cast("B")
        while view:
            sent = sim._connected().send(view)
            view = view[sent:]
            if view:
                await self._wait(sim._write_waiters)

    async def sock_recvfrom(self, sock: Any, bufsize: int) -> tuple[bytes, SockAddr]:
        sim = self._simulated(sock, "sock_recvfrom")
        self._check_non_blocking(sim)
        while True:
            endpoint = sim._datagram_endpoint()
            if endpoint.inbox:
                data, address = endpoint.inbox.popleft()
                return data[:bufsize], address
            await self._wait(sim._read_waiters)

    async def sock_recvfrom_into(
        self, sock: Any, buf: Any, nbytes: int = 0
    ) -> tuple[int, SockAddr]:
        view = memoryview(buf).cast("B")
        data, address = await self.sock_recvfrom(sock, nbytes or len(view))
        view[: len(data)] = data
        return len(data), address

    async def sock_sendto(self, sock: Any, data: bytes, address: Any) -> int:
        sim = self._simulated(sock, "sock_sendto")
        self._check_non_blocking(sim)
        return sim._datagram_endpoint().sendto(data, address)

    async def _wait(self, waiters: list[asyncio.Future[None]]) -> None:
        waiter: asyncio.Future[None] = self._sim.create_future()
        waiters.append(waiter)
        await waiter

    def _check_non_blocking(self, sock: SimSocket) -> None:
        if self._sim.get_debug() and sock.gettimeout() != 0:
            raise ValueError("the socket must be non-blocking")

    # -- what is not simulated -------------------------------------------

    def _simulated(self, sock: Any, call: str) -> SimSocket:
        if isinstance(sock, SimSocket):
            if sock._network is not self.network:
                raise ValueError(f"{sock!r} belongs to another simulation's network")
            return sock
        if isinstance(sock, socket.socket):
            loop = self._sim
            raise RealIOError(
                f"loop.{call}() got a real socket ({sock!r}), which would use the real "
                "operating system inside a simulation; use the simulated network "
                "(asyncio.open_connection, loop.create_connection, or "
                "loop.network.socket() for the loop.sock_* API)",
                seed=loop.seed,
                virtual_time=loop.virtual_time(),
            )
        raise TypeError(f"loop.{call}() needs a socket, not {type(sock).__name__} {sock!r}")

    def _check_tls(
        self,
        call: str,
        ssl: Any,
        server_hostname: str | None,
        handshake_timeout: float | None,
        shutdown_timeout: float | None,
    ) -> None:
        if server_hostname is not None and not ssl:
            raise ValueError("server_hostname is only meaningful with ssl")
        if handshake_timeout is not None and not ssl:
            raise ValueError("ssl_handshake_timeout is only meaningful with ssl")
        if shutdown_timeout is not None and not ssl:
            raise ValueError("ssl_shutdown_timeout is only meaningful with ssl")
        if ssl:
            raise NotImplementedError(
                f"loop.{call}(ssl=...): TLS is not simulated by simloop.net yet; "
                "test the plain-TCP path (ssl=None)"
            )
