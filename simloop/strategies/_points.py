"""Every choice point of a run, in one table.

A *choice point* is a place where a run decides something the stock loop
leaves open or the outside world controls. For each, the table says what it
decides, the answer plain FIFO gives (what shrinking puts back), whether its
answers are numbers (shrunk towards FIFO by halving) or blocks of numbers
(CPU costs: each entry its own deviation), the *trace kind* its decisions are
folded into the digest and listed under, and the *category* a failure that
needs it depends on ("what it depends on" in reports). The run's log
(`ChoiceLog`), its replay, its trace, the shrinker and the reports all read
this table: a new choice point is a new row here, a method on
`simloop.strategies.Schedule` and one on `simloop._choices.Choices`.

The words, from fine to coarse: a choice point's **name** (``refuse``), its
**trace kind** (``fault``), its **category** (``fault``); ARCHITECTURE.md has
the glossary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._base import FIFO_LATENCY

#: The kinds of decision a trace records, in the order of their code in the
#: digest (fixed: a digest reads the same only while these codes do).
TRACE_KINDS: tuple[str, ...] = (
    "task order",
    "timer tie",
    "cpu cost",
    "thread delay",
    "delivery",
    "fault",
    "cancel",
    "buggify",
)

#: What a failing schedule can depend on, from the most benign (any asyncio
#: loop does it) to injected faults; `simloop._depends` words each.
CATEGORIES: tuple[str, ...] = (
    "scheduling",
    "cpu",
    "stall",
    "delay",
    "deadline",
    "segments",
    "executor",
    "fault",
    "cancellation",
    "buggify",
)


@dataclass(frozen=True)
class ChoicePoint:
    """One row of the table."""

    name: str
    #: what it decides, in words
    decides: str
    #: FIFO's answer: the stock loop's order, no delay, no fault
    fifo: Any
    #: the trace kind its decisions are recorded under (one of `TRACE_KINDS`)
    trace_kind: str
    #: what a failure that needs a deviation here depends on (one of `CATEGORIES`)
    category: str
    #: answers are numbers, shrunk towards `fifo` by halving the distance
    numeric: bool = False
    #: each call logs a block of answers, each entry its own deviation
    per_entry: bool = False

    def __post_init__(self) -> None:
        if self.trace_kind not in TRACE_KINDS:
            raise ValueError(f"trace kind {self.trace_kind!r} is not one of {TRACE_KINDS}")
        if self.category not in CATEGORIES:
            raise ValueError(f"category {self.category!r} is not one of {CATEGORIES}")


#: Every choice point, by name (the name a `ChoiceLog` keeps its answers under).
POINTS: dict[str, ChoicePoint] = {}


def register_point(point: ChoicePoint) -> ChoicePoint:
    """Add a choice point to the table (every one of simloop's is below)."""
    POINTS[point.name] = point
    return point


for _point in (
    ChoicePoint(
        "task order", "the order of the tasks woken in one iteration", None, "task order",
        "scheduling",
    ),
    ChoicePoint(
        "timer tie", "the order of timers due at the same instant", None, "timer tie",
        "scheduling",
    ),
    ChoicePoint(
        "cpu cost", "virtual CPU time of each callback (rarely a loop stall)", 0.0, "cpu cost",
        "cpu", numeric=True, per_entry=True,
    ),
    ChoicePoint(
        "thread delay", "how long an executor job takes", 0.0, "thread delay", "executor",
        numeric=True,
    ),
    ChoicePoint(
        "buggify", "whether a simloop.buggify() point fires", False, "buggify", "buggify",
    ),
    ChoicePoint(
        "cancel", "whether a selected task is cancelled at its await", False, "cancel",
        "cancellation",
    ),
    ChoicePoint(
        "delivery", "how long a connect, segment, ACK, datagram or DNS answer takes",
        FIFO_LATENCY, "delivery", "delay", numeric=True,
    ),
    ChoicePoint(
        "accept", "how long a server takes to accept a connection", 0.0, "delivery", "delay",
        numeric=True,
    ),
    ChoicePoint(
        "segments", "how a write is cut into TCP segments", None, "delivery", "segments",
    ),
    ChoicePoint("refuse", "whether a connect is refused (a fault)", False, "fault", "fault"),
    ChoicePoint(
        "reset", "whether a connection is reset mid-stream (a fault)", False, "fault", "fault",
    ),
    ChoicePoint(
        "retransmit", "how late a lost segment is sent again (a fault)", 0.0, "fault", "fault",
        numeric=True,
    ),
    ChoicePoint(
        "datagram copies", "how many copies of a datagram arrive (a fault if not one)", 1,
        "fault", "fault",
    ),
    ChoicePoint(
        "partition", "a partition the strategy injects (a fault)", None, "fault", "fault",
    ),
    ChoicePoint(
        "fault episodes", "when faults may strike", (), "fault", "fault",
    ),
):  # fmt: skip
    register_point(_point)
