"""Histories: what concurrent clients asked for, what they got back, and when.

An operation is invoked by a client and then either completes with a result,
fails (it certainly had no effect), or stays pending: the client was cancelled
or timed out, so it may or may not have taken effect, at any time after it was
invoked. That is all a linearizability checker needs, and all a reader needs
to see what happened.

Which operation came first is decided by the order in which the events were
recorded, not by their times alone: on simloop the virtual clock stands still
while callbacks run, so a reply and the next request often share one instant,
yet one was recorded before the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Literal

Status = Literal["ok", "failed", "pending"]

#: Longest rendering of one argument list or result in a lane.
_LABEL_WIDTH = 40


def loop_time() -> float:
    """The running loop's `time()` (virtual on simloop), else `time.monotonic()`."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


class Operation:
    """One call by one client: its arguments, its outcome and its times.

    ``invoked_at`` and ``completed_at`` are clock readings (virtual time on
    simloop); ``completed_at`` is None while the operation is pending.
    """

    __slots__ = (
        "_clock",
        "_sequence",
        "args",
        "client",
        "completed_at",
        "completed_order",
        "invoked_at",
        "invoked_order",
        "name",
        "result",
        "status",
    )

    def __init__(
        self,
        client: Hashable,
        name: str,
        args: tuple[object, ...],
        invoked_at: float,
        invoked_order: int,
        clock: Callable[[], float],
        sequence: Iterator[int],
    ) -> None:
        self.client = client
        self.name = name
        self.args = args
        self.invoked_at = invoked_at
        #: Position of the invocation among all events of the history.
        self.invoked_order = invoked_order
        self.result: object = None
        self.status: Status = "pending"
        self.completed_at: float | None = None
        #: Position of the completion (or failure) among all events; None while pending.
        self.completed_order: int | None = None
        self._clock = clock
        self._sequence = sequence

    def complete(self, result: object = None, *, at: float | None = None) -> None:
        """Record that the operation returned `result` (at `at`, default now)."""
        self._finish("ok", at)
        self.result = result

    def fail(self, *, at: float | None = None) -> None:
        """Record that the operation certainly had no effect (the checker drops it).

        Leave an operation pending instead when it may have taken effect, as
        after a timeout or a cancellation.
        """
        self._finish("failed", at)

    def _finish(self, status: Status, at: float | None) -> None:
        if self.status != "pending":
            raise RuntimeError(f"{self!r} already finished ({self.status}); it can finish once")
        now = self._clock() if at is None else at
        if now < self.invoked_at:
            raise ValueError(
                f"{self!r} cannot finish at {now!r}, before it was invoked at {self.invoked_at!r}"
            )
        self.status = status
        self.completed_at = now
        self.completed_order = next(self._sequence)

    def call_text(self) -> str:
        """``write(3)``: the operation as a reader would write the call."""
        return f"{self.name}({_shorten(', '.join(map(repr, self.args)))})"

    def outcome_text(self) -> str:
        """``-> 3``, ``failed`` or ``pending``."""
        if self.status == "ok":
            return f"-> {_shorten(repr(self.result))}"
        return self.status

    def __repr__(self) -> str:
        return f"<Operation {self.client!r} {self.call_text()} {self.outcome_text()}>"


def _shorten(text: str) -> str:
    return text if len(text) <= _LABEL_WIDTH else text[: _LABEL_WIDTH - 1] + "…"


class History:
    """The operations of concurrent clients, in the order they were recorded.

    Record with `invoke` and `Operation.complete`::

        history = History()
        op = history.invoke("client-1", "write", 3)
        ...
        op.complete(None)

    or with `record`, which leaves the operation pending if its block raises
    (a cancellation or timeout may or may not have taken effect)::

        with history.record("client-2", "read") as op:
            op.complete(await register.read())

    Times come from `clock`: by default the running loop's `time()`, so
    virtual time on simloop, and `time.monotonic()` when no loop runs.
    """

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = loop_time if clock is None else clock
        self._sequence = itertools.count()
        self._operations: list[Operation] = []

    @classmethod
    def of(cls, operations: Iterable[Operation]) -> History:
        """A history holding `operations` (for instance a part of another history)."""
        history = cls()
        history._operations = sorted(operations, key=lambda op: op.invoked_order)
        return history

    def invoke(
        self, client: Hashable, name: str, *args: object, at: float | None = None
    ) -> Operation:
        """Record that `client` called operation `name` with `args` (at `at`, default now).

        `name` is the name of the model's method that the checker will call
        with `args`; the returned `Operation` is pending until completed.
        """
        now = self._clock() if at is None else at
        operation = Operation(
            client, name, args, now, next(self._sequence), self._clock, self._sequence
        )
        self._operations.append(operation)
        return operation

    @contextlib.contextmanager
    def record(self, client: Hashable, name: str, *args: object) -> Iterator[Operation]:
        """Invoke on entry; on a normal exit complete with None unless the block
        already finished the operation; if the block raises, leave it pending.

        A plain ``with``: recording awaits nothing, so it works in coroutines too.
        """
        operation = self.invoke(client, name, *args)
        yield operation
        if operation.status == "pending":
            operation.complete(None)

    @property
    def operations(self) -> tuple[Operation, ...]:
        """Every operation, in invocation order."""
        return tuple(self._operations)

    @property
    def clients(self) -> tuple[Hashable, ...]:
        """Every client, in the order of their first invocation."""
        return tuple(dict.fromkeys(op.client for op in self._operations))

    def __len__(self) -> int:
        return len(self._operations)

    def __iter__(self) -> Iterator[Operation]:
        return iter(self._operations)

    def __repr__(self) -> str:
        return f"<History of {len(self)} operations by {len(self.clients)} clients>"

    def __str__(self) -> str:
        return lanes(self)


def lanes(history: History) -> str:
    """One column per client, one row per event, in recorded order.

    An operation is shown at its invocation as its call, then ``|`` in its
    client's lane while it is in flight, then its outcome where it finished.
    Pending operations stay in flight to the last row.
    """
    clients = history.clients
    column = {client: index for index, client in enumerate(clients)}
    events: list[tuple[int, float, Operation, bool]] = []
    for op in history:
        events.append((op.invoked_order, op.invoked_at, op, True))
        if op.completed_order is not None and op.completed_at is not None:
            events.append((op.completed_order, op.completed_at, op, False))
    events.sort(key=lambda event: event[0])
    decimals = _decimals([moment for _, moment, _, _ in events])
    times = [f"{moment:.{decimals}f}" for _, moment, _, _ in events]

    rows: list[list[str]] = []
    in_flight: list[Operation | None] = [None] * len(clients)
    for (_, _, op, is_invocation), moment in zip(events, times, strict=True):
        lane = column[op.client]
        cells = ["|" if flying is not None else "" for flying in in_flight]
        if is_invocation:
            cells[lane] = op.call_text()
            # A client whose earlier operation is still pending starts another:
            # the new one takes the lane, the old one is listed as pending below.
            in_flight[lane] = op
        else:
            cells[lane] = op.outcome_text()
            if in_flight[lane] is op:
                in_flight[lane] = None
        rows.append([moment, *cells])
    pending = [op for op in history if op.status == "pending"]
    if pending:
        cells = ["" for _ in clients]
        for op in pending:
            lane = column[op.client]
            cells[lane] = (cells[lane] + "; " if cells[lane] else "") + f"{op.call_text()} pending"
        rows.append(["", *cells])

    header = ["time", *map(str, clients)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def _decimals(moments: list[float]) -> int:
    """The fewest decimals (at least 1, at most 6) that show every time exactly."""
    finite = [moment for moment in moments if math.isfinite(moment)]
    for decimals in range(1, 6):
        if all(abs(round(moment, decimals) - moment) < 1e-9 for moment in finite):
            return decimals
    return 6
