"""Strategies: how a run fills its choice points.

`fifo` is the stock loop's order; `random` (the default) seeds every choice;
`pct` is probabilistic concurrency testing; `Replay(log)` re-runs a recorded
schedule. A strategy is named by a string or given as a `Strategy` instance.
"""

from __future__ import annotations

from ._base import (
    DELIVERY_KINDS,
    FIFO_LATENCY,
    NO_COST,
    Schedule,
    Strategy,
    Streams,
    derive_seed,
)
from ._cancel import CancellingSchedule, InjectCancellation
from ._fifo import Fifo
from ._log import KINDS, ChoiceKind, ChoiceLog, Position, fifo_value, register_kind
from ._network import NETWORK_KINDS, NetworkProfile
from ._pct import PCT, PCTSchedule
from ._random import Profile, Random, RandomSchedule
from ._replay import Replay, ReplaySchedule

#: Strategies that can be named by a string (replay needs a recorded log).
STRATEGIES: dict[str, type[Strategy]] = {"fifo": Fifo, "random": Random, "pct": PCT}


def resolve(strategy: str | Strategy) -> Strategy:
    """The `Strategy` for a name or instance; a clear error for anything else."""
    if isinstance(strategy, Strategy):
        return strategy
    if isinstance(strategy, str):
        factory = STRATEGIES.get(strategy)
        if factory is not None:
            return factory()
        if strategy == "replay":
            raise ValueError(
                "strategy 'replay' needs a recorded schedule: pass "
                "simloop.strategies.Replay(log) with a ChoiceLog"
            )
        raise ValueError(
            f"unknown strategy {strategy!r}; expected one of: {', '.join(sorted(STRATEGIES))}"
        )
    raise TypeError(
        f"strategy must be a name ({', '.join(sorted(STRATEGIES))}) or a "
        f"simloop.strategies.Strategy instance, not {type(strategy).__name__} {strategy!r}"
    )


__all__ = [
    "DELIVERY_KINDS",
    "FIFO_LATENCY",
    "KINDS",
    "NETWORK_KINDS",
    "NO_COST",
    "PCT",
    "STRATEGIES",
    "CancellingSchedule",
    "ChoiceKind",
    "ChoiceLog",
    "Fifo",
    "InjectCancellation",
    "NetworkProfile",
    "PCTSchedule",
    "Position",
    "Profile",
    "Random",
    "RandomSchedule",
    "Replay",
    "ReplaySchedule",
    "Schedule",
    "Strategy",
    "Streams",
    "derive_seed",
    "fifo_value",
    "register_kind",
    "resolve",
]
