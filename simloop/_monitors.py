"""Properties checked while a simulation runs, not only at its end.

An invariant broken for one step, then repaired, passes every final
`assert`; a request that never completes after a fault heals passes any test
that stops waiting. Monitors watch the run step by step (after each callback
the loop runs, or every N callbacks), in virtual time:

* `invariant(check)` / `always(check)`: must hold after every step; the run
  fails at the first step where it does not.
* `eventually(check, within=...)`: must hold at some step before `within`
  virtual seconds have passed; the run fails at the deadline otherwise,
  reporting what was still pending.

Monitors are observers: they see the state between steps and change nothing,
so a run with monitors takes the same schedule as one without.
"""

from __future__ import annotations

from collections.abc import Callable

from ._core import CoreLoop, active_loop
from ._determinism import in_simulation
from ._errors import SimulationError
from ._validate import integer_at_least, positive_number

Check = Callable[[], object]


class InvariantViolation(SimulationError):
    """An invariant did not hold after some step of the run."""


class LivenessViolation(SimulationError):
    """Something that had to happen within a virtual deadline did not."""


def _name_of(check: Check, name: str | None) -> str:
    return name or getattr(check, "__qualname__", None) or repr(check)


class Monitor:
    """Base of the monitors a loop runs after its steps."""

    name: str
    #: False once the monitor has nothing left to check
    active: bool = True

    def after_step(self, loop: CoreLoop) -> None:
        raise NotImplementedError


class Invariant(Monitor):
    def __init__(self, check: Check, name: str, every: int) -> None:
        self.check = check
        self.name = name
        self.every = every
        self._countdown = every

    def after_step(self, loop: CoreLoop) -> None:
        self._countdown -= 1
        if self._countdown:
            return
        self._countdown = self.every
        try:
            held = self.check()
        except AssertionError as error:
            raise loop._violation(InvariantViolation, f"invariant {self.name!r}: {error}") from None
        if not held:
            raise loop._violation(
                InvariantViolation, f"invariant {self.name!r} does not hold (it returned {held!r})"
            )


class Eventually(Monitor):
    def __init__(self, loop: CoreLoop, check: Check, name: str, within: float) -> None:
        self.check = check
        self.name = name
        self.within = within
        #: True once the check held
        self.held = False
        self._deadline = loop.call_at(loop.time() + within, self._expired, loop)

    def after_step(self, loop: CoreLoop) -> None:
        if self.check():
            self.held = True
            self.active = False
            self._deadline.cancel()

    def _expired(self, loop: CoreLoop) -> None:
        if self.held or self.check():
            self.held = True
            self.active = False
            return
        self.active = False
        raise loop._violation(
            LivenessViolation,
            f"eventually {self.name!r} did not hold within {self.within:g} virtual seconds",
        )


def _running_loop(what: str) -> CoreLoop:
    loop = active_loop()
    if loop is None or not in_simulation():
        raise RuntimeError(
            f"simloop.{what}() must be called inside a simulation "
            "(from the simulated program, or a simloop test)"
        )
    return loop


def invariant(check: Check, name: str | None = None, *, every: int = 1) -> Invariant:
    """Check `check()` after every `every` callbacks from now on; a falsy
    result or an AssertionError fails the run at that step."""
    monitor = Invariant(check, _name_of(check, name), integer_at_least("every", every, 1))
    _running_loop("invariant").add_monitor(monitor)
    return monitor


always = invariant


class Convergence:
    """What `converge` returns: whether the faults stopped, and whether the
    check then held in time."""

    def __init__(self) -> None:
        self.healed = False
        self._watch: Eventually | None = None

    @property
    def held(self) -> bool:
        return self._watch is not None and self._watch.held


def converge(
    check: Check, *, heal_at: float, within: float, name: str | None = None
) -> Convergence:
    """Heal, then converge (TigerBeetle's VOPR liveness phase): `heal_at`
    virtual seconds from now every fault stops (`Network.stop_faults`:
    partitions heal, clogs lift, the strategy injects no more faults), and
    from then `check()` must hold within `within` virtual seconds; the run
    fails at that deadline otherwise, saying what was still pending."""
    start = 0.0 if heal_at == 0 else positive_number("heal_at", heal_at)
    deadline = positive_number("within", within)
    loop = _running_loop("converge")
    label = _name_of(check, name)
    convergence = Convergence()

    def heal() -> None:
        loop.stop_faults()
        convergence.healed = True
        watch = convergence._watch = Eventually(loop, check, f"{label} (after the heal)", deadline)
        loop.add_monitor(watch)

    loop.call_at(loop.time() + start, heal)
    return convergence


def eventually(check: Check, *, within: float, name: str | None = None) -> Eventually:
    """Require `check()` to hold after some step within `within` virtual
    seconds from now; the run fails at the deadline otherwise."""
    deadline = positive_number("within", within)
    loop = _running_loop("eventually")
    monitor = Eventually(loop, check, _name_of(check, name), deadline)
    loop.add_monitor(monitor)
    return monitor
