"""Hangs and limits end the run with a report that says who is stuck where.

Covers simloop/_reports.py, simloop/_core.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

import pytest

import simloop


async def two_tasks_wait_for_each_other() -> None:
    first_ready = asyncio.Event()
    second_ready = asyncio.Event()

    async def first() -> None:
        await second_ready.wait()
        first_ready.set()

    async def second() -> None:
        await first_ready.wait()
        second_ready.set()

    async with asyncio.TaskGroup() as group:
        group.create_task(first(), name="first")
        group.create_task(second(), name="second")


def test_deadlock_names_the_seed_and_every_stuck_task_with_its_line() -> None:
    with pytest.raises(simloop.Deadlock) as caught:
        simloop.run(two_tasks_wait_for_each_other(), seed=11)
    report = str(caught.value)
    assert report.startswith("deadlock: nothing can run and no timer is pending")
    assert "(seed 11, strategy random)" in report
    assert re.search(
        r"main \(two_tasks_wait_for_each_other\) at tests/engine/test_hangs\.py:\d+ in "
        r"two_tasks_wait_for_each_other, awaiting TaskGroup\.__aexit__\(\)",
        report,
    )
    assert re.search(
        r"first \(two_tasks_wait_for_each_other\.<locals>\.first\) at "
        r"tests/engine/test_hangs\.py:\d+ in two_tasks_wait_for_each_other\.<locals>\.first, "
        r"awaiting Event\.wait\(\)",
        report,
    )
    assert "second (" in report
    assert caught.value.seed == 11
    assert caught.value.virtual_time < 0.01  # only CPU cost, no timer, has passed


def test_deadlock_after_time_passed_reports_the_virtual_time() -> None:
    async def main() -> None:
        await asyncio.sleep(12.5)
        await asyncio.get_running_loop().create_future()

    with pytest.raises(simloop.Deadlock, match=r"t=12\.500000s") as caught:
        simloop.run(main())
    assert "awaiting <Future pending" in str(caught.value)


def test_a_task_awaiting_another_task_says_which() -> None:
    async def main() -> None:
        blocker = asyncio.create_task(asyncio.Event().wait(), name="blocker")
        await blocker

    with pytest.raises(simloop.Deadlock, match="awaiting task 'blocker'"):
        simloop.run(main())


def test_a_task_made_straight_from_a_library_coroutine_is_not_called_unstarted() -> None:
    async def main() -> None:
        waiters = [asyncio.create_task(asyncio.Event().wait(), name="waiter")]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        waiters.append(asyncio.create_task(asyncio.Event().wait(), name="too-late"))
        await asyncio.get_running_loop().create_future()

    with pytest.raises(simloop.Deadlock) as caught:
        simloop.run(main(), strategy="fifo")
    report = str(caught.value)
    assert "waiter (Event.wait) in library code, awaiting Event.wait()" in report
    assert "too-late (Event.wait) in library code" in report
    # Deadlock is detected with nothing ready, so every task has started.
    assert "not started yet" not in report


def test_polling_forever_hits_the_time_limit() -> None:
    async def main() -> None:
        while True:
            await asyncio.sleep(60)

    with pytest.raises(simloop.TimeLimitExceeded) as caught:
        simloop.run(main(), time_limit=3600)
    assert isinstance(caught.value, simloop.Livelock)
    assert "passed the time limit of 3600s" in str(caught.value)
    assert "main (" in str(caught.value)


def test_spinning_without_time_passing_hits_the_step_limit() -> None:
    async def main() -> None:
        while True:
            await asyncio.sleep(0)

    with pytest.raises(simloop.StepLimitExceeded, match="more than 1000 callbacks"):
        simloop.run(main(), step_limit=1000, strategy="fifo")


def test_a_hang_does_not_leave_tasks_or_patches_behind() -> None:
    with pytest.raises(simloop.Deadlock):
        simloop.run(two_tasks_wait_for_each_other())
    assert asyncio._get_running_loop() is None
    # A fresh run afterwards behaves normally.
    assert simloop.run(asyncio.sleep(1, result="fine")) == "fine"


def test_cleanup_that_hangs_again_is_abandoned_not_waited_for() -> None:
    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            while True:  # refuses to die: the clean-up gives up on it
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.Event().wait()

    async def main() -> None:
        await asyncio.create_task(stubborn())

    with pytest.raises(simloop.Deadlock):
        simloop.run(main())
