"""Calls the program under test makes into the simulation.

`buggify()` is FoundationDB's BUGGIFY: a fault point in application code
that is true only inside a simulation, on a seeded subset of call sites
(each site is switched on for a run with probability 1/4) and of calls
(an active site fires with probability 1/4 by default). It is a choice
point like any other: seeded, logged, replayed, shrunk away when a failure
does not need it. Outside a simulation it is always False, so it can stay
in production code.

`sometimes(condition, name)` records that a condition held at least once in
a run; a sweep of seeds that never saw it did not test what it claims.
"""

from __future__ import annotations

import sys
from typing import TypeVar

from ._core import active_loop
from ._determinism import in_simulation
from ._validate import in_range

_T = TypeVar("_T")


def _call_site(depth: int) -> str:
    """``module:function:line`` of a caller: the same on every machine (no paths)."""
    frame = sys._getframe(depth + 1)
    module = frame.f_globals.get("__name__", "?")
    return f"{module}:{frame.f_code.co_qualname}:{frame.f_lineno}"


def buggify(probability: float | None = None) -> bool:
    """True when the simulation decides this call should take its rare path.

    Args:
      probability: the chance that an *active* site fires on one call
        (default 1/4); whether the site is active in this run is decided
        once per run and site.
    """
    if probability is not None:
        in_range("probability", probability, 0.0, 1.0)
    loop = active_loop()
    if loop is None or not in_simulation():
        return False
    return loop.choices.buggify(_call_site(1), probability)


def sometimes(condition: _T, name: str) -> _T:
    """Record that `condition` held (if it does) in this run, under `name`;
    returns `condition` unchanged, so it can wrap an expression. A no-op
    outside a simulation."""
    loop = active_loop()
    if loop is not None and in_simulation():
        seen = loop.sometimes
        seen[name] = seen.get(name, False) or bool(condition)
    return condition
