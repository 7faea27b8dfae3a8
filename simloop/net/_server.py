"""`SimServer`: what `loop.create_server` returns on the simulated network.

Simloop's own `asyncio.AbstractServer` (asyncio's `Server` changed its
internals in 3.13), with the stock semantics: sockets are bound at once and
listen only once serving starts (so a connect before ``start_serving`` is
refused), ``close`` stops listening and leaves connections open,
``wait_closed`` waits for the server to be closed and, from Python 3.12.1
on, for its connections to end too (before that it returned at once once
closed, and so does this one there), ``serve_forever`` and
``close_clients``/``abort_clients``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._addresses import format_address
from ._transport import TcpTransport

if TYPE_CHECKING:
    from ._socket import SimSocket

#: asyncio's wait_closed() waits for the connections too only from 3.12.1 on.
WAIT_CLOSED_WAITS_FOR_CONNECTIONS = sys.version_info >= (3, 12, 1)


class SimServer(asyncio.AbstractServer):
    """A TCP server listening on one or more simulated sockets."""

    def __init__(
        self,
        loop: Any,
        sockets: list[SimSocket],
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        backlog: int,
    ) -> None:
        self._loop = loop
        self._sockets: list[SimSocket] | None = sockets
        self._protocol_factory = protocol_factory
        self._backlog = backlog
        self._clients: dict[int, TcpTransport] = {}
        self._waiters: list[asyncio.Future[None]] | None = []
        self._serving = False
        self._serving_forever_fut: asyncio.Future[None] | None = None
        # As asyncio, whose accept callback is a reader handle added when
        # serving starts: each connection's protocol runs in (a copy of) that
        # context, so a handler is on the server's host (`Network.on`).
        self._context = contextvars.copy_context()
        network = sockets[0]._network
        self._network = network
        for sock in sockets:
            sock._owned_by_transport()
        self._open_key = network.opened(self)

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} sockets={self.sockets!r}>"

    @property
    def _description(self) -> str:
        return ", ".join(format_address(sock.getsockname()) for sock in self._sockets or ())

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop  # type: ignore[no-any-return]

    def is_serving(self) -> bool:
        return self._serving

    @property
    def sockets(self) -> tuple[SimSocket, ...]:
        if self._sockets is None:
            return ()
        return tuple(self._sockets)

    def _start_serving(self) -> None:
        if self._serving or self._sockets is None:
            return
        self._serving = True
        self._context = contextvars.copy_context()
        for sock in self._sockets:
            sock.listen(self._backlog)
            listener = sock._listener
            assert listener is not None
            listener.on_ready = functools.partial(self._accept, sock)
            if listener.accept_due():
                self._accept(sock)

    def _accept(self, sock: SimSocket) -> None:
        """Connections are waiting on `sock`: make a transport and protocol for each."""
        listener = sock._listener
        while listener is not None and self._serving:
            endpoint = listener.accept()
            if endpoint is None:
                return
            accepted = sock._accepted(endpoint)
            try:
                self._context.copy().run(self._connect_protocol, accepted)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._loop.call_exception_handler(
                    {
                        "message": "Error on transport creation for incoming connection",
                        "exception": exc,
                        "socket": accepted,
                    }
                )
                accepted.close()

    def _connect_protocol(self, accepted: SimSocket) -> None:
        protocol = self._protocol_factory()
        TcpTransport(self._loop, accepted, protocol, server=self)

    async def start_serving(self) -> None:
        self._start_serving()
        # As asyncio: skip one loop iteration so that serving has begun.
        await asyncio.sleep(0)

    async def serve_forever(self) -> None:
        if self._serving_forever_fut is not None:
            raise RuntimeError(f"server {self!r} is already being awaited on serve_forever()")
        if self._sockets is None:
            raise RuntimeError(f"server {self!r} is closed")
        self._start_serving()
        self._serving_forever_fut = self._loop.create_future()
        try:
            await self._serving_forever_fut
        except asyncio.CancelledError:
            try:
                self.close()
                await self.wait_closed()
            finally:
                raise
        finally:
            self._serving_forever_fut = None

    def close(self) -> None:
        sockets = self._sockets
        if sockets is None:
            return
        self._sockets = None
        for sock in sockets:
            sock.close()
        self._serving = False
        self._network.closed(self._open_key)
        if self._serving_forever_fut is not None and not self._serving_forever_fut.done():
            self._serving_forever_fut.cancel()
            self._serving_forever_fut = None
        if not self._clients or not WAIT_CLOSED_WAITS_FOR_CONNECTIONS:
            self._wakeup()

    def close_clients(self) -> None:
        """Close every connection this server accepted (as 3.13's Server does)."""
        for transport in list(self._clients.values()):
            transport.close()

    def abort_clients(self) -> None:
        """Abort every connection this server accepted (as 3.13's Server does)."""
        for transport in list(self._clients.values()):
            transport.abort()

    async def wait_closed(self) -> None:
        if self._waiters is None:
            return
        if not WAIT_CLOSED_WAITS_FOR_CONNECTIONS and self._sockets is None:
            return
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        await waiter

    def _attach(self, transport: TcpTransport) -> None:
        self._clients[id(transport)] = transport

    def _detach(self, transport: TcpTransport) -> None:
        self._clients.pop(id(transport), None)
        if not self._clients and self._sockets is None:
            self._wakeup()

    def _wakeup(self) -> None:
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)
