"""The one table of choice points, and everything that reads it.

Covers simloop/strategies/_points.py, simloop/strategies/_log.py,
simloop/_trace.py, simloop/_depends.py.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import simloop
from simloop._depends import _WORDS
from simloop._trace import DECISION_KINDS
from simloop.strategies import CATEGORIES, KINDS, POINTS, TRACE_KINDS, Random

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "net"))

from echo_scenario import Outcome, exchange


def test_every_choice_point_has_a_trace_kind_and_a_category_with_words() -> None:
    assert DECISION_KINDS is TRACE_KINDS
    assert KINDS is POINTS
    assert {point.trace_kind for point in POINTS.values()} == set(TRACE_KINDS)
    assert {point.category for point in POINTS.values()} <= set(CATEGORIES)
    assert set(_WORDS) == set(CATEGORIES)


def test_every_answer_a_run_logs_is_a_choice_point_of_the_table() -> None:
    # A networked run with faults, CPU costs, stalls, executor jobs: most points.
    async def main() -> None:
        await asyncio.to_thread(sum, [1, 2])
        await exchange(Outcome())

    kinds: set[str] = set()
    for seed in range(20):
        loop = simloop.SimLoop(seed, Random(faults=True), log_choices=True)
        simloop.run_on(loop, main())
        assert loop.choice_log is not None
        kinds |= set(loop.choice_log.entries)
    assert kinds <= set(POINTS)
    assert len(kinds) >= 10
