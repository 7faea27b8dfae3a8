"""--simloop-check-determinism runs every seed twice and names where two runs part.

Covers pytest_simloop/_runner.py.
"""

from __future__ import annotations

import pytest
from plugin_helpers import ini, section


def test_a_test_reading_a_real_clock_is_caught(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_clock="""
        import asyncio
        import pytest
        from time import perf_counter as real_clock  # bound before any simulation

        @pytest.mark.simloop(seeds=3)
        async def test_waits_a_real_jitter():
            await asyncio.sleep(0.001 + real_clock() % 0.001)
        """
    )
    tester.runpytest().assert_outcomes(passed=1)  # unnoticed without the check
    result = tester.runpytest("--simloop-check-determinism")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "seed 0 is not deterministic: two runs of it in this process differed",
            "first difference at event #*:",
            "  run 1: * t=0.00*",
            "  run 2: * t=0.00*",
            "A seed must replay exactly. Look for what the simulation does not control:",
        ]
    )
    assert section(result)[-1] == (
        "  pytest 'test_clock.py::test_waits_a_real_jitter' --simloop-seed=0"
    )


def test_a_deterministic_test_passes_the_check(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_steady="""
        import asyncio
        import pytest

        @pytest.mark.simloop(seeds=20)
        async def test_workers():
            async def worker(n):
                for step in range(3):
                    await asyncio.sleep(0.001 * ((n + step) % 2))
            async with asyncio.TaskGroup() as group:
                for n in range(4):
                    group.create_task(worker(n))
        """
    )
    tester.runpytest("--simloop-check-determinism").assert_outcomes(passed=1)


def test_the_check_has_an_ini_twin(tester: pytest.Pytester) -> None:
    ini(tester, "simloop_check_determinism = true")
    tester.makepyfile(
        test_clock_ini="""
        import asyncio
        import pytest
        from time import perf_counter as real_clock

        @pytest.mark.simloop(seeds=2)
        async def test_jitter():
            await asyncio.sleep(real_clock() % 0.001)
        """
    )
    tester.runpytest().assert_outcomes(failed=1)
