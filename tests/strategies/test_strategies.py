"""Strategies: pct, replay of a recorded schedule, the choice log.

Covers simloop/strategies (_pct.py, _replay.py, _log.py).
"""

from __future__ import annotations

import asyncio

import pytest

import simloop
from simloop._run import run_on
from simloop.strategies import PCT, ChoiceLog, Random, Replay


async def three_workers() -> list[str]:
    order: list[str] = []

    async def worker(name: str) -> None:
        for step in range(3):
            order.append(f"{name}{step}")
            await asyncio.sleep(0)

    async with asyncio.TaskGroup() as group:
        for name in "abc":
            group.create_task(worker(name))
    return order


def logged(seed: int, strategy: object = "random") -> simloop.SimLoop:
    loop = simloop.SimLoop(seed, strategy, log_choices=True)  # type: ignore[arg-type]
    run_on(loop, three_workers())
    return loop


def test_replaying_a_logged_run_takes_the_same_schedule() -> None:
    for seed in range(10):
        original = logged(seed)
        assert original.choice_log is not None
        replayed = simloop.SimLoop(999, Replay(original.choice_log), log_choices=True)
        run_on(replayed, three_workers())
        assert replayed.trace_digest() == original.trace_digest()
        assert replayed.choice_log == original.choice_log


def test_a_schedule_survives_a_round_trip_through_json() -> None:
    original = logged(3)
    assert original.choice_log is not None
    text = original.choice_log.to_json(seed=3, test="three_workers")
    log, metadata = ChoiceLog.from_json(text)
    assert log == original.choice_log
    assert metadata == {"seed": 3, "test": "three_workers"}
    with pytest.raises(ValueError, match="not a simloop schedule of version 1"):
        ChoiceLog.from_json('{"choices": {}}')


def test_a_replay_that_no_longer_fits_falls_back_to_fifo_and_says_so() -> None:
    recorded = ChoiceLog({"task order": [(2, 1, 0, 3)]})  # an order of 4, but 3 are due
    strategy = Replay(recorded)
    loop = simloop.SimLoop(0, strategy)
    schedule = loop.choices.schedule
    assert run_on(loop, three_workers())[:3] == ["a0", "b0", "c0"]
    assert schedule.divergences[0][:2] == ("task order", 0)  # type: ignore[attr-defined]


def test_replay_cannot_be_named_without_a_schedule() -> None:
    with pytest.raises(ValueError, match="strategy 'replay' needs a recorded schedule"):
        simloop.SimLoop(strategy="replay")


def test_pct_orders_each_batch_by_priority_and_is_seeded() -> None:
    runs = {tuple(simloop.run(three_workers(), seed=seed, strategy="pct")) for seed in range(20)}
    assert len(runs) > 3
    assert simloop.run(three_workers(), seed=5, strategy="pct") == simloop.run(
        three_workers(), seed=5, strategy="pct"
    )
    # Without change points (depth 1) a task keeps its rank in every batch
    # (the first round runs in creation order: one callback created them all).
    for seed in range(10):
        order = simloop.run(three_workers(), seed=seed, strategy=PCT(depth=1))
        assert [name[0] for name in order[:3]] == ["a", "b", "c"]
        second_round = [name[0] for name in order[3:6]]
        assert [name[0] for name in order[6:9]] == second_round


def test_pct_states_its_bound() -> None:
    assert PCT.bound(tasks=4, steps=10, depth=3) == pytest.approx(1 / 400)
    with pytest.raises(ValueError, match=r"depth=0 is not allowed; expected an integer >= 1"):
        PCT(depth=0)


def test_pct_finds_an_ordering_bug_of_depth_two() -> None:
    """The reader must run between the writer's two steps."""

    async def torn_read() -> None:
        record = {"a": 0, "b": 0}

        async def writer() -> None:
            record["a"] = 1
            await asyncio.sleep(0)
            record["b"] = 1

        async def reader() -> None:
            await asyncio.sleep(0)
            assert record["a"] == record["b"], "torn read"

        await asyncio.gather(writer(), reader())

    def failures(strategy: object) -> int:
        count = 0
        for seed in range(50):
            try:
                simloop.run(torn_read(), seed=seed, strategy=strategy)  # type: ignore[arg-type]
            except AssertionError:
                count += 1
        return count

    assert 0 < failures("pct") < 50
    assert 0 < failures(Random(reorder_rate=1.0)) < 50
    assert failures("fifo") == 0
