"""The order of the callbacks one loop iteration runs: timer ties and task steps.

The one place where a loop asks the strategy which of several callbacks due
at once goes first. Timers due at the same instant are ordered as a group;
the task steps of one ready batch may swap places among themselves, while
every other callback keeps its place and the steps one callback scheduled
keep their order (see `BatchOrder._reorder_tasks`).
"""

from __future__ import annotations

import asyncio
import collections
from asyncio import events
from heapq import heapify, heappop
from typing import Any, cast

from ._choices import Choices

# The callbacks that are a task's own steps: the C task's step wrapper and
# wake-up function, the Python task's __step and __wakeup. Any other bound
# method of a task (task.cancel, task.set_name scheduled as a callback) is a
# plain callback and keeps its place.
_STEP_WRAPPER = "TaskStepMethWrapper"
_STEP_NAMES = frozenset({"task_wakeup", "__step", "__wakeup"})


#: the C task's step wrapper type, learnt from the first one seen: a type
#: check is the fast path of telling steps from other callbacks
_STEP_TYPES: set[type] = set()


def task_of_step(callback: object) -> asyncio.Task[Any] | None:
    """The task whose step `callback` is, or None for any other callback."""
    owner = getattr(callback, "__self__", None)
    if not isinstance(owner, _TASK_TYPES):
        return None
    if type(callback).__name__ == _STEP_WRAPPER:
        _STEP_TYPES.add(type(callback))
        return cast("asyncio.Task[Any]", owner)
    if getattr(callback, "__name__", None) in _STEP_NAMES:
        return cast("asyncio.Task[Any]", owner)
    return None


_TASK_TYPES: tuple[type, ...] = tuple(
    {asyncio.Task, getattr(asyncio.tasks, "_PyTask", asyncio.Task)}
)
# Timers due within this much of "now" are due now (stock loops use the
# platform clock's resolution; a virtual clock is exact).
CLOCK_RESOLUTION = 1e-9

TimerEntry = tuple[float, int, events.TimerHandle]


class BatchOrder:
    """The loop's ready batch and timer heap, ordered by the run's `Choices`
    (a mixin of `simloop._core.CoreLoop`, which owns the state below)."""

    _ready: collections.deque[Any]
    _timers: list[TimerEntry]
    _now: float
    _timer_cancelled_count: int
    _keep_siblings: bool
    choices: Choices

    def _release_due_timers(self) -> None:
        timers = self._timers
        horizon = self._now + CLOCK_RESOLUTION
        due: list[events.TimerHandle] = []
        tie_at = -1
        last_when = None
        while timers and timers[0][0] < horizon:
            when, _, handle = heappop(timers)
            handle._scheduled = False  # type: ignore[attr-defined]
            if handle._cancelled:
                self._timer_cancelled_count -= 1
                continue
            if when == last_when and tie_at < 0:
                tie_at = len(due) - 1
            last_when = when
            due.append(handle)
        if tie_at >= 0:
            self._order_ties(due)
        self._ready.extend(due)

    def _order_ties(self, due: list[events.TimerHandle]) -> None:
        """Let the strategy order each run of timers due at the same instant."""
        start = 0
        while start < len(due):
            end = start + 1
            when = due[start].when()
            while end < len(due) and due[end].when() == when:
                end += 1
            if end - start > 1:
                order = self.choices.order_timers(due[start:end])
                if order is not None:
                    group = due[start:end]
                    due[start:end] = [group[i] for i in order]
            start = end

    def _reorder_tasks(self, count: int) -> None:
        """Let the strategy order the task steps of this iteration's batch.

        Only handles that belong to a task move, and they move only among
        the slots task handles already hold, so every other callback keeps
        its place; a task with two handles in the batch keeps their order.
        And steps that one callback scheduled keep their order: asyncio runs
        callbacks first in, first out, so the tasks one callback woke or
        created always start in that order on the stock loop. What may move
        are steps scheduled by different callbacks: on a real machine, which
        of those goes first depends on which timer or packet came first.
        """
        ready = self._ready
        step_types = _STEP_TYPES
        if count == 2:
            self._reorder_pair()
            return
        owners = [
            callback.__self__ if type(callback) in step_types else task_of_step(callback)
            for callback in [handle._callback for handle in ready]
        ]
        slots = [index for index, owner in enumerate(owners) if owner is not None]
        if len(slots) < 2:
            return
        batch = list(ready)
        every_slot = len(slots) == count
        tasks = owners if every_slot else [owners[index] for index in slots]
        chains: list[list[int]] = []
        if self._keep_siblings:
            # Handles one callback scheduled keep their relative order.
            parents = [getattr(batch[index], "_parent", -1 - index) for index in slots]
            if len(set(parents)) != len(parents):
                chains.append(parents)
        serials = list(map(id, tasks))
        if len(set(serials)) != len(serials):
            chains.append(serials)  # a task's own handles keep their order
        order = self.choices.order_tasks(tasks, chains)  # type: ignore[arg-type]  # None-free: slots
        if order is None:
            return
        ready.clear()
        if every_slot:
            ready.extend([batch[index] for index in order])
            return
        moved = [batch[slots[index]] for index in order]
        for slot, handle in zip(slots, moved, strict=True):
            batch[slot] = handle
        ready.extend(batch)

    def _reorder_pair(self) -> None:
        # `_reorder_tasks` for a batch of two, the most common batch: the
        # same decision, asked with the same chains, without the lists.
        ready = self._ready
        first, second = ready
        callback = first._callback
        one = callback.__self__ if type(callback) in _STEP_TYPES else task_of_step(callback)
        if one is None:
            return
        callback = second._callback
        other = callback.__self__ if type(callback) in _STEP_TYPES else task_of_step(callback)
        if other is None:
            return
        kept = one is other or (
            self._keep_siblings and getattr(first, "_parent", -1) == getattr(second, "_parent", -2)
        )
        if self.choices.swap_pair([one, other], kept):
            ready.reverse()

    def _drop_cancelled_timers(self) -> None:
        timers = self._timers
        if len(timers) > 100 and self._timer_cancelled_count * 2 > len(timers):
            kept = []
            for entry in timers:
                if entry[2]._cancelled:
                    entry[2]._scheduled = False  # type: ignore[attr-defined]
                else:
                    kept.append(entry)
            heapify(kept)
            timers[:] = kept
            self._timer_cancelled_count = 0
        else:
            while timers and timers[0][2]._cancelled:
                self._timer_cancelled_count -= 1
                heappop(timers)[2]._scheduled = False  # type: ignore[attr-defined]
