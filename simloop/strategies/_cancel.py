"""Injected cancellation: cancel selected tasks at seeded await points.

Code that claims to be cancellation-safe is usually tested where a timeout
happens to fire. `InjectCancellation` wraps any strategy and, each time a
selected task suspends at an await, may cancel it right there (as another
task calling ``task.cancel()`` at that moment would), so every await of the
task gets its turn across seeds.
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import random
from collections.abc import Callable
from typing import Any

from .._validate import in_range, integer_at_least
from ._base import Schedule, Strategy, Streams
from ._registry import resolve

TaskSelector = str | Callable[[asyncio.Task[Any]], bool]


class InjectCancellation(Strategy):
    """Args:
    select: which tasks may be cancelled: a task name, a glob over task
      names (``"worker-*"``), or a predicate on the task.
    rate: the chance of a cancellation at each await a selected task
      reaches.
    per_task: the most cancellations one task receives in a run.
    base: the strategy that fills every other choice point.
    """

    def __init__(
        self,
        select: TaskSelector,
        *,
        rate: float = 0.2,
        per_task: int = 1,
        base: str | Strategy = "random",
    ) -> None:

        if not (isinstance(select, str) or callable(select)):
            raise TypeError(
                f"select must be a task name, a glob, or a predicate on tasks, not {select!r}"
            )
        self.select = select
        self.rate = in_range("rate", rate, 0.0, 1.0)
        self.per_task = integer_at_least("per_task", per_task, 1)
        self.base = resolve(base)
        self.name = f"{self.base.name}+cancel"

    def selects(self, task: asyncio.Task[Any]) -> bool:
        if isinstance(self.select, str):
            return fnmatch.fnmatchcase(task.get_name(), self.select)
        return bool(self.select(task))

    def schedule(self, seed: int, streams: Streams) -> Schedule:
        return CancellingSchedule(self, self.base.schedule(seed, streams), streams)


class CancellingSchedule(Schedule):
    """The base strategy's schedule, plus cancellations at awaits."""

    injects_cancels = True

    def __init__(self, strategy: InjectCancellation, base: Schedule, streams: Streams) -> None:
        # Every other choice point is the base schedule's: forward each of
        # Schedule's methods (including ones added after this was written).
        for name in dir(Schedule):
            if not name.startswith("_") and callable(getattr(Schedule, name)):
                setattr(self, name, getattr(base, name))
        for flag in ("reorders_tasks", "keeps_siblings", "injects_faults", "splits_segments"):
            setattr(self, flag, getattr(base, flag))
        self._strategy = strategy
        self._streams = streams
        self._base = base
        self._given: dict[int, int] = {}
        self.inject_cancel = self._inject_cancel  # type: ignore[method-assign]
        self.describe = self._describe  # type: ignore[method-assign]

    @functools.cached_property
    def _rng(self) -> random.Random:
        return self._streams("cancel")

    def _inject_cancel(self, task: asyncio.Task[Any]) -> bool:
        strategy = self._strategy
        if not strategy.selects(task):
            return False
        key = getattr(task, "_simloop_serial", None) or id(task)
        if self._given.get(key, 0) >= strategy.per_task:
            return False
        if self._rng.random() >= strategy.rate:
            return False
        self._given[key] = self._given.get(key, 0) + 1
        return True

    def _describe(self) -> str:
        return (
            f"{self._base.describe()}; cancels tasks matching {self._strategy.select!r} "
            f"at {self._strategy.rate:.0%} of their awaits"
        )
