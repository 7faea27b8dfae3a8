"""`pct`: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010).

PCT gives every task a random priority and always runs the highest-priority
enabled task; at d-1 random points of the run, the task running there drops
below every other. A bug of depth d (one needing d ordering constraints
between n tasks over k steps) is then found by one run with probability at
least 1 / (n * k^(d-1)).

On asyncio the enabled tasks of one loop iteration are the tasks woken in
it: PCT orders them by priority (asyncio runs a whole batch before it looks
again, so a task woken mid-batch waits for the next one, as it would on the
stock loop). Timers due together are ordered by seeded coin flips, CPU cost
is zero and executor jobs take random short times, as in `random`.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Sequence

from .._validate import integer_at_least
from ._base import Schedule, Strategy, Streams
from ._random import buggify_site


class PCT(Strategy):
    """Args:
    depth: the bug depth d to target (d-1 priority change points), >= 1.
    steps: the expected number of task steps k of a run, over which the
      change points are spread (the bound assumes k is not underestimated).
    """

    name = "pct"

    def __init__(self, depth: int = 3, steps: int = 200) -> None:
        self.depth = integer_at_least("depth", depth, 1)
        self.steps = integer_at_least("steps", steps, 1)

    def schedule(self, seed: int, streams: Streams) -> Schedule:
        return PCTSchedule(self.depth, self.steps, streams)

    @staticmethod
    def bound(tasks: int, steps: int, depth: int) -> float:
        """PCT's lower bound on the chance that one run finds a depth-`depth` bug."""
        return 1.0 / (max(tasks, 1) * float(max(steps, 1)) ** (depth - 1))


class PCTSchedule(Schedule):
    reorders_tasks = True

    def __init__(self, depth: int, steps: int, streams: Streams) -> None:
        self.depth = depth
        self._streams = streams
        self._priority: dict[int, float] = {}
        rng = streams("pct")
        #: task steps (counted from 1) at which the running task's priority drops
        self._change_points = sorted(rng.randint(1, steps) for _ in range(depth - 1))
        self._next_low = float(depth - 1)  # priorities below every initial one
        self.task_steps = 0
        self._active_sites: dict[str, bool] = {}
        #: distinct tasks seen, for the bound
        self.tasks_seen = 0

    @functools.cached_property
    def _rng(self) -> random.Random:
        return self._streams("pct")

    @functools.cached_property
    def _timer_rng(self) -> random.Random:
        return self._streams("timers")

    def _priority_of(self, task: asyncio.Task[object]) -> float:
        # Keyed by the task's serial, never id(): a freed task's address may
        # be reused, differently in another process.
        key: int = getattr(task, "_simloop_serial", None) or id(task)
        priority = self._priority.get(key)
        if priority is None:
            # Initial priorities lie above `depth`, random among tasks.
            priority = self._priority[key] = self.depth + self._rng.random()
            self.tasks_seen += 1
        return priority

    def order_tasks(self, tasks: Sequence[asyncio.Task[object]]) -> Sequence[int] | None:
        priorities = [self._priority_of(task) for task in tasks]
        order = sorted(range(len(tasks)), key=lambda index: -priorities[index])
        first_step = self.task_steps + 1
        self.task_steps += len(tasks)
        # Change points falling inside this batch lower the task at that turn.
        while self._change_points and self._change_points[0] <= self.task_steps:
            point = self._change_points.pop(0)
            if point >= first_step:
                task = tasks[order[point - first_step]]
                self._priority_of(task)
                self._priority[getattr(task, "_simloop_serial", None) or id(task)] = self._next_low
                self._next_low -= 1.0
        return order

    def order_timers(self, count: int) -> Sequence[int] | None:
        order = list(range(count))
        self._timer_rng.shuffle(order)
        return order

    def buggify(self, site: str, probability: float | None) -> bool:
        return buggify_site(self._streams, self._active_sites, site, probability)

    def describe(self) -> str:
        return (
            f"PCT depth {self.depth}: random task priorities, "
            f"{self.depth - 1} priority change point(s)"
        )
