"""Benchmarks of the pytest plugin (issue 4's acceptance numbers).

    python bench/plugin.py speed     # pytest --simloop-seeds=1000 vs 1000 x asyncio.run
    python bench/plugin.py interleaved   # the same, alternating in one process
    python bench/plugin.py scale     # one test, 4000 seeds: -n 2 vs -n 0, two seed sizes
    python bench/plugin.py memory    # 100,000 seeds in one process: RSS growth
    python bench/plugin.py           # all four

Each measurement runs in fresh subprocesses on this machine, in one run, and
prints the commands it ran; timings alternate and keep the best of --repeat
runs, since a shared machine is noisy. Nothing here is asserted in the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# A TaskGroup of two tasks under a timeout: about 50 loop callbacks. With
# STEP = 0 nothing waits, so this compares loop overheads alone; with a real
# step (--step 0.0001) the stock loop also spends real time sleeping.
SCENARIO = """
import asyncio

STEP = {step!r}


async def scenario():
    async def worker(n):
        for _ in range({steps!r}):
            await asyncio.sleep(STEP)
        return n

    async with asyncio.timeout(10):
        async with asyncio.TaskGroup() as group:
            a = group.create_task(worker(1))
            b = group.create_task(worker(2))
    assert a.result() + b.result() == 3
"""

TEST_FILE = (
    SCENARIO
    + """
import pytest


@pytest.mark.simloop
async def test_scenario():
    await scenario()
"""
)

# Writes the call phase's wall and CPU seconds and the RSS around it, per
# test item, to bench-<xdist worker>.json.
CONFTEST = """
import json
import os
import time
import pytest

RESULTS = {}

def _rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    rss, cpu, wall = _rss(), time.process_time(), time.perf_counter()
    try:
        return (yield)
    finally:
        RESULTS[item.nodeid] = {
            "call_seconds": time.perf_counter() - wall,
            "call_cpu": time.process_time() - cpu,
            "rss_before": rss,
            "rss_after": _rss(),
        }

def pytest_sessionfinish(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"bench-{worker}.json", "w") as out:
        json.dump(RESULTS, out)
"""

STOCK = (
    SCENARIO
    + """
import sys
import time

runs = int(sys.argv[1])
started = time.perf_counter()
for _ in range(runs):
    asyncio.run(scenario())
print(time.perf_counter() - started)
"""
)


def project(step: float = 0.0, steps: int = 20) -> Path:
    """A project with the scenario test; each worker takes `steps` steps."""
    root = Path(tempfile.mkdtemp(prefix="simloop-bench-"))

    def fill(template: str) -> str:
        return template.replace("{step!r}", repr(step)).replace("{steps!r}", repr(steps))

    (root / "test_scenario.py").write_text(fill(TEST_FILE))
    (root / "conftest.py").write_text(CONFTEST)
    (root / "stock.py").write_text(fill(STOCK))
    (root / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return root


def run(command: list[str], root: Path) -> tuple[float, str]:
    print("  $ " + " ".join(command), flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, done.stdout


def pytest_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *arguments]


def bench_data(root: Path) -> dict[str, float]:
    """The test's own numbers (not a helper's) from the last run."""
    data: dict[str, dict[str, float]] = json.loads((root / "bench-main.json").read_text())
    return data["test_scenario.py::test_scenario"]


def worker_cpu(root: Path) -> list[float]:
    """CPU seconds of each item's call phase in the last -n run, by worker."""
    seconds: list[float] = []
    for path in sorted(root.glob("bench-gw*.json")):
        seconds.extend(item["call_cpu"] for item in json.loads(path.read_text()).values())
        path.unlink()
    return seconds


def speed(seeds: int, step: float, repeat: int) -> None:
    root = project(step)
    print(
        f"speed: {seeds} seeds of a ~50-callback TaskGroup test vs {seeds} x asyncio.run "
        f"(workers sleep {step}s per step); best of {repeat}, alternating"
    )
    stock_loops, sweeps, stock_walls, pytest_walls = [], [], [], []
    for _ in range(repeat):
        wall, output = run([sys.executable, "stock.py", str(seeds)], root)
        stock_walls.append(wall)
        stock_loops.append(float(output.strip()))
        wall, _ = run(pytest_command(f"--simloop-seeds={seeds}"), root)
        pytest_walls.append(wall)
        sweeps.append(bench_data(root)["call_seconds"])
    bare_wall, _ = run(pytest_command("-p", "no:simloop", "--collect-only"), root)
    stock_loop, sweep = min(stock_loops), min(sweeps)
    print(
        f"  asyncio.run loop:            {stock_loop:.3f}s ({stock_loop / seeds * 1e6:.0f} us/run)"
    )
    print(f"  simloop sweep (call phase):  {sweep:.3f}s ({sweep / seeds * 1e6:.0f} us/seed)")
    print(f"  ratio sweep / asyncio.run:   {sweep / stock_loop:.2f}")
    print(
        f"  whole processes: pytest {min(pytest_walls):.2f}s, python stock.py "
        f"{min(stock_walls):.2f}s, ratio {min(pytest_walls) / min(stock_walls):.2f}"
    )
    print(f"  (pytest starting and collecting, no test run: {bare_wall:.2f}s)")


INTERLEAVED = (
    SCENARIO
    + """
import sys
import time

from pytest_simloop._options import SeedPlan, TestSettings
from pytest_simloop._runner import Simulation

runs = int(sys.argv[1])
flags = dict.fromkeys(
    ("allow_deadlock", "allow_livelock", "allow_unhandled", "allow_pending",
     "allow_open_transports", "check_determinism"),
    False,
)
settings = TestSettings(SeedPlan.count(runs), "random", "random", False, None, None, **flags)
simulation = Simulation(settings, "test_scenario.py::test_scenario")
clock = time.perf_counter
sweep = stock = 0.0
for seed in range(runs):
    started = clock()
    simulation.run(seed, lambda values: scenario(), {})
    middle = clock()
    asyncio.run(scenario())
    sweep += middle - started
    stock += clock() - middle
print(sweep, stock)
"""
)


def interleaved(seeds: int) -> None:
    """One process, alternating a plugin simulation and an asyncio.run per
    seed: the comparison least disturbed by a busy machine."""
    root = project()
    (root / "interleaved.py").write_text(
        INTERLEAVED.replace("{step!r}", "0.0").replace("{steps!r}", "20")
    )
    print(f"interleaved: {seeds} x (one plugin simulation, one asyncio.run) in one process")
    _, output = run([sys.executable, "interleaved.py", str(seeds)], root)
    sweep, stock = map(float, output.split())
    print(
        f"  simulation {sweep / seeds * 1e6:.0f} us/seed, asyncio.run {stock / seeds * 1e6:.0f} "
        f"us/run, ratio {sweep / stock:.2f}"
    )


def _burn(count: int) -> float:
    started = time.perf_counter()
    total = 0
    for number in range(count):
        total += number
    return time.perf_counter() - started


def effective_cores(workers: int) -> float:
    """How many cores `workers` busy processes really get now (a shared
    machine may give less than it has): the ceiling of any xdist speed-up."""
    import multiprocessing

    work = 20_000_000
    alone = _burn(work)
    with multiprocessing.Pool(workers) as pool:
        started = time.perf_counter()
        pool.map(_burn, [work] * workers)
        together = time.perf_counter() - started
    return workers * alone / together


def scale(seeds: int, workers: int, repeat: int, steps: int) -> None:
    root = project(steps=steps)
    print(
        f"  effective cores for {workers} busy processes right now: {effective_cores(workers):.2f}"
    )
    print(
        f"scale: one test ({2 * steps} worker steps per seed), {seeds} seeds, -n {workers} "
        f"vs -n 0 (whole pytest runs); best of {repeat}, alternating"
    )
    serials, spreads, serial_cpu, busiest = [], [], [], []
    for _ in range(repeat):
        serials.append(run(pytest_command(f"--simloop-seeds={seeds}", "-n", "0"), root)[0])
        serial_cpu.append(bench_data(root)["call_cpu"])
        command = pytest_command(f"--simloop-seeds={seeds}", "-n", str(workers))
        spreads.append(run(command, root)[0])
        shares = worker_cpu(root)
        busiest.append(max(shares))
        print(
            f"  CPU seconds of each item under -n {workers}: "
            + ", ".join(f"{s:.2f}" for s in shares)
        )
    serial, spread = min(serials), min(spreads)
    print(f"  -n 0: {serial:.2f}s   -n {workers}: {spread:.2f}s   speed-up {serial / spread:.2f}x")
    print(
        f"  sweep CPU seconds: -n 0 {min(serial_cpu):.2f}, busiest -n {workers} item "
        f"{min(busiest):.2f}: with {workers} free cores the sweep would be "
        f"{min(serial_cpu) / min(busiest):.2f}x faster"
    )


def memory(seeds: int) -> None:
    root = project()
    print(f"memory: {seeds} seeds of the small test in one process")
    wall, _ = run(pytest_command(f"--simloop-seeds={seeds}"), root)
    data = bench_data(root)
    growth = (data["rss_after"] - data["rss_before"]) / 2**20
    print(
        f"  RSS before the sweep {data['rss_before'] / 2**20:.1f} MiB, after "
        f"{data['rss_after'] / 2**20:.1f} MiB: growth {growth:.1f} MiB "
        f"({wall:.1f}s, {seeds / data['call_seconds']:.0f} seeds/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="*", default=["speed", "interleaved", "scale", "memory"])
    parser.add_argument("--speed-seeds", type=int, default=1000)
    parser.add_argument("--step", type=float, default=0.0, help="seconds each worker step sleeps")
    parser.add_argument("--scale-seeds", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--scale-steps",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[20, 1000],
        help="steps per worker task in the scale test, comma-separated: one scale run each "
        "(default 20,1000: a ~0.25 ms seed, where starting xdist workers dominates, "
        "and a ~5 ms one)",
    )
    parser.add_argument("--memory-seeds", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    options = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    for what in options.what:
        if what == "speed":
            speed(options.speed_seeds, options.step, options.repeat)
        elif what == "interleaved":
            interleaved(options.speed_seeds)
        elif what == "scale":
            for steps in options.scale_steps:
                scale(options.scale_seeds, options.workers, options.repeat, steps)
        elif what == "memory":
            memory(options.memory_seeds)
        else:
            raise SystemExit(
                f"unknown benchmark {what!r}; expected speed, interleaved, scale or memory"
            )


if __name__ == "__main__":
    main()
