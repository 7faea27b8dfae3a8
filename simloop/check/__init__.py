"""Checking what concurrent clients saw: histories and linearizability.

Record what each client asked for and got back, then ask whether one
sequential order of those operations explains every result::

    from simloop.check import History, Register, assert_linearizable

    history = History()
    op = history.invoke("client-1", "write", 3)
    ...
    op.complete(None)
    assert_linearizable(history, Register(0))

A violation raises `NotLinearizable`, whose message shows a smallest part of
the history that still has no such order, one lane per client, with times
(virtual times on simloop). Models are plain classes; see `Model`.
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
