"""The gallery of real asyncio bugs: simloop finds each one by seed and
replays it, the fixed twins pass, and the stock loop hides what it hides.

Heavy measurements (20 base seeds, 10,000 seeds per fixed twin, 1,000 stock
runs) live in bench/bugfinding.py; these tests keep to a few hundred runs.

Covers examples/gallery.
"""

from __future__ import annotations

import asyncio

import pytest

import simloop
from examples.gallery import Bug, bugs
from examples.gallery import bug_09_stream_drain_concurrent as drain_bug
from simloop._run import run_on

GALLERY = bugs()
NETWORKED = [bug for bug in GALLERY if bug.needs_network]
STOCK_HIDDEN = [bug for bug in GALLERY if bug.stock_hides]
WITH_STDLIB = [bug for bug in GALLERY if bug.stdlib is not None]

#: Seeds searched from 0 for a failure. The default strategy finds the T, S
#: and W bugs within a handful of seeds and the D bugs (a timer firing late)
#: within a few dozen (bench/bugfinding.py); the budgets leave room for
#: strategies to change without making the search long.
SEED_BUDGET = 60
SEED_BUDGET_LATE_TIMER = 300
#: Seeds each fixed twin must pass here (bench/bugfinding.py runs 10,000).
FIXED_SEEDS = 200
#: Stock-loop runs of each buggy scenario that the stock loop hides.
STOCK_RUNS = 30


def ids(bug: Bug) -> str:
    return bug.label.replace(" ", "_")


def run_seed(
    bug: Bug, implementation: object, seed: int, strategy: object = None
) -> tuple[str | None, str]:
    """How the scenario ended on `seed` (None: it passed), and the trace
    digest; with the bug's own strategy (faults on where it needs them)."""
    loop = simloop.SimLoop(seed, bug.strategy if strategy is None else strategy)
    try:
        run_on(loop, bug.scenario(implementation))
    except (AssertionError, simloop.SimulationError) as error:
        return f"{type(error).__name__}: {error}", loop.trace_digest()
    return None, loop.trace_digest()


def first_failing_seed(bug: Bug, implementation: object) -> int | None:
    budget = SEED_BUDGET_LATE_TIMER if "D" in bug.interleaving else SEED_BUDGET
    for seed in range(budget):
        outcome, _ = run_seed(bug, implementation, seed)
        if outcome is not None:
            return seed
    return None


@pytest.mark.parametrize("bug", GALLERY, ids=ids)
def test_buggy_version_fails_under_some_seed_and_replays_identically(bug: Bug) -> None:
    seed = first_failing_seed(bug, bug.buggy)
    assert seed is not None, f"no seed found bug {bug.label}"
    first = run_seed(bug, bug.buggy, seed)
    again = run_seed(bug, bug.buggy, seed)
    assert first[0] is not None
    assert again == first


@pytest.mark.parametrize("bug", GALLERY, ids=ids)
def test_fixed_twin_passes_every_seed(bug: Bug) -> None:
    failures = [seed for seed in range(FIXED_SEEDS) if run_seed(bug, bug.fixed, seed)[0]]
    assert failures == []


@pytest.mark.parametrize("bug", [bug for bug in GALLERY if bug.faults], ids=ids)
def test_a_bug_that_needs_faults_passes_the_default_world(bug: Bug) -> None:
    failures = [seed for seed in range(FIXED_SEEDS) if run_seed(bug, bug.buggy, seed, "random")[0]]
    assert failures == []


def test_the_lease_race_needs_a_loop_stall() -> None:
    (bug,) = (bug for bug in GALLERY if bug.number == 13)
    no_stalls = simloop.strategies.Random(stall_rate=0)
    failures = [seed for seed in range(FIXED_SEEDS) if run_seed(bug, bug.buggy, seed, no_stalls)[0]]
    assert failures == []


@pytest.mark.parametrize("bug", STOCK_HIDDEN, ids=ids)
def test_stock_loop_hides_the_bug(bug: Bug) -> None:
    for _ in range(STOCK_RUNS):
        asyncio.run(bug.scenario(bug.buggy))


@pytest.mark.parametrize("bug", NETWORKED, ids=ids)
def test_fixed_twin_passes_on_the_stock_loop_over_real_sockets(bug: Bug) -> None:
    for _ in range(3):
        asyncio.run(bug.scenario(bug.fixed))


def test_redis_bug_shows_on_the_stock_loop_every_time() -> None:
    (bug,) = (bug for bug in GALLERY if bug.number == 12)
    for _ in range(3):
        with pytest.raises(AssertionError, match="the reply to the abandoned GET a"):
            asyncio.run(bug.scenario(bug.buggy))


def test_drain_bug_shows_on_real_sockets_when_b_writes_during_the_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # B writes at once instead of after 10 ms: A is still waiting in drain().
    monkeypatch.setattr(drain_bug, "NOTE_DELAY", 0.0)
    with pytest.raises(AssertionError, match="two drain"):
        asyncio.run(drain_bug.scenario(drain_bug.BUGGY))
    asyncio.run(drain_bug.scenario(drain_bug.FIXED))


@pytest.mark.parametrize("bug", WITH_STDLIB, ids=ids)
def test_stdlib_class_fails_under_some_seed_only_where_it_has_the_bug(bug: Bug) -> None:
    if bug.stdlib_has_bug:
        seed = first_failing_seed(bug, bug.stdlib)
        assert seed is not None, f"no seed found bug {bug.label} in the stdlib"
    else:
        failures = [seed for seed in range(FIXED_SEEDS) if run_seed(bug, bug.stdlib, seed)[0]]
        assert failures == []
