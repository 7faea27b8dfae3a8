"""The one seeded decision point of a run.

Every nondeterministic decision of a simulation (the order of tasks woken in
one iteration, the order of timers due at the same instant, virtual CPU time,
executor job durations, and later network delays and faults) is asked of the
run's `Choices`. It forwards the question to the strategy's `Schedule` and
records the answer in the run's `Trace`, so a run is fully described by its
seed and strategy, and every deviation from plain FIFO can be reported.
Nothing else in the engine draws random numbers.
"""

from __future__ import annotations

import asyncio
import collections
import functools
from collections.abc import Callable, Sequence
from typing import Any

from ._format import format_duration
from ._trace import Trace
from .strategies import FIFO_LATENCY, ChoiceLog, Schedule, Strategy, Streams

_IDENTITIES: list[list[int]] = [list(range(size)) for size in range(64)]
#: an executor job this slow is a fault (healthy ones take milliseconds)
SLOW_JOB = 0.1


def _identity(size: int) -> list[int]:
    """``list(range(size))``, cached for the small sizes met on every iteration."""
    return _IDENTITIES[size] if size < len(_IDENTITIES) else list(range(size))


def keep_chains(order: Sequence[int], keys: Sequence[int]) -> list[int]:
    """`order` (a permutation of FIFO positions) changed so that positions
    with one key keep their FIFO order: each key keeps the turns `order` gave
    it, filled with its positions in order."""
    positions: dict[int, collections.deque[int]] = {}
    for position, key in enumerate(keys):
        positions.setdefault(key, collections.deque()).append(position)
    return [positions[keys[turn]].popleft() for turn in order]


def _describe_task_order(names: list[str], more: bool) -> str:
    return " then ".join(names) + (" ..." if more else "")


def _timer_name(timer: asyncio.TimerHandle) -> str:
    callback = getattr(timer, "_callback", None)
    owner = getattr(callback, "__self__", None)
    name = getattr(callback, "__qualname__", None) or type(callback).__name__
    if isinstance(owner, asyncio.Task):
        return f"{owner.get_name()}.{getattr(callback, '__name__', name)}"
    return str(name)


def _describe_timer_order(names: list[str], more: bool) -> str:
    return "timers due together fire as " + " then ".join(names) + (" ..." if more else "")


def _describe_cancel(name: str, where: str) -> str:
    return f"CancelledError injected into {name} at {where}"


def _describe_buggify(site: str) -> str:
    return f"buggify() at {site} fires"


def _describe_delay(label: str, delay: float) -> str:
    return f"{label} takes {format_duration(delay)}"


class Choices:
    """Asks the run's `Schedule` and records every answer."""

    __slots__ = (
        "injects_cancels",
        "keeps_siblings",
        "log",
        "network_used",
        "position",
        "reorders_tasks",
        "schedule",
        "seed",
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
        *,
        log: ChoiceLog | None = None,
    ) -> None:
        self.seed = seed
        self.strategy = strategy
        self.streams = Streams(seed)
        self.schedule: Schedule = strategy.schedule(seed, self.streams)
        self.trace = trace
        self.reorders_tasks = self.schedule.reorders_tasks
        self.keeps_siblings = self.schedule.keeps_siblings
        self.injects_cancels = self.schedule.injects_cancels
        #: (virtual time, callbacks run) of the loop, for recording decisions
        self.position = position
        #: set by simloop.net when the program first uses the network
        self.network_used = False
        #: every answer, per kind of choice point, when the run is logged
        #: (for replaying and shrinking it: see `simloop.strategies.Replay`)
        self.log = log

    @property
    def injects_faults(self) -> bool:
        """Whether the network must ask the fault questions at all."""
        return self.schedule.injects_faults

    @property
    def splits_segments(self) -> bool:
        """Whether the network must ask how to cut each write."""
        return self.schedule.splits_segments

    def order_tasks(
        self, tasks: Sequence[asyncio.Task[object]], chains: Sequence[Sequence[int]] = ()
    ) -> Sequence[int] | None:
        """The order in which `tasks` take their step, or None for FIFO.

        Each of `chains` gives every task a key; tasks with one key (the
        steps one callback scheduled, a task's own handles) keep their FIFO
        order whatever the strategy answers, and what is recorded is the
        order that runs.
        """
        order = self.schedule.order_tasks(tasks)
        if order is not None:
            for keys in chains:
                order = keep_chains(order, keys)
        if self.log is not None:
            self.log.append("task order", None if order is None else tuple(order))
        if order is None:
            return None
        deviates = list(order) != _identity(len(order))
        if not deviates:
            # Folded into the digest all the same; nothing to describe.
            self.trace.decision("task order", order, deviates=False, virtual_time=0.0, step=0)
            return None
        self._deviating_task_order(order, [tasks[turn] for turn in order[:6]])
        return order

    def swap_pair(self, tasks: list[asyncio.Task[Any]], kept: bool) -> bool:
        """`order_tasks(tasks, chains) is not None` for two tasks, where
        `kept` says whether a chain ties them (they then keep their order)."""
        order = self.schedule.order_tasks(tasks)
        if order is not None and kept:
            order = [0, 1]
        if self.log is not None:
            self.log.append("task order", None if order is None else tuple(order))
        if order is None:
            return False
        if order[0] == 0:
            self.trace.kept_pair("task order")
            return False
        self._deviating_task_order(order, [tasks[1], tasks[0]])
        return True

    def _deviating_task_order(
        self, order: Sequence[int], first: Sequence[asyncio.Task[Any]]
    ) -> None:
        """Record a task order that differs from FIFO; `first` are the tasks
        that run first, in order (at most six, for the description)."""
        now, step = self.position()
        self.trace.decision(
            "task order",
            order,
            deviates=True,
            virtual_time=now,
            step=step,
            # Names, not tasks: a kept deviation must not keep a run's tasks alive.
            describe=functools.partial(
                _describe_task_order, [task.get_name() for task in first], len(order) > 6
            ),
        )

    def order_timers(self, timers: Sequence[asyncio.TimerHandle]) -> Sequence[int] | None:
        order = self.schedule.order_timers(len(timers))
        if self.log is not None:
            self.log.append("timer tie", None if order is None else tuple(order))
        if order is None:
            return None
        deviates = list(order) != _identity(len(order))
        now, step = self.position()
        self.trace.decision(
            "timer tie",
            order,
            deviates=deviates,
            virtual_time=now,
            step=step,
            describe=functools.partial(
                _describe_timer_order,
                [_timer_name(timers[turn]) for turn in order[:6]] if deviates else [],
                len(order) > 6,
            ),
        )
        return order if deviates else None

    def cpu_costs(self) -> list[float]:
        # Costs are not folded into the digest one by one (that would cost
        # more than the callbacks): they are a pure function of the seed, and
        # their effect shows in the virtual time of every iteration.
        costs = self.schedule.cpu_costs()
        if self.log is not None:
            self.log.append("cpu cost", tuple(costs))
        if costs:
            self.trace.note("cpu cost")
        return costs

    def thread_delay(self, label: str) -> float:
        delay = self.schedule.thread_delay(label)
        if self.log is not None:
            self.log.append("thread delay", delay)
        now, step = self.position()
        self.trace.decision(
            "thread delay",
            (int(delay * 1e9),),
            deviates=delay > 0,
            virtual_time=now,
            step=step,
            describe=functools.partial(_describe_delay, label, delay),
            category="fault" if delay >= SLOW_JOB else "executor",
        )
        return delay

    def buggify(self, site: str, probability: float | None) -> bool:
        fire = self.schedule.buggify(site, probability)
        if self.log is not None:
            self.log.append("buggify", fire)
        now, step = self.position()
        self.trace.decision(
            "buggify",
            (int(fire),),
            deviates=fire,
            virtual_time=now,
            step=step,
            describe=functools.partial(_describe_buggify, site),
        )
        return fire

    def inject_cancel(self, task: asyncio.Task[Any], where: str) -> bool:
        cancel = self.schedule.inject_cancel(task)
        if self.log is not None:
            self.log.append("cancel", cancel)
        now, step = self.position()
        self.trace.decision(
            "cancel",
            (int(cancel),),
            deviates=cancel,
            virtual_time=now,
            step=step,
            describe=functools.partial(_describe_cancel, task.get_name(), where),
        )
        return cancel

    # -- the network (simloop.net) -----------------------------------------

    def _keeps_detail(self) -> bool:
        trace = self.trace
        return trace.events is not None or len(trace.deviations) < trace.keep_deviations

    def _network_decision(
        self,
        kind: str,
        values: Sequence[int],
        deviates: bool,
        detail: Callable[[], str],
        category: str = "",
    ) -> None:
        # Details are built at once, and only when kept: a closure over the
        # network's objects would keep a finished run alive.
        now, step = self.position()
        text = detail() if deviates and self._keeps_detail() else ""
        self.trace.decision(
            kind,
            values,
            deviates=deviates,
            virtual_time=now,
            step=step,
            describe=functools.partial(str, text),
            category=category,
        )

    def delivery(
        self, kind: str, what: Callable[[], str], pending: Callable[[], Sequence[float]]
    ) -> float:
        """Seconds until the network delivery `what()` (of `kind`) arrives.

        `what` is called only when the decision is kept in the trace, to
        describe it ("reply from 10.0.0.2:6379 (12 bytes)").
        """
        schedule = self.schedule
        delay = schedule.delivery_delay(kind, pending)
        accept = kind == "accept"
        if self.log is not None:
            self.log.append("accept" if accept else "delivery", delay)
        deviates = delay != (0.0 if accept else FIFO_LATENCY)
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
        # Steered onto a deadline, or a replay of such a delay: it lands
        # exactly on a pending timer's deadline either way.
        steered = deviates and not accept and (schedule.steered or delay in pending())

        def detail() -> str:
            text = f"{what()} delayed {format_duration(delay)}"
            return text + " (onto a pending timer's deadline)" if steered else text

        category = "deadline" if steered else "delay"
        self._network_decision("delivery", (round(delay * 1e9),), deviates, detail, category)
        return delay

    def segment_sizes(self, size: int, what: Callable[[], str]) -> Sequence[int] | None:
        """How a write of `size` bytes is cut into segments (None: one segment)."""
        sizes = self.schedule.segment_sizes(size)
        if self.log is not None:
            self.log.append("segments", None if sizes is None else tuple(sizes))
        if sizes is None:
            return None
        self._network_decision(
            "delivery",
            sizes,
            True,
            lambda: f"{what()} cut into segments of {'+'.join(map(str, sizes))} bytes",
            "segments",
        )
        return sizes

    def _fault(self, log_kind: str, happens: bool, what: Callable[[], str]) -> bool:
        if self.log is not None:
            self.log.append(log_kind, happens)
        self._network_decision("fault", (int(happens),), happens, what)
        return happens

    def fault_episodes(self) -> tuple[tuple[float, float], ...]:
        """When this run's faults may strike: [start, end) spans of virtual
        time (none: a healthy network all along)."""
        episodes = tuple((start, end) for start, end in self.schedule.fault_episodes())
        if self.log is not None:
            self.log.append("fault episodes", episodes)
        if episodes:
            self._network_decision(
                "fault",
                [round(bound * 1e9) for episode in episodes for bound in episode],
                True,
                lambda: (
                    "faults may strike at "
                    + " and ".join(f"t={start:.3f}-{end:.3f} s" for start, end in episodes)
                ),
            )
        return episodes

    def retransmission(self, what: Callable[[], str]) -> float:
        """Extra seconds the segment or connect `what()` takes because it was
        lost and sent again (0.0: it was not lost)."""
        delay = self.schedule.retransmission_delay()
        if self.log is not None:
            self.log.append("retransmit", delay)
        self._network_decision(
            "fault",
            (round(delay * 1e9),),
            delay > 0,
            lambda: f"{what()} lost, and retransmitted {format_duration(delay)} later",
        )
        return delay

    def refuse_connect(self, what: Callable[[], str]) -> bool:
        """Whether the connect `what()` is refused although something listens."""
        return self._fault("refuse", self.schedule.refuse_connect(), what)

    def reset_stream(self, what: Callable[[], str]) -> bool:
        """Whether the connection is reset instead of carrying the segment `what()`."""
        return self._fault("reset", self.schedule.reset_stream(), what)

    def datagram_copies(self, what: Callable[[], str]) -> int:
        """How many copies of the datagram `what()` arrive (0: lost, 2: duplicated)."""
        copies = self.schedule.datagram_copies()
        if self.log is not None:
            self.log.append("datagram copies", copies)
        if copies != 1:
            self._network_decision(
                "fault",
                (copies,),
                True,
                lambda: f"{what()} {'lost' if copies == 0 else f'arrives {copies} times'}",
            )
        else:
            self.trace.note("fault")
        return copies

    def partition_window(self) -> tuple[float, float, int] | None:
        """The partition the strategy injects into this run, if any."""
        window = self.schedule.partition_window()
        if self.log is not None:
            self.log.append("partition", window)
        if window is not None:
            start, duration, victim = window
            self._network_decision(
                "fault",
                (round(start * 1e9), round(duration * 1e9), victim),
                True,
                lambda: (
                    f"a partition at t={start:.6f} s cuts one host off for "
                    f"{format_duration(duration)}"
                ),
            )
        return window

    def describe(self) -> str:
        """What this run's schedule varies, in one line (the network's part
        only if the program used the network)."""
        text = f"{self.strategy.name}: {self.schedule.describe()}"
        if self.network_used:
            text += f"; {self.schedule.describe_network()}"
        return text
