"""The item of a simloop test: to pytest, a plain function that sweeps the seeds.

A simloop test's ``obj`` is a synchronous function (wrapping the test, with
its marks and attributes) that runs the sweep. So pytest runs it as it runs
any function, and the other async plugins (pytest-asyncio, also in auto
mode, and anyio) see no coroutine to claim: a simloop test runs once, on
simloop alone. Hypothesis still sees its own test: the sweep calls
Hypothesis's wrapper once per seed, and Hypothesis calls back for each
example, which runs as its own simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ._fixtures import check_scopes
from ._stash import is_hypothesis_test
from ._xdist import PART_ARGUMENT


def _adopt_hypothesis(test: Any) -> None:
    """Make Hypothesis call simloop for each example (once per function)."""
    from ._sweep import run_hypothesis_example  # the sweep is the layer above: lazily

    handle = test.hypothesis
    original = handle.inner_test
    if getattr(original, "_simloop_original", None) is not None:
        return

    def simloop_example(*args: Any, **kwargs: Any) -> None:
        __tracebackhide__ = True
        run_hypothesis_example(original, args, kwargs)

    simloop_example._simloop_original = original  # type: ignore[attr-defined]
    simloop_example.__name__ = getattr(original, "__name__", "simloop_example")
    simloop_example.__qualname__ = getattr(original, "__qualname__", "simloop_example")
    handle.inner_test = simloop_example


class SimloopFunction(pytest.Function):
    """A test marked ``simloop``: its seeds run inside one pytest call."""

    @classmethod
    def from_function(cls, function: pytest.Function) -> SimloopFunction:
        assert function.parent is not None
        item: SimloopFunction = cls.from_parent(
            function.parent,
            name=function.name,
            callspec=getattr(function, "callspec", None),
            fixtureinfo=function._fixtureinfo,
            keywords=function.keywords,
            originalname=function.originalname,
        )
        # Marks added to the item itself (by a collection hook) come along.
        item.own_markers = function.own_markers
        return item

    def _getobj(self) -> Callable[..., None]:
        test = super()._getobj()  # type: ignore[no-untyped-call]
        if is_hypothesis_test(test):
            _adopt_hypothesis(test)
        return _sweeper(self, test)

    def setup(self) -> None:
        if self.get_closest_marker("simloop") is not None:
            # A test taken over with --simloop-all keeps its wider async
            # fixtures, set up per seed; a test written for simloop is told.
            check_scopes(self._fixtureinfo.name2fixturedefs)
        super().setup()

    def runtest(self) -> None:
        # The sweep is called directly, as pytest's own pytest_pyfunc_call
        # would: that hook is where pytest-asyncio and anyio run the
        # coroutine tests they own, and this test is not theirs.
        funcargs = self.funcargs
        self.obj(**{name: funcargs[name] for name in self._fixtureinfo.argnames})

    @property
    def part(self) -> int:
        """0 for the test, 1.. for its xdist helpers."""
        callspec = getattr(self, "callspec", None)
        return 0 if callspec is None else int(callspec.params.get(PART_ARGUMENT, 0))


def _sweeper(item: SimloopFunction, test: Any) -> Callable[..., None]:
    def simloop_sweep(**kwargs: Any) -> None:
        __tracebackhide__ = True
        from ._sweep import run_item

        run_item(item, test, kwargs)

    # The test's marks and attributes (Hypothesis's among them) stay visible;
    # __wrapped__ lets pytest cut tracebacks at the test's own code.
    simloop_sweep.__dict__.update(getattr(test, "__dict__", {}))
    simloop_sweep.__wrapped__ = test  # type: ignore[attr-defined]
    simloop_sweep.__name__ = getattr(test, "__name__", "simloop_sweep")
    simloop_sweep.__qualname__ = getattr(test, "__qualname__", "simloop_sweep")
    simloop_sweep.__doc__ = getattr(test, "__doc__", None)
    simloop_sweep.__module__ = getattr(test, "__module__", __name__)
    return simloop_sweep
