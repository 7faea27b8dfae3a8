"""Imitates services that push blocking work off the event loop: hashing or
compressing with ``loop.run_in_executor(None, ...)``, a blocking client
library called through ``asyncio.to_thread`` under a generous deadline, a
dedicated ``ThreadPoolExecutor``, and the loop staying responsive (a
heartbeat keeps ticking) while the threads work."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import threading
import time
import zlib

import pytest


def blocking_hash(data: bytes, rounds: int = 100) -> str:
    digest = data
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


def blocking_fetch(key: str) -> str:
    time.sleep(0.05)  # a blocking client library's network call
    return key.upper()


@pytest.mark.simloop
async def test_run_in_executor_default_pool():
    loop = asyncio.get_running_loop()
    result = await loop.run_in_executor(None, blocking_hash, b"hello")
    assert result == blocking_hash(b"hello")


@pytest.mark.simloop
async def test_to_thread_with_timeout():
    async with asyncio.timeout(5.0):
        values = await asyncio.gather(*(asyncio.to_thread(blocking_fetch, k) for k in "abcde"))
    assert values == list("ABCDE")


@pytest.mark.simloop
async def test_wait_for_to_thread():
    value = await asyncio.wait_for(asyncio.to_thread(blocking_fetch, "key"), timeout=2.0)
    assert value == "KEY"


@pytest.mark.simloop
async def test_dedicated_thread_pool_with_partial():
    loop = asyncio.get_running_loop()
    payloads = [bytes([i]) * 1000 for i in range(6)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        compressed = await asyncio.gather(
            *(
                loop.run_in_executor(pool, functools.partial(zlib.compress, p, level=6))
                for p in payloads
            )
        )
    assert [zlib.decompress(c) for c in compressed] == payloads


@pytest.mark.simloop
async def test_loop_stays_responsive_during_blocking_work():
    beats = 0
    done = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal beats
        while not done.is_set():
            beats += 1
            await asyncio.sleep(0.01)

    hb = asyncio.create_task(heartbeat())
    await asyncio.to_thread(time.sleep, 0.2)
    done.set()
    await hb
    assert beats >= 2  # the loop kept running while the thread slept


@pytest.mark.simloop
async def test_executor_results_shared_through_thread_safe_state():
    lock = threading.Lock()
    seen: list[int] = []

    def record(i: int) -> int:
        with lock:
            seen.append(i)
        return i * 2

    loop = asyncio.get_running_loop()
    results = await asyncio.gather(*(loop.run_in_executor(None, record, i) for i in range(8)))
    assert results == [i * 2 for i in range(8)]
    assert sorted(seen) == list(range(8))
