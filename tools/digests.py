"""Trace digests of the gallery, the property examples and the correctness
corpus's plain scenarios, to show that a change moved no schedule.

    python tools/digests.py record before.json          # before a refactor
    python tools/digests.py compare before.json         # after it: exit 1 on any difference

Every gallery bug (buggy, fixed and stdlib implementations) and every
property example runs seeds 0-99 under its own strategy, strict as the
plugin is by default; the file maps "scenario/implementation" to the list
of digests and outcomes. Refactors and optimisations must leave it
unchanged (issues 13 and 16).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simloop  # noqa: E402
from examples.gallery import bugs  # noqa: E402
from examples.properties import cache_update, replicated_register, worker_pool  # noqa: E402
from simloop.strategies import InjectCancellation  # noqa: E402

SEEDS = range(100)

Scenario = Callable[[], Coroutine[Any, Any, None]]


def scenarios() -> Iterator[tuple[str, Scenario, Any]]:
    """(name, coroutine factory, strategy) of everything measured."""
    for bug in bugs():
        implementations = {"buggy": bug.buggy, "fixed": bug.fixed}
        if bug.stdlib is not None:
            implementations["stdlib"] = bug.stdlib
        for which, implementation in implementations.items():

            def make(bug: Any = bug, implementation: object = implementation) -> Any:
                return bug.scenario(implementation)

            yield f"gallery {bug.label}/{which}", make, bug.strategy
    for module in (worker_pool, cache_update, replicated_register):
        for which in ("buggy", "fixed"):
            factory = getattr(module, which)
            yield f"properties {module.__name__.rpartition('.')[2]}/{which}", factory, "random"
    cancel = InjectCancellation("update-*", rate=0.5)
    for which in ("buggy", "fixed"):
        yield f"properties cache_update/{which} cancelled", getattr(cache_update, which), cancel


def measure() -> dict[str, list[str]]:
    try:
        from simloop._run import run_on
    except ImportError:  # before simloop.run became simloop._run
        from simloop._run import run_on  # type: ignore[no-redef]

    found: dict[str, list[str]] = {}
    for name, make, strategy in scenarios():
        runs = []
        for seed in SEEDS:
            loop = simloop.SimLoop(seed, strategy)
            try:
                run_on(loop, make())
                outcome = "passed"
            except (AssertionError, simloop.SimulationError, OSError) as error:
                outcome = type(error).__name__
            runs.append(f"{loop.trace_digest()} {outcome}")
        found[name] = runs
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("action", choices=["record", "compare"])
    parser.add_argument("file")
    options = parser.parse_args()
    found = measure()
    path = Path(options.file)
    if options.action == "record":
        path.write_text(json.dumps(found, indent=1, sort_keys=True))
        print(f"recorded {sum(map(len, found.values()))} runs of {len(found)} scenarios")
        return 0
    expected = json.loads(path.read_text())
    differences = [
        (name, seed)
        for name in sorted(set(expected) | set(found))
        for seed, (a, b) in enumerate(
            zip(expected.get(name, []), found.get(name, []), strict=False)
        )
        if a != b
    ]
    missing = sorted(set(expected) ^ set(found))
    for name, seed in differences[:20]:
        print(f"differs: {name} seed {seed}: {expected[name][seed]} -> {found[name][seed]}")
    for name in missing:
        print(f"only in one of them: {name}")
    runs = sum(map(len, found.values()))
    if differences or missing:
        print(f"{len(differences)} of {runs} runs differ")
        return 1
    print(f"all {runs} runs of {len(found)} scenarios have the digests recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
