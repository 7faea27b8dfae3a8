"""What a user reads: the header, a failure's simloop section, progress, the summary.

Everything that crosses from an xdist worker to the controller is plain,
JSON-serializable data kept on the test report (as Hypothesis does), so the
summary reads the same with and without xdist.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._options import RunOptions
from ._settings import (
    FAULTS_OPTION,
    NETWORK_OPTION,
    REPLAY_OPTION,
    SHRINK_BUDGET_OPTION,
    STRATEGY_OPTION,
    STRICT_OPTION,
)

if TYPE_CHECKING:
    from ._postmortem import Postmortem
    from ._sweep import SweepResult

#: the key of a test report's simloop data (a dict of plain values)
REPORT_KEY = "simloop"
#: deviations from FIFO listed in a failure report
SHOWN_DEVIATIONS = 10

SHRINK_BUDGET_RAN_OUT = """\
  shrinking stopped early: its budget of {budget} ran out ({option}=N gives more); \
a simpler schedule may fail too\
"""
SHRINK_TIME_RAN_OUT = """\
  shrinking stopped early: its time limit of {seconds} seconds ran out; a simpler \
schedule may fail too\
"""


def header(options: RunOptions) -> str:
    """The header line: which seeds and strategy, and the flags that select them again."""
    if options.replay is not None:
        recorded = options.replay
        return (
            f"simloop: replaying the schedule in {recorded.given} "
            f"(seed {recorded.seed} of {recorded.test}, strategy {recorded.strategy})"
        )
    plan, strategy = options.plan, options.strategy
    flags = [plan.flag(), f"{STRATEGY_OPTION}={strategy}"]
    world = []
    if options.run_wide("faults"):
        world.append("faults on")
        flags.append(FAULTS_OPTION)
    network = options.run_wide("network")
    if network is not None:
        world.append(f"{network} network")
        flags.append(f"{NETWORK_OPTION}={network}")
    if options.run_wide("strict"):
        world.append("strict")
        flags.append(STRICT_OPTION)
    described = "".join(f", {part}" for part in world)
    line = f"simloop: {plan.describe()}, strategy {strategy}{described} ({' '.join(flags)})"
    if options.check_determinism:
        line += ", each seed run twice to check determinism"
    if options.cli_plan is None or options.cli_strategy is None:
        line += "; markers may choose otherwise"
    return line


def shown_path(config: pytest.Config, path: Path) -> str:
    """`path` as the user would type it, from where pytest was started."""
    try:
        relative = os.path.relpath(path, config.invocation_params.dir)
    except ValueError:  # another drive
        relative = str(path)
    return relative.replace(os.sep, "/")


def _quoted_test(item: pytest.Item, nodeid: str) -> str:
    path, _, rest = nodeid.partition("::")
    relative = shown_path(item.config, item.config.rootpath / path)
    target = f"{relative}::{rest}" if rest else relative
    return "'" + target.replace("'", "'\"'\"'") + "'"


def replay_command(item: pytest.Item, nodeid: str, seed: int, flags: tuple[str, ...] = ()) -> str:
    """The command that replays `seed` of the test, from where pytest was
    started; `flags` are the schedule options the command line gave."""
    return " ".join(["pytest", _quoted_test(item, nodeid), f"--simloop-seed={seed}", *flags])


def schedule_command(item: pytest.Item, nodeid: str, schedule: str) -> str:
    """The command that runs the test once on the schedule file `schedule`."""
    return f"pytest {_quoted_test(item, nodeid)} {REPLAY_OPTION}={shlex.quote(schedule)}"


def replay_of(item: pytest.Item, result: SweepResult) -> str:
    """The one command that replays a sweep's failure."""
    failure = result.failure
    assert failure is not None
    settings = result.settings
    if settings.replay is not None:
        return schedule_command(item, result.test_id, settings.replay.given)
    return replay_command(item, result.test_id, failure.seed, settings.replay_flags)


def failure_section(item: pytest.Item, result: SweepResult) -> str:
    failure = result.failure
    assert failure is not None
    settings, run = result.settings, failure.run
    lines = []
    if settings.replay is not None:
        recorded = settings.replay
        simplest = "the simplest failing schedule of " if recorded.shrunk else ""
        lines.append(
            f"the schedule in {recorded.given} failed ({simplest}seed {recorded.seed}, "
            f"strategy {recorded.strategy})"
        )
    elif failure.remembered:
        lines.append(
            f"seed {failure.seed} failed; it had failed before and was tried first "
            f"(strategy {settings.strategy_name})"
        )
    else:
        plan = f"seed {failure.seed}" if settings.plan.last else settings.plan.describe()
        lines.append(
            f"seed {failure.seed} failed; {_seeds(failure.passed_before)} passed before it "
            f"({plan}, strategy {settings.strategy_name})"
        )
    lines.append(
        f"virtual time of the failure: {run.virtual_time:.6f}s, after {run.steps} callbacks"
    )
    post = failure.postmortem
    if post is not None and post.first_error is not None:
        at, steps = post.first_error
        lines.append(
            f"  the first error reached the loop's exception handler at t={at:.6f}s, "
            f"after {steps} callbacks"
        )
    if run.schedule:
        lines.append(f"schedule: {run.schedule}")
    cpu = (
        f"virtual CPU time spent by {_count(post.cpu_costs, 'callback')} "
        "(timers due meanwhile fire late)"
        if post is not None and post.cpu_costs
        else ""
    )
    if run.deviation_count:
        shown = run.deviations[:SHOWN_DEVIATIONS]
        more = f", the first {len(shown)} shown" if run.deviation_count > len(shown) else ""
        lines.append(f"choices that differed from FIFO: {run.deviation_count}{more}")
        lines.extend(
            f"  t={decision.virtual_time:.6f}s after {decision.step} callbacks: "
            f"{decision.kind}: {decision.detail}"
            for decision in shown
        )
        if cpu:
            lines.append(f"  and {cpu}")
    elif cpu:
        lines.append(f"choices that differed from FIFO: only {cpu}")
    else:
        lines.append("choices that differed from FIFO: none (the stock loop's order)")
    if run.divergences:
        lines.append(
            f"the program took another path than the recording: {run.divergences} choice "
            "point(s) had no recorded answer and got FIFO's"
        )
    if post is not None:
        lines.extend(_postmortem_lines(item, post, settings.shrink_budget))
    if settings.replay is not None:
        lines.append("replay it again:")
        lines.append(f"  {schedule_command(item, result.test_id, settings.replay.given)}")
        return "\n".join(lines)
    lines.append(f"replay it (SimLoop seed {run.loop_seed}):")
    lines.append(f"  {replay_command(item, result.test_id, failure.seed, settings.replay_flags)}")
    if post is not None and post.schedule_file is not None:
        which = "the simplest failing schedule" if post.shrunk else "its schedule"
        lines.append(f"replay {which} alone:")
        schedule = shown_path(item.config, post.schedule_file)
        lines.append(f"  {schedule_command(item, result.test_id, schedule)}")
    return "\n".join(lines)


def _postmortem_lines(item: pytest.Item, post: Postmortem, budget: int) -> list[str]:
    """The simplest failing schedule, the timeline, the files written."""
    lines: list[str] = []
    shrunk = post.shrunk
    if shrunk is not None:
        before = (
            "as found"
            if shrunk.deviations_before == shrunk.deviations_after
            else f"down from {shrunk.deviations_before}"
        )
        so_far = " found so far" if shrunk.ran_out else ""
        lines.append(
            f"simplest failing schedule{so_far} ({_count(shrunk.deviations_after, 'deviation')} "
            f"from FIFO, {before}; {_count(shrunk.replays, 'replay')}):"
        )
        lines.extend(f"  {line}" for line in shrunk.lines[:SHOWN_DEVIATIONS])
        if len(shrunk.lines) > SHOWN_DEVIATIONS:
            lines.append(f"  ... and {len(shrunk.lines) - SHOWN_DEVIATIONS} more")
        if shrunk.deviations_after:
            lines.append("  everything else in plain FIFO order")
        if shrunk.ran_out == "replays":
            lines.append(
                SHRINK_BUDGET_RAN_OUT.format(
                    budget=_count(shrunk.budget, "replay"), option=SHRINK_BUDGET_OPTION
                )
            )
        elif shrunk.ran_out == "time":
            lines.append(SHRINK_TIME_RAN_OUT.format(seconds=f"{shrunk.seconds:g}"))
        if shrunk.flaky:
            lines.append("  (replayed once more to describe it, it did not fail the same way)")
    elif post.not_shrunk is not None:
        lines.append(post.not_shrunk)
    lines.extend(post.depends)
    lines.extend(post.notes)
    lines.extend(post.timeline)
    if post.trace_files:
        shown = [shown_path(item.config, path) for path in post.trace_files]
        lines.append("the whole run, to open in Perfetto (ui.perfetto.dev) or a browser:")
        lines.extend(f"  {path}" for path in shown)
    return lines


def report_data(result: SweepResult) -> dict[str, Any]:
    """A sweep as plain data, to travel on the report."""
    failure = result.failure
    return {
        "nodeid": result.test_id,
        "seeds": result.stats.seeds,
        "schedules": len(result.stats.digests),
        "kinds": sorted(result.stats.kinds),
        "seconds": result.seconds,
        "failed_seed": None if failure is None else failure.seed,
        "passed_before": None if failure is None else failure.passed_before,
        "sometimes": dict(sorted(result.stats.sometimes.items())),
        "left": dict(sorted(result.stats.seen.counts.items())),
        "planned": len(result.settings.plan.seeds),
        "stopped": result.stats.stopped,
    }


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _seeds(count: int) -> str:
    return _count(count, "seed")


def summary_line(data: dict[str, Any]) -> str:
    seeds, seconds = data["seeds"], data["seconds"]
    rate = f", {seeds / seconds:.0f} seeds/s" if seconds > 0 else ""
    kinds = ", ".join(data["kinds"]) or "none"
    verdict = f"failed at seed {data['failed_seed']}; " if data["failed_seed"] is not None else ""
    schedules = "schedule" if data["schedules"] == 1 else "schedules"
    line = (
        f"{data['nodeid']}: {verdict}{_seeds(seeds)} in {seconds:.2f}s{rate}, "
        f"{data['schedules']} distinct {schedules}, choice points: {kinds}"
    )
    if data.get("stopped"):
        line += (
            f"; stopped after {_seeds(seeds)} of {data.get('planned')}: {data['stopped']} "
            "ran out (every seed that ran passed)"
            if data["failed_seed"] is None
            else f"; stopped early: {data['stopped']}"
        )
    left = data.get("left") or {}
    if left:
        words = {
            "pending": "tasks left pending",
            "open transports": "transports left open",
            "unhandled": "errors the loop caught",
        }
        line += "; " + ", ".join(
            f"{words.get(kind, kind)} in {count}/{seeds}" for kind, count in left.items()
        )
    sometimes = data.get("sometimes") or {}
    if sometimes:
        held = [
            f"{name!r} in {count}/{seeds}" if count else f"{name!r} never"
            for name, count in sometimes.items()
        ]
        line += f"; sometimes: {', '.join(held)}"
    return line
