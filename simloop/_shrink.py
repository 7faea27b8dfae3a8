"""Shrinking: from a failing schedule to the simplest one that still fails.

A failing run's `ChoiceLog` usually deviates from FIFO at many choice points,
most of them irrelevant. `shrink` replays the run with deviations put back
to FIFO (delta debugging, Zeller and Hildebrandt 2002), keeps every
simplification after which the run fails the same way, then moves the
remaining numeric deviations (delays, CPU costs) towards their FIFO value.
What is left is what the failure needs; `describe` says it in words.

Each trial is a complete replay with `strategies.Replay`. When a replay
takes another path, the recording is followed as far as it fits and FIFO
answers the rest; the log a successful trial *actually used* becomes the new
current log, so positions never drift.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import Deadlock, Livelock
from .strategies import KINDS, ChoiceLog, Position, Replay, Strategy, fifo_value

#: What a trial run returns: the failure (None if it passed) and the log of
#: the choices it actually made.
Trial = Callable[[Strategy], tuple[BaseException | None, ChoiceLog]]

_SIMLOOP_DIR = os.path.dirname(__file__) + os.sep
#: merging deviations into delays tries pairs: only for schedules this small
_MERGE_AT_MOST = 8


def failure_signature(error: BaseException) -> frozenset[tuple[str, str]]:
    """What makes two failures "the same": the exception type and the line
    of the program under test that raised it (as Hypothesis compares them),
    for each exception of a group. Hangs are the same hang whatever the line.
    Two failures are the same when their signatures share an element.

    Frames of simloop, of asyncio, and frames that hide themselves from
    tracebacks (``__tracebackhide__``, pytest's convention, as a test
    runner's own frames do) are not the program's."""
    if isinstance(error, BaseExceptionGroup):
        return frozenset().union(*(failure_signature(part) for part in error.exceptions))
    if isinstance(error, (Deadlock, Livelock)):
        return frozenset({(type(error).__name__, "")})
    own = [
        (frame.f_code.co_filename, line)
        for frame, line in traceback.walk_tb(error.__traceback__)
        if not frame.f_code.co_filename.startswith(_SIMLOOP_DIR)
        and "asyncio" not in frame.f_code.co_filename
        and not frame.f_locals.get("__tracebackhide__", False)
    ]
    where = f"{own[-1][0]}:{own[-1][1]}" if own else ""
    return frozenset({(type(error).__name__, where)})


@dataclass
class ShrinkResult:
    """The simplest failing schedule found, and how it was found."""

    log: ChoiceLog
    failure: BaseException
    #: deviations from FIFO before and after
    deviations_before: int
    deviations_after: int
    #: trial runs spent
    trials: int
    #: True when the budget ran out before the schedule was minimal
    budget_exhausted: bool = False
    notes: list[str] = field(default_factory=list)


def shrink(
    trial: Trial,
    log: ChoiceLog,
    failure: BaseException,
    *,
    budget: int = 300,
    same_failure: Callable[[BaseException], bool] | None = None,
) -> ShrinkResult:
    """Shrink a failing schedule.

    Args:
      trial: runs the program under a strategy (here always a `Replay`) and
        returns its failure (or None) and the log of the choices it made.
      log: the failing run's log (run it with ``log_choices=True``).
      failure: the failing run's exception.
      budget: the most trial runs to spend.
      same_failure: whether a trial's failure counts as the original one;
        by default, same `failure_signature`.
    """
    target = failure_signature(failure)
    matches = same_failure or (lambda error: bool(failure_signature(error) & target))
    state = _State(trial, matches, budget, log, failure)

    # Perhaps no deviation is needed at all.
    state.try_keep([])
    state.minimize()
    state.merge_into_delays()
    state.simplify_numbers()
    return ShrinkResult(
        log=state.log,
        failure=state.failure,
        deviations_before=len(log.deviations()),
        deviations_after=len(state.log.deviations()),
        trials=state.trials,
        budget_exhausted=state.trials >= budget,
    )


class _State:
    def __init__(
        self,
        trial: Trial,
        matches: Callable[[BaseException], bool],
        budget: int,
        log: ChoiceLog,
        failure: BaseException,
    ) -> None:
        self._trial = trial
        self._matches = matches
        self._budget = budget
        self.trials = 0
        self.log = log
        self.failure = failure

    def _run(self, candidate: ChoiceLog) -> bool:
        """Replay `candidate`; adopt what it actually did if it fails the same way."""
        if self.trials >= self._budget:
            return False
        self.trials += 1
        error, used = self._trial(Replay(candidate))
        if error is None or not self._matches(error):
            return False
        self.log = used
        self.failure = error
        return True

    def try_keep(self, keep: Sequence[Position]) -> bool:
        """Replay with only the deviations in `keep` (FIFO everywhere else)."""
        kept = set(keep)
        dropped = [position for position in self.log.deviations() if position not in kept]
        if not dropped:
            return False
        return self._run(self.log.with_fifo(dropped))

    def minimize(self) -> None:
        """ddmin over the current deviations: drop chunks while the failure holds."""
        chunks = 2
        while self.trials < self._budget:
            deviations = self.log.deviations()
            if len(deviations) < 2:
                if len(deviations) == 1:
                    self.try_keep([])
                return
            chunks = min(chunks, len(deviations))
            size = -(-len(deviations) // chunks)
            parts = [deviations[start : start + size] for start in range(0, len(deviations), size)]
            reduced = False
            # Removing one part at a time (keeping its complement) first:
            # most failures need few deviations, so big removals succeed early.
            for part in parts:
                removed = set(part)
                if self.try_keep([p for p in deviations if p not in removed]):
                    chunks = max(chunks - 1, 2)
                    reduced = True
                    break
            if reduced:
                continue
            if chunks >= len(deviations):
                return
            chunks = min(chunks * 2, len(deviations))

    def merge_into_delays(self) -> None:
        """Fold a deviation into a delay: a failure that needs a reply 5 ms
        late needs one delay of 5 ms, not a cut segment and two delays. For
        each deviation ddmin could not drop, try dropping it while one
        numeric deviation grows by what it gave up (or doubles)."""
        merged = True
        while merged and self.trials < self._budget:
            merged = False
            deviations = self.log.deviations()
            if not 2 <= len(deviations) <= _MERGE_AT_MOST:
                return
            numeric = [
                position
                for position in deviations
                if len(position) == 2 and getattr(KINDS.get(position[0]), "numeric", False)
            ]
            for dropped in deviations:
                for grown in reversed(numeric):
                    if grown == dropped:
                        continue
                    value, fifo = self.log.value_at(grown), fifo_value(grown)
                    extra = value - fifo
                    if dropped[0] == grown[0] and len(dropped) == 2:
                        extra = self.log.value_at(dropped) - fifo
                    changes = {dropped: fifo_value(dropped), grown: value + extra}
                    if self._run(self.log.with_values(changes)):
                        merged = True
                        break
                if merged or self.trials >= self._budget:
                    break

    def simplify_numbers(self) -> None:
        """Move each numeric deviation halfway to FIFO while the failure holds."""
        for position in self.log.deviations():
            spec = KINDS.get(position[0])
            if spec is None or not spec.numeric:
                continue
            for _ in range(6):
                if self.trials >= self._budget:
                    return
                try:
                    value = self.log.value_at(position)
                except (IndexError, KeyError):
                    break
                fifo = fifo_value(position)
                halfway = fifo + (value - fifo) / 2
                if abs(halfway - fifo) < 1e-6 or not self._run(
                    self.log.with_values({position: halfway})
                ):
                    break


def describe(log: ChoiceLog, deviations: Sequence[Any] = ()) -> list[str]:
    """The deviations of `log` in words, one line each.

    `deviations` are the `Decision`s a recorded replay of `log` kept (they
    carry virtual times and task names); CPU costs are described from the log.
    """
    lines = [
        f"{decision.kind} at t={decision.virtual_time:.6f}s (after {decision.step} callbacks): "
        f"{decision.detail}"
        for decision in deviations
    ]
    callbacks = 0
    for block in log.entries.get("cpu cost", ()):
        for cost in block:
            if cost:
                lines.append(f"callback #{callbacks + 1} spends {cost * 1e3:.3f} ms of CPU")
            callbacks += 1
    if not lines:
        lines.append("plain FIFO order: the failure needs no deviation at all")
    return lines
