"""The asyncio transport over a simulated TCP endpoint.

`TcpTransport` behaves as asyncio's selector socket transport does, callback
for callback: ``connection_made`` then reading starts (each a ``call_soon``),
``data_received`` with what arrived (up to 256 KiB a call), ``eof_received``
then ``close`` unless the protocol keeps the half-open connection, writes go
straight to the endpoint while its window has room and are buffered
otherwise (``pause_writing`` above the high-water mark, ``resume_writing``
below the low one), ``close`` flushes the buffer first, ``abort`` drops it,
and ``connection_lost`` is the last callback a protocol gets.
"""

from __future__ import annotations

import logging
from asyncio import transports
from typing import TYPE_CHECKING, Any, Protocol

from ._addresses import format_address

if TYPE_CHECKING:
    import asyncio

    from ._socket import SimSocket
    from ._tcp import TcpEndpoint


class Serving(Protocol):
    """The server a transport was accepted by (a `simloop.net.SimServer`),
    which keeps count of its connections."""

    def _attach(self, transport: TcpTransport) -> None: ...
    def _detach(self, transport: TcpTransport) -> None: ...


logger = logging.getLogger("asyncio")

#: Most bytes one ``data_received`` call gets (asyncio's selector transports read this much).
READ_SIZE = 256 * 1024
#: Writes after the connection was lost before asyncio starts warning.
_LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5


class TcpTransport(transports._FlowControlMixin):
    """A `asyncio.Transport` over one end of a simulated TCP connection."""

    _simloop_network_timer = True

    if TYPE_CHECKING:
        # _FlowControlMixin's helpers, which typeshed omits.
        def _maybe_pause_protocol(self) -> None: ...
        def _maybe_resume_protocol(self) -> None: ...

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: SimSocket,
        protocol: asyncio.BaseProtocol,
        waiter: asyncio.Future[None] | None = None,
        server: Serving | None = None,
    ) -> None:
        super().__init__(None, loop)
        endpoint = sock._endpoint
        assert endpoint is not None
        self._loop: Any = loop
        self._sock: SimSocket | None = sock
        self._endpoint: TcpEndpoint = endpoint
        self._network = sock._network
        self._protocol: Any = None
        self._protocol_connected = False
        self.set_protocol(protocol)
        self._server = server
        self._buffer = bytearray()
        self._conn_lost = 0
        self._closing = False
        self._paused = False
        self._reading = False
        self._eof = False
        self._eof_seen = False
        self._peername = endpoint.remote
        self._sockname = endpoint.local
        sock._owned_by_transport()
        endpoint.reader = self._read_ready
        endpoint.writer = self._write_ready
        self._open_key = self._network.opened(self)
        if server is not None:
            server._attach(self)
        loop.call_soon(protocol.connection_made, self)
        # Reading starts only once connection_made() has run, as in asyncio.
        loop.call_soon(self._start_reading)
        if waiter is not None:
            loop.call_soon(_set_result_unless_cancelled, waiter, None)

    def __repr__(self) -> str:
        state = "closed" if self._sock is None else ("closing" if self._closing else "open")
        return (
            f"<simloop TCP transport {format_address(self._sockname)} -> "
            f"{format_address(self._peername)} {state}>"
        )

    # -- BaseTransport ----------------------------------------------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername":
            return self._peername
        if name == "sockname":
            return self._sockname
        if name == "socket":
            return self._sock
        return default

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol
        self._protocol_connected = True

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol  # type: ignore[no-any-return]

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._network.closed(self._open_key)
        if not self._buffer:
            self._conn_lost += 1
            self._loop.call_soon(self._call_connection_lost, None)

    # -- ReadTransport ----------------------------------------------------

    def is_reading(self) -> bool:
        return not self._paused and not self._closing

    def pause_reading(self) -> None:
        if not self.is_reading():
            return
        self._paused = True

    def resume_reading(self) -> None:
        if self._closing or not self._paused:
            return
        self._paused = False
        # As asyncio: reading resumes on a later iteration, never inside this call.
        self._loop.call_soon(self._read_ready)

    def _start_reading(self) -> None:
        self._reading = True
        endpoint = self._endpoint
        if endpoint.inbox or endpoint.fin_received or endpoint.error is not None:
            self._read_ready()

    def _read_ready(self) -> None:
        """Something arrived (or reading resumed): hand it to the protocol."""
        if not self._reading or self._paused or self._closing or self._sock is None:
            if self._endpoint.error is not None and self._sock is not None:
                self._lost(self._endpoint.error)
            return
        endpoint = self._endpoint
        if endpoint.inbox:
            data = endpoint.take(READ_SIZE)
            try:
                self._protocol.data_received(data)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal error: protocol.data_received() call failed.")
                return
            if endpoint.inbox or endpoint.fin_received or endpoint.error is not None:
                self._loop.call_soon(self._read_ready)
            return
        if endpoint.error is not None:
            self._lost(endpoint.error)
            return
        if endpoint.fin_received and not self._eof_seen:
            self._eof_seen = True
            try:
                keep_open = self._protocol.eof_received()
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                self._fatal_error(exc, "Fatal error: protocol.eof_received() call failed.")
                return
            if not keep_open:
                self.close()

    def _lost(self, error: OSError) -> None:
        # What asyncio does when recv() or send() fails with a reset.
        self._fatal_error(error, "Fatal read error on socket transport")

    # -- WriteTransport ---------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"data argument must be a bytes-like object, not {type(data).__name__!r}"
            )
        if self._eof:
            raise RuntimeError("Cannot call write() after write_eof()")
        if not data:
            return
        if self._conn_lost:
            if self._conn_lost >= _LOG_THRESHOLD_FOR_CONNLOST_WRITES:
                logger.warning("socket.send() raised exception.")
            self._conn_lost += 1
            return
        if not self._buffer:
            try:
                sent = self._endpoint.send(data)
            except OSError as exc:
                self._fatal_error(exc, "Fatal write error on socket transport")
                return
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
        self._buffer += data
        self._maybe_pause_protocol()

    def _write_ready(self) -> None:
        """The window opened (or the connection broke): send what is buffered."""
        if self._conn_lost or self._sock is None:
            return
        endpoint = self._endpoint
        if endpoint.error is not None:
            self._lost(endpoint.error)
            return
        buffer = self._buffer
        if buffer:
            try:
                sent = endpoint.send(buffer)
            except OSError as exc:
                self._fatal_error(exc, "Fatal write error on socket transport")
                return
            del buffer[:sent]
            self._maybe_resume_protocol()
            if buffer:
                return
        if self._closing:
            self._conn_lost += 1
            self._call_connection_lost(None)
        elif self._eof:
            endpoint.shutdown_write()

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if self._closing or self._eof:
            return
        self._eof = True
        if not self._buffer:
            self._endpoint.shutdown_write()

    def abort(self) -> None:
        self._force_close(None)

    # -- ending -----------------------------------------------------------

    def _fatal_error(self, exc: BaseException, message: str) -> None:
        if isinstance(exc, OSError):
            if self._loop.get_debug():
                logger.debug("%r: %s", self, message, exc_info=True)
        else:
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
        if self._buffer:
            self._buffer.clear()
        if not self._closing:
            self._closing = True
            self._network.closed(self._open_key)
        self._conn_lost += 1
        self._loop.call_soon(self._call_connection_lost, exc)

    def _call_connection_lost(self, exc: BaseException | None) -> None:
        try:
            if self._protocol_connected:
                self._protocol.connection_lost(exc)
        finally:
            sock = self._sock
            if sock is not None:
                self._sock = None
                sock.close()
            self._protocol = None
            server = self._server
            if server is not None:
                server._detach(self)
                self._server = None


def _set_result_unless_cancelled(future: asyncio.Future[None], result: None) -> None:
    if not future.cancelled():
        future.set_result(result)
