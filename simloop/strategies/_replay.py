"""`replay`: answer every choice point from a recorded `ChoiceLog`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from ._base import FIFO_LATENCY, NO_COST, Schedule, Strategy, Streams
from ._log import KINDS, ChoiceLog


class Replay(Strategy):
    """Re-run a recorded schedule exactly, whatever the seed.

    Answers are taken per kind of choice point, in order. If the program
    asks something the recording cannot answer (it took another path: a
    different number of ready tasks, more timers, more jobs), that choice
    point gets its FIFO answer and the mismatch is counted in
    ``schedule.divergences``, so a replay never fails for lack of a script.
    """

    name = "replay"

    def __init__(self, log: ChoiceLog) -> None:
        self.log = log

    def schedule(self, seed: int, streams: Streams) -> Schedule:
        return ReplaySchedule(self.log)


class ReplaySchedule(Schedule):
    def __init__(self, log: ChoiceLog) -> None:
        self._log = log
        self._cursor: dict[str, int] = {}
        #: (kind, call index, why) for every answer the recording could not give
        self.divergences: list[tuple[str, int, str]] = []
        self.reorders_tasks = bool(log.entries.get("task order"))
        self.injects_cancels = bool(log.entries.get("cancel"))
        # The network asks these questions only when the recording's schedule did.
        self.injects_faults = any(
            log.entries.get(kind)
            for kind in ("refuse", "reset", "datagram copies", "retransmit", "fault episodes")
        )
        self.splits_segments = bool(log.entries.get("segments"))

    def next(self, kind: str) -> tuple[bool, Any]:
        """``(True, answer)`` for the next recorded answer of `kind`, or
        ``(False, fifo answer)`` once the recording has none left."""
        index = self._cursor.get(kind, 0)
        self._cursor[kind] = index + 1
        values = self._log.entries.get(kind)
        if values is not None and index < len(values):
            return True, values[index]
        if values is not None:  # a kind the recording never reached is simply FIFO
            self.divergences.append((kind, index, "the recording has no answer this far"))
        spec = KINDS.get(kind)
        return False, spec.fifo if spec is not None else None

    def _order(self, kind: str, count: int) -> Sequence[int] | None:
        found, order = self.next(kind)
        if not found or order is None:
            return None
        if len(order) != count:
            index = self._cursor[kind] - 1
            self.divergences.append(
                (kind, index, f"recorded an order of {len(order)}, now {count} are due")
            )
            return None
        return list(order)

    def order_tasks(self, tasks: Sequence[asyncio.Task[object]]) -> Sequence[int] | None:
        return self._order("task order", len(tasks))

    def order_timers(self, count: int) -> Sequence[int] | None:
        return self._order("timer tie", count)

    def cpu_costs(self) -> list[float]:
        found, block = self.next("cpu cost")
        return list(block) if found else NO_COST

    def thread_delay(self, label: str) -> float:
        found, delay = self.next("thread delay")
        return float(delay) if found else 0.0

    def inject_cancel(self, task: asyncio.Task[Any]) -> bool:
        found, cancel = self.next("cancel")
        return bool(cancel) if found else False

    def buggify(self, site: str, probability: float | None) -> bool:
        found, fire = self.next("buggify")
        return bool(fire) if found else False

    # -- the network ---------------------------------------------------------

    def delivery_delay(self, kind: str, pending: Callable[[], Sequence[float]]) -> float:
        found, delay = self.next("accept" if kind == "accept" else "delivery")
        return float(delay) if found else (0.0 if kind == "accept" else FIFO_LATENCY)

    def segment_sizes(self, size: int) -> Sequence[int] | None:
        found, sizes = self.next("segments")
        if not found or sizes is None:
            return None
        if sum(sizes) != size:
            index = self._cursor["segments"] - 1
            self.divergences.append(
                ("segments", index, f"recorded a write of {sum(sizes)} bytes, now {size}")
            )
            return None
        return list(sizes)

    def refuse_connect(self) -> bool:
        found, refuse = self.next("refuse")
        return bool(refuse) if found else False

    def reset_stream(self) -> bool:
        found, reset = self.next("reset")
        return bool(reset) if found else False

    def retransmission_delay(self) -> float:
        found, delay = self.next("retransmit")
        return float(delay) if found else 0.0

    def fault_episodes(self) -> Sequence[tuple[float, float]]:
        found, episodes = self.next("fault episodes")
        if not found or not episodes:
            return ()
        return tuple((float(start), float(end)) for start, end in episodes)

    def datagram_copies(self) -> int:
        found, copies = self.next("datagram copies")
        return int(copies) if found else 1

    def partition_window(self) -> tuple[float, float, int] | None:
        found, window = self.next("partition")
        if not found or window is None:
            return None
        start, duration, victim = window
        return float(start), float(duration), int(victim)

    def describe(self) -> str:
        return f"replay of a recorded schedule ({len(self._log.deviations())} deviations)"
