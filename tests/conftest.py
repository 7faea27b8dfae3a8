"""Shared test helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

import simloop


def run_stock(main: Coroutine[Any, Any, Any]) -> Any:
    """Run on the stock asyncio loop."""
    return asyncio.run(main)


def run_fifo(main: Coroutine[Any, Any, Any]) -> Any:
    return simloop.run(main, strategy="fifo")


def run_random(main: Coroutine[Any, Any, Any]) -> Any:
    return simloop.run(main, seed=7)


@pytest.fixture(params=[run_stock, run_fifo, run_random], ids=["stock", "fifo", "random"])
def run_on(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Same test, several loops (uvloop's pattern): any difference is a simloop
    bug or a documented simulation choice."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _no_simulation_leaks() -> Iterator[None]:
    """Every test must leave the process as it found it."""
    yield
    assert simloop._determinism.active_loop() is None, "a simulation is still installed"
