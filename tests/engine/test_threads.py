"""Executor jobs are simulated threads: real threads in lockstep with the loop.

Covers simloop/_threads.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time

import pytest

import simloop
from simloop import _threads
from simloop.strategies import Random


def test_to_thread_returns_the_result_at_a_simulated_time() -> None:
    def compute(x: int) -> int:
        return x * 2

    async def main() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        result = await asyncio.to_thread(compute, 21)
        return result, loop.time()

    assert simloop.run(main(), strategy="fifo") == (42, 0.0)
    slow = Random(thread_max_delay=5.0)
    result, finished = simloop.run(main(), seed=1, strategy=slow)
    assert result == 42
    assert 0.0 < finished < 7.0


def test_job_exceptions_reach_the_awaiting_coroutine() -> None:
    def fails() -> None:
        raise ValueError("in a thread")

    async def main() -> None:
        with pytest.raises(ValueError, match="in a thread"):
            await asyncio.get_running_loop().run_in_executor(None, fails)

    simloop.run(main())


def test_time_sleep_in_a_job_takes_virtual_time_not_real_time() -> None:
    def slow_io() -> str:
        time.sleep(120)
        return "done"

    async def main() -> tuple[str, float]:
        loop = asyncio.get_running_loop()
        return await asyncio.to_thread(slow_io), loop.time()

    started = time.monotonic()
    assert simloop.run(main(), strategy="fifo") == ("done", 120.0)
    assert time.monotonic() - started < 5


def test_jobs_and_tasks_interleave_by_virtual_time() -> None:
    async def main() -> list[str]:
        events: list[str] = []

        def job() -> None:
            events.append("job starts")
            time.sleep(2)
            events.append("job ends")

        async def ticker() -> None:
            for second in range(4):
                events.append(f"tick {second}")
                await asyncio.sleep(1)

        await asyncio.gather(asyncio.to_thread(job), ticker())
        return events

    assert simloop.run(main(), strategy="fifo") == [
        "tick 0",
        "job starts",
        "tick 1",
        "job ends",
        "tick 2",
        "tick 3",
    ]


def test_a_job_can_block_on_work_it_submits_to_the_loop() -> None:
    """run_coroutine_threadsafe from a job, then blocking on its result: the
    job parks, the loop runs the coroutine, the job resumes."""

    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0.05)
        return a + b

    async def main() -> int:
        loop = asyncio.get_running_loop()

        def job() -> int:
            future = asyncio.run_coroutine_threadsafe(add(1, 2), loop)
            return future.result(timeout=10)

        return await loop.run_in_executor(None, job)

    for seed in range(5):
        assert simloop.run(main(), seed=seed) == 3


def test_jobs_coordinate_through_threading_primitives() -> None:
    async def main() -> list[int]:
        channel: queue.Queue[int] = queue.Queue()
        received: list[int] = []

        def producer() -> None:
            for item in range(3):
                time.sleep(1)
                channel.put(item)

        def consumer() -> None:
            received.extend(channel.get(timeout=30) for _ in range(3))

        await asyncio.gather(asyncio.to_thread(consumer), asyncio.to_thread(producer))
        return received

    assert simloop.run(main()) == [0, 1, 2]


def test_a_condition_wait_timeout_is_virtual() -> None:
    async def main() -> tuple[bool, float]:
        event = threading.Event()
        loop = asyncio.get_running_loop()
        flag = await asyncio.to_thread(event.wait, 30)
        return flag, loop.time()

    started = time.monotonic()
    assert simloop.run(main(), strategy="fifo") == (False, 30.0)
    assert time.monotonic() - started < 5


def test_a_job_blocked_forever_is_part_of_the_deadlock_report() -> None:
    async def main() -> None:
        await asyncio.to_thread(threading.Event().wait)

    with pytest.raises(
        simloop.Deadlock, match=r"executor job Event\.wait blocked in Condition\.wait"
    ):
        simloop.run(main())


def test_same_seed_same_interleaving_of_jobs() -> None:
    async def main() -> list[str]:
        events: list[str] = []

        def job(name: str) -> None:
            events.append(f"{name} runs")

        async def task(name: str) -> None:
            await asyncio.to_thread(job, name)
            events.append(f"{name} done")

        await asyncio.gather(*(task(f"j{i}") for i in range(5)))
        return events

    runs = {tuple(simloop.run(main(), seed=seed)) for seed in range(30)}
    assert len(runs) > 3
    assert simloop.run(main(), seed=4) == simloop.run(main(), seed=4)


def test_call_soon_threadsafe_from_a_foreign_thread_is_refused() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        errors: list[BaseException] = []

        def foreign() -> None:
            try:
                loop.call_soon_threadsafe(print, "hello")
            except simloop.RealIOError as error:
                errors.append(error)

        thread = threading.Thread(target=foreign, name="intruder")
        thread.start()
        thread.join()
        assert "thread 'intruder'" in str(errors[0])
        await asyncio.sleep(1)

    with pytest.raises(
        simloop.RealIOError, match=r"call_soon_threadsafe\(print\) came from thread"
    ):
        simloop.run(main())


def test_a_stuck_job_fails_the_run_with_its_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "WATCHDOG_SECONDS", 0.3)
    lock = threading.Lock()
    lock.acquire()

    def stuck() -> None:
        with lock:  # a bare lock: not something the simulation can see
            pass

    async def main() -> None:
        await asyncio.to_thread(stuck)

    try:
        with pytest.raises(simloop.SimulationError, match=r"(?s)executor job .*stuck.*with lock"):
            simloop.run(main())
    finally:
        lock.release()


def test_a_cancelled_job_that_never_started_never_runs() -> None:
    ran: list[bool] = []

    async def main() -> None:
        future = asyncio.get_running_loop().run_in_executor(None, ran.append, True)
        future.cancel()
        await asyncio.sleep(1)

    simloop.run(main())
    assert ran == []


def test_executor_argument_is_accepted_and_simulated() -> None:
    async def main() -> int:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return await asyncio.get_running_loop().run_in_executor(pool, sum, [1, 2, 3])

    assert simloop.run(main()) == 6
