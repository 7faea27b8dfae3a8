"""The correctness corpus: correct asyncio code written as users write it
(stream clients and servers, pools, TaskGroup fan-out, retries, graceful
shutdown, aiohttp, websockets, redis-py, a pytest-asyncio file). Every test
must pass every seed of the default world: a red test here is a bug of
simloop's. `make test` runs the suite's 100 seeds; `make corpus` runs 1000.

Warnings that simloop reports (a handler task a tutorial-style server leaves
running) are shown, not turned into errors by the suite's `filterwarnings =
error`: a user's project sees them as warnings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.filterwarnings("default::pytest_simloop.SimloopWarning"))
