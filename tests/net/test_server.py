"""The Server object, on the stock loop and on simloop.

Covers simloop/net/_server.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import simloop


async def _close_at_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()
    writer.close()


def test_server_reports_its_state(run_on: Any) -> None:
    async def main() -> tuple[bool, bool, bool, tuple[Any, ...]]:
        loop = asyncio.get_running_loop()
        server = await asyncio.start_server(_close_at_eof, "127.0.0.1", 0)
        serving = server.is_serving()
        assert server.get_loop() is loop
        assert len(server.sockets) == 1
        server.close()
        await server.wait_closed()
        with pytest.raises(RuntimeError, match="is closed"):
            await server.serve_forever()
        return serving, server.is_serving(), "sockets=()" in repr(server), server.sockets

    assert run_on(main()) == (True, False, True, ())


def test_a_server_not_yet_serving_refuses_connections(run_on: Any) -> None:
    async def main() -> bytes:
        server = await asyncio.start_server(_answer, "127.0.0.1", 0, start_serving=False)
        address = server.sockets[0].getsockname()
        assert not server.is_serving()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*address)
        await server.start_serving()
        reader, writer = await asyncio.open_connection(*address)
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return answer

    assert run_on(main()) == b"hi"


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"hi")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


def test_serve_forever_ends_when_cancelled_and_closes_the_server(run_on: Any) -> None:
    async def main() -> tuple[bool, bool]:
        server = await asyncio.start_server(_answer, "127.0.0.1", 0, start_serving=False)
        address = server.sockets[0].getsockname()
        serving = asyncio.ensure_future(server.serve_forever())
        while not server.is_serving():
            await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="already being awaited"):
            await server.serve_forever()
        reader, writer = await asyncio.open_connection(*address)
        assert await reader.read() == b"hi"
        writer.close()
        await writer.wait_closed()
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving
        return server.is_serving(), server.sockets == ()

    assert run_on(main()) == (False, True)


def test_closing_the_server_keeps_its_connections_open(run_on: Any) -> None:
    async def main() -> bytes:
        accepted: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await accepted.put(writer)
            data = await reader.read()
            writer.write(data.upper())
            writer.close()

        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        reader, writer = await asyncio.open_connection(*address)
        await accepted.get()
        server.close()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*address)
        writer.write(b"still here")
        writer.write_eof()
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
        await server.wait_closed()
        return answer

    assert run_on(main()) == b"STILL HERE"


def test_binding_a_port_in_use_fails_as_on_the_real_network(run_on: Any) -> None:
    async def main() -> tuple[int | None, str]:
        server = await asyncio.start_server(_answer, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        with pytest.raises(OSError) as caught:
            await asyncio.start_server(_answer, *address)
        server.close()
        await server.wait_closed()
        return caught.value.errno, str(caught.value)

    errno, message = run_on(main())
    assert errno == 98
    assert "error while attempting to bind on address ('127.0.0.1', " in message
    assert message.endswith("address already in use")


def test_a_server_on_every_interface_has_an_ipv4_and_an_ipv6_socket(run_on: Any) -> None:
    async def main() -> list[str]:
        server = await asyncio.start_server(_answer, None, 0)
        hosts = sorted(sock.getsockname()[0] for sock in server.sockets)
        server.close()
        await server.wait_closed()
        return hosts

    # (asyncio keeps them in a set: their order is arbitrary)
    assert run_on(main()) == ["0.0.0.0", "::"]


def test_a_handler_still_running_when_the_test_ends_is_cancelled_quietly() -> None:
    """Python 3.11 and 3.12 report a cancelled start_server handler as an
    error in a callback and leave its connection open (3.13 does neither);
    simloop behaves as 3.13 does on every version."""

    async def main() -> simloop.SimLoop:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # waits for EOF, which never comes before main returns

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.sleep(0.01)
        server.close()
        writer.transport.abort()
        loop = asyncio.get_running_loop()
        assert isinstance(loop, simloop.SimLoop)
        return loop

    for seed in range(10):
        loop = simloop.run(main(), seed=seed)
        assert loop.unhandled == []
        assert loop.open_transports() == []
