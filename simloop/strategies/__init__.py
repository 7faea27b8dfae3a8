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
from ._network import HEALTHY_BOUND, NETWORK_KINDS, FaultPlan, NetworkProfile
from ._pct import PCT, PCTSchedule
from ._points import CATEGORIES, POINTS, TRACE_KINDS, ChoicePoint, register_point
from ._random import Profile, Random, RandomSchedule
from ._registry import STRATEGIES, resolve
from ._replay import Replay, ReplaySchedule

__all__ = [
    "CATEGORIES",
    "DELIVERY_KINDS",
    "FIFO_LATENCY",
    "HEALTHY_BOUND",
    "KINDS",
    "NETWORK_KINDS",
    "NO_COST",
    "PCT",
    "POINTS",
    "STRATEGIES",
    "TRACE_KINDS",
    "CancellingSchedule",
    "ChoiceKind",
    "ChoiceLog",
    "ChoicePoint",
    "FaultPlan",
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
    "register_point",
    "resolve",
]
