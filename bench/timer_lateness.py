"""How often a strategy makes a deadline fire late, for the gallery's D bugs.

Bugs 6 and 7 of examples/gallery need one timer (a consumer's deadline) to
fire a set number of loop iterations after another (the producer's sleep)
although both were due within a hair of each other: bug 6 exactly one
iteration later, bug 7 exactly two. The engine produces that lateness only
through virtual CPU cost per callback. This script runs the buggy scenario
under many seeds, records in which iteration each of the two timers fired,
and prints, per lateness and per swarm profile, how many seeds produced it
and how many failed.

    python bench/timer_lateness.py 6 3000
    python bench/timer_lateness.py 7 3000 random:cpu_max_cost=0.00002,cpu_rate=1

It watches the loop through two private methods of SimLoop (`_run_once`,
`_release_due_timers`): a measuring tool, not an API.
"""

from __future__ import annotations

import collections
import gc
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simloop
from bench.bugfinding import parse_strategy
from examples.gallery import bugs
from simloop._run import run_on


class WatchedLoop(simloop.SimLoop):
    """A SimLoop that notes the iteration in which the first deadline
    (asyncio.timeout) and the first other timer fired."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.iteration = 0
        self.fired: dict[str, tuple[int, float]] = {}

    def _run_once(self) -> None:
        self.iteration += 1
        super()._run_once()

    def _release_due_timers(self) -> None:
        pending = list(self._timers)
        super()._release_due_timers()
        still = {id(entry[2]) for entry in self._timers}
        for when, _, timer in pending:
            if id(timer) in still or timer.cancelled():
                continue
            kind = "deadline" if "Timeout" in repr(timer) else "sleep"
            self.fired.setdefault(kind, (self.iteration, when))


def lateness(loop: WatchedLoop) -> str:
    deadline, sleep = loop.fired.get("deadline"), loop.fired.get("sleep")
    if deadline is None or sleep is None:
        return "deadline never fired"
    late = deadline[0] - sleep[0]
    if late == 0:
        return "same iteration, same instant" if deadline[1] == sleep[1] else "same iteration"
    return f"{late:+d} iterations"


def profile_of(loop: simloop.SimLoop) -> str:
    """The parts of a `random` swarm profile that decide timer lateness."""
    profile = getattr(loop.choices.schedule, "profile", None)
    if profile is None:
        return loop.choices.describe()
    cost = (
        f"CPU cost up to {profile.cpu_max_cost * 1e3:g} ms on {profile.cpu_rate:.0%} of callbacks"
        if profile.cpu_max_cost
        else "no CPU cost"
    )
    return f"{cost}, tasks reordered in {profile.reorder_rate:.0%} of iterations"


def main() -> int:
    number = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    spec = sys.argv[3] if len(sys.argv) > 3 else "random"
    (bug,) = (bug for bug in bugs() if bug.number == number)
    strategy = parse_strategy(spec)
    by_lateness: collections.Counter[str] = collections.Counter()
    failing: collections.Counter[str] = collections.Counter()
    by_profile: collections.Counter[str] = collections.Counter()
    failing_by_profile: collections.Counter[str] = collections.Counter()
    for seed in range(seeds):
        if seed % 500 == 0:
            gc.collect()
        loop = WatchedLoop(seed, strategy)
        try:
            run_on(loop, bug.scenario(bug.buggy))
            failed = False
        except (AssertionError, simloop.SimulationError):
            failed = True
        key = lateness(loop)
        by_lateness[key] += 1
        failing[key] += failed
        profile = profile_of(loop)
        by_profile[profile] += 1
        failing_by_profile[profile] += failed
    print(f"bug {bug.label}, strategy {spec}, seeds 0..{seeds - 1}")
    print("| deadline fires, after the sleep timer | seeds | failing |")
    print("|---|---|---|")
    for key, count in sorted(by_lateness.items()):
        print(f"| {key} | {count} | {failing[key]} |")
    print("\n| swarm profile | seeds | failing |")
    print("|---|---|---|")
    for profile, count in sorted(by_profile.items()):
        print(f"| {profile} | {count} | {failing_by_profile[profile]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
