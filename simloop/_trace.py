"""What a run did, folded into a digest.

Every decision the run's `Choices` makes and every loop iteration (its virtual
time and how many callbacks it ran) is fed into one BLAKE2b hash, so two runs
with the same digest took the same schedule. The encoding is fixed-width and
little-endian: the digest is the same on any machine, in any process, under
any ``PYTHONHASHSEED``.
"""

from __future__ import annotations

import functools
import hashlib
import re
import struct
import sys
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .strategies._points import TRACE_KINDS

_ITERATION = struct.Struct("<BdI")
_TASK = struct.Struct("<BQ")
_DECISION = struct.Struct("<BBI")
_TAG_ITERATION = 1
_TAG_TASK = 2
_TAG_DECISION = 3
_FLUSH_AT = 1 << 16

# Decision kinds, one byte each in the digest (the table of choice points
# says which kind each choice point's decisions are).
DECISION_KINDS = TRACE_KINDS
_KIND_CODE = {kind: code for code, kind in enumerate(DECISION_KINDS)}


def _pack_ints(values: Iterable[int]) -> bytes:
    if isinstance(values, list) and len(values) < 256:
        # A small permutation: one byte per entry (a marker byte keeps the
        # two encodings apart).
        try:
            return b"\x01" + bytes(values)
        except ValueError:  # an entry >= 256
            pass
    packed = array("Q", values)
    if sys.byteorder != "little":  # pragma: no cover - no big-endian CI
        packed.byteswap()
    return packed.tobytes()


#: The record `decision(kind, [0, 1], ...)` adds, per kind.
_KEPT_PAIR = {
    kind: _DECISION.pack(_TAG_DECISION, code, 3) + _pack_ints([0, 1])
    for kind, code in _KIND_CODE.items()
}


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def without_addresses(text: str) -> str:
    """`text` without memory addresses, which differ from one process to another."""
    return _ADDRESS.sub("", text)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened in a recorded run, for timelines and for
    comparing two runs of the same seed."""

    step: int
    virtual_time: float
    kind: str  # create, step, done, call, timer, choice, and kinds added by simloop.net
    actor: str  # a task's name, "loop", or a network endpoint
    detail: str
    deviates: bool = False

    def __str__(self) -> str:
        mark = "*" if self.deviates else " "
        return (
            f"{mark} t={self.virtual_time:.6f} #{self.step:<6} "
            f"{self.actor:<16} {self.kind:<7} {self.detail}"
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """One choice a run made where plain FIFO would have chosen otherwise.

    `describe` builds the human-readable detail only when a report asks for
    it: most runs pass and never read their deviations.
    """

    kind: str
    virtual_time: float
    step: int
    describe: Callable[[], str]
    #: what the deviation is, for saying what a failure depends on: the kind,
    #: or a finer word (a delivery "delay", a "deadline" hit, "segments")
    category: str = ""

    @property
    def detail(self) -> str:
        return self.describe()


def _describe_values(packed: bytes) -> str:
    values = array("Q")
    values.frombytes(packed)
    if sys.byteorder != "little":  # pragma: no cover - no big-endian CI
        values.byteswap()
    return " ".join(map(str, values))


def _no_position() -> tuple[float, int]:
    return 0.0, 0


class Trace:
    """A running digest of a run, the decisions that deviated from FIFO, and,
    when `record` is set, every event (slower: for replays and reports)."""

    __slots__ = (
        "_buffer",
        "_hash",
        "deviation_count",
        "deviations",
        "events",
        "keep_deviations",
        "kinds_seen",
        "position",
    )

    def __init__(self, *, keep_deviations: int = 64, record: bool = False) -> None:
        self._hash = hashlib.blake2b(digest_size=16)
        # Records wait here and are hashed in bulk: one hash update per loop
        # iteration would cost more than a small iteration itself.
        self._buffer = bytearray()
        #: every event of the run, or None when not recording
        self.events: list[Event] | None = [] if record else None
        #: (virtual time, step) of the loop, set by the loop that owns the trace
        self.position: Callable[[], tuple[float, int]] = _no_position
        #: the first `keep_deviations` deviations, for failure reports
        self.deviations: list[Decision] = []
        self.keep_deviations = keep_deviations
        self.deviation_count = 0
        #: every kind of choice point this run reached, deviating or not
        self.kinds_seen: set[str] = set()

    def iteration(self, virtual_time: float, callbacks: int) -> None:
        """One pass of the loop ran `callbacks` handles at `virtual_time`."""
        buffer = self._buffer
        buffer += _ITERATION.pack(_TAG_ITERATION, virtual_time, callbacks)
        if len(buffer) > _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        self._hash.update(self._buffer)
        self._buffer.clear()

    def task_created(self, serial: int) -> None:
        self._buffer += _TASK.pack(_TAG_TASK, serial)

    def decision(
        self,
        kind: str,
        values: Iterable[int],
        *,
        deviates: bool,
        virtual_time: float,
        step: int,
        describe: Callable[[], str] | None = None,
        category: str = "",
    ) -> None:
        """Fold one decision into the digest; keep it if it deviates from FIFO.

        `describe` returns the readable detail of a deviation (by default the
        decision's values), called only when someone reads it; `category`
        refines `kind` for reports (see `Decision.category`).
        """
        packed = _pack_ints(values)
        buffer = self._buffer
        buffer += _DECISION.pack(_TAG_DECISION, _KIND_CODE[kind], len(packed))
        buffer += packed
        if len(buffer) > _FLUSH_AT:
            self._flush()
        self.kinds_seen.add(kind)
        if deviates:
            self.deviation_count += 1
            if describe is None:
                describe = functools.partial(_describe_values, packed)
            if len(self.deviations) < self.keep_deviations:
                self.deviations.append(
                    Decision(kind, virtual_time, step, describe, category or kind)
                )
            if self.events is not None:
                self.events.append(
                    Event(step, virtual_time, "choice", kind, describe(), deviates=True)
                )

    def kept_pair(self, kind: str) -> None:
        """`decision(kind, [0, 1], deviates=False, ...)`, for the hottest choice:
        two task steps that keep their order."""
        self._buffer += _KEPT_PAIR[kind]
        self.kinds_seen.add(kind)

    def record(self, kind: str, actor: str, detail: str, *, deviates: bool = False) -> None:
        """Append an event, if this trace records events (callers check
        ``trace.events is not None`` first when building `detail` costs)."""
        if self.events is not None:
            now, step = self.position()
            self.events.append(
                Event(step, now, kind, actor, without_addresses(detail), deviates=deviates)
            )

    def note(self, kind: str) -> None:
        """Record that a choice point of `kind` was reached (no decision taken)."""
        self.kinds_seen.add(kind)

    def digest(self) -> str:
        """Hex digest of everything so far."""
        self._flush()
        return self._hash.hexdigest()


def first_divergence(first: Trace, second: Trace) -> tuple[int, Event | None, Event | None] | None:
    """Where two recorded runs part: ``(index, first's event, second's event)``,
    an event being None where one run ended earlier; None when the runs are the
    same (same digest and, if both recorded events, the same events)."""
    events_a, events_b = first.events or [], second.events or []
    for index, (event_a, event_b) in enumerate(zip(events_a, events_b, strict=False)):
        if event_a != event_b:
            return index, event_a, event_b
    if len(events_a) != len(events_b):
        index = min(len(events_a), len(events_b))
        return (
            index,
            events_a[index] if index < len(events_a) else None,
            events_b[index] if index < len(events_b) else None,
        )
    if first.digest() != second.digest():
        # Same events, different decisions or iterations: the digest sees
        # what events do not (for instance a CPU cost drawn differently).
        return len(events_a), None, None
    return None
