"""Helpers for the network tests: the same test on the stock loop (real
loopback) and on simloop, as uvloop's test base does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import simloop
from simloop.strategies import Random


def run_stock(main: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(main)


def run_fifo(main: Coroutine[Any, Any, Any]) -> Any:
    return simloop.run(main, strategy="fifo")


def run_random(main: Coroutine[Any, Any, Any]) -> Any:
    # The default, healthy network, no delivery steered onto a timeout: these
    # tests compare behaviour with the stock loop, not how code copes with races.
    return simloop.run(main, seed=7, strategy=Random(steer_rate=0.0))


@pytest.fixture(params=[run_stock, run_fifo, run_random], ids=["stock", "fifo", "random"])
def run_on(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Same test on the stock loop and on simloop: a difference is a simloop bug
    or a documented simulation choice."""
    return request.param  # type: ignore[no-any-return]
