"""Imitates smaller patterns common in asyncio services: ``asyncio.shield``
to let a commit finish when its caller is cancelled, a worker thread that
streams progress back to the loop with ``call_soon_threadsafe``, a periodic
background task (metrics flusher) stopped through an Event, ``timeout``
rescheduling for an idle-timeout reader, and a callback-style future
resolved by ``loop.call_later``."""

from __future__ import annotations

import asyncio
import time

import pytest


@pytest.mark.simloop
async def test_shield_lets_commit_finish():
    committed: list[str] = []

    async def commit(tx: str) -> None:
        await asyncio.sleep(0.2)
        committed.append(tx)

    async def handler() -> None:
        await asyncio.shield(commit_task)

    commit_task = asyncio.create_task(commit("tx-1"))
    request = asyncio.create_task(handler())
    await asyncio.sleep(0.05)
    request.cancel()  # the client went away mid-request
    with pytest.raises(asyncio.CancelledError):
        await request
    await commit_task  # ...but the commit still completes
    assert committed == ["tx-1"]


@pytest.mark.simloop
async def test_thread_reports_progress_with_call_soon_threadsafe():
    loop = asyncio.get_running_loop()
    progress: asyncio.Queue[int | None] = asyncio.Queue()

    def export(rows: int) -> int:
        for i in range(rows):
            time.sleep(0.001)
            loop.call_soon_threadsafe(progress.put_nowait, i)
        loop.call_soon_threadsafe(progress.put_nowait, None)
        return rows

    job = loop.run_in_executor(None, export, 5)
    seen = []
    async with asyncio.timeout(5.0):
        while (i := await progress.get()) is not None:
            seen.append(i)
        assert await job == 5
    assert seen == [0, 1, 2, 3, 4]


@pytest.mark.simloop
async def test_periodic_flusher_stopped_by_event():
    stop = asyncio.Event()
    flushes: list[float] = []
    loop = asyncio.get_running_loop()

    async def flusher(interval: float) -> None:
        while True:
            try:
                async with asyncio.timeout(interval):
                    await stop.wait()
                flushes.append(loop.time())  # final flush on stop
                return
            except TimeoutError:
                flushes.append(loop.time())

    task = asyncio.create_task(flusher(1.0))
    await asyncio.sleep(5.5)
    stop.set()
    await asyncio.wait_for(task, timeout=2.0)
    assert 5 <= len(flushes) <= 7  # about one per second, plus the final one


@pytest.mark.simloop
async def test_idle_timeout_reschedule():
    """A reader that gives up after 1 s without data, rescheduled per item."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    got: list[str] = []

    async def feeder() -> None:
        for word in ["a", "b", "c"]:
            await asyncio.sleep(0.3)
            queue.put_nowait(word)

    feed = asyncio.create_task(feeder())
    loop = asyncio.get_running_loop()
    with pytest.raises(TimeoutError):  # noqa: PT012
        async with asyncio.timeout(None) as cm:
            while True:
                cm.reschedule(loop.time() + 1.0)
                got.append(await queue.get())
    await feed
    assert got == ["a", "b", "c"]


@pytest.mark.simloop
async def test_future_resolved_by_call_later():
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[str] = loop.create_future()
    handle = loop.call_later(0.1, fut.set_result, "ready")
    try:
        assert await asyncio.wait_for(fut, timeout=2.0) == "ready"
    finally:
        handle.cancel()
