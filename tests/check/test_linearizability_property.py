"""The checker agrees with a brute-force checker on random small histories.

Covers simloop/check/_linearizability.py.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from simloop.check import (
    Counter,
    FifoQueue,
    History,
    KeyValueMap,
    Model,
    NotLinearizable,
    Operation,
    Register,
    assert_linearizable,
    is_linearizable,
)
from simloop.check._patterns import queue_violation

Call = tuple[str, tuple[object, ...]]


@dataclass(frozen=True)
class Workload:
    """A model, its calls numbered from 0, and what each call could plausibly return."""

    model: Callable[[], Model]
    call: Callable[[int], Call]
    results: dict[str, list[object]]
    #: every enqueue a new item, and a wrong dequeue any item enqueued so far
    distinct_items: bool = False


WORKLOADS = {
    "register": Workload(
        model=lambda: Register(0),
        call=lambda n: [("read", ()), ("write", (n // 3 % 3,)), ("cas", (n // 3 % 3, n // 9 % 3))][
            n % 3
        ],
        results={"read": [0, 1, 2], "write": [None], "cas": [False, True]},
    ),
    "key-value map": Workload(
        model=KeyValueMap,
        call=lambda n: [
            ("get", ("xy"[n // 3 % 2],)),
            ("put", ("xy"[n // 3 % 2], n // 6 % 3)),
            ("delete", ("xy"[n // 3 % 2],)),
        ][n % 3],
        results={"get": [None, 0, 1, 2], "put": [None], "delete": [None]},
    ),
    "fifo queue": Workload(
        model=FifoQueue,
        call=lambda n: [("enqueue", (n // 2 % 3,)), ("dequeue", ())][n % 2],
        results={"dequeue": [None, 0, 1, 2], "enqueue": [None]},
    ),
    # Distinct items, as queue tests usually have: the kind of history
    # simloop.check._patterns looks at before any search.
    "fifo queue, distinct items": Workload(
        model=FifoQueue,
        call=lambda n: [("enqueue", (None,)), ("dequeue", ())][n % 2],
        results={"dequeue": [None], "enqueue": [None]},
        distinct_items=True,
    ),
    "counter": Workload(
        model=Counter,
        call=lambda n: [("increment", (1 + n // 2 % 2,)), ("read", ())][n % 2],
        results={"read": [0, 1, 2, 3, 4], "increment": [None]},
    ),
}


@dataclass
class Drawn:
    """A history together with the recording position of every event."""

    workload: str
    history: History
    invoked: dict[int, int] = field(default_factory=dict)  # id(op) -> event index
    completed: dict[int, int] = field(default_factory=dict)


OUTCOMES = [
    "honest",
    "any",
    "any",  # twice: about a third of the histories are then not linearizable
    "failed",
    "pending before effect",
    "pending after effect",
]


@st.composite
def histories(draw: st.DrawFn, workloads: list[str] | None = None) -> Drawn:
    """Up to seven operations by up to three clients; each finished operation
    returns either what a shadow model says at that moment (so many histories
    are linearizable) or any plausible value; some fail, some stay pending."""
    name = draw(st.sampled_from(workloads or sorted(WORKLOADS)))
    workload = WORKLOADS[name]
    clients = draw(st.integers(1, 3))
    limit = draw(st.integers(0, 7))
    # One number per step, read digit by digit below: drawing each part of a
    # step separately made generation, not checking, 90% of this test's time.
    steps = draw(st.lists(st.integers(0, 10**6), min_size=2 * limit, max_size=2 * limit + 4))
    shadow = workload.model()
    drawn = Drawn(name, History())
    now = 0.0
    events = itertools.count()
    in_flight: dict[int, Operation] = {}
    invoked = 0

    def finish(op: Operation, outcome: str, pick: int) -> None:
        if outcome == "failed":
            op.fail(at=now)
            drawn.completed[id(op)] = next(events)
            return
        if outcome == "pending before effect":
            return
        returned = getattr(shadow, op.name)(*op.args)
        if outcome == "pending after effect":
            return
        if outcome == "any":
            choices = workload.results[op.name]
            if workload.distinct_items and op.name == "dequeue":
                items = [other.args[0] for other in drawn.history if other.name == "enqueue"]
                choices = [None, *items]
            returned = choices[pick % len(choices)]
        op.complete(returned, at=now)
        drawn.completed[id(op)] = next(events)

    for step in steps:
        step, client = divmod(step, clients)
        step, elapsed = divmod(step, 2)  # 0: the next event shares the instant
        step, outcome = divmod(step, len(OUTCOMES))
        call, pick = divmod(step, 5)  # pick: which plausible result, for "any"
        now += elapsed
        op = in_flight.pop(client, None)
        if op is not None:
            finish(op, OUTCOMES[outcome], pick)
        elif invoked < limit:
            call_name, args = workload.call(call)
            if workload.distinct_items and call_name == "enqueue":
                args = (invoked,)
            op = drawn.history.invoke(client, call_name, *args, at=now)
            drawn.invoked[id(op)] = next(events)
            in_flight[client] = op
            invoked += 1
    for op in in_flight.values():
        now += 1.0
        finish(op, "honest", 0)
    return drawn


def brute_force(drawn: Drawn, model: Model) -> bool:
    """Try every subset of the pending operations and every order of the chosen
    operations in which an operation completed before another was invoked
    comes first; accept if some order gives every completed result."""
    operations = [op for op in drawn.history if op.status != "failed"]
    completed = [op for op in operations if op.status == "ok"]
    pending = [op for op in operations if op.status == "pending"]

    def precedes(a: Operation, b: Operation) -> bool:
        return id(a) in drawn.completed and drawn.completed[id(a)] < drawn.invoked[id(b)]

    def some_order(remaining: list[Operation], state: Model) -> bool:
        if not remaining:
            return True
        for op in remaining:
            if any(precedes(other, op) for other in remaining if other is not op):
                continue
            after = copy.copy(state)
            returned = getattr(after, op.name)(*op.args)
            if op.status == "pending" or returned == op.result:
                rest = [other for other in remaining if other is not op]
                if some_order(rest, after):
                    return True
        return False

    for included in itertools.product([False, True], repeat=len(pending)):
        chosen = completed + [op for op, keep in zip(pending, included, strict=True) if keep]
        if some_order(chosen, model):
            return True
    return False


@settings(max_examples=1000, deadline=None)
@given(histories())
def test_checker_agrees_with_brute_force_on_small_histories(drawn: Drawn) -> None:
    model = WORKLOADS[drawn.workload].model()
    expected = brute_force(drawn, model)
    event(f"{drawn.workload}: {'linearizable' if expected else 'not linearizable'}")
    assert is_linearizable(drawn.history, model) == expected, str(drawn.history)


def explained(target: Operation, others: list[Operation], model: Model) -> bool:
    """Whether some of `others`, in some order, make `target` return its result."""
    for count in range(len(others) + 1):
        for order in itertools.permutations(others, count):
            state = copy.copy(model)
            for op in order:
                getattr(state, op.name)(*op.args)
            if getattr(state, target.name)(*target.args) == target.result:
                return True
    return False


def without(drawn: Drawn, kept: list[Operation]) -> Drawn:
    """The part of `drawn` holding only `kept` (event positions unchanged)."""
    return Drawn(drawn.workload, History.of(kept), drawn.invoked, drawn.completed)


# Only non-linearizable histories are of use here: most are filtered out.
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(histories())
def test_a_shrunk_violation_cannot_lose_any_operation(drawn: Drawn) -> None:
    model = WORKLOADS[drawn.workload].model()
    assume(not brute_force(drawn, model))

    with pytest.raises(NotLinearizable) as caught:
        assert_linearizable(drawn.history, model)

    minimal = list(caught.value.minimal)
    everything = [op for op in drawn.history if op.status != "failed"]
    assert set(minimal) <= set(everything)
    assert not brute_force(without(drawn, minimal), model)
    # Results that some order of the whole history explains stay explained...
    needs_explaining = [
        op
        for op in minimal
        if op.status == "ok" and explained(op, [o for o in everything if o is not op], model)
    ]
    for op in needs_explaining:
        assert explained(op, [o for o in minimal if o is not op], model), str(op)
    # ...and without any one operation, the rest is linearizable or one of them is not.
    for dropped in minimal:
        rest = [op for op in minimal if op is not dropped]
        assert brute_force(without(drawn, rest), model) or any(
            not explained(op, [o for o in rest if o is not op], model)
            for op in needs_explaining
            if op is not dropped
        ), f"{dropped!r} could go:\n{caught.value}"


@settings(max_examples=1000, deadline=None)
@given(histories(workloads=["fifo queue, distinct items"]))
def test_a_queue_pattern_is_a_violation_on_its_own(drawn: Drawn) -> None:
    """What the queue patterns report (before any search) is never a false alarm:
    the operations they name are not linearizable even alone."""
    operations = [op for op in drawn.history if op.status != "failed"]
    witness = queue_violation(operations, FifoQueue())
    expected = brute_force(drawn, FifoQueue())
    event("pattern found" if witness is not None else "no pattern")
    if witness is None:
        return
    assert not expected, str(drawn.history)
    assert not brute_force(without(drawn, witness), FifoQueue()), str(History.of(witness))
