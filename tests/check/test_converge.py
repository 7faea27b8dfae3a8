"""Heal, then converge: after the faults stop, the system must settle in time.

Covers simloop/_monitors.py (converge).
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

import simloop

JOBS = 5


async def job_server(done: list[int]) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                await asyncio.sleep(0.1)  # each job takes a while
                done.append(int(line))
                writer.write(b"ok\n")
                await writer.drain()
        writer.close()

    network = simloop.network()
    network.add_host("jobs", "10.0.0.2")
    with network.on("jobs"):
        server = await asyncio.start_server(handle, "10.0.0.2", 7000)
    return server, 7000


async def worker_pool(*, reconnects: bool) -> None:
    done: list[int] = []
    server, port = await job_server(done)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for job in range(JOBS):
        queue.put_nowait(job)

    async def worker() -> None:
        while True:
            writer = None
            try:
                reader, writer = await asyncio.open_connection("jobs", port)
                while True:
                    job = await queue.get()
                    try:
                        writer.write(f"{job}\n".encode())
                        async with asyncio.timeout(0.3):
                            await reader.readline()
                    except (TimeoutError, ConnectionError):
                        queue.put_nowait(job)  # not done: back in the queue
                        raise
            except (TimeoutError, ConnectionError, OSError):
                if not reconnects:
                    return  # the bug: the worker gives up for good
                await asyncio.sleep(0.1)
            finally:
                if writer is not None:
                    writer.close()

    workers = [asyncio.create_task(worker()) for _ in range(2)]
    network = simloop.network()
    await asyncio.sleep(0.15)  # jobs under way...
    network.partition("main", "jobs")  # ...when the jobs server is cut off
    convergence = simloop.converge(
        lambda: sorted(set(done)) == list(range(JOBS)),
        heal_at=1.0,
        within=5.0,
        name="all jobs done",
    )
    try:
        await asyncio.sleep(7)
        assert convergence.healed
        assert convergence.held
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        server.close()


def test_a_pool_that_reconnects_drains_after_the_heal() -> None:
    for seed in range(5):
        simloop.run(worker_pool(reconnects=True), seed=seed, strategy="fifo")


def test_a_pool_whose_workers_give_up_never_drains_and_says_what_is_pending() -> None:
    with pytest.raises(simloop.LivenessViolation) as caught:
        simloop.run(worker_pool(reconnects=False), strategy="fifo")
    report = str(caught.value)
    assert report.startswith(
        "eventually 'all jobs done (after the heal)' did not hold within 5 virtual seconds"
    )
    assert "t=6.150000s" in report


def test_stop_faults_ends_what_the_strategy_injects() -> None:
    async def main() -> bool:
        network = simloop.network()
        network.stop_faults()
        return network.injects_faults

    faulty = simloop.strategies.Random(faults=True)
    assert not any(simloop.run(main(), seed=seed, strategy=faulty) for seed in range(10))


def test_converge_checks_its_arguments() -> None:
    async def main() -> None:
        simloop.converge(lambda: True, heal_at=-1, within=1)

    with pytest.raises(ValueError, match=r"heal_at=-1 is not allowed; expected a positive number"):
        simloop.run(main())
