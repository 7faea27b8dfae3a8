"""Imitates the connection pools found in database and RPC clients: a fixed
set of TCP connections handed out through an ``asyncio.Queue`` (as in many
hand-written pools), and a lazily-growing pool capped by an
``asyncio.Semaphore`` (as in aiohttp's connector limit or asyncpg-style
pools), each shared by many concurrent tasks that run requests against a
line-protocol server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from corpus_lineproto import LineServer, request

Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class QueuePool:
    """A fixed pool: ``size`` connections opened up front, borrowed from a queue."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host, self.port, self.size = host, port, size
        self._idle: asyncio.Queue[Conn] = asyncio.Queue()
        self._all: list[Conn] = []

    async def open(self) -> None:
        for _ in range(self.size):
            async with asyncio.timeout(2.0):
                conn = await asyncio.open_connection(self.host, self.port)
            self._all.append(conn)
            self._idle.put_nowait(conn)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Conn]:
        conn = await self._idle.get()
        try:
            yield conn
        finally:
            self._idle.put_nowait(conn)

    async def close(self) -> None:
        for _, writer in self._all:
            writer.close()
        for _, writer in self._all:
            await writer.wait_closed()


class SemaphorePool:
    """A lazy pool: at most ``limit`` connections, created on demand and reused."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port = host, port
        self._sem = asyncio.Semaphore(limit)
        self._idle: list[Conn] = []
        self._all: list[Conn] = []
        self.in_use = 0
        self.max_in_use = 0

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Conn]:
        async with self._sem:
            if self._idle:
                conn = self._idle.pop()
            else:
                async with asyncio.timeout(2.0):
                    conn = await asyncio.open_connection(self.host, self.port)
                self._all.append(conn)
            self.in_use += 1
            self.max_in_use = max(self.max_in_use, self.in_use)
            try:
                yield conn
            finally:
                self.in_use -= 1
                self._idle.append(conn)

    async def close(self) -> None:
        for _, writer in self._all:
            writer.close()
            await writer.wait_closed()


@pytest.mark.simloop
async def test_queue_pool_shared_by_many_tasks():
    server = LineServer()
    port = await server.start()
    pool = QueuePool("127.0.0.1", port, size=3)
    await pool.open()

    async def job(i: int) -> str:
        async with pool.connection() as (reader, writer):
            return await request(reader, writer, f"ADD {i} 100")

    results = await asyncio.gather(*(job(i) for i in range(20)))
    assert results == [str(i + 100) for i in range(20)]
    await pool.close()
    await server.stop()
    assert server.connections == 3


@pytest.mark.simloop
async def test_queue_pool_each_connection_keeps_its_identity():
    server = LineServer()
    port = await server.start()
    pool = QueuePool("127.0.0.1", port, size=2)
    await pool.open()

    async def who_twice() -> tuple[str, str]:
        # two requests on one borrowed connection go to the same server session
        async with pool.connection() as (reader, writer):
            first = await request(reader, writer, "WHO")
            await asyncio.sleep(0.01)
            second = await request(reader, writer, "WHO")
            return first, second

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(who_twice()) for _ in range(6)]
    pairs = [t.result() for t in tasks]
    assert all(a == b for a, b in pairs)
    assert {a for a, _ in pairs} <= {"conn-1", "conn-2"}
    await pool.close()
    await server.stop()


@pytest.mark.simloop
async def test_semaphore_pool_caps_concurrency():
    server = LineServer()
    port = await server.start()
    pool = SemaphorePool("127.0.0.1", port, limit=4)

    async def job(i: int) -> str:
        async with pool.connection() as (reader, writer):
            return await request(reader, writer, f"ECHO job-{i}")

    results = await asyncio.gather(*(job(i) for i in range(25)))
    assert results == [f"job-{i}" for i in range(25)]
    assert 1 <= pool.max_in_use <= 4
    assert len(pool._all) <= 4
    await pool.close()
    await server.stop()


@pytest.mark.simloop
async def test_semaphore_pool_with_timeouts_on_acquire():
    """Callers give up on the pool after a generous deadline; none should
    need to, as the server answers promptly."""
    server = LineServer()
    port = await server.start()
    pool = SemaphorePool("127.0.0.1", port, limit=2)

    async def job(i: int) -> str:
        async with asyncio.timeout(5.0):
            async with pool.connection() as (reader, writer):
                return await request(reader, writer, f"ADD {i} {i}")

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(job(i)) for i in range(10)]
    assert [t.result() for t in tasks] == [str(2 * i) for i in range(10)]
    await pool.close()
    await server.stop()
