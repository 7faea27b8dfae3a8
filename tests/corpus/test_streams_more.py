"""Imitates more asyncio streams code from services and tutorials: a tight
half-second deadline per request/reply round trip on a local connection, a
half-closing client (``write_eof``) whose server answers once it sees EOF, a
bulk upload large enough for ``drain()`` backpressure, ``readexactly`` for a
length-prefixed framing, and the common tutorial pattern that runs
``server.serve_forever()`` in a task and cancels it at the end."""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time

import pytest
from corpus_lineproto import LineServer, request


@pytest.mark.simloop
async def test_half_second_deadline_per_round_trip():
    server = LineServer()
    port = await server.start()
    async with asyncio.timeout(2.0):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i in range(10):
            # one round trip on a local connection: 0.5 s is plenty
            assert await request(reader, writer, f"ADD {i} 1", timeout=0.5) == str(i + 1)
    finally:
        writer.close()
        await writer.wait_closed()
    await server.stop()


@pytest.mark.simloop
async def test_round_trip_latency_is_small():
    server = LineServer()
    port = await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = time.monotonic()
        assert await request(reader, writer, "PING", timeout=2.0) == "PONG"
        elapsed = time.monotonic() - started
        assert elapsed < 1.0  # a local round trip, with a very loose bound
    finally:
        writer.close()
        await writer.wait_closed()
    await server.stop()


@pytest.mark.simloop
async def test_half_close_then_read_reply():
    """The client sends its whole input, half-closes, and reads the answer."""
    done = asyncio.Event()

    async def word_count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            data = await reader.read()  # until the client's EOF
            writer.write(f"{len(data.split())}\n".encode())
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()
            done.set()

    server = await asyncio.start_server(word_count, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"the quick brown fox\njumps over\nthe lazy dog\n")
    await writer.drain()
    assert writer.can_write_eof()
    writer.write_eof()
    async with asyncio.timeout(2.0):
        assert await reader.read() == b"9\n"
        await done.wait()
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()


@pytest.mark.simloop
async def test_bulk_upload_with_backpressure():
    received = asyncio.Future[int]()

    async def sink(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        total = 0
        while chunk := await reader.read(65536):
            total += len(chunk)
        writer.write(f"{total}\n".encode())
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        received.set_result(total)

    server = await asyncio.start_server(sink, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    chunk = b"x" * 16384
    async with asyncio.timeout(5.0):
        for _ in range(16):  # 256 KiB, more than the transport's buffer limits
            writer.write(chunk)
            await writer.drain()
        writer.write_eof()
        assert await reader.readline() == b"262144\n"
        assert await received == 262144
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()


@pytest.mark.simloop
async def test_length_prefixed_frames_with_readexactly():
    handlers: set[asyncio.Task[None]] = set()

    async def reverse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while True:
                try:
                    (size,) = struct.unpack("!I", await reader.readexactly(4))
                except asyncio.IncompleteReadError:
                    break  # the client hung up between frames
                payload = await reader.readexactly(size)
                writer.write(struct.pack("!I", size) + payload[::-1])
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            handlers.discard(asyncio.current_task())  # type: ignore[arg-type]

    server = await asyncio.start_server(reverse, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for payload in [b"abc", b"", b"hello world" * 100]:
        writer.write(struct.pack("!I", len(payload)) + payload)
        await writer.drain()
        async with asyncio.timeout(1.0):
            (size,) = struct.unpack("!I", await reader.readexactly(4))
            assert await reader.readexactly(size) == payload[::-1]
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    if handlers:
        await asyncio.wait(handlers)


@pytest.mark.simloop
async def test_tutorial_style_serve_forever_task():
    """``serve_forever()`` in a background task, cancelled when done; the
    handler is untracked, as in most tutorials."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(b"> " + line)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server_task = asyncio.create_task(server.serve_forever())

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for word in [b"a", b"b", b"c"]:
        writer.write(word + b"\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.readline(), 1.0) == b"> " + word + b"\n"
    writer.close()
    await writer.wait_closed()

    server_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await server_task
