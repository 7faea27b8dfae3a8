"""run_on's optional checks (leftovers, unhandled errors) and comparing two traces.

Covers simloop/_run.py.
"""

from __future__ import annotations

import asyncio
import logging
import random

import pytest

import simloop
from simloop._run import OPEN_TRANSPORTS, PENDING, run_on
from simloop._trace import first_divergence
from simloop.strategies import derive_seed


async def leaves_a_sleeper() -> None:
    asyncio.get_running_loop().create_task(asyncio.sleep(10), name="sleeper")
    await asyncio.sleep(0)


def test_pending_tasks_are_cancelled_by_default_and_listed() -> None:
    loop = simloop.SimLoop(1)
    run_on(loop, leaves_a_sleeper())
    assert loop.findings.pending == ["sleeper (sleep) in library code, awaiting sleep()"]
    assert loop.findings.kinds() == {PENDING}


def test_pending_tasks_fail_the_run_when_asked() -> None:
    loop = simloop.SimLoop(1)
    with pytest.raises(simloop.Leftovers) as caught:
        run_on(loop, leaves_a_sleeper(), fail_on={PENDING})
    report = str(caught.value)
    assert report.startswith("leftovers: the main coroutine returned with 1 task(s) still pending")
    assert "sleeper (sleep) in library code, awaiting sleep()" in report
    assert caught.value.steps is not None
    assert loop.is_closed()


def test_an_async_generator_left_suspended_is_closed_at_the_end() -> None:
    """As asyncio.run does: its finally block runs before the loop closes."""
    events: list[str] = []

    async def ticks():  # type: ignore[no-untyped-def]
        try:
            while True:
                yield
                await asyncio.sleep(1)
        finally:
            events.append(f"closed at {asyncio.get_running_loop().time()}")

    async def main() -> None:
        generator = ticks()
        await generator.__anext__()
        await generator.__anext__()
        main.generator = generator  # type: ignore[attr-defined]  # keep it alive

    run_on(simloop.SimLoop(1, "fifo"), main())
    assert events == ["closed at 1.0"]


def test_open_transports_fail_the_run_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(simloop.SimLoop, "open_transports", lambda self: ["tcp a -> b"])

    async def main() -> None:
        pass

    loop = simloop.SimLoop(1)
    run_on(loop, main())
    assert loop.findings.open_transports == ["tcp a -> b"]
    with pytest.raises(simloop.Leftovers, match=r"1 transport\(s\) still open(.|\n)*tcp a -> b"):
        run_on(simloop.SimLoop(1), main(), fail_on={OPEN_TRANSPORTS})


def test_what_a_run_may_fail_on_is_checked() -> None:
    async def main() -> None:
        pass

    with pytest.raises(ValueError, match=r"fail_on=\['leftovers'\] is not allowed; expected"):
        run_on(simloop.SimLoop(1), main(), fail_on={"leftovers"})


def test_unhandled_errors_are_logged_as_the_stock_loop_logs_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        asyncio.get_running_loop().call_soon(lambda: 1 / 0)
        await asyncio.sleep(1)

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        loop = simloop.SimLoop(1)
        run_on(loop, main())
    (record,) = caplog.records
    assert (record.name, record.levelno) == ("asyncio", logging.ERROR)
    assert record.getMessage().startswith("Exception in callback ")
    assert record.exc_info is not None
    assert record.exc_info[0] is ZeroDivisionError
    (line,) = loop.findings.unhandled
    assert line.startswith("Exception in callback ")
    assert line.endswith(": ZeroDivisionError: division by zero"), line


def test_a_deadlock_says_how_many_callbacks_ran() -> None:
    async def main() -> None:
        await asyncio.sleep(0)
        await asyncio.get_running_loop().create_future()

    with pytest.raises(simloop.Deadlock) as caught:
        simloop.run(main(), strategy="fifo")
    assert caught.value.steps == 2


async def two_workers() -> None:
    async def worker(delay: float) -> None:
        await asyncio.sleep(delay)

    async with asyncio.TaskGroup() as group:
        group.create_task(worker(0.001))
        group.create_task(worker(0.001))


def recorded(seed: int) -> simloop.SimLoop:
    # CPU cost on every callback: two seeds' events differ in their times.
    busy = simloop.strategies.Random(cpu_max_cost=0.0001, cpu_rate=1.0)
    loop = simloop.SimLoop(seed, busy, record=True)
    run_on(loop, two_workers())
    return loop


def test_two_runs_of_one_seed_do_not_diverge() -> None:
    assert first_divergence(recorded(3).trace, recorded(3).trace) is None


def test_the_first_divergence_names_both_events() -> None:
    first, second = recorded(3).trace, recorded(4).trace
    divergence = first_divergence(first, second)
    assert divergence is not None
    index, event_a, event_b = divergence
    assert first.events is not None
    assert second.events is not None
    assert first.events[:index] == second.events[:index]
    assert event_a != event_b


def test_the_random_module_is_seeded_from_the_loop_seed() -> None:
    async def draw() -> float:
        return random.random()

    expected = random.Random(derive_seed(9, "random module")).random()
    assert simloop.run(draw(), seed=9) == expected
