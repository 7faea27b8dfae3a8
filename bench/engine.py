"""Engine benchmarks: simloop against the stock asyncio loop, same process.

    python bench/engine.py [--quick]

Each measurement is the best of several repetitions, interleaved between the
loops compared, so a noisy machine moves both sides alike. Prints ratios
(simloop time / stock time) and the issue's targets next to them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

import simloop

SEEDS = range(8)


async def sleep_zero_workers(tasks: int, steps: int = 100) -> None:
    async def worker() -> None:
        for _ in range(steps):
            await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(tasks)))


async def simulated_hour(tasks: int = 100) -> None:
    async def worker() -> None:
        for _ in range(360):
            await asyncio.sleep(10)

    await asyncio.gather(*(worker() for _ in range(tasks)))


async def small_test() -> int:
    """About the size of a small unit test: a TaskGroup of two, a timeout."""

    async def worker(value: int) -> int:
        for _ in range(5):
            await asyncio.sleep(0)
        return value

    async with asyncio.timeout(1):
        async with asyncio.TaskGroup() as group:
            first = group.create_task(worker(1))
            second = group.create_task(worker(2))
    return first.result() + second.result()


def best_of(repetitions: int, run: Callable[[], object]) -> float:
    timings = []
    for _ in range(repetitions):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def on_stock(make: Callable[[], Coroutine[Any, Any, Any]]) -> Callable[[], object]:
    return lambda: asyncio.run(make())


def on_simloop(
    make: Callable[[], Coroutine[Any, Any, Any]], strategy: str, seed: int = 0
) -> Callable[[], object]:
    return lambda: simloop.run(make(), seed=seed, strategy=strategy)


def compare_steps(tasks: int, repetitions: int) -> dict[str, float]:
    """Seconds for `tasks` x 100 sleep(0): stock, fifo, and random (mean over seeds)."""

    def make() -> Coroutine[Any, Any, None]:
        return sleep_zero_workers(tasks)

    stock: list[float] = []
    fifo: list[float] = []
    seeded: dict[int, list[float]] = {seed: [] for seed in SEEDS}
    for _ in range(repetitions):
        stock.append(best_of(1, on_stock(make)))
        fifo.append(best_of(1, on_simloop(make, "fifo")))
        for seed in SEEDS:
            seeded[seed].append(best_of(1, on_simloop(make, "random", seed)))
    return {
        "stock": min(stock),
        "fifo": min(fifo),
        "random": statistics.mean(min(times) for times in seeded.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    options = parser.parse_args()
    repetitions = 2 if options.quick else 5
    print(f"simloop engine benchmarks, CPython {sys.version.split()[0]}")

    print("\n1000 tasks x 100 `await asyncio.sleep(0)` (ratio to the stock loop):")
    result = compare_steps(1000, repetitions)
    print(
        f"  stock {result['stock'] * 1e3:.1f} ms; fifo {result['fifo'] / result['stock']:.2f}x "
        f"(target <= 1.0); random {result['random'] / result['stock']:.2f}x "
        f"(target <= 1.2, mean over seeds {SEEDS.start}..{SEEDS.stop - 1})"
    )

    print("\nCost per step by number of ready tasks (microseconds; flat is the target):")
    print("  tasks   stock    fifo  random")
    for tasks in (100, 1000, 10_000):
        result = compare_steps(tasks, 1 if tasks > 1000 else repetitions)
        steps = tasks * 100
        print(
            f"  {tasks:>5} {result['stock'] / steps * 1e6:>7.2f} "
            f"{result['fifo'] / steps * 1e6:>7.2f} {result['random'] / steps * 1e6:>7.2f}"
        )

    print("\n100 tasks x 360 `await asyncio.sleep(10)` (one simulated hour; target <= 0.5 s):")
    seconds = best_of(repetitions, on_simloop(simulated_hour, "fifo"))
    print(f"  fifo    {seconds:.3f} s")
    # Each seed draws its own world (stalls, CPU cost): the mean over seeds.
    seconds = statistics.mean(
        best_of(repetitions, on_simloop(simulated_hour, "random", seed)) for seed in SEEDS
    )
    print(f"  random  {seconds:.3f} s (mean over seeds {SEEDS.start}..{SEEDS.stop - 1})")

    print("\n1000 runs of a small test (TaskGroup of two, a timeout), per run:")
    runs = 1000
    stock = best_of(3, lambda: [asyncio.run(small_test()) for _ in range(runs)]) / runs
    for strategy in ("fifo", "random"):
        seconds = (
            best_of(
                3,
                lambda strategy=strategy: [  # type: ignore[misc]
                    simloop.run(small_test(), seed=seed, strategy=strategy) for seed in range(runs)
                ],
            )
            / runs
        )
        print(
            f"  {strategy:<7} {seconds * 1e6:.0f} us vs asyncio.run {stock * 1e6:.0f} us: "
            f"{seconds / stock:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
