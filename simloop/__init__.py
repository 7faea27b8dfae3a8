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

from . import strategies
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
from ._loop import DEFAULT_STEP_LIMIT, DEFAULT_TIME_LIMIT, SimLoop
from .run import EventLoopPolicy, run
from .strategies import Strategy

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_STEP_LIMIT",
    "DEFAULT_TIME_LIMIT",
    "Deadlock",
    "EventLoopPolicy",
    "Leftovers",
    "Livelock",
    "RealIOError",
    "SimLoop",
    "SimulationError",
    "StepLimitExceeded",
    "Strategy",
    "TimeLimitExceeded",
    "UnhandledError",
    "in_simulation",
    "run",
    "strategies",
]
