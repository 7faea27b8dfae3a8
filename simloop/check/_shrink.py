"""Shrinking a non-linearizable history to a part a reader can follow.

Removing operations while the rest stays non-linearizable is not enough on
its own: drop the ``write(3)`` that a ``read() -> 3`` saw and that read alone
is non-linearizable, so every stale read would shrink to a single read that
no longer shows why it was wrong. So a removal is kept only if every result
in the rest could still be returned by some order of the remaining
operations (ignoring real time): the violation that is left is about the
order in which things happened, and the operations that produced the values
stay. Results that no order of the whole history explains (a value nobody
wrote, an item dequeued twice from one enqueue) are exempt, and such a
result alone is then what is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from ._history import Operation
from ._search import Budget, copier, search

#: States the searches for one result's explanation may explore before giving up.
EXPLANATION_STATES = 2_000
QUICK_EXPLANATION_STATES = 100
#: Longest explanation from which operations are removed one at a time.
NEEDED_REPLAYS = 32
#: Model calls all the searches of one shrinking may make; then it stops where it is.
SHRINK_CALLS = 500_000

NO_EXPLANATION: Literal["none"] = "none"
UNKNOWN: Literal["unknown"] = "unknown"


def explanation(
    target: Operation, operations: Sequence[Operation], initial: object
) -> frozenset[Operation] | Literal["none", "unknown"]:
    """A few of `operations` which, applied in some order from `initial` and
    followed by `target`, make it return its result (their own results and
    real time do not matter); "none" if there are none, "unknown" if none
    was found within `EXPLANATION_STATES`."""
    others = [op for op in operations if op is not target]
    duplicate = copier(initial)
    method = getattr(type(initial), target.name)
    # Most results need one operation (the write of the value read, the
    # enqueue of the item dequeued): try each call alone first.
    if method(duplicate(initial), *target.args) == target.result:
        return frozenset()
    tried: set[object] = set()
    for op in others:
        try:
            if (op.name, op.args) in tried:
                continue
            tried.add((op.name, op.args))
        except TypeError:  # unhashable arguments: try it
            pass
        state = duplicate(initial)
        getattr(state, op.name)(*op.args)
        if method(state, *target.args) == target.result:
            return frozenset({op})
    # Others need many (a counter's increments): a search finds those in a
    # few states; proving there is none can take every state, so try the
    # cheap over-approximation before the long search.
    found = _explaining_order(target, others, initial, QUICK_EXPLANATION_STATES)
    if found is True:
        if _reachable(target, others, initial) is False:
            return NO_EXPLANATION
        found = _explaining_order(target, others, initial, EXPLANATION_STATES)
    if found is True:
        return UNKNOWN
    if found is False:
        return NO_EXPLANATION
    return frozenset(_needed(target, found, initial))


def _needed(target: Operation, order: list[Operation], initial: object) -> list[Operation]:
    """The operations of `order` that its explanation of `target` needs (a
    read's value needs the write of that value, not the reads and writes the
    search happened to apply before it)."""
    duplicate = copier(initial)
    # Operations that left the state as it was can go at once...
    effective = []
    state = initial
    for op in order:
        after = duplicate(state)
        getattr(after, op.name)(*op.args)
        if after != state:
            effective.append(op)
        state = after
    # ...the others one at a time, if the rest still explains the result
    # (which costs a replay each: skipped for long explanations, such as a
    # counter's increments, where every operation is needed anyway).
    if len(effective) > NEEDED_REPLAYS:
        return effective
    for op in list(effective):
        without = [other for other in effective if other is not op]
        state = duplicate(initial)
        for other in without:
            getattr(state, other.name)(*other.args)
        if getattr(state, target.name)(*target.args) == target.result:
            effective = without
    return effective


def _reachable(target: Operation, others: Sequence[Operation], initial: object) -> bool | None:
    """Whether `target` returns its result in some state reachable from
    `initial` when each of `others` may be applied any number of times; None if
    there are more than `EXPLANATION_STATES` such states.

    Allowing repeats makes this a cheap over-approximation: if it says no (a
    register never holds a value nobody wrote), no order of `others` explains
    the result, and the exact search, which would try every subset, is spared.
    """
    duplicate = copier(initial)
    calls: dict[object, tuple[str, tuple[object, ...]]] = {}
    for op in others:
        try:
            calls.setdefault((op.name, op.args), (op.name, op.args))
        except TypeError:  # unhashable arguments: keep each call
            calls[id(op)] = (op.name, op.args)
    method = getattr(type(initial), target.name)
    seen = {initial}
    frontier = [initial]
    while frontier:
        state = frontier.pop()
        if method(duplicate(state), *target.args) == target.result:
            return True
        for name, args in calls.values():
            after = duplicate(state)
            getattr(after, name)(*args)
            if after not in seen:
                if len(seen) == EXPLANATION_STATES:
                    return None
                seen.add(after)
                frontier.append(after)
    return False


def _explaining_order(
    target: Operation, others: Sequence[Operation], initial: object, max_states: int
) -> list[Operation] | bool:
    """Some of `others`, each used at most once, in an order after which
    `target` returns its result; False if there is none, True if none was
    found within `max_states` (so there may be one)."""
    # Equal calls are interchangeable, so the search picks calls, not
    # operations, and counts how many of each it used: a counter's n equal
    # increments make n states to explore, not 2**n. Calls made close to the
    # target are tried first: a read's value was usually written just before it.
    nearest = sorted(others, key=lambda op: abs(op.invoked_order - target.invoked_order))
    calls: dict[object, list[Operation]] = {}
    for op in nearest:
        try:
            calls.setdefault((op.name, op.args), []).append(op)
        except TypeError:  # unhashable arguments: a call of its own
            calls[id(op)] = [op]
    groups = list(calls.values())
    methods = [getattr(type(initial), group[0].name) for group in groups]
    duplicate = copier(initial)
    method = getattr(type(initial), target.name)
    if method(duplicate(initial), *target.args) == target.result:
        return []
    seen: set[tuple[tuple[int, ...], object]] = set()
    # The path of calls made: (state, how many of each call were used, next
    # call to try, call made to get here).
    path: list[tuple[object, tuple[int, ...], int, int]] = [(initial, (0,) * len(groups), 0, -1)]
    while path:
        state, used, index, made = path[-1]
        while index < len(groups) and used[index] == len(groups[index]):
            index += 1
        if index == len(groups):
            path.pop()
            continue
        path[-1] = (state, used, index + 1, made)
        after = duplicate(state)
        methods[index](after, *groups[index][0].args)
        if after == state:  # changed nothing: never needed to explain anything
            continue
        now_used = (*used[:index], used[index] + 1, *used[index + 1 :])
        known = len(seen)
        seen.add((now_used, after))
        if len(seen) == known:
            continue
        if known == max_states:
            return True
        if method(duplicate(after), *target.args) == target.result:
            order = [step[3] for step in path[1:]] + [index]
            taken = [0] * len(groups)
            found = []
            for group in order:
                found.append(groups[group][taken[group]])
                taken[group] += 1
            return found
        path.append((after, now_used, 0, index))
    return False


@dataclass(frozen=True)
class Shrunk:
    """What shrinking kept, and which of its results have no explanation."""

    operations: list[Operation]
    #: Results that no order of the whole history's operations gives.
    unexplained: list[Operation]
    #: Results for which no explanation was found within `EXPLANATION_STATES`.
    unsure: list[Operation]
    #: False if shrinking stopped after `SHRINK_CALLS`: a smaller part may exist.
    finished: bool


def shrink(operations: list[Operation], initial: object, max_states: int) -> Shrunk:
    """A small non-linearizable part of the non-linearizable `operations`.

    First a core: the operation where the search got stuck, with ever more
    of the operations invoked around it, until the core alone is not
    linearizable (searches on small parts are cheap; on the whole history
    of a queue or a counter they can take seconds each). Then drops whole
    clients, then ever smaller runs of operations, until no single
    operation can go: without any one of them, the rest is linearizable or
    has a result that none of its orders gives.

    Until that last pass, a result counts as explained only by the
    operations that explained it in the whole history (a subset test, where
    searching for another explanation each time took seconds); the last
    pass, on the small part, searches. All searches together make at most
    `SHRINK_CALLS` model calls (and each explores at most `max_states`
    states): then shrinking stops where it is.
    """
    budget = Budget(SHRINK_CALLS)
    explained: dict[Operation, frozenset[Operation]] = {}
    unexplained: list[Operation] = []
    unsure: list[Operation] = []

    def explain(op: Operation) -> frozenset[Operation]:
        """What explains `op`'s result in the whole history (nothing if nothing does)."""
        if op.status == "ok" and op not in explained and op not in unexplained + unsure:
            found = explanation(op, operations, initial)
            if found == NO_EXPLANATION:
                unexplained.append(op)
            elif found == UNKNOWN:
                unsure.append(op)
            else:
                explained[op] = found
        return explained.get(op, frozenset())

    def with_explanations(part: list[Operation]) -> list[Operation]:
        """`part` and what explains its results, and what explains theirs..."""
        closed = set(part)
        waiting = list(part)
        while waiting:
            for needed in explain(waiting.pop()) - closed:
                closed.add(needed)
                waiting.append(needed)
        return [op for op in operations if op in closed]

    def still_fails_as_explained(part: list[Operation]) -> bool:
        if budget.calls <= 0:
            return False
        present = set(part)
        if any(not explain(op) <= present for op in part):
            return False
        return search(part, initial, max_states, budget) is False

    def still_fails(part: list[Operation]) -> bool:
        if budget.calls <= 0:
            return False
        present = set(part)
        for op in part:
            if not explain(op) <= present:
                found = explanation(op, part, initial)
                if isinstance(found, str):  # none, or none found: keep the operation
                    return False
                explained[op] = found
        # An undecided search (None) keeps the operation.
        return search(part, initial, max_states, budget) is False

    kept = _core(operations, initial, max_states, with_explanations, still_fails_as_explained)
    for client in dict.fromkeys(op.client for op in kept):
        part = [op for op in kept if op.client != client]
        if part and len(part) < len(kept) and still_fails_as_explained(part):
            kept = part
    kept = _drop_runs(kept, still_fails_as_explained, len(kept) // 2)
    kept = _drop_runs(kept, still_fails, 1)
    return Shrunk(
        kept,
        [op for op in unexplained if op in kept],
        [op for op in unsure if op in kept],
        finished=budget.calls > 0,
    )


def _core(
    operations: list[Operation],
    initial: object,
    max_states: int,
    with_explanations: Callable[[list[Operation]], list[Operation]],
    still_fails: Callable[[list[Operation]], bool],
) -> list[Operation]:
    """The operations invoked closest to where the search got stuck, with
    what explains their results: 2, 4, 8... of them, until they alone fail."""
    stuck: list[Operation] = []
    search(operations, initial, max_states, stuck=stuck)
    if not stuck:
        return operations
    (anchor,) = stuck
    # Operations invoked after the furthest completion the search reached
    # never took part in any attempt: the violation is before.
    if anchor.completed_at is None or anchor.completed_order is None:
        earlier = operations
    else:
        horizon = (anchor.completed_at, anchor.completed_order)
        earlier = [op for op in operations if (op.invoked_at, op.invoked_order) < horizon]
    nearest = sorted(earlier, key=lambda op: abs(op.invoked_order - anchor.invoked_order))
    size = 2
    while size < len(nearest):
        core = with_explanations(nearest[:size])
        if still_fails(core):
            return core
        size *= 2
    return with_explanations(earlier)


def _drop_runs(
    operations: list[Operation], still_fails: Callable[[list[Operation]], bool], chunk: int
) -> list[Operation]:
    """Remove runs of `chunk` operations, then of half as many and so on,
    while `still_fails`; stop when no single operation can be removed."""
    kept = operations
    chunk = max(chunk, 1)
    while True:
        removed_any = False
        start = 0
        while start < len(kept):
            part = kept[:start] + kept[start + chunk :]
            if part and still_fails(part):
                kept = part
                removed_any = True
            else:
                start += chunk
        if chunk == 1 and not removed_any:
            return kept
        if not removed_any:
            chunk = max(chunk // 2, 1)
