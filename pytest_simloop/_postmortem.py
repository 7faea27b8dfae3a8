"""After a sweep fails: run the failing seed again, look at it, and explain it.

The sweep runs seeds as fast as it can, recording nothing. Only a failing
seed is run again, recording every event (the report's timeline, the trace
files) and logging every choice (the schedule to shrink and to save).
Shrinking replays the test, fixtures included, on schedules with fewer
deviations from FIFO (`simloop.shrink`), on the failing seed's loop seed so
the program's own randomness is unchanged, within a budget of replays and
of wall-clock seconds; the simplest schedule is then replayed once more,
recording, so `describe` can say in words what it does differently.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from simloop._depends import depends_on_line
from simloop._minimize import SHRINK_SECONDS, Minimized, cpu_costs, deviation_count, minimize
from simloop._shrink import failure_signature
from simloop._timeline import format_timeline, write_exports
from simloop._trace import Decision, Event
from simloop.strategies import ChoiceLog, Replay, Strategy

from ._runner import SimRun, Simulation
from ._schedules import file_stem, save_schedule, schedules_dir

if TYPE_CHECKING:
    from ._progress import Progress

#: events shown in a failure report's timeline
TIMELINE_EVENTS = 30
#: where a report's timeline stops
BEFORE_END = "before the run ended"
UP_TO_ERROR = "up to the first error that reached the loop's exception handler"

NOT_REPRODUCED = """\
seed {seed} passed when run again to record it: the test is not deterministic \
(--simloop-check-determinism shows where two runs part); no timeline, no shrinking\
"""
FAILED_DIFFERENTLY = """\
run again to record it, seed {seed} failed differently: {error}\
"""
HYPOTHESIS_NOT_SHRUNK = """\
not shrunk: Hypothesis shrinks this test's example, and the schedule stays \
seed {seed}'s (it replays by seed)\
"""
NOT_SAVED = """\
the schedule is not saved: pytest's cache is disabled (give --simloop-trace=DIR to \
save it there)\
"""


@dataclass
class Postmortem:
    """What a second look at a failing seed showed."""

    #: the last events before the run ended, as report lines
    timeline: list[str] = field(default_factory=list)
    #: things the report must say (a seed that did not fail again, ...)
    notes: list[str] = field(default_factory=list)
    shrunk: Minimized | None = None
    #: why the schedule was not shrunk (None when it was, or had nothing to shrink)
    not_shrunk: str | None = None
    #: callbacks that spent virtual CPU time (deviations the trace does not list)
    cpu_costs: int = 0
    #: (virtual time, callbacks) when the first error reached the loop's exception handler
    first_error: tuple[float, int] | None = None
    #: the saved schedule (the simplest one when shrunk)
    schedule_file: Path | None = None
    #: the Chrome trace and HTML timeline of the whole run (--simloop-trace)
    trace_files: list[Path] = field(default_factory=list)
    #: what the (simplest) failing schedule depends on, as report lines
    depends: list[str] = field(default_factory=list)


def until_failure(events: Sequence[Event]) -> tuple[Sequence[Event], str]:
    """The events up to where the run went wrong, that event included, and
    what that event is: the first error that reached the loop's exception
    handler (the run went on after it), else the run's "end", where its
    clean-up starts."""
    for index, event in enumerate(events):
        if event.kind == "error":
            return events[: index + 1], UP_TO_ERROR
        if event.kind == "end":
            return events[: index + 1], BEFORE_END
    return events, BEFORE_END


def _one_line_event(event: Event) -> Event:
    # An exception's text may run over lines (pytest's assertion diffs): one
    # line per event keeps the timeline a table.
    if "\n" not in event.detail:
        return event
    first, _, _ = event.detail.partition("\n")
    return dataclasses.replace(event, detail=f"{first.rstrip()} ...")


def timeline_lines(events: Sequence[Event], last: int = TIMELINE_EVENTS) -> list[str]:
    """The report's timeline: the last `last` events up to where the run went wrong."""
    before, where = until_failure(events)
    if not before:
        return ["timeline: no events recorded"]
    shown = [_one_line_event(event) for event in before[-last:]]
    body = format_timeline(shown, last=0).splitlines()[1:]
    which = (
        f"all {len(before)} events"
        if len(shown) == len(before)
        else f"the last {len(shown)} of {len(before)} events"
    )
    lines = [
        f"timeline: {which} {where} (t = virtual seconds; * = differs from FIFO):",
        *(f"  {line}" for line in body),
    ]
    if where == UP_TO_ERROR:
        rest = events[len(before) :]
        end = next((index for index, event in enumerate(rest) if event.kind == "end"), None)
        more = len(rest) if end is None else end + 1
        lines.append(f"  ... and {more} more events before the run ended")
    return lines


def examine(
    simulation: Simulation,
    seed: int,
    run: SimRun,
    *,
    config: pytest.Config,
    trace_dir: Path | None,
    is_hypothesis: bool,
    progress: Progress | None = None,
    shrink_seconds: float = SHRINK_SECONDS,
) -> Postmortem:
    """Run failing seed `seed` again, recording; shrink (for at most
    `shrink_seconds` of wall clock), save and export as asked."""
    settings = simulation.settings
    test_id = simulation.test_id
    assert run.call is not None
    make_test, values = run.call
    recorded = simulation.rerun(seed, make_test, values, record=True, log_choices=True)
    post = Postmortem()
    if recorded.error is None:
        post.notes.append(NOT_REPRODUCED.format(seed=seed))
        return post
    assert run.error is not None
    if not failure_signature(recorded.error) & failure_signature(run.error):
        post.notes.append(FAILED_DIFFERENTLY.format(seed=seed, error=_one_line(recorded.error)))
    assert recorded.trace is not None
    events = recorded.trace.events
    assert events is not None
    post.timeline = timeline_lines(events)
    post.first_error = next(
        ((event.virtual_time, event.step) for event in events if event.kind == "error"), None
    )
    stem = file_stem(test_id, seed)
    if settings.replay is not None:
        stem = Path(settings.replay.given).name.removesuffix(".json")
        stem = f"{stem.removesuffix('.schedule')}-replay"
    if trace_dir is not None:
        title = f"{test_id} seed {seed} ({settings.strategy_name})"
        written = write_exports(events, str(trace_dir), stem, title)
        post.trace_files = [Path(path) for path in written]
    recorded.trace = None  # a long run's events: not kept past here
    if settings.replay is not None:
        return post  # the schedule is already a file, and is what it is
    if is_hypothesis:
        post.not_shrunk = HYPOTHESIS_NOT_SHRUNK.format(seed=seed)
        return post
    log = recorded.choice_log
    assert log is not None
    post.cpu_costs = cpu_costs(log)
    post.depends = depends_on_line(log, recorded.deviations)
    if log.deviations():
        if settings.no_shrink_reason is not None:
            post.not_shrunk = f"not shrunk: {settings.no_shrink_reason}"
        else:
            post.shrunk = _shrink(simulation, seed, run, recorded, progress, shrink_seconds)
            log = post.shrunk.log
            post.depends = post.shrunk.depends
    directory = schedules_dir(config, trace_dir)
    if directory is None:
        post.notes.append(NOT_SAVED)
    else:
        post.schedule_file = save_schedule(
            directory,
            stem,
            log,
            test=test_id,
            seed=seed,
            loop_seed=recorded.loop_seed,
            strategy=settings.strategy_name,
            shrunk=post.shrunk is not None,
        )
    return post


def _shrink(
    simulation: Simulation,
    seed: int,
    run: SimRun,
    recorded: SimRun,
    progress: Progress | None,
    seconds: float = SHRINK_SECONDS,
) -> Minimized:
    assert run.call is not None
    assert recorded.error is not None
    make_test, values = run.call
    assert recorded.choice_log is not None

    def trial(strategy: Strategy) -> tuple[BaseException | None, ChoiceLog]:
        rerun = simulation.rerun(seed, make_test, values, strategy=strategy, log_choices=True)
        assert rerun.choice_log is not None
        return rerun.error, rerun.choice_log

    def describe_run(log: ChoiceLog) -> tuple[BaseException | None, list[Decision], int]:
        simplest = simulation.rerun(seed, make_test, values, strategy=Replay(log), record=True)
        return simplest.error, simplest.deviations, simplest.deviation_count

    def show(replays: int) -> None:
        if progress is not None:
            progress.status(f"shrinking the failing schedule, {replays} replays")

    return minimize(
        trial,
        describe_run,
        recorded.choice_log,
        recorded.error,
        deviations_before=deviation_count(recorded.choice_log, recorded.deviation_count),
        budget=simulation.settings.shrink_budget,
        seconds=seconds,
        progress=show,
    )


def _one_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip()
    first = text.splitlines()[0] if text else type(error).__name__
    return first.rstrip(":")
