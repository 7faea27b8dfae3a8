"""What a failing schedule depends on, in words, and the knob that governs it.

A user judges a failure by what it takes: a failure that needs only the order
of task steps and timers due together can happen on any asyncio loop; one
that needs a loop stall, a long network delay or a delivery landing exactly
on a deadline happens on a healthy but busy system; one that needs an
injected fault happens only when the network misbehaves. `depends_on` reads
the simplest failing schedule (its log, and the deviations a recorded replay
of it kept) and says which of these it uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._format import format_duration
from ._trace import Decision
from .strategies import ChoiceLog
from .strategies._points import CATEGORIES, POINTS
from .strategies._random import STALL_MIN

#: what each kind of deviation is, and the knob that turns it off or pins it
_WORDS = {
    "scheduling": "scheduling alone (the order of task steps and of timers due together, "
    "which asyncio leaves open): any asyncio loop may run it this way",
    "stall": "a loop stall: {example} (a garbage collection or a slow callback does this "
    "on a healthy production loop; Random(stall_rate=0) explores without stalls)",
    "cpu": "virtual CPU time: timers due meanwhile fire late, as on a busy loop "
    "(Random(cpu_max_cost=0) explores without it)",
    "delay": "a network delay within the healthy bound: {example} "
    "(network='loopback' or 'lan' pins a faster network)",
    "deadline": "a delivery landing exactly on a timer's deadline: {example} "
    "(Random(steer_rate=0) stops steering deliveries onto deadlines)",
    "segments": "how a write was cut into segments: {example}",
    "executor": "how long an executor job took: {example}",
    "fault": "an injected fault: {example} (faults are on for this test; a program must "
    "survive faults only if it claims to)",
    "cancellation": "an injected cancellation: {example}",
    "buggify": "a buggify() fault point firing: {example}",
}


def _category(decision: Decision) -> str:
    """The category of a deviation: its own, or its choice point's (the table)."""
    if decision.category in CATEGORIES:
        return decision.category
    point = POINTS.get(decision.kind)
    return point.category if point is not None else "fault"


def depends_on(log: ChoiceLog, deviations: Sequence[Decision]) -> list[str]:
    """What the schedule `log` needs to fail, a line per kind of deviation,
    most benign first. `deviations` are those a recorded replay of `log`
    kept (they carry categories and readable details)."""
    examples: dict[str, str] = {}
    for decision in deviations:
        category = _category(decision)
        if category in _WORDS:
            examples.setdefault(category, decision.detail)
    costs = [cost for block in log.entries.get("cpu cost", ()) for cost in block if cost]
    stalls = [cost for cost in costs if cost >= STALL_MIN]
    if stalls:
        examples["stall"] = f"a callback ran {format_duration(max(stalls))}"
    elif costs:
        examples["cpu"] = ""
    if not examples:
        return ["nothing: the failure needs no deviation from the stock loop's order"]
    return [
        _WORDS[category].format(example=examples[category])
        for category in _WORDS
        if category in examples
    ]


def depends_on_line(log: ChoiceLog, deviations: Sequence[Decision]) -> list[str]:
    """`depends_on` as report lines: one line, or a header and a list."""
    found = depends_on(log, deviations)
    if len(found) == 1:
        return [f"what it depends on: {found[0]}"]
    return ["what it depends on:", *(f"  {line}" for line in found)]
