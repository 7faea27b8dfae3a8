"""Violations of a FIFO queue that show without a search.

The search for a linearization can blow up on a busy queue (see `_search`),
and a broken history is its worst case, since every order must be ruled out.
But when every enqueued item is distinct, most broken queue histories hold
one of a few small patterns (Henzinger, Sezgin and Vafeiadis, "Aspect-oriented
linearizability proofs", CONCUR 2013), each found in near-linear time and
each a proof on its own that no order exists:

- an item dequeued that was never enqueued, or only enqueued after the
  dequeue had returned;
- an item dequeued twice;
- an item still in the queue, ahead of the one a dequeue returned: its
  enqueue finished before the other item's began, and it was dequeued only
  after that dequeue returned (or never);
- an item surely in the queue during the whole of a dequeue that found the
  queue empty.

Finding none proves nothing: the search then decides. So this only ever
shortens the way to a "not linearizable" that the search would also reach.
(Complete polynomial checks for queues with distinct items exist, e.g. Lee
and Mathur's decrease-and-conquer monitor, 2024, and Abdulla et al., 2025,
who also found errors in earlier ones: a verdict on correct histories
without a search would start there.)
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Sequence

from ._history import Operation
from ._models import FifoQueue

_NEVER = (float("inf"), float("inf"))

Key = tuple[float, float]


def _invoked(op: Operation) -> Key:
    return (op.invoked_at, op.invoked_order)


def _completed(op: Operation) -> Key:
    if op.completed_at is None or op.completed_order is None:
        return _NEVER
    return (op.completed_at, op.completed_order)


def _precedes(first: Operation, second: Operation) -> bool:
    """`first` returned before `second` was called (the search's real-time order)."""
    return _completed(first) < _invoked(second)


def queue_violation(operations: Sequence[Operation], initial: object) -> list[Operation] | None:
    """A few of `operations` that no order can explain, for a FIFO queue that
    starts empty and whose enqueued items are distinct; None if none of the
    patterns above is there, or the history is not of that kind."""
    if type(initial) is not FifoQueue or initial.items:
        return None
    enqueues: dict[Hashable, Operation] = {}
    dequeues: dict[Hashable, Operation] = {}  # item -> the dequeue that returned it
    empties: list[Operation] = []
    twice: list[Operation] = []  # two dequeues of one item, if any
    pending_dequeue = False
    try:
        for op in operations:
            if op.name == "enqueue" and len(op.args) == 1:
                item = op.args[0]
                if item is None or item in enqueues:
                    return None  # None means "empty"; equal items make orders ambiguous
                enqueues[item] = op
            elif op.name == "dequeue" and not op.args:
                if op.status == "pending":
                    # It may have taken the head, whatever that was: an item
                    # nobody is seen dequeuing may be gone.
                    pending_dequeue = True
                elif op.result is None:
                    empties.append(op)
                elif op.result in dequeues:
                    twice = twice or [dequeues[op.result], op]
                else:
                    dequeues[op.result] = op
            else:
                return None
    except TypeError:  # an unhashable item: leave it to the search
        return None
    # (Only now: an equal item enqueued later would have made this no proof.)
    if twice:
        item = twice[0].result
        return _in_order([*twice, enqueues[item]] if item in enqueues else twice)

    for item, dequeue in dequeues.items():
        enqueue = enqueues.get(item)
        if enqueue is None:
            return [dequeue]
        if _precedes(dequeue, enqueue):
            return _in_order([dequeue, enqueue])

    # Completed enqueues by completion, and for each prefix of them the one
    # whose item is surely in the queue the longest: dequeued by the call
    # invoked last, or never (which is sure only with no dequeue pending).
    done = sorted((op for op in enqueues.values() if op.status == "ok"), key=_completed)
    finished = [_completed(op) for op in done]
    longest: list[tuple[Key, Operation]] = []
    for enqueue in done:
        taken = dequeues.get(enqueue.args[0])
        if taken is not None:
            leaves = _invoked(taken)
        else:
            leaves = (float("-inf"), float("-inf")) if pending_dequeue else _NEVER
        if not longest or leaves > longest[-1][0]:
            longest.append((leaves, enqueue))
        else:
            longest.append(longest[-1])

    def still_queued(since: Key, until: Key) -> Operation | None:
        """An enqueue that returned before `since` whose item is surely still
        queued at `until`."""
        count = bisect.bisect_left(finished, since)
        if count and longest[count - 1][0] > until:
            return longest[count - 1][1]
        return None

    for item, dequeue in dequeues.items():
        enqueue = enqueues[item]
        ahead = still_queued(_invoked(enqueue), _completed(dequeue))
        if ahead is not None:
            witness = [ahead, enqueue, dequeue]
            if ahead.args[0] in dequeues:
                witness.append(dequeues[ahead.args[0]])
            return _in_order(witness)
    for empty in empties:
        queued = still_queued(_invoked(empty), _completed(empty))
        if queued is not None:
            witness = [queued, empty]
            if queued.args[0] in dequeues:
                witness.append(dequeues[queued.args[0]])
            return _in_order(witness)
    return None


def _in_order(operations: list[Operation]) -> list[Operation]:
    return sorted(operations, key=_invoked)
