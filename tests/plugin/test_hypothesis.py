"""@given on a simloop test: each example is a simulation; a failure names both.

Covers pytest_simloop/_item.py, _sweep.py.
"""

from __future__ import annotations

import pytest
from plugin_helpers import section, summary


def test_each_example_runs_on_simloop(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_examples="""
        import asyncio
        import pytest
        import simloop
        from hypothesis import given, settings, strategies as st

        LOOPS = set()

        @pytest.mark.simloop(seeds=2)
        @settings(max_examples=20, database=None)
        @given(st.integers(0, 100))
        async def test_sleeps_exactly(delay):
            loop = asyncio.get_running_loop()
            assert isinstance(loop, simloop.SimLoop)
            LOOPS.add(id(loop))
            await asyncio.sleep(delay)
            assert loop.time() >= delay

        def test_each_example_had_its_own_loop():
            assert len(LOOPS) > 20
        """
    )
    result = tester.runpytest()
    result.assert_outcomes(passed=2)
    assert summary(result)[0].startswith("test_examples.py::test_sleeps_exactly: 2 seeds in ")


def test_a_failure_reports_the_example_and_the_seed(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_falsified="""
        import asyncio
        import pytest
        from hypothesis import given, settings, strategies as st

        @pytest.mark.simloop(seeds=3)
        @settings(database=None)
        @given(st.integers(0, 10))
        async def test_small(n):
            await asyncio.sleep(n)
            assert n < 5
        """
    )
    result = tester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E       assert 5 < 5", "E       Failing test case: test_small(", "E           n=5,"]
    )
    lines = section(result)
    assert lines[0] == "seed 0 failed; 0 seeds passed before it (seeds 0..2, strategy random)"
    assert lines[-1] == "  pytest 'test_falsified.py::test_small' --simloop-seed=0"
