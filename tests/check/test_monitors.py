"""Invariants and liveness checked step by step; cancellation injected at awaits.

Covers simloop/_monitors.py, simloop/strategies/_cancel.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

import simloop
from simloop._run import run_on
from simloop.strategies import InjectCancellation


class Account:
    def __init__(self) -> None:
        self.balance = 100
        self.pending = 0

    async def transfer_out(self, amount: int) -> None:
        # Broken for a moment: money leaves before it is marked pending.
        self.balance -= amount
        await asyncio.sleep(0)
        self.pending += amount
        await asyncio.sleep(0.01)
        self.pending -= amount


async def transfers(account: Account) -> None:
    await asyncio.gather(*(account.transfer_out(10) for _ in range(3)))


def test_an_invariant_broken_for_one_step_fails_at_that_step() -> None:
    account = Account()

    async def main() -> None:
        simloop.invariant(lambda: account.balance + account.pending in (100, 90, 80, 70))
        simloop.invariant(lambda: account.balance + account.pending == 100, name="money is kept")
        await transfers(account)

    with pytest.raises(simloop.InvariantViolation) as caught:
        simloop.run(main(), strategy="fifo")
    report = str(caught.value)
    assert report.startswith("invariant 'money is kept' does not hold (it returned False)")
    assert "t=0.000000s" in report
    assert "unfinished task(s)" in report
    # The final state is fine: only the step-by-step check sees the gap.
    final = Account()
    simloop.run(transfers(final), strategy="fifo")
    assert final.balance + final.pending == 70


def test_an_invariant_can_assert_and_can_run_every_n_steps() -> None:
    account = Account()
    checks: list[int] = []

    def balance_not_negative() -> bool:
        checks.append(account.balance)
        assert account.balance >= 0, f"balance is {account.balance}"
        return True

    async def main() -> None:
        simloop.invariant(balance_not_negative, every=3)
        await transfers(account)

    loop = simloop.SimLoop(strategy="fifo")
    run_on(loop, main())
    assert 0 < len(checks) < loop.steps

    async def overdraw() -> None:
        simloop.invariant(balance_not_negative)
        account.balance = -5
        await asyncio.sleep(0)

    with pytest.raises(simloop.InvariantViolation, match="balance is -5"):
        simloop.run(overdraw())


def test_monitors_do_not_change_the_schedule() -> None:
    def digest(with_monitor: bool) -> str:
        account = Account()

        async def main() -> None:
            if with_monitor:
                simloop.invariant(lambda: True)
            await transfers(account)

        loop = simloop.SimLoop(seed=4)
        run_on(loop, main())
        return loop.trace_digest()

    assert digest(True) == digest(False)


def test_eventually_holds_or_fails_at_its_deadline_with_what_is_pending() -> None:
    async def main(reply_after: float) -> Any:
        done = asyncio.Event()
        monitor = simloop.eventually(done.is_set, within=1.0, name="reply arrives")
        asyncio.get_running_loop().call_later(reply_after, done.set)
        waiter = asyncio.create_task(done.wait(), name="waiter")
        await asyncio.sleep(5)
        waiter.cancel()
        return monitor.held

    assert simloop.run(main(0.5)) is True
    with pytest.raises(simloop.LivenessViolation) as caught:
        simloop.run(main(2.0))
    report = str(caught.value)
    assert report.startswith("eventually 'reply arrives' did not hold within 1 virtual seconds")
    assert "t=1.000000s" in report
    assert "waiter (" in report


def test_monitors_must_be_set_up_inside_a_simulation() -> None:
    with pytest.raises(RuntimeError, match=r"simloop\.invariant\(\) must be called inside"):
        simloop.invariant(lambda: True)
    with pytest.raises(ValueError, match=r"within=0 is not allowed; expected a positive number"):
        simloop.run(_eventually_zero())


async def _eventually_zero() -> None:
    simloop.eventually(lambda: True, within=0)


class Cache:
    """Claims to be cancellation-safe, but an update cancelled between its two
    writes leaves the version and the value out of step."""

    def __init__(self) -> None:
        self.value = 0
        self.version = 0

    async def update(self, value: int) -> None:
        self.version += 1
        await asyncio.sleep(0.001)  # e.g. write-ahead log
        self.value = value


async def updates(cache: Cache) -> None:
    for value in range(1, 4):
        task = asyncio.create_task(cache.update(value), name=f"update-{value}")
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert cache.version == cache.value, f"version {cache.version}, value {cache.value}"


def test_injected_cancellation_finds_a_cancellation_unsafe_update() -> None:
    for seed in range(50):
        simloop.run(updates(Cache()), seed=seed)  # never a timeout here: always passes
    strategy = InjectCancellation("update-*", rate=0.5)
    failing = []
    for seed in range(50):
        try:
            simloop.run(updates(Cache()), seed=seed, strategy=strategy)
        except AssertionError:
            failing.append(seed)
    assert failing
    explanation = simloop.explain(lambda: updates(Cache()), failing[0], strategy=strategy)
    assert explanation is not None
    assert any("CancelledError injected into update-" in line for line in explanation.deviations)


def test_injected_cancellation_only_touches_selected_tasks() -> None:
    cancelled: list[str] = []

    async def worker(name: str) -> None:
        try:
            for _ in range(5):
                await asyncio.sleep(0.001)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    async def main() -> None:
        tasks = [
            asyncio.create_task(worker(name), name=name) for name in ("keep", "cut-1", "cut-2")
        ]
        await asyncio.gather(*tasks, return_exceptions=True)

    strategy = InjectCancellation(lambda task: task.get_name().startswith("cut"), rate=1.0)
    simloop.run(main(), seed=1, strategy=strategy)
    assert sorted(cancelled) == ["cut-1", "cut-2"]
