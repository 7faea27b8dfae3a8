"""Checking what concurrent clients saw: histories and linearizability.

Record what each client asked for and got back, then ask whether one
sequential order of those operations, consistent with real time, explains
every result::

    from simloop.check import History, Register, assert_linearizable

    history = History()

    async def client(name, register):
        op = history.invoke(name, "write", 3)
        await register.write(3)
        op.complete(None)
        with history.record(name, "read") as op:  # left pending if this raises
            op.complete(await register.read())

    ...  # run the clients, on simloop or any loop
    assert_linearizable(history, Register(0))

Times are the running loop's (virtual on simloop). A violation raises
`NotLinearizable`, whose message shows a small part of the history that
already has no such order, one lane per client. A model is a plain class
whose methods are the operations; see `Model` for the contract. A search that
cannot decide within ``max_states`` states raises `Undecided`.
"""

from __future__ import annotations

from ._history import History, Operation, Status
from ._linearizability import (
    DEFAULT_MAX_STATES,
    NotLinearizable,
    Undecided,
    assert_linearizable,
    is_linearizable,
)
from ._models import Counter, FifoQueue, KeyValueMap, Model, Register

__all__ = [
    "DEFAULT_MAX_STATES",
    "Counter",
    "FifoQueue",
    "History",
    "KeyValueMap",
    "Model",
    "NotLinearizable",
    "Operation",
    "Register",
    "Status",
    "Undecided",
    "assert_linearizable",
    "is_linearizable",
]
