"""From a failing run to its simplest failing schedule, said in words: the one
`minimize` that `simloop.explain`, the command line and the pytest plugin call.

`minimize` shrinks the failing run's recorded choices (`simloop._shrink`)
within a budget of replays and of wall-clock seconds, replays the simplest
schedule once more recording (for readable details), and says what it does
differently from FIFO (`describe`) and what it depends on
(`simloop._depends`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ._depends import depends_on_line
from ._shrink import Trial, describe, failure_signature, shrink
from ._trace import Decision
from .strategies import ChoiceLog, Strategy

#: wall-clock seconds shrinking may take by default, whatever its budget of replays
SHRINK_SECONDS = 30.0

#: Replays the simplest schedule, recording: its failure (None if it passed),
#: the deviations its trace kept (with readable details) and how many it counted.
Describer = Callable[[ChoiceLog], tuple[BaseException | None, Sequence[Decision], int]]


@dataclass
class Minimized:
    """The simplest failing schedule found, and how it was found."""

    log: ChoiceLog
    failure: BaseException
    #: deviations from FIFO (CPU costs counted one per callback) before and after
    deviations_before: int
    deviations_after: int
    #: replays spent (the describing one not counted)
    replays: int
    #: what it does differently from FIFO, one line each
    lines: list[str] = field(default_factory=list)
    #: what the failure depends on (scheduling, a stall, a fault...), as report lines
    depends: list[str] = field(default_factory=list)
    budget: int = 0
    seconds: float = SHRINK_SECONDS
    #: what ran out before the schedule was minimal: "replays", "time" or None
    ran_out: str | None = None
    #: the describing replay did not fail the same way
    flaky: bool = False


def cpu_costs(log: ChoiceLog) -> int:
    """Callbacks to which `log` gives virtual CPU time: deviations from FIFO
    too, though a trace does not list them one by one."""
    return sum(1 for block in log.entries.get("cpu cost", ()) for cost in block if cost)


def deviation_count(log: ChoiceLog, deviations: int) -> int:
    """Deviations of a run whose trace counted `deviations` and whose log is `log`."""
    return deviations + cpu_costs(log)


class _Clock:
    """Trials within a wall-clock budget: once it is spent, every further
    trial passes without running, so shrinking keeps what it has."""

    def __init__(self, trial: Trial, seconds: float, progress: Callable[[int], None] | None):
        self._trial = trial
        self._deadline = time.perf_counter() + seconds
        self._progress = progress
        self.ran = 0
        self.out_of_time = False

    def __call__(self, strategy: Strategy) -> tuple[BaseException | None, ChoiceLog]:
        if self.out_of_time or time.perf_counter() >= self._deadline:
            self.out_of_time = True
            return None, ChoiceLog()
        self.ran += 1
        if self._progress is not None:
            self._progress(self.ran)
        return self._trial(strategy)


def minimize(
    trial: Trial,
    describe_run: Describer,
    log: ChoiceLog,
    failure: BaseException,
    *,
    deviations_before: int,
    budget: int = 300,
    seconds: float = SHRINK_SECONDS,
    progress: Callable[[int], None] | None = None,
) -> Minimized:
    """Shrink the failing schedule `log` (which failed with `failure`, its
    trace counting `deviations_before` deviations with CPU costs) to the
    simplest that fails the same way.

    Args:
      trial: runs the program under a strategy (a `Replay`), returning its
        failure (or None) and the log of the choices it made.
      describe_run: replays a schedule recording, for the words.
      budget, seconds: the most replays, and wall-clock seconds, to spend.
      progress: told the number of replays spent, after each.
    """
    clock = _Clock(trial, seconds, progress)
    result = shrink(clock, log, failure, budget=budget)
    error, deviations, counted = describe_run(result.log)
    ran_out = "time" if clock.out_of_time else ("replays" if result.budget_exhausted else None)
    flaky = error is None or not (failure_signature(error) & failure_signature(result.failure))
    return Minimized(
        log=result.log,
        failure=result.failure,
        deviations_before=deviations_before,
        deviations_after=deviation_count(result.log, counted),
        replays=clock.ran,
        lines=describe(result.log, deviations),
        depends=depends_on_line(result.log, deviations),
        budget=budget,
        seconds=seconds,
        ran_out=ran_out,
        flaky=flaky,
    )
