"""simloop: deterministic simulation testing for asyncio.

Run asyncio code on a virtual-time event loop whose clock, threads,
randomness and (with `simloop.net`) network are simulated and driven by one
seed. A seed is a complete, replayable description of a schedule::

    import simloop

    async def main():
        ...

    simloop.run(main(), seed=42)          # like asyncio.run, on seed 42

    with asyncio.Runner(loop_factory=lambda: simloop.SimLoop(seed=42)) as runner:
        runner.run(main())
"""

from __future__ import annotations

from . import check, net, strategies
from ._determinism import in_simulation
from ._errors import (
    Deadlock,
    Leftovers,
    Livelock,
    RealIOError,
    SimulationError,
    StepLimitExceeded,
    TimeLimitExceeded,
    UnhandledError,
)
from ._explain import Explanation, explain
from ._loop import DEFAULT_STEP_LIMIT, DEFAULT_TIME_LIMIT, SimLoop
from ._minimize import Minimized, minimize
from ._monitors import (
    Convergence,
    InvariantViolation,
    LivenessViolation,
    always,
    converge,
    eventually,
    invariant,
)
from ._probes import buggify, sometimes
from ._run import EventLoopPolicy, Findings, run, run_on
from ._shrink import ShrinkResult, failure_signature, shrink
from .net import Network, network
from .strategies import ChoiceLog, Strategy

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_STEP_LIMIT",
    "DEFAULT_TIME_LIMIT",
    "ChoiceLog",
    "Convergence",
    "Deadlock",
    "EventLoopPolicy",
    "Explanation",
    "Findings",
    "InvariantViolation",
    "Leftovers",
    "Livelock",
    "LivenessViolation",
    "Minimized",
    "Network",
    "RealIOError",
    "ShrinkResult",
    "SimLoop",
    "SimulationError",
    "StepLimitExceeded",
    "Strategy",
    "TimeLimitExceeded",
    "UnhandledError",
    "always",
    "buggify",
    "check",
    "converge",
    "eventually",
    "explain",
    "failure_signature",
    "in_simulation",
    "invariant",
    "minimize",
    "net",
    "network",
    "run",
    "run_on",
    "shrink",
    "sometimes",
    "strategies",
]
