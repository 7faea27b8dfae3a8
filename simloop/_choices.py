"""The one seeded decision point of a run.

Every nondeterministic decision of a simulation (the order of tasks woken in
one iteration, the order of timers due at the same instant, virtual CPU time,
executor job durations, network delays, segment cuts and faults) is asked of the
run's `Choices`. It forwards the question to the strategy's `Schedule` and
records the answer in the run's `Trace`, so a run is fully described by its
seed and strategy, and every deviation from plain FIFO can be reported.
Nothing else in the engine draws random numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from ._trace import Trace
from .strategies import FIFO_LATENCY, Schedule, Strategy, Streams


class Choices:
    """Asks the run's `Schedule` and records every answer."""

    __slots__ = (
        "injects_faults",
        "position",
        "reorders_tasks",
        "schedule",
        "seed",
        "splits_segments",
        "strategy",
        "streams",
        "trace",
    )

    def __init__(
        self,
        seed: int,
        strategy: Strategy,
        trace: Trace,
        position: Callable[[], tuple[float, int]],
    ) -> None:
        self.seed = seed
        self.strategy = strategy
        self.streams = Streams(seed)
        self.schedule: Schedule = strategy.schedule(seed, self.streams)
        self.trace = trace
        self.reorders_tasks = self.schedule.reorders_tasks
        #: whether the network must ask the fault questions at all
        self.injects_faults = self.schedule.injects_faults
        #: whether the network must ask how to cut each write
        self.splits_segments = self.schedule.splits_segments
        #: (virtual time, callbacks run) of the loop, for recording decisions
        self.position = position

    def order_tasks(self, tasks: Sequence[asyncio.Task[object]]) -> Sequence[int] | None:
        order = self.schedule.order_tasks(tasks)
        if order is None:
            return None
        count = len(tasks)
        deviates = list(order) != list(range(count))
        now, step = self.position()
        self.trace.decision(
            "task order",
            order,
            deviates=deviates,
            virtual_time=now,
            step=step,
            detail=(
                " then ".join(tasks[i].get_name() for i in order[: min(count, 6)])
                + (" ..." if count > 6 else "")
                if deviates
                else ""
            ),
        )
        return order if deviates else None

    def order_timers(self, count: int) -> Sequence[int] | None:
        order = self.schedule.order_timers(count)
        if order is None:
            return None
        deviates = list(order) != list(range(count))
        now, step = self.position()
        self.trace.decision(
            "timer tie", order, deviates=deviates, virtual_time=now, step=step, detail=None
        )
        return order if deviates else None

    def cpu_costs(self) -> list[float]:
        # Costs are not folded into the digest one by one (that would cost
        # more than the callbacks): they are a pure function of the seed, and
        # their effect shows in the virtual time of every iteration.
        costs = self.schedule.cpu_costs()
        if costs:
            self.trace.note("cpu cost")
        return costs

    def thread_delay(self, label: str) -> float:
        delay = self.schedule.thread_delay(label)
        now, step = self.position()
        self.trace.decision(
            "thread delay",
            (int(delay * 1e9),),
            deviates=delay > 0,
            virtual_time=now,
            step=step,
            detail=f"{label} takes {delay * 1e3:.3f} ms",
        )
        return delay

    # -- the network -------------------------------------------------------

    def _keeps_detail(self) -> bool:
        trace = self.trace
        return trace.events is not None or len(trace.deviations) < trace.keep_deviations

    def delivery(
        self, kind: str, what: Callable[[], str], pending: Callable[[], Sequence[float]]
    ) -> float:
        """Seconds until the network delivery `what()` (of `kind`) arrives.

        `what` is called only when the decision is kept in the trace, to
        describe it ("reply from 10.0.0.2:6379 (12 bytes)").
        """
        schedule = self.schedule
        delay = schedule.delivery_delay(kind, pending)
        deviates = delay != (0.0 if kind == "accept" else FIFO_LATENCY)
        trace = self.trace
        if trace.events is None and (
            not deviates or len(trace.deviations) >= trace.keep_deviations
        ):
            # The common case, on every segment: fold it in (and count it if it
            # deviates), with no position or detail that nothing would keep.
            trace.decision(
                "delivery", (round(delay * 1e9),), deviates=deviates, virtual_time=0.0, step=0
            )
            return delay
        now, step = self.position()
        detail = None
        if deviates:
            detail = f"{what()} delayed {delay * 1e3:.3g} ms"
            if schedule.steered:
                detail += " (onto a pending timer's deadline)"
        trace.decision(
            "delivery",
            (round(delay * 1e9),),
            deviates=deviates,
            virtual_time=now,
            step=step,
            detail=detail,
        )
        return delay

    def segment_sizes(self, size: int, what: Callable[[], str]) -> Sequence[int] | None:
        """How a write of `size` bytes is cut into segments (None: one segment)."""
        sizes = self.schedule.segment_sizes(size)
        if sizes is None:
            return None
        now, step = self.position()
        self.trace.decision(
            "delivery",
            sizes,
            deviates=True,
            virtual_time=now,
            step=step,
            detail=(
                f"{what()} cut into segments of {'+'.join(map(str, sizes))} bytes"
                if self._keeps_detail()
                else None
            ),
        )
        return sizes

    def _fault(self, happens: bool, what: Callable[[], str]) -> bool:
        now, step = self.position()
        self.trace.decision(
            "fault",
            (int(happens),),
            deviates=happens,
            virtual_time=now,
            step=step,
            detail=what() if happens and self._keeps_detail() else None,
        )
        return happens

    def refuse_connect(self, what: Callable[[], str]) -> bool:
        """Whether the connect `what()` is refused although something listens."""
        return self._fault(self.schedule.refuse_connect(), what)

    def reset_stream(self, what: Callable[[], str]) -> bool:
        """Whether the connection is reset instead of carrying the segment `what()`."""
        return self._fault(self.schedule.reset_stream(), what)

    def datagram_copies(self, what: Callable[[], str]) -> int:
        """How many copies of the datagram `what()` arrive (0: lost, 2: duplicated)."""
        copies = self.schedule.datagram_copies()
        if copies != 1:
            now, step = self.position()
            self.trace.decision(
                "fault",
                (copies,),
                deviates=True,
                virtual_time=now,
                step=step,
                detail=(
                    f"{what()} {'lost' if copies == 0 else f'arrives {copies} times'}"
                    if self._keeps_detail()
                    else None
                ),
            )
        else:
            self.trace.note("fault")
        return copies

    def partition_window(self) -> tuple[float, float, int] | None:
        """The partition the strategy injects into this run, if any."""
        window = self.schedule.partition_window()
        if window is not None:
            start, duration, victim = window
            now, step = self.position()
            self.trace.decision(
                "fault",
                (round(start * 1e9), round(duration * 1e9), victim),
                deviates=True,
                virtual_time=now,
                step=step,
                detail=(
                    f"partition at t={start:.6f} s for {duration * 1e3:.3g} ms "
                    f"(host #{victim} cut off)"
                ),
            )
        return window

    def describe(self) -> str:
        return f"{self.strategy.name}: {self.schedule.describe()}"


def _no_deadlines(horizon: float) -> Sequence[float]:
    return ()
