"""The search for a linearization: Wing and Gong's, with Lowe's memoization.

Walk the events in order and try to linearize each operation whose call has
been seen; when the walk reaches the completion of an operation that could
not be placed before it, undo the last choice and try the next. A (set of
linearized operations, model state) pair explored once is never explored
again, which is what keeps the search to milliseconds on histories of a few
hundred operations. Knossos and Porcupine work the same way.

The problem is NP-complete, so a search can still blow up, typically on a
queue whose items wait long while many clients enqueue concurrently: the
order of concurrent enqueues is only revealed when the items come out, and
every order in between is a different state. A search stops after
`max_states` states and says it could not decide.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from ._history import Operation


def copier(model: object) -> Callable[[Any], Any]:
    """The model's ``__copy__`` when it has one (skipping `copy.copy`'s
    dispatch, which costs as much as copying a small model), else `copy.copy`."""
    own = getattr(type(model), "__copy__", None)
    return own if callable(own) else copy.copy


class Budget:
    """Model calls left for a series of searches (shrinking runs many).

    Calls, not states: a state costs from one call to dozens (each candidate
    tried), and calls are what take the time.
    """

    def __init__(self, calls: int) -> None:
        self.calls = calls


def search(
    operations: Sequence[Operation],
    initial: object,
    max_states: int,
    budget: Budget | None = None,
    stuck: list[Operation] | None = None,
) -> bool | None:
    """Whether `operations` (none failed) can be linearized starting from the
    model `initial`; None if that is still unknown after `max_states` states
    (or once the model calls left in `budget`, which the search spends, run out).

    When the answer is no and `stuck` is a list, the operation whose
    completion was the furthest any attempt reached is appended to it: the
    violation is there, and no operation invoked later takes part in it.

    The events live in a doubly linked list: nodes 0..n-1 are calls, n..2n-1
    the matching returns (a pending operation returns after everything else),
    2n the head and 2n+1 the tail. The calls before the first return in the
    list are the operations that may be linearized next, tried in invocation
    order. Linearizing one unlinks its call and its return; backtracking
    links them back.
    """
    # Invocation order is a choice: on the register and counter histories of
    # bench/linearizability.py, trying candidates in return order (Lowe's
    # just-in-time linearization) or pending operations last explored up to
    # ten times more states; on queues it was sometimes better, sometimes worse.
    n = len(operations)
    if n == 0:
        return True
    infinity = float("inf")
    events: list[tuple[float, float, int]] = []
    for i, op in enumerate(operations):
        events.append((op.invoked_at, op.invoked_order, i))
        if op.completed_at is None or op.completed_order is None:
            events.append((infinity, infinity, n + i))
        else:
            events.append((op.completed_at, op.completed_order, n + i))
    # Times order events; ties (one virtual instant) keep the recording order.
    events.sort()
    completion_rank = [0] * n
    for rank, (_, _, node) in enumerate(events):
        if node >= n:
            completion_rank[node - n] = rank
    furthest, furthest_rank = 0, -1
    head, tail = 2 * n, 2 * n + 1
    following = [0] * (2 * n + 2)
    preceding = [0] * (2 * n + 2)
    for earlier, later in itertools.pairwise([head, *(node for _, _, node in events), tail]):
        following[earlier] = later
        preceding[later] = earlier

    duplicate = copier(initial)
    methods = [getattr(type(initial), op.name) for op in operations]
    arguments = [op.args for op in operations]
    results = [op.result for op in operations]
    pending = [op.status == "pending" for op in operations]

    explored: set[tuple[int, object]] = set()
    # For each linearized operation: its call node and the state before it.
    stack: list[tuple[int, object]] = []
    linearized = 0
    state = initial
    node = following[head]
    calls_allowed = None if budget is None else budget.calls
    calls = 0
    try:
        while following[head] != tail:
            if node < n:  # a call: try to linearize its operation here
                if calls == calls_allowed:
                    return None
                calls += 1
                after = duplicate(state)
                returned = methods[node](after, *arguments[node])
                if pending[node] or returned == results[node]:
                    candidate = linearized | (1 << node)
                    known = len(explored)
                    explored.add((candidate, after))
                    if len(explored) > known:  # a new (linearized, state) pair
                        if known == max_states:
                            return None
                        stack.append((node, state))
                        state, linearized = after, candidate
                        for unlinked in (node, node + n):
                            following[preceding[unlinked]] = following[unlinked]
                            preceding[following[unlinked]] = preceding[unlinked]
                        node = following[head]
                        continue
                node = following[node]
            else:  # a return whose operation is not linearized yet: undo the last choice
                if completion_rank[node - n] > furthest_rank:
                    furthest, furthest_rank = node - n, completion_rank[node - n]
                if not stack:
                    if stuck is not None:
                        stuck.append(operations[furthest])
                    return False
                node, state = stack.pop()
                linearized &= ~(1 << node)
                for relinked in (node + n, node):
                    following[preceding[relinked]] = relinked
                    preceding[following[relinked]] = relinked
                node = following[node]
        return True
    finally:
        if budget is not None:
            budget.calls -= calls
