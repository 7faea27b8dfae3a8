"""Imitates the asyncio streams code found in service code and tutorials: a
line-protocol TCP server made with ``asyncio.start_server``, and clients made
with ``asyncio.open_connection`` that send requests under ``asyncio.timeout``
or ``asyncio.wait_for``, pipeline requests, read a reply until EOF, and close
their connection either carefully (``close()`` + ``wait_closed()``, server
handlers awaited) or tutorial-style (``server.close()`` and return, leaving the
server's handler task to notice the hang-up on its own)."""

from __future__ import annotations

import asyncio

import pytest
from corpus_lineproto import LineServer, request


@pytest.mark.simloop
async def test_request_reply_several_clients():
    server = LineServer()
    port = await server.start()

    async def client(n: int) -> list[str]:
        async with asyncio.timeout(1.0):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            replies = [await request(reader, writer, "PING")]
            for i in range(3):
                replies.append(await request(reader, writer, f"ADD {n} {i}"))  # noqa: PERF401
            return replies
        finally:
            writer.close()
            await writer.wait_closed()

    results = await asyncio.gather(*(client(n) for n in range(4)))
    assert results == [["PONG", str(n), str(n + 1), str(n + 2)] for n in range(4)]
    await server.stop()
    assert server.connections == 4


@pytest.mark.simloop
async def test_request_reply_with_wait_for():
    server = LineServer()
    port = await server.start()

    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2.0)
    for word in ["alpha", "beta", "gamma"]:
        writer.write(f"ECHO {word}\n".encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout=1.0)
        assert line == f"{word}\n".encode()
    writer.write(b"QUIT\n")
    await writer.drain()
    assert await asyncio.wait_for(reader.readline(), timeout=1.0) == b"BYE\n"
    # after BYE the server hangs up
    assert await asyncio.wait_for(reader.read(), timeout=1.0) == b""
    writer.close()
    await writer.wait_closed()
    await server.stop()


@pytest.mark.simloop
async def test_pipelined_requests():
    server = LineServer()
    port = await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        # send all the requests at once, then read the replies in order
        writer.writelines(f"ADD {i} {i}\n".encode() for i in range(20))
        await writer.drain()
        async with asyncio.timeout(2.0):
            replies = [(await reader.readline()).decode().strip() for _ in range(20)]
        assert replies == [str(2 * i) for i in range(20)]
    finally:
        writer.close()
        await writer.wait_closed()
    await server.stop()


@pytest.mark.simloop
async def test_client_reads_until_eof():
    server = LineServer()
    port = await server.start()
    async with asyncio.timeout(2.0):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"DUMP 50\n")
        await writer.drain()
        data = await reader.read()  # until the server closes the connection
    assert data.decode().splitlines() == [f"line {i}" for i in range(50)]
    assert reader.at_eof()
    writer.close()
    await writer.wait_closed()
    await server.stop()


@pytest.mark.simloop
async def test_client_iterates_lines_until_eof():
    server = LineServer()
    port = await server.start()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"DUMP 10\n")
    await writer.drain()
    lines = []
    async with asyncio.timeout(2.0):
        async for line in reader:  # StreamReader is an async iterator of lines
            lines.append(line.decode().strip())  # noqa: PERF401
    assert lines == [f"line {i}" for i in range(10)]
    writer.close()
    await writer.wait_closed()
    await server.stop()


@pytest.mark.simloop
async def test_tutorial_style_server_close():
    """The docs' echo example: the handler is a plain function, nobody keeps
    its task; the test closes its side and the server, and returns."""

    async def handle_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.readline()
        writer.write(data)
        await writer.drain()
        # wait for the client to hang up, then close our side
        await reader.read()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"Hello World!\n")
    await writer.drain()
    data = await asyncio.wait_for(reader.readline(), timeout=1.0)
    assert data == b"Hello World!\n"
    writer.close()
    await writer.wait_closed()

    server.close()
    await server.wait_closed()


@pytest.mark.simloop
async def test_tutorial_style_async_with_server():
    """``async with server:`` as in the asyncio docs; a client per request."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        writer.write(line.upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        for word in [b"one", b"two", b"three"]:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(word + b"\n")
            async with asyncio.timeout(1.0):
                assert await reader.readline() == word.upper() + b"\n"
            writer.close()
            await writer.wait_closed()


@pytest.fixture
async def line_server():
    server = LineServer()
    port = await server.start()
    yield port
    await server.stop()


@pytest.mark.simloop
async def test_async_fixture_server(line_server):
    reader, writer = await asyncio.open_connection("127.0.0.1", line_server)
    try:
        assert await request(reader, writer, "PING") == "PONG"
        assert await request(reader, writer, "ECHO fixture") == "fixture"
        assert (await request(reader, writer, "WHO")).startswith("conn-")
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.simloop
async def test_async_fixture_server_concurrent_clients(line_server):
    async def one(i: int) -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", line_server)
        try:
            return await request(reader, writer, f"ECHO client-{i}", timeout=2.0)
        finally:
            writer.close()
            await writer.wait_closed()

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(one(i)) for i in range(8)]
    assert [t.result() for t in tasks] == [f"client-{i}" for i in range(8)]
