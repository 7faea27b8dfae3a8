"""Real libraries, unmodified, on the simulated network (pinned in the test extras).

Covers simloop/net (whole).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve


async def _aiohttp_app() -> tuple[web.AppRunner, int]:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello {request.query.get('name', '?')}")

    async def reverse(request: web.Request) -> web.Response:
        return web.Response(body=(await request.read())[::-1])

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_post("/reverse", reverse)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


def test_aiohttp_client_and_server(run_on: Any) -> None:
    async def main() -> list[Any]:
        runner, port = await _aiohttp_app()
        seen: list[Any] = []
        async with aiohttp.ClientSession() as session:
            for name in ("a", "b"):  # keep-alive: one connection for both
                async with session.get(f"http://127.0.0.1:{port}/?name={name}") as response:
                    seen.append((response.status, await response.text()))
            async with session.post(f"http://localhost:{port}/reverse", data=b"abc") as response:
                seen.append(await response.read())
            connector = session.connector
            assert connector is not None
            with pytest.raises(asyncio.TimeoutError):
                async with session.get(
                    f"http://127.0.0.1:{port}/slow", timeout=aiohttp.ClientTimeout(total=0.2)
                ) as response:
                    await response.text()
        await runner.cleanup()
        return seen

    assert run_on(main()) == [(200, "hello a"), (200, "hello b"), b"cba"]


def test_aiohttp_keeps_one_connection_alive_for_sequential_requests() -> None:
    import simloop

    async def main() -> int:
        runner, port = await _aiohttp_app()
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession() as session:
            for _ in range(3):
                async with session.get(f"http://127.0.0.1:{port}/") as response:
                    await response.read()
            transports = [t for t in loop.open_transports() if "TCP transport" in t]  # type: ignore[attr-defined]
        await runner.cleanup()
        return len(transports)

    # the client's end and the server's end of one connection
    assert simloop.run(main(), strategy="fifo") == 2


def test_websockets_client_and_server_exchange_messages(run_on: Any) -> None:
    async def main() -> list[str]:
        async def shout(websocket: Any) -> None:
            async for message in websocket:
                await websocket.send(message.upper())

        replies = []
        async with serve(shout, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}") as websocket:
                for word in ("one", "two", "three"):
                    await websocket.send(word)
                    replies.append(await websocket.recv())
        return replies

    assert run_on(main()) == ["ONE", "TWO", "THREE"]


async def _resp_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A tiny RESP server: HELLO, PING, SET, GET, and CLIENT subcommands."""
    store: dict[bytes, bytes] = {}
    try:
        while line := await reader.readline():
            parts = []
            for _ in range(int(line[1:])):
                size = int((await reader.readline())[1:])
                parts.append((await reader.readexactly(size + 2))[:-2])
            command = parts[0].upper()
            if command == b"HELLO":
                writer.write(b"%1\r\n$5\r\nproto\r\n:3\r\n")
            elif command == b"PING":
                writer.write(b"+PONG\r\n")
            elif command == b"SET":
                store[parts[1]] = parts[2]
                writer.write(b"+OK\r\n")
            elif command == b"GET":
                value = store.get(parts[1])
                writer.write(b"_\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value))
            elif command == b"CLIENT":
                writer.write(b"+OK\r\n")
            else:
                writer.write(b"-ERR unknown command\r\n")
            await writer.drain()
    finally:
        writer.close()


def test_redis_asyncio_client_against_a_resp_server(run_on: Any) -> None:
    async def main() -> list[Any]:
        server = await asyncio.start_server(_resp_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = aioredis.Redis(host="127.0.0.1", port=port)
        answers = [
            await client.ping(),
            await client.set("key", "value"),
            await client.get("key"),
            await client.get("missing"),
        ]
        await client.aclose()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.01)  # the server's handler sees the client go
        return answers

    assert run_on(main()) == [True, True, b"value", None]
