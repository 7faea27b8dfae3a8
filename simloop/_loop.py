"""SimLoop: the core loop (`simloop._core`) and the simulated network
(`simloop.net`), composed: what a program runs on."""

from __future__ import annotations

from ._core import (
    BUSY_CALLBACK_COST,
    BUSY_ITERATIONS,
    DEFAULT_STEP_LIMIT,
    DEFAULT_TIME_LIMIT,
    GC_EVERY_STEPS,
    VIRTUAL_START,
    CoreLoop,
    check_seed,
)
from .net._loop_api import NetworkLoop


# NetworkLoop overrides the network methods with the stock signatures, which
# typeshed spells as overloads that a plain override cannot restate.
class SimLoop(NetworkLoop, CoreLoop):  # type: ignore[misc]
    """An asyncio event loop on virtual time whose every choice comes from
    `seed`, with a simulated network (``loop.network``).

    Args:
      seed: a non-negative integer; the same seed gives the same run.
      strategy: ``"random"`` (default), ``"fifo"``, or a `simloop.strategies.Strategy`.
      time_limit: virtual seconds after which the run fails as a livelock.
      step_limit: callbacks after which the run fails as a livelock.
      record: keep every event in ``loop.trace.events`` (slower; the digest
        is the same either way).
      log_choices: keep every answer of every choice point in
        ``loop.choice_log``, to replay the run with `strategies.Replay` or
        shrink it (`simloop.shrink`).
    """


__all__ = [
    "BUSY_CALLBACK_COST",
    "BUSY_ITERATIONS",
    "DEFAULT_STEP_LIMIT",
    "DEFAULT_TIME_LIMIT",
    "GC_EVERY_STEPS",
    "VIRTUAL_START",
    "SimLoop",
    "check_seed",
]
