"""Is there one sequential order of the operations that explains every result?

A history is linearizable against a model when each operation can be given a
point between its invocation and its completion such that calling the
model's methods in the order of those points returns the results the clients
saw. Operations that failed had no effect and are left out; pending ones may
take effect at any point after their invocation, or not at all, and whatever
they returned is unknown.

Models with a ``partition_key`` are checked one key at a time; each part is
searched as `simloop.check._search` explains (a FIFO queue's part is first
scanned for the violations `simloop.check._patterns` finds without a
search), and a failing part is shrunk as `simloop.check._shrink` explains.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from ._history import History, Operation
from ._models import operations_of
from ._patterns import queue_violation
from ._search import search
from ._shrink import Shrunk, shrink

#: States a search explores before it gives up (a few seconds of work).
DEFAULT_MAX_STATES = 1_000_000


class NotLinearizable(AssertionError):
    """No sequential order of the history's operations explains their results.

    ``history`` is the history checked, ``minimal`` a small part of it that
    is still not linearizable (see `assert_linearizable`); the message shows
    ``minimal`` in lanes.
    """

    def __init__(self, message: str, history: History, minimal: History) -> None:
        super().__init__(message)
        self.history = history
        self.minimal = minimal


class Undecided(Exception):
    """The search gave up after its `max_states` states without a verdict."""


def is_linearizable(
    history: History | Iterable[Operation],
    model: object,
    *,
    max_states: int = DEFAULT_MAX_STATES,
) -> bool:
    """Whether `history` is linearizable against `model` (an instance, or a
    class to call with no arguments for the initial state).

    Raises `Undecided` if a search explores `max_states` states without a verdict.
    """
    initial = _initial(model)
    return _failing_part(_checked(history, initial), initial, max_states) is None


def assert_linearizable(
    history: History | Iterable[Operation],
    model: object,
    *,
    max_states: int = DEFAULT_MAX_STATES,
) -> None:
    """Raise `NotLinearizable` unless `history` is linearizable against `model`
    (an instance, or a class to call with no arguments).

    The error shows a small part of the history that is already not
    linearizable: each result in it could come from some order of its
    operations, but no order that respects real time gives them all, and
    without any one of its operations that is no longer so. Raises
    `Undecided` if a search explores `max_states` states without a verdict.
    """
    initial = _initial(model)
    operations = _checked(history, initial)
    part = _failing_part(operations, initial, max_states)
    if part is not None:
        shrunk = shrink(part, initial, max_states)
        minimal = History.of(shrunk.operations)
        raise NotLinearizable(
            _explain(len(operations), initial, minimal, shrunk),
            history if isinstance(history, History) else History.of(operations),
            minimal,
        )


def _failing_part(
    operations: list[Operation], initial: object, max_states: int
) -> list[Operation] | None:
    """The first part (see `_partitions`) that is not linearizable, or None if
    every part is; raises `Undecided` if no part fails but some are undecided."""
    undecided = []
    for part in _partitions(operations, initial):
        witness = queue_violation(part, initial)
        if witness is not None:
            return witness
        verdict = search(part, initial, max_states)
        if verdict is False:
            return part
        if verdict is None:
            undecided.append(part)
    if undecided:
        raise _undecided(undecided[0], initial, max_states)
    return None


def _initial(model: object) -> object:
    initial = model() if isinstance(model, type) else model
    if type(initial).__hash__ is None or type(initial).__eq__ is object.__eq__:
        raise TypeError(
            f"model {initial!r} must compare states with __eq__ and __hash__ "
            "(subclass simloop.check.Model, or define both)"
        )
    return initial


def _checked(history: History | Iterable[Operation], model: object) -> list[Operation]:
    """The operations to check (failed ones had no effect), after making sure
    the model has every operation the history names."""
    accepted = operations_of(model)
    operations = [op for op in history if op.status != "failed"]
    for op in operations:
        if op.name not in accepted:
            raise ValueError(
                f"{op!r} names operation {op.name!r}, which {type(model).__name__} does not "
                f"have; its operations are: {', '.join(accepted)}"
            )
    return operations


def _partitions(operations: list[Operation], model: object) -> list[list[Operation]]:
    """The operations split by the model's ``partition_key``, in order of first
    appearance; all in one part if the model has none or an operation has none."""
    partition_key = getattr(model, "partition_key", None)
    if partition_key is None:
        return [operations]
    parts: dict[Hashable, list[Operation]] = {}
    for op in operations:
        key = partition_key(op.name, op.args)
        if key is None:
            return [operations]
        parts.setdefault(key, []).append(op)
    return list(parts.values())


def _undecided(part: list[Operation], model: object, max_states: int) -> Undecided:
    clients = len({op.client for op in part})
    return Undecided(
        f"no verdict on {len(part)} operations by {clients} clients against {model!r} "
        f"after {max_states:,} states (max_states={max_states}); raise max_states, or "
        "check shorter histories or fewer concurrent clients"
    )


def _explain(total: int, model: object, minimal: History, shrunk: Shrunk) -> str:
    lines = [f"history of {total} operations is not linearizable against {model!r}."]
    if shrunk.unexplained or shrunk.unsure:
        lines += [
            f"{op.client!r} got {op.call_text()} {op.outcome_text()}, which no order of the "
            "history's operations returns."
            for op in shrunk.unexplained
        ]
        lines += [
            f"{op.client!r} got {op.call_text()} {op.outcome_text()}, and the checker found no "
            "order of the history's operations that returns it (within its limits)."
            for op in shrunk.unsure
        ]
    else:
        lines += [
            f"These {len(minimal)} of its operations already are not: each result could come "
            "from some order of them,",
            "but no order that respects real time (an operation that completed before another "
            "was invoked",
            "comes first) gives them all, and without any one of them that is no longer so."
            if shrunk.finished
            else "comes first) gives them all. (Shrinking stopped at its limit: fewer may do.)",
        ]
    return "\n".join([*lines, "", str(minimal)])
