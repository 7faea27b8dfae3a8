"""Async fixtures of simloop tests: deferred by pytest, set up on each seed's loop.

Virtual time belongs to one loop, and each seed is a fresh simulation, so an
async fixture of a simloop test cannot be set up once by pytest: while pytest
sets up the test, the fixture's function is swapped for one that returns a
`DeferredFixture` (its resolved arguments included), and each seed's run sets
the deferred fixtures up inside the simulation, in pytest's order, and tears
them down in reverse. Sync fixtures stay pytest's, shared by all seeds.
"""

from __future__ import annotations

import contextlib
import inspect
import itertools
from collections.abc import AsyncGenerator, Callable, Iterator, Mapping
from typing import Any

import pytest

_order = itertools.count()

ASYNC_FIXTURE_SCOPE = """\
simloop runs the async fixtures of a simloop test on each seed's own loop, once \
per seed, so they must be function-scoped; {name!r} has scope {scope!r}. Make it \
function-scoped, or make it a plain (sync) fixture.\
"""
SYNC_NEEDS_ASYNC = """\
sync fixture {fixture!r} needs async fixture {needs!r}, but pytest sets a sync \
fixture up once per test while a simloop test's async fixtures are set up in each \
seed's simulation. Make {fixture!r} an async fixture.\
"""


class DeferredFixture:
    """An async fixture that each simulation sets up for itself."""

    __slots__ = ("function", "kwargs", "name", "order")

    def __init__(self, name: str, function: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        self.name = name
        self.function = function
        self.kwargs = kwargs
        #: pytest sets dependencies up first, so creation order is a valid setup order
        self.order = next(_order)

    def __repr__(self) -> str:
        return f"<simloop deferred fixture {self.name!r}>"


def is_async_fixture_function(function: object) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def _bound(function: Callable[..., Any], instance: object) -> Callable[..., Any]:
    # What pytest does for fixtures defined on a test class: bind them to
    # the instance the test runs with.
    owner = getattr(function, "__self__", None)
    if instance is not None and owner is not None and isinstance(instance, type(owner)):
        return function.__func__.__get__(instance)  # type: ignore[attr-defined, no-any-return]
    return function


@contextlib.contextmanager
def deferring(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest, *, any_scope: bool = False
) -> Iterator[None]:
    """While pytest sets `fixturedef` up, make it return a `DeferredFixture`.

    A wider-scoped async fixture is a usage error, unless `any_scope` (a test
    taken over with ``--simloop-all``): then each seed sets it up anew."""
    original = fixturedef.func
    if fixturedef.scope != "function" and not any_scope:
        pytest.fail(
            _scope_error(fixturedef.argname, fixturedef.scope),
            pytrace=False,
        )
    function = _bound(original, request.instance)

    def defer(**kwargs: Any) -> DeferredFixture:
        return DeferredFixture(fixturedef.argname, function, kwargs)

    # pytest declares `func` final; swapping it during setup is how async
    # plugins (pytest-asyncio, anyio) take over a fixture.
    setattr(fixturedef, "func", defer)  # noqa: B010
    try:
        yield
    finally:
        setattr(fixturedef, "func", original)  # noqa: B010


def check_sync_arguments(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> None:
    """Fail a sync fixture that needs an async one: pytest sets it up once,
    while the async fixture exists only inside each seed's simulation."""
    for name in fixturedef.argnames:
        if isinstance(request.getfixturevalue(name), DeferredFixture):
            pytest.fail(
                SYNC_NEEDS_ASYNC.format(fixture=fixturedef.argname, needs=name), pytrace=False
            )


def _scope_error(name: str, scope: str) -> str:
    return ASYNC_FIXTURE_SCOPE.format(name=name, scope=scope)


def check_scopes(name2fixturedefs: Mapping[str, Any]) -> None:
    """Fail a simloop test that uses an async fixture wider than a function
    (pytest may have set it up already, on another loop)."""
    for name, fixturedefs in name2fixturedefs.items():
        if not fixturedefs:
            continue
        fixturedef = fixturedefs[-1]
        if is_async_fixture_function(fixturedef.func) and fixturedef.scope != "function":
            pytest.fail(_scope_error(name, fixturedef.scope), pytrace=False)


def has_deferred(values: Mapping[str, object]) -> bool:
    return any(isinstance(value, DeferredFixture) for value in values.values())


class FixtureRun:
    """The deferred fixtures of one simulation: set up, then torn down in reverse."""

    def __init__(self) -> None:
        self._values: dict[int, object] = {}
        self._generators: list[tuple[str, AsyncGenerator[Any, None]]] = []

    async def resolve(self, value: object) -> object:
        if not isinstance(value, DeferredFixture):
            return value
        if value.order in self._values:
            return self._values[value.order]
        kwargs = {name: await self.resolve(argument) for name, argument in value.kwargs.items()}
        if inspect.isasyncgenfunction(value.function):
            generator = value.function(**kwargs)
            result = await generator.__anext__()
            self._generators.append((value.name, generator))
        else:
            result = await value.function(**kwargs)
        self._values[value.order] = result
        return result

    async def set_up(self, values: Mapping[str, object]) -> dict[str, object]:
        """`values` with every deferred fixture set up, in the order pytest made them."""
        deferred = sorted(
            (value for value in values.values() if isinstance(value, DeferredFixture)),
            key=lambda fixture: fixture.order,
        )
        for fixture in deferred:
            await self.resolve(fixture)
        return {
            name: self._values[value.order] if isinstance(value, DeferredFixture) else value
            for name, value in values.items()
        }

    async def tear_down(self) -> list[BaseException]:
        """Finish every async generator fixture, last first; the errors they raised."""
        errors: list[BaseException] = []
        while self._generators:
            name, generator = self._generators.pop()
            try:
                await generator.__anext__()
            except StopAsyncIteration:
                continue
            except BaseException as error:
                errors.append(error)
                continue
            await generator.aclose()
            errors.append(RuntimeError(f"async fixture {name!r} yielded more than once"))
        return errors
