"""Strategies: how a run fills its choice points.

`fifo` is the stock loop's order; `random` (the default) seeds every choice.
A strategy is named by a string or given as a `Strategy` instance.
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
from ._fifo import Fifo
from ._network import NETWORK_KINDS, NetworkProfile
from ._random import Profile, Random, RandomSchedule

STRATEGIES: dict[str, type[Strategy]] = {"fifo": Fifo, "random": Random}


def resolve(strategy: str | Strategy) -> Strategy:
    """The `Strategy` for a name or instance; a clear error for anything else."""
    if isinstance(strategy, Strategy):
        return strategy
    if isinstance(strategy, str):
        factory = STRATEGIES.get(strategy)
        if factory is not None:
            return factory()
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
    "NETWORK_KINDS",
    "NO_COST",
    "STRATEGIES",
    "Fifo",
    "NetworkProfile",
    "Profile",
    "Random",
    "RandomSchedule",
    "Schedule",
    "Strategy",
    "Streams",
    "derive_seed",
    "resolve",
]
