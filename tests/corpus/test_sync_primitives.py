"""Imitates everyday coordination code in asyncio services: producers and
consumers around a bounded ``asyncio.Queue`` (backpressure), a ``Lock``
guarding a read-modify-write that awaits in the middle (a cache refresh, an
account balance), an ``Event`` used as a startup gate, a ``Condition`` that
consumers wait on until a predicate holds, and a ``Semaphore`` limiting how
many downloads run at once."""

from __future__ import annotations

import asyncio

import pytest


@pytest.mark.simloop
async def test_bounded_queue_producers_consumers():
    queue: asyncio.Queue[tuple[int, int] | None] = asyncio.Queue(maxsize=3)
    consumed: list[tuple[int, int]] = []
    max_size_seen = 0

    async def producer(pid: int) -> None:
        nonlocal max_size_seen
        for seq in range(10):
            await queue.put((pid, seq))
            max_size_seen = max(max_size_seen, queue.qsize())
            await asyncio.sleep(0.001 * pid)

    async def consumer() -> None:
        while (item := await queue.get()) is not None:
            await asyncio.sleep(0.002)
            consumed.append(item)

    consumers = [asyncio.create_task(consumer()) for _ in range(2)]
    async with asyncio.TaskGroup() as tg:
        for pid in range(3):
            tg.create_task(producer(pid))
    for _ in consumers:
        await queue.put(None)
    await asyncio.gather(*consumers)

    assert max_size_seen <= 3
    assert sorted(consumed) == [(p, s) for p in range(3) for s in range(10)]
    # nothing lost, nothing duplicated
    assert len(consumed) == len(set(consumed)) == 30


@pytest.mark.simloop
async def test_lock_protects_read_modify_write():
    class Account:
        def __init__(self) -> None:
            self.balance = 0
            self.lock = asyncio.Lock()

        async def deposit(self, amount: int) -> None:
            async with self.lock:
                current = self.balance
                await asyncio.sleep(0.001)  # e.g. an audit write
                self.balance = current + amount

    account = Account()
    await asyncio.gather(*(account.deposit(10) for _ in range(50)))
    assert account.balance == 500


@pytest.mark.simloop
async def test_lock_single_flight_cache_refresh():
    fetches = 0
    cache: dict[str, str] = {}
    lock = asyncio.Lock()

    async def get_config() -> str:
        nonlocal fetches
        if "config" in cache:
            return cache["config"]
        async with lock:
            if "config" not in cache:  # double-checked under the lock
                fetches += 1
                await asyncio.sleep(0.2)
                cache["config"] = "v1"
        return cache["config"]

    values = await asyncio.gather(*(get_config() for _ in range(20)))
    assert values == ["v1"] * 20
    assert fetches == 1


@pytest.mark.simloop
async def test_event_startup_gate():
    ready = asyncio.Event()
    served: list[int] = []

    async def service() -> None:
        await asyncio.sleep(1.0)  # load config, warm caches...
        ready.set()

    async def client(i: int) -> None:
        await ready.wait()
        served.append(i)

    async with asyncio.TaskGroup() as tg:
        for i in range(5):
            tg.create_task(client(i))
        tg.create_task(service())
        await asyncio.sleep(0.1)
        assert served == []  # nobody got through before the gate opened
    assert sorted(served) == list(range(5))


@pytest.mark.simloop
async def test_condition_wait_for_predicate():
    cond = asyncio.Condition()
    inventory = {"widgets": 0}
    bought: list[int] = []

    async def buyer(i: int, wants: int) -> None:
        async with cond:
            await cond.wait_for(lambda: inventory["widgets"] >= wants)
            inventory["widgets"] -= wants
            bought.append(i)

    async def restocker() -> None:
        for _ in range(6):
            await asyncio.sleep(0.05)
            async with cond:
                inventory["widgets"] += 2
                cond.notify_all()

    async with asyncio.TaskGroup() as tg:
        for i in range(4):
            tg.create_task(buyer(i, wants=3))
        tg.create_task(restocker())
    assert sorted(bought) == [0, 1, 2, 3]
    assert inventory["widgets"] == 0


@pytest.mark.simloop
async def test_semaphore_limits_concurrent_downloads():
    sem = asyncio.Semaphore(3)
    active = 0
    peak = 0

    async def download(url: str) -> int:
        nonlocal active, peak
        async with sem:
            active += 1
            peak = max(peak, active)
            try:
                await asyncio.sleep(0.05)
                return len(url)
            finally:
                active -= 1

    urls = [f"https://example.test/file/{i}" for i in range(15)]
    sizes = await asyncio.gather(*(download(u) for u in urls))
    assert sizes == [len(u) for u in urls]
    assert peak == 3
    assert active == 0


@pytest.mark.simloop
async def test_bounded_semaphore_and_event_shutdown():
    sem = asyncio.BoundedSemaphore(2)
    stop = asyncio.Event()
    ticks = 0

    async def poller() -> None:
        nonlocal ticks
        while not stop.is_set():
            async with sem:
                ticks += 1
            try:
                async with asyncio.timeout(0.1):
                    await stop.wait()
            except TimeoutError:
                pass

    tasks = [asyncio.create_task(poller()) for _ in range(3)]
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*tasks)
    assert ticks >= 3
    with pytest.raises(ValueError):
        sem.release()  # all permits are back: a bounded semaphore refuses more
