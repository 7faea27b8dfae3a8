"""Imitates the shutdown paths of worker services and TCP servers, written
without signals (a test or an orchestrator calls ``shutdown()``): a pool of
workers draining an ``asyncio.Queue`` followed by ``queue.join()`` and
cancellation of the idle workers; workers that flush their state in
``finally`` on cancellation; and a server that stops accepting, lets the
requests in flight finish, and closes idle connections."""

from __future__ import annotations

import asyncio
import contextlib

import pytest


@pytest.mark.simloop
async def test_worker_pool_join_then_cancel():
    queue: asyncio.Queue[int] = asyncio.Queue()
    results: dict[int, int] = {}

    async def worker(name: str) -> None:
        while True:
            job = await queue.get()
            try:
                await asyncio.sleep(0.01 * (job % 4))
                results[job] = job * job
            finally:
                queue.task_done()

    for job in range(40):
        queue.put_nowait(job)
    workers = [asyncio.create_task(worker(f"w{i}")) for i in range(4)]

    await queue.join()
    for w in workers:
        w.cancel()
    outcomes = await asyncio.gather(*workers, return_exceptions=True)

    assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)
    assert results == {job: job * job for job in range(40)}


@pytest.mark.simloop
async def test_worker_pool_with_sentinels():
    queue: asyncio.Queue[int | None] = asyncio.Queue(maxsize=5)
    processed: list[int] = []

    async def worker() -> int:
        count = 0
        while (job := await queue.get()) is not None:
            await asyncio.sleep(0.005)
            processed.append(job)
            count += 1
        return count

    async with asyncio.TaskGroup() as tg:
        workers = [tg.create_task(worker()) for _ in range(3)]
        for job in range(30):
            await queue.put(job)
        for _ in workers:
            await queue.put(None)

    assert sorted(processed) == list(range(30))
    assert sum(w.result() for w in workers) == 30


@pytest.mark.simloop
async def test_cancelled_worker_flushes_in_finally():
    flushed: list[list[str]] = []
    batch_started = asyncio.Event()

    async def batcher(queue: asyncio.Queue[str]) -> None:
        batch: list[str] = []
        try:
            while True:
                batch.append(await queue.get())
                batch_started.set()
                if len(batch) == 10:
                    flushed.append(batch)
                    batch = []
        finally:
            if batch:
                flushed.append(batch)  # flush the partial batch on shutdown

    queue: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(batcher(queue))
    for i in range(13):
        queue.put_nowait(f"event-{i}")
    await batch_started.wait()
    while not queue.empty():
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert [len(b) for b in flushed] == [10, 3]
    assert [e for b in flushed for e in b] == [f"event-{i}" for i in range(13)]


class DrainingServer:
    """Stops accepting on shutdown; requests in flight get their reply; idle
    connections are closed; then the server waits for its handlers."""

    def __init__(self) -> None:
        self.closing = False
        self.handlers: set[asyncio.Task[None]] = set()
        self.idle: set[asyncio.Task[None]] = set()
        self.in_flight = 0
        self.all_busy = asyncio.Event()
        self.expected_busy = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while not self.closing:
                self.idle.add(task)
                try:
                    line = await reader.readline()
                finally:
                    self.idle.discard(task)
                if not line:
                    break
                self.in_flight += 1
                if self.in_flight == self.expected_busy:
                    self.all_busy.set()
                try:
                    await asyncio.sleep(0.5)  # the slow part of the request
                    writer.write(b"done " + line)
                    await writer.drain()
                finally:
                    self.in_flight -= 1
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self.handlers.discard(task)

    async def shutdown(self, grace: float = 10.0) -> None:
        self.closing = True
        self.server.close()
        for task in list(self.idle):
            task.cancel()
        if self.handlers:
            await asyncio.wait(self.handlers, timeout=grace)
        for task in self.handlers:
            task.cancel()


@pytest.mark.simloop
async def test_server_drains_in_flight_requests_on_shutdown():
    srv = DrainingServer()
    srv.expected_busy = 3
    port = await srv.start()

    conns = []
    for _ in range(3):
        async with asyncio.timeout(2.0):
            conns.append(await asyncio.open_connection("127.0.0.1", port))
    for i, (_, writer) in enumerate(conns):
        writer.write(f"job-{i}\n".encode())
        await writer.drain()

    # shut down while all three requests are being worked on
    async with asyncio.timeout(2.0):
        await srv.all_busy.wait()
    await srv.shutdown()
    assert not srv.handlers

    for i, (reader, writer) in enumerate(conns):
        async with asyncio.timeout(2.0):
            assert await reader.readline() == f"done job-{i}\n".encode()
            assert await reader.read() == b""  # then the server hung up
        writer.close()
        await writer.wait_closed()


@pytest.mark.simloop
async def test_server_shutdown_closes_idle_connections():
    srv = DrainingServer()
    srv.expected_busy = 1
    port = await srv.start()

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"first\n")
    await writer.drain()
    async with asyncio.timeout(2.0):
        assert await reader.readline() == b"done first\n"
    # the connection is idle now; wait until the server sees it so, then stop
    while not srv.idle:
        await asyncio.sleep(0.01)
    await srv.shutdown()
    async with asyncio.timeout(2.0):
        assert await reader.read() == b""
    writer.close()
    await writer.wait_closed()
