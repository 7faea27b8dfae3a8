"""Bug 9: two tasks waiting in `drain()` on one connection trip an internal assert.

Source: CPython bpo-29930 (python/cpython#74116), fixed by PR #94705. Hit in
the wild by websockets (#16, PR #168), aiohttp (PR #1915) and hbmqtt (#172).
Affected: CPython up to 3.9 (checked with real sockets on 3.9.18) and 3.10
before 3.10.6.

What goes wrong: a stream's flow control keeps a single "drain waiter":
when the transport's buffer is over its high-water mark, `drain()` creates a
future and waits for `resume_writing()` to complete it. A second task that
writes to the same connection and calls `drain()` while the first still
waits finds the slot taken, and the code asserts that it never is.

Interleaving: task A writes until the transport pauses and waits in
drain(); task B's write() and drain() run before the transport resumes. Here
the server starts reading after 2 ms and B writes after 30 ms. On the stock
loop over loopback, the kernel takes A's bytes into its socket buffers and
the transport resumes within a fraction of a millisecond (0.2 ms typically,
4.4 ms at worst in 1,000 runs on the development machine), so B's drain()
returns at once. B's drain() needs the resume to come late: the bytes, or
the room made by the server's reads, delivered more than 28 ms after the
server starts reading (a slow or congested network), or the transport's
wake-ups pushed past B's timer by a busy loop. (The window is kept wide so
that a loaded machine does not show the bug on the stock loop by accident.)

Fix (PR #94705, in our own form): keep a list of drain waiters and wake them
all when writing resumes.

Needs a network: the client speaks to a slow-reading server on asyncio
streams, on 127.0.0.1, through its own flow-controlled protocol.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import sys
from typing import Any

from examples.gallery._support import show

INTERLEAVING = "D or N"
STOCK_HIDES = True
NEEDS_NETWORK = True

#: The server starts reading this long after a client connects, in seconds.
READ_DELAY = 0.002
#: Task B writes this long after connecting, in seconds.
NOTE_DELAY = 0.03
CHUNK = b"x" * 65536


class SlowReader:
    """A server that reads nothing for `READ_DELAY`, then everything, and counts it."""

    def __init__(self) -> None:
        self.received = 0
        #: whether a connection was reset under the server
        self.reset = False
        self._sessions: list[asyncio.Task[None]] = []

    async def start(self) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._read_all, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def _read_all(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = asyncio.current_task()
        assert session is not None
        self._sessions.append(session)
        await asyncio.sleep(READ_DELAY)
        try:
            while data := await reader.read(65536):
                self.received += len(data)
        except ConnectionError:
            self.reset = True
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()
        await asyncio.gather(*self._sessions)


class _Channel(asyncio.Protocol):
    """A client connection with flow control: `write()`, then `drain()`
    waits while the transport's buffer is over its high-water mark."""

    def __init__(self) -> None:
        self.paused = False
        self.sent = 0
        #: why the connection ended, if it ended with an error (a reset)
        self.lost_to: Exception | None = None
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        self.transport = transport

    def connection_lost(self, error: Exception | None) -> None:
        self.lost_to = error
        self.paused = False
        self._wake_drainers()
        self._closed.set_result(None)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._wake_drainers()

    def write(self, data: bytes) -> None:
        self.transport.write(data)
        self.sent += len(data)

    async def drain(self) -> None:
        raise NotImplementedError

    def _wake_drainers(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        self.transport.close()
        await self._closed


class ChannelWithOneDrainWaiter(_Channel):
    """Flow control as in CPython 3.9: room for a single drain() waiter."""

    _waiter: asyncio.Future[None] | None = None

    async def drain(self) -> None:
        if not self.paused:
            return
        # The bug: a second concurrent drain() finds the slot taken.
        assert self._waiter is None or self._waiter.cancelled(), "two drain() calls at once"
        self._waiter = asyncio.get_running_loop().create_future()
        await self._waiter

    def _wake_drainers(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class ChannelWithDrainWaiters(_Channel):
    """Flow control after PR #94705: any number of drain() waiters."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def drain(self) -> None:
        if not self.paused:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            self._waiters.remove(waiter)

    def _wake_drainers(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)


BUGGY = ChannelWithOneDrainWaiter
FIXED = ChannelWithDrainWaiters


def _small_send_buffer(transport: asyncio.BaseTransport) -> None:
    # Over loopback the kernel buffers megabytes before the transport pauses;
    # a small send buffer makes it pause after about 100 KiB. A simulated
    # socket may not have the option: then it does not matter.
    sock: Any = transport.get_extra_info("socket")
    with contextlib.suppress(AttributeError, OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)


async def scenario(channel_type: type[_Channel]) -> None:
    """A streams data until the connection pauses; B sends a short note meanwhile."""
    server = SlowReader()
    host, port = await server.start()
    loop = asyncio.get_running_loop()
    try:
        transport, channel = await loop.create_connection(channel_type, host, port)
    except ConnectionError:
        await server.stop()
        return  # a refused connect (a fault simloop's network may inject): not this bug
    _small_send_buffer(transport)

    async def stream_data() -> None:  # A
        while not channel.paused:
            channel.write(CHUNK)
        await channel.drain()

    async def send_note() -> None:  # B
        await asyncio.sleep(NOTE_DELAY)
        channel.write(b"note")
        await channel.drain()

    try:
        await asyncio.gather(stream_data(), send_note())
    except ConnectionError:
        return  # the connection was reset (an injected fault): not this bug
    finally:
        await channel.close()
        await server.stop()
    if server.reset or isinstance(channel.lost_to, ConnectionError):
        return  # reset while the data was in flight: bytes were lost, as TCP loses them
    assert server.received == channel.sent, f"sent {channel.sent} bytes, {server.received} arrived"


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
