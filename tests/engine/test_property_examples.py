"""The property examples: each buggy version breaks its property under some
seed (and only the strategy that can reach it), each fixed twin never does.

Covers examples/properties.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import simloop
from examples.properties import cache_update, replicated_register, worker_pool
from simloop._run import run_on
from simloop.check import NotLinearizable
from simloop.strategies import InjectCancellation, Strategy

Scenario = Callable[[], Coroutine[Any, Any, None]]
FIXED_SEEDS = 200
SEED_BUDGET = 100


def outcome(scenario: Scenario, seed: int, strategy: str | Strategy = "random") -> str | None:
    """How `scenario` ended on `seed` (None: it passed), as the plugin sees it by default."""
    loop = simloop.SimLoop(seed, strategy)
    try:
        run_on(loop, scenario())
    except (AssertionError, simloop.SimulationError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def first_failure(scenario: Scenario, strategy: str | Strategy = "random") -> str | None:
    for seed in range(SEED_BUDGET):
        if (failure := outcome(scenario, seed, strategy)) is not None:
            return failure
    return None


def cancel_updates() -> Strategy:
    return InjectCancellation("update-*", rate=0.5)


def test_worker_pool_that_gives_up_never_drains_after_the_heal() -> None:
    failure = first_failure(worker_pool.buggy)
    assert failure is not None
    assert "LivenessViolation" in failure
    assert "every job done" in failure


def test_worker_pool_that_reconnects_drains_on_every_seed() -> None:
    assert [seed for seed in range(FIXED_SEEDS) if outcome(worker_pool.fixed, seed)] == []


def test_cache_update_passes_a_plain_sweep_and_fails_under_injected_cancellation() -> None:
    assert first_failure(cache_update.buggy) is None
    failure = first_failure(cache_update.buggy, cancel_updates())
    assert failure is not None
    assert "no update wrote it" in failure


def test_cancellation_safe_cache_update_passes_injected_cancellation() -> None:
    failures = [
        seed for seed in range(FIXED_SEEDS) if outcome(cache_update.fixed, seed, cancel_updates())
    ]
    assert failures == []


def test_register_that_reads_from_the_backup_is_not_linearizable() -> None:
    failure = first_failure(replicated_register.buggy)
    assert failure is not None
    assert NotLinearizable.__name__ in failure


def test_register_that_reads_from_the_primary_is_linearizable_on_every_seed() -> None:
    failures = [seed for seed in range(FIXED_SEEDS) if outcome(replicated_register.fixed, seed)]
    assert failures == []


def test_register_stale_reads_need_the_partition_or_a_slow_copy() -> None:
    def calm() -> Coroutine[Any, Any, None]:
        return replicated_register.scenario(
            synchronous=False, read_from=["primary", "backup"], partition=False
        )

    # In plain order with no partition every copy beats the next read...
    assert outcome(calm, 0, "fifo") is None
    # ...a partition between the replicas breaks it even in plain order...
    assert outcome(replicated_register.buggy, 0, "fifo") is not None
    # ...and without one, network delays alone do on some seeds.
    assert first_failure(calm) is not None
