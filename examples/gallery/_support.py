"""What the gallery's scenarios share: a bounded wait that turns a hang into
an AssertionError, and a small runner for `python -m examples.gallery.bug_NN_...`.

Scenarios detect a bug by state wherever they can (a connection missing from
its pool, a task that was asked to cancel and finished normally). Only a lost
wake-up has to be detected by time: the wait is bounded generously, so that
virtual CPU cost can never make a correct run miss it, and on the stock loop
it only costs time when the bug shows.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any

#: How long a scenario waits for a task that should finish at once, in seconds.
PATIENCE = 1.0


async def finishes(task: asyncio.Task[Any], what: str, patience: float = PATIENCE) -> None:
    """Wait up to `patience` seconds for `task`; if it is still pending, the
    bug showed: raise AssertionError saying `what`."""
    await asyncio.wait([task], timeout=patience)
    if not task.done():
        task.cancel()
        raise AssertionError(f"{what} (still waiting after {patience:g} s)")
    error = None if task.cancelled() else task.exception()
    if error is not None:
        raise error


def first_failure(
    scenario: Callable[[Any], Coroutine[Any, Any, None]],
    implementation: object,
    seeds: range,
    strategy: Any = "random",
) -> tuple[int, BaseException] | None:
    """The first seed in `seeds` whose run of the scenario fails, and how."""
    import simloop

    for seed in seeds:
        try:
            simloop.run(scenario(implementation), seed=seed, strategy=strategy)
        except (AssertionError, simloop.SimulationError) as error:
            return seed, error
    return None


def show(module: ModuleType, seeds: int = 1000) -> int:
    """Run one gallery module on simloop: the seed that breaks the buggy
    version, and whether the fixed twin survives the same seeds."""
    spec = module.__spec__
    name = (spec.name if spec is not None else module.__name__).rpartition(".")[2]
    strategy: Any = "random"
    if getattr(module, "FAULTS", False):
        from simloop.strategies import Random

        strategy = Random(faults=True)
    found = first_failure(module.scenario, module.BUGGY, range(seeds), strategy)
    if found is None:
        print(f"{name}: buggy version passed {seeds} seeds")
    else:
        seed, error = found
        print(f"{name}: buggy version fails on seed {seed}: {type(error).__name__}: {error}")
        print(f"  replay: simloop.run(scenario(BUGGY), seed={seed})")
    fixed = first_failure(module.scenario, module.FIXED, range(seeds), strategy)
    print(f"{name}: fixed twin {'passed' if fixed is None else 'FAILED'} {seeds} seeds")
    return 0 if found is not None and fixed is None else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(
        "run a bug module instead, e.g. python -m examples.gallery.bug_03_lock_cancel_deadlock"
    )
