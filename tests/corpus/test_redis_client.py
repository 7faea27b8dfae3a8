"""Imitates a cache layer tested against a home-made Redis fake: a tiny RESP
server written with ``asyncio.start_server`` (``corpus_resp.py``) and the real
``redis.asyncio.Redis`` client (redis-py) doing PING/SET/GET/INCR against it,
from one task and from many concurrent tasks sharing the client's connection
pool, with the client closed by ``await client.aclose()``; the server is
provided by an async fixture in one test."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as redis
from corpus_resp import RespServer


@pytest.mark.simloop
async def test_redis_ping_set_get():
    server = RespServer()
    port = await server.start()
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2.0)
    try:
        assert await client.ping() is True
        assert await client.set("greeting", "hello") is True
        assert await client.get("greeting") == b"hello"
        assert await client.get("missing") is None
    finally:
        await client.aclose()
    await server.stop()
    assert server.data == {b"greeting": b"hello"}


@pytest.mark.simloop
async def test_redis_decode_responses_resp2():
    server = RespServer()
    port = await server.start()
    client = redis.Redis(host="127.0.0.1", port=port, protocol=2, decode_responses=True)
    try:
        async with asyncio.timeout(2.0):
            await client.set("user:1", "ada")
            assert await client.get("user:1") == "ada"
            assert await client.incr("visits") == 1
            assert await client.incr("visits") == 2
            assert await client.delete("user:1") == 1
            assert await client.get("user:1") is None
    finally:
        await client.aclose()
    await server.stop()


@pytest.mark.simloop
async def test_redis_many_tasks_share_the_pool():
    server = RespServer()
    port = await server.start()
    # a blocking pool: a task waits for a free connection instead of failing
    pool = redis.BlockingConnectionPool(
        host="127.0.0.1", port=port, max_connections=4, timeout=5, socket_timeout=2.0
    )
    client = redis.Redis.from_pool(pool)

    async def store_and_read(i: int) -> bytes | None:
        await client.set(f"key:{i}", f"value-{i}")
        return await client.get(f"key:{i}")

    try:
        values = await asyncio.gather(*(store_and_read(i) for i in range(12)))
        assert values == [f"value-{i}".encode() for i in range(12)]
    finally:
        await client.aclose()
    await server.stop()


@pytest.fixture
async def resp_server():
    server = RespServer()
    port = await server.start()
    yield server, port
    await server.stop()


@pytest.mark.simloop
async def test_redis_async_fixture_counter(resp_server):
    server, port = resp_server
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        async with asyncio.TaskGroup() as tg:
            for _ in range(10):
                tg.create_task(asyncio.wait_for(client.incr("hits"), timeout=2.0))
        assert await client.get("hits") == b"10"
    finally:
        await client.aclose()
    assert server.data[b"hits"] == b"10"
