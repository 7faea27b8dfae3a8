"""Imitates a typical existing test suite written for pytest-asyncio (not for
simloop): ``@pytest.mark.asyncio`` tests and ``pytest_asyncio.fixture`` async
fixtures for a line-protocol TCP server, with clients that use
``asyncio.timeout``/``wait_for``, a TaskGroup fan-out, a worker queue joined
and cancelled, a retry with backoff and an ``asyncio.to_thread`` call. These
run on pytest-asyncio's stock loop today; simloop's planned
``--simloop-all`` is meant to run such files unmodified."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
import pytest_asyncio


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            writer.write(line.upper())
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@pytest_asyncio.fixture
async def upper_server():
    handlers: set[asyncio.Task[None]] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await handle(reader, writer)
        finally:
            handlers.discard(task)

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    if handlers:
        await asyncio.wait(handlers)


async def ask(port: int, text: str) -> str:
    async with asyncio.timeout(2.0):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(f"{text}\n".encode())
            await writer.drain()
            return (await reader.readline()).decode().strip()
        finally:
            writer.close()
            await writer.wait_closed()


@pytest.mark.asyncio
async def test_single_request(upper_server):
    assert await ask(upper_server, "hello") == "HELLO"


@pytest.mark.asyncio
async def test_persistent_connection(upper_server):
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", upper_server), timeout=2.0
    )
    try:
        for word in ["a", "bb", "ccc"]:
            writer.write(f"{word}\n".encode())
            await writer.drain()
            assert await asyncio.wait_for(reader.readline(), 1.0) == f"{word.upper()}\n".encode()
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.asyncio
async def test_taskgroup_many_clients(upper_server):
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(ask(upper_server, f"client{i}")) for i in range(6)]
    assert [t.result() for t in tasks] == [f"CLIENT{i}" for i in range(6)]


@pytest.mark.asyncio
async def test_worker_queue_join_and_cancel():
    queue: asyncio.Queue[int] = asyncio.Queue()
    done: list[int] = []

    async def worker() -> None:
        while True:
            item = await queue.get()
            try:
                await asyncio.sleep(0.001)
                done.append(item)
            finally:
                queue.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(3)]
    for i in range(15):
        await queue.put(i)
    await queue.join()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    assert sorted(done) == list(range(15))


@pytest.mark.asyncio
async def test_retry_with_backoff():
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("try again")
        return "ok"

    result = None
    for attempt in range(5):
        try:
            result = await flaky()
            break
        except ConnectionError:
            await asyncio.sleep(0.01 * 2**attempt)
    assert result == "ok"
    assert calls == 3


@pytest.mark.asyncio
async def test_to_thread():
    def blocking() -> int:
        time.sleep(0.01)
        return 42

    assert await asyncio.wait_for(asyncio.to_thread(blocking), timeout=5.0) == 42
