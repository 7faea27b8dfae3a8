"""What a user reads: the header, a failure's simloop section, progress, the summary.

Everything that crosses from an xdist worker to the controller is plain,
JSON-serializable data kept on the test report (as Hypothesis does), so the
summary reads the same with and without xdist.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest

from ._options import STRATEGY_OPTION, RunOptions

if TYPE_CHECKING:
    from ._sweep import SweepResult

#: the key of a test report's simloop data (a dict of plain values)
REPORT_KEY = "simloop"
#: deviations from FIFO listed in a failure report
SHOWN_DEVIATIONS = 10
#: progress: first shown after this many seconds of one sweep, then refreshed
PROGRESS_AFTER = 2.0
PROGRESS_EVERY = 0.25
#: without a terminal (CI logs), a progress line this often
PROGRESS_LOG_EVERY = 30.0

_real_clock = time.perf_counter


def header(options: RunOptions) -> str:
    """The header line: which seeds and strategy, and the flags that select them again."""
    plan, strategy = options.plan, options.strategy
    flags = [plan.flag(), f"{STRATEGY_OPTION}={strategy}"]
    line = f"simloop: {plan.describe()}, strategy {strategy} ({' '.join(flags)})"
    if options.check_determinism:
        line += ", each seed run twice to check determinism"
    if options.cli_plan is None or options.cli_strategy is None:
        line += "; markers may choose otherwise"
    return line


def replay_command(item: pytest.Item, nodeid: str, seed: int, strategy: str | None) -> str:
    """The command that replays `seed` of the test, from where pytest was started."""
    path, _, rest = nodeid.partition("::")
    invocation = item.config.invocation_params.dir
    full = item.config.rootpath / path
    try:
        relative = os.path.relpath(full, invocation)
    except ValueError:  # another drive
        relative = str(full)
    target = f"{relative.replace(os.sep, '/')}::{rest}" if rest else relative
    quoted = "'" + target.replace("'", "'\"'\"'") + "'"
    command = f"pytest {quoted} --simloop-seed={seed}"
    if strategy is not None:
        command += f" {STRATEGY_OPTION}={strategy}"
    return command


def failure_section(item: pytest.Item, result: SweepResult) -> str:
    failure = result.failure
    assert failure is not None
    settings, run = result.settings, failure.run
    lines = []
    if failure.remembered:
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
    if run.schedule:
        lines.append(f"schedule: {run.schedule}")
    if run.deviation_count:
        shown = run.deviations[:SHOWN_DEVIATIONS]
        more = f", the first {len(shown)} shown" if run.deviation_count > len(shown) else ""
        lines.append(f"choices that differed from FIFO: {run.deviation_count}{more}")
        lines.extend(
            f"  t={decision.virtual_time:.6f}s after {decision.step} callbacks: "
            f"{decision.kind}: {decision.detail}"
            for decision in shown
        )
    else:
        lines.append("choices that differed from FIFO: none (the stock loop's order)")
    strategy = settings.strategy_name if settings.strategy_from_cli else None
    lines.append(f"replay it (SimLoop seed {run.loop_seed}):")
    lines.append(f"  {replay_command(item, result.test_id, failure.seed, strategy)}")
    return "\n".join(lines)


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
    }


def _seeds(count: int) -> str:
    return f"{count} seed" if count == 1 else f"{count} seeds"


def summary_line(data: dict[str, Any]) -> str:
    seeds, seconds = data["seeds"], data["seconds"]
    rate = f", {seeds / seconds:.0f} seeds/s" if seconds > 0 else ""
    kinds = ", ".join(data["kinds"]) or "none"
    verdict = f"failed at seed {data['failed_seed']}; " if data["failed_seed"] is not None else ""
    schedules = "schedule" if data["schedules"] == 1 else "schedules"
    return (
        f"{data['nodeid']}: {verdict}{_seeds(seeds)} in {seconds:.2f}s{rate}, "
        f"{data['schedules']} distinct {schedules}, choice points: {kinds}"
    )


class Progress:
    """Seeds done and seeds per second of a long sweep, written past pytest's capture.

    On a terminal the status is drawn after the cursor and erased when the
    sweep ends, so pytest's own line is left as it was; in a log, a line
    every `PROGRESS_LOG_EVERY` seconds.
    """

    def __init__(self, config: pytest.Config, label: str) -> None:
        self._reporter: Any = config.pluginmanager.get_plugin("terminalreporter")
        self._capture: Any = config.pluginmanager.get_plugin("capturemanager")
        self._label = label
        self._started = _real_clock()
        self._next = self._started + PROGRESS_AFTER
        self._drawn = False
        self._tty = bool(getattr(self._reporter, "isatty", False)) and bool(
            getattr(self._reporter, "hasmarkup", False)
        )

    def update(self, done: int, total: int) -> None:
        now = _real_clock()
        if now < self._next or self._reporter is None:
            return
        self._next = now + (PROGRESS_EVERY if self._tty else PROGRESS_LOG_EVERY)
        elapsed = now - self._started
        status = f"simloop: {self._label}: {done}/{total} seeds, {done / elapsed:.0f} seeds/s"
        with self._uncaptured():
            if self._tty:
                sys.stdout.write(f"\x1b7 [{status}]\x1b[K\x1b8")
                sys.stdout.flush()
                self._drawn = True
            else:
                self._reporter.write_line(status)

    def finish(self) -> None:
        if self._drawn:
            with self._uncaptured():
                sys.stdout.write("\x1b[K")
                sys.stdout.flush()

    def _uncaptured(self) -> Any:
        if self._capture is None:
            return contextlib.nullcontext()
        return self._capture.global_and_fixture_disabled()
