"""What a stuck or refused run says: every unfinished task, where it waits, and why."""

from __future__ import annotations

import asyncio
import re
from asyncio import format_helpers
from typing import TYPE_CHECKING, Any, cast

from ._errors import Deadlock, SimulationError, StepLimitExceeded, TimeLimitExceeded
from ._tasks import describe_pending, serial_of
from ._trace import Trace


class Reports:
    """The hang and limit reports of a loop (a mixin of `simloop._core.CoreLoop`)."""

    seed: int
    trace: Trace
    time_limit: float
    step_limit: int
    _steps: int
    _thread_pool: Any

    if TYPE_CHECKING:  # provided by the loop

        def virtual_time(self) -> float: ...

        @property
        def strategy_name(self) -> str: ...

    def _violation(self, kind: type[SimulationError], headline: str) -> SimulationError:
        """A monitor's failure, with the report a hang would have."""
        report = self._report(headline)
        events = self.trace.events
        if events:
            report += "\n  last events:\n" + "\n".join(f"    {event}" for event in events[-20:])
        return kind(report, seed=self.seed, virtual_time=self.virtual_time())

    def _report(self, headline: str) -> str:
        lines = [
            f"{headline}",
            f"  at virtual time t={self.virtual_time():.6f}s after {self._steps} callbacks "
            f"(seed {self.seed}, strategy {self.strategy_name})",
        ]
        pending = self.pending_tasks()
        if pending:
            lines.append(f"  {len(pending)} unfinished task(s):")
            lines.extend(f"    {line}" for line in describe_pending(pending))
        if self._thread_pool is not None:
            lines.extend(
                f"    executor job {job.label} blocked in {job.waiting_on}"
                for job in self._thread_pool.parked()
            )
        return "\n".join(lines)

    def pending_tasks(self) -> list[asyncio.Task[Any]]:
        """Unfinished tasks of this loop, in creation order."""
        tasks = [task for task in asyncio.all_tasks(cast(Any, self)) if not task.done()]
        tasks.sort(key=lambda task: serial_of(task, self))
        return tasks

    def _deadlock(self) -> Deadlock:
        return Deadlock(
            self._report(
                "deadlock: nothing can run and no timer is pending, "
                "so no task below can ever make progress"
            ),
            seed=self.seed,
            virtual_time=self.virtual_time(),
            steps=self._steps,
        )

    def _time_limit_exceeded(self) -> TimeLimitExceeded:
        return TimeLimitExceeded(
            self._report(
                f"livelock: virtual time passed the time limit of {self.time_limit:g}s "
                "(raise it with time_limit=...) while tasks were still running"
            ),
            seed=self.seed,
            virtual_time=self.virtual_time(),
            steps=self._steps,
        )

    def _step_limit_exceeded(self) -> StepLimitExceeded:
        return StepLimitExceeded(
            self._report(
                f"livelock: the loop ran more than {self.step_limit} callbacks "
                "(raise it with step_limit=...) without finishing"
            ),
            seed=self.seed,
            virtual_time=self.virtual_time(),
            steps=self._steps,
        )


def preview(value: object, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_DEFINED_AT = re.compile(r" at \S+:\d+$")


def format_handle(handle: Any) -> str:
    callback = handle._callback
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        return f"step of {owner.get_name()}"
    source = format_helpers._format_callback_source(callback, handle._args)
    # "... at /usr/lib/python3.11/asyncio/tasks.py:431": where the callback is
    # defined says little in a timeline and differs between machines.
    return preview(_DEFINED_AT.sub("", source), 100)
