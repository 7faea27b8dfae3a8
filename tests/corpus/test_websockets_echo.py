"""Imitates the websockets library's own quick-start: an echo server made
with ``websockets.asyncio.server.serve`` (the websockets 13+ asyncio API,
used here as installed, 17.x) and clients made with
``websockets.asyncio.client.connect``, exchanging several text and binary
messages, each receive under a timeout, then closing cleanly."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosedOK


async def echo(websocket: ServerConnection) -> None:
    async for message in websocket:
        await websocket.send(message)


@pytest.mark.simloop
async def test_websocket_echo_several_messages():
    async with serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            for i in range(5):
                await ws.send(f"hello {i}")
                reply = await asyncio.wait_for(ws.recv(), timeout=1.0)
                assert reply == f"hello {i}"
            await ws.send(b"\x00\x01binary")
            async with asyncio.timeout(1.0):
                assert await ws.recv() == b"\x00\x01binary"


@pytest.mark.simloop
async def test_websocket_concurrent_clients():
    async with serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]

        async def client(n: int) -> list[str]:
            async with connect(f"ws://127.0.0.1:{port}") as ws:
                got = []
                for i in range(3):
                    await ws.send(f"{n}:{i}")
                    async with asyncio.timeout(2.0):
                        got.append(await ws.recv())
                return got

        results = await asyncio.gather(*(client(n) for n in range(4)))
    assert results == [[f"{n}:{i}" for i in range(3)] for n in range(4)]


@pytest.mark.simloop
async def test_websocket_server_pushes_then_closes():
    async def ticker(websocket: ServerConnection) -> None:
        for i in range(4):
            await websocket.send(f"tick {i}")
            await asyncio.sleep(0.1)
        await websocket.close(code=1000, reason="done")

    async with serve(ticker, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        received = []
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            async with asyncio.timeout(3.0):
                async for message in ws:  # ends when the server closes normally
                    received.append(message)  # noqa: PERF401
            assert ws.close_code == 1000
        assert received == [f"tick {i}" for i in range(4)]


@pytest.mark.simloop
async def test_websocket_recv_after_close_raises():
    async def one_shot(websocket: ServerConnection) -> None:
        msg = await websocket.recv()
        await websocket.send(str(msg).upper())

    async with serve(one_shot, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}") as ws:
            await ws.send("ping")
            async with asyncio.timeout(2.0):
                assert await ws.recv() == "PING"
                # the handler returned: the server closes the connection (1000)
                with pytest.raises(ConnectionClosedOK):
                    await ws.recv()
