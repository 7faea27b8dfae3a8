"""A seed reproduces everywhere; a simulation gives back what it took.

Covers simloop/_determinism.py, simloop/_imports.py, simloop/_trace.py.
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import simloop
from simloop._run import run_on

ROOT = Path(__file__).resolve().parents[2]


async def taskgroup_child_fails_mid_flight() -> None:
    """A TaskGroup child fails while 8 siblings are mid-flight: the group
    cancels them (iterating a set of tasks) and they clean up."""

    async def sibling(index: int) -> None:
        try:
            for step in range(5):
                await asyncio.sleep(0.001 * ((index + step) % 3))
        finally:
            await asyncio.sleep(0)

    async def failing() -> None:
        await asyncio.sleep(0.002)
        raise RuntimeError("child failed")

    try:
        async with asyncio.TaskGroup() as group:
            for index in range(8):
                group.create_task(sibling(index))
            group.create_task(failing())
    except* RuntimeError:
        pass


def digest(seed: int, strategy: str = "random") -> str:
    loop = simloop.SimLoop(seed, strategy)
    run_on(loop, taskgroup_child_fails_mid_flight())
    return loop.trace_digest()


def test_same_seed_same_trace_different_seeds_different_traces() -> None:
    assert digest(5) == digest(5)
    digests = {digest(seed) for seed in range(30)}
    assert len(digests) > 20


def test_fifo_does_not_depend_on_the_seed() -> None:
    assert digest(1, "fifo") == digest(2, "fifo")


_DIGESTS_SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
from test_determinism import digest
print(json.dumps([digest(seed) for seed in range({seeds})]))
"""


def _digests_in_subprocess(hash_seed: str, seeds: int) -> list[str]:
    environment = dict(os.environ, PYTHONHASHSEED=hash_seed)
    script = _DIGESTS_SCRIPT.format(tests=str(ROOT / "tests" / "engine"), seeds=seeds)
    output = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return json.loads(output)  # type: ignore[no-any-return]


def test_traces_are_identical_across_processes_and_hash_seeds() -> None:
    first = _digests_in_subprocess("1", 200)
    second = _digests_in_subprocess("2", 200)
    assert first == second
    assert len(set(first)) >= 20
    # ... and identical to this process, whatever ran here before.
    assert [digest(seed) for seed in range(5)] == first[:5]


_NETWORK_SCRIPT = """
import json, sys
sys.path.insert(0, {net!r})
import simloop
from echo_scenario import Outcome, exchange
from simloop._run import run_on
from simloop.strategies import Random

found = []
for faults in (False, True):
    for seed in range({seeds}):
        outcome = Outcome()
        loop = simloop.SimLoop(seed, Random(faults=faults))
        run_on(loop, exchange(outcome))
        found.append([loop.trace_digest(), outcome.complete, outcome.cut_short, outcome.refused])
print(json.dumps(found))
"""


def test_network_runs_with_and_without_faults_are_identical_across_processes() -> None:
    """Same seed, same trace and same outcome, in two processes with different
    hash seeds, on the healthy network and with faults on."""
    outputs = []
    for hash_seed in ("1", "2"):
        script = _NETWORK_SCRIPT.format(net=str(ROOT / "tests" / "net"), seeds=40)
        outputs.append(
            json.loads(
                subprocess.run(
                    [sys.executable, "-c", script],
                    env=dict(os.environ, PYTHONHASHSEED=hash_seed),
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                ).stdout
            )
        )
    assert outputs[0] == outputs[1]
    healthy, faulty = outputs[0][:40], outputs[0][40:]
    assert all(cut == refused == 0 for _, _, cut, refused in healthy)
    assert any(cut or refused for _, _, cut, refused in faulty)
    assert len({digest for digest, *_ in outputs[0]}) == 80


def test_taskgroup_cancels_children_in_creation_order_under_fifo() -> None:
    async def main() -> list[int]:
        cancelled: list[int] = []

        async def child(index: int) -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                cancelled.append(index)
                raise

        async def failing() -> None:
            await asyncio.sleep(1)
            raise RuntimeError

        try:
            async with asyncio.TaskGroup() as group:
                for index in range(6):
                    group.create_task(child(index))
                group.create_task(failing())
        except* RuntimeError:
            pass
        return cancelled

    assert simloop.run(main(), strategy="fifo") == [0, 1, 2, 3, 4, 5]


def test_clocks_follow_virtual_time_inside_and_real_time_outside() -> None:
    async def main() -> dict[str, float]:
        start = {
            "time": time.time(),
            "monotonic": time.monotonic(),
            "perf_counter": time.perf_counter(),
            "monotonic_ns": time.monotonic_ns() / 1e9,
            "now": datetime.datetime.now().timestamp(),
        }
        await asyncio.sleep(90)
        end = {
            "time": time.time(),
            "monotonic": time.monotonic(),
            "perf_counter": time.perf_counter(),
            "monotonic_ns": time.monotonic_ns() / 1e9,
            "now": datetime.datetime.now().timestamp(),
        }
        assert asyncio.get_running_loop().time() == time.monotonic()
        return {name: end[name] - start[name] for name in start}

    elapsed = simloop.run(main(), seed=3)
    assert elapsed == pytest.approx(dict.fromkeys(elapsed, 90.0), abs=0.01)
    before = time.time()
    assert abs(before - datetime.datetime.now().timestamp()) < 5
    assert abs(time.time() - before) < 5
    assert time.sleep is simloop._determinism._real_sleep


def test_wall_clock_starts_at_a_fixed_date() -> None:
    async def main() -> str:
        return datetime.datetime.now(datetime.UTC).isoformat()

    assert simloop.run(main()).startswith("2026-01-01T00:00:00")


def test_datetime_stays_a_datetime_for_isinstance_checks() -> None:
    real = datetime.datetime(2020, 1, 1)

    async def main() -> bool:
        made = datetime.datetime(2021, 1, 1)
        return (
            isinstance(real, datetime.datetime)
            and isinstance(made, datetime.datetime)
            and type(made) is type(real)
            and isinstance(datetime.date.today(), datetime.date)
        )

    assert simloop.run(main())
    assert datetime.datetime is type(real)


def test_randomness_is_seeded_inside_and_restored_outside() -> None:
    async def draw() -> tuple[float, bytes, str]:
        return random.random(), os.urandom(8), str(uuid.uuid4())

    random.seed(1234)
    expected_outside = random.Random(1234).random()
    first = simloop.run(draw(), seed=9)
    assert random.random() == expected_outside
    assert simloop.run(draw(), seed=9) == first
    assert simloop.run(draw(), seed=10) != first
    assert os.urandom(8) != os.urandom(8)


def test_time_sleep_on_the_loop_spends_virtual_time() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        time.sleep(30)  # noqa: ASYNC251 - blocking on purpose: the loop is busy for 30 s
        return loop.time() - start

    started = time.monotonic()
    assert simloop.run(main()) == 30
    assert time.monotonic() - started < 5


def test_everything_is_restored_when_the_run_fails() -> None:
    async def main() -> None:
        await asyncio.sleep(1)
        raise KeyboardInterrupt

    gc_enabled = gc.isenabled()
    with pytest.raises(KeyboardInterrupt):
        simloop.run(main())
    assert time.monotonic is simloop._determinism._real_monotonic
    assert os.urandom is simloop._determinism._real_urandom
    assert datetime.datetime is simloop._determinism._real_datetime
    assert gc.isenabled() == gc_enabled
    assert asyncio._get_running_loop() is None


def test_one_simulation_at_a_time_per_process() -> None:
    import threading

    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            simloop.run(asyncio.sleep(1))
        except RuntimeError as error:
            errors.append(error)

    async def main() -> None:
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()

    simloop.run(main())
    assert len(errors) == 1
    assert "another loop" in str(errors[0])


def _recorded(seed: int, record: bool) -> simloop.SimLoop:
    loop = simloop.SimLoop(seed, record=record)
    run_on(loop, taskgroup_child_fails_mid_flight())
    return loop


def test_recording_events_does_not_change_the_schedule() -> None:
    for seed in range(10):
        recorded = _recorded(seed, record=True)
        assert recorded.trace_digest() == _recorded(seed, record=False).trace_digest()
        events = recorded.trace.events
        assert events is not None
        assert [str(event) for event in events] == [
            str(event) for event in _recorded(seed, record=True).trace.events or []
        ]
        kinds = {event.kind for event in events}
        assert {"create", "step", "done", "timer", "call"} <= kinds
        assert not any(" at 0x" in event.detail for event in events)
