"""The errors a simulation raises when the program under test, not asyncio, is stuck."""

from __future__ import annotations


class SimulationError(Exception):
    """A simulation could not finish: a hang, a limit, or something escaping it.

    ``seed``, ``virtual_time`` and ``steps`` (callbacks run, when known) say
    where; ``report`` is the human-readable explanation (also the exception's
    message).
    """

    def __init__(
        self,
        report: str,
        *,
        seed: int | None = None,
        virtual_time: float = 0.0,
        steps: int | None = None,
    ) -> None:
        super().__init__(report)
        self.report = report
        self.seed = seed
        self.virtual_time = virtual_time
        self.steps = steps


class Deadlock(SimulationError):
    """Nothing can run, no timer is pending, and the main coroutine is unfinished."""


class Livelock(SimulationError):
    """The simulation kept running past a limit without finishing."""


class TimeLimitExceeded(Livelock):
    """Virtual time passed the run's ``time_limit``."""


class StepLimitExceeded(Livelock):
    """The loop ran more callbacks than the run's ``step_limit``."""


class RealIOError(SimulationError):
    """The program tried to reach the real world (a socket, a file descriptor, a
    subprocess, a thread simloop does not control) from inside a simulation."""


class UnhandledError(SimulationError):
    """An error reached the loop's exception handler without an exception object
    (for instance "Task was destroyed but it is pending!")."""


class Leftovers(SimulationError):
    """The main coroutine returned with tasks still pending or transports still
    open, in a run that asked to fail on them (``run_on(fail_on_pending=True)``)."""
