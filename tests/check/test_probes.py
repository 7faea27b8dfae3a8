"""buggify() fault points and sometimes() assertions.

Covers simloop/_probes.py.
"""

from __future__ import annotations

import asyncio

import pytest

import simloop
from simloop._run import run_on


async def retries_on_flaky_send() -> dict[str, int]:
    counts = {"sent": 0, "retried": 0}
    for _ in range(20):
        while simloop.buggify():  # the rare path: a send that fails
            counts["retried"] += 1
            await asyncio.sleep(0.001)
        counts["sent"] += 1
        await asyncio.sleep(0)
    return counts


def test_buggify_is_false_outside_a_simulation() -> None:
    assert asyncio.run(retries_on_flaky_send()) == {"sent": 20, "retried": 0}
    assert not simloop.buggify()


def test_buggify_never_fires_under_fifo() -> None:
    for seed in range(20):
        assert simloop.run(retries_on_flaky_send(), seed=seed, strategy="fifo")["retried"] == 0


def test_buggify_fires_on_a_seeded_subset_of_runs_and_calls() -> None:
    retried = [simloop.run(retries_on_flaky_send(), seed=seed)["retried"] for seed in range(200)]
    runs_with_faults = sum(1 for count in retried if count)
    # a site is active in about a quarter of the runs...
    assert 25 <= runs_with_faults <= 80
    # ... and then fires on some of its calls, not all
    assert all(count < 60 for count in retried)
    assert retried == [
        simloop.run(retries_on_flaky_send(), seed=seed)["retried"] for seed in range(200)
    ]


def test_buggify_fires_are_deviations_that_a_replay_repeats() -> None:
    seed = next(
        seed for seed in range(200) if simloop.run(retries_on_flaky_send(), seed=seed)["retried"]
    )
    loop = simloop.SimLoop(seed, log_choices=True)
    counts = run_on(loop, retries_on_flaky_send())
    assert any(d.kind == "buggify" and "fires" in d.detail for d in loop.trace.deviations)
    assert "buggify" in loop.trace.kinds_seen
    assert loop.choice_log is not None
    replayed = simloop.SimLoop(0, simloop.strategies.Replay(loop.choice_log))
    assert run_on(replayed, retries_on_flaky_send()) == counts


def test_buggify_checks_its_probability() -> None:
    with pytest.raises(ValueError, match=r"probability=1.5 is out of range; expected 0.0 to 1.0"):
        simloop.buggify(1.5)


def test_sometimes_records_whether_a_condition_ever_held() -> None:
    async def main() -> None:
        for value in range(5):
            assert simloop.sometimes(value, "value was nonzero") == value
            simloop.sometimes(value > 10, "value was large")
        await asyncio.sleep(0)

    loop = simloop.SimLoop(1)
    run_on(loop, main())
    assert loop.sometimes == {"value was nonzero": True, "value was large": False}
    assert simloop.sometimes(False, "outside") is False  # a no-op outside a simulation
