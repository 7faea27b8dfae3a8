"""Hand-written histories for the checker's tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from simloop.check import History, Operation

#: (client, "name(args)" as operation name and args, result, invoked at, completed at);
#: a completion of None leaves the operation pending, "failed" marks it failed.
Call = tuple[str, str, tuple[object, ...], object, float, "float | str | None"]
HistoryOf = Callable[..., History]


def history_of(*calls: Call) -> History:
    """Record `calls` as a history, each event at its time (events at one
    instant in the order the calls list them, invocations before completions)."""
    history = History()
    events: list[tuple[float, int, int, int]] = []
    for index, (_, _, _, _, invoked_at, completed_at) in enumerate(calls):
        events.append((invoked_at, 0, index, index))
        if isinstance(completed_at, float | int):
            events.append((float(completed_at), 1, index, index))
        elif completed_at == "failed":
            events.append((invoked_at, 1, index, index))
    recorded: dict[int, Operation] = {}
    for moment, kind, _, index in sorted(events):
        client, name, args, result, _, completed_at = calls[index]
        if kind == 0:
            recorded[index] = history.invoke(client, name, *args, at=moment)
        elif completed_at == "failed":
            recorded[index].fail(at=moment)
        else:
            recorded[index].complete(result, at=moment)
    return history


@pytest.fixture(name="history_of")
def history_of_fixture() -> HistoryOf:
    return history_of
