"""Where the plugin keeps its state on pytest's objects, and which test
functions are simloop's (async, or Hypothesis tests of async functions)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

#: a simloop test's resolved settings (`_options.TestSettings`)
SETTINGS = pytest.StashKey[Any]()
#: a simloop test's sweep result (`_sweep.SweepResult`)
RESULT = pytest.StashKey[Any]()
#: the run-wide options (`_options.RunOptions`), on the config
RUN_OPTIONS = pytest.StashKey[Any]()
#: the failing seeds remembered between runs (`_seeds.FailureMemory`), on the config
MEMORY = pytest.StashKey[Any]()


def is_hypothesis_test(function: object) -> bool:
    return bool(getattr(function, "is_hypothesis_test", False)) and hasattr(function, "hypothesis")


def is_simloop_candidate(function: object) -> bool:
    """An async test function, or a Hypothesis test of one."""
    if is_hypothesis_test(function):
        inner = function.hypothesis.inner_test  # type: ignore[attr-defined]
        inner = getattr(inner, "_simloop_original", inner)
        return inspect.iscoroutinefunction(inner)
    return inspect.iscoroutinefunction(function)
