"""Strategies by name: what ``strategy="random"`` means."""

from __future__ import annotations

from ._base import Strategy
from ._fifo import Fifo
from ._pct import PCT
from ._random import Random

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
