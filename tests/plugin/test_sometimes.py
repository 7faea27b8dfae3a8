"""sometimes(): a sweep in which a condition never held fails; the summary says what held.

Covers pytest_simloop/_sweep.py, simloop/_probes.py.
"""

from __future__ import annotations

import pytest
from plugin_helpers import summary

# "retry happened" holds in a quarter of the seeds (5 of seeds 0..19);
# "gave up" in none.
RETRIES = """
import asyncio
import pytest
import simloop

@pytest.mark.simloop({marker})
async def test_retries():
    seed = asyncio.get_running_loop().seed & 0xFFFFFFFF
    simloop.sometimes(seed % 4 == 1, "retry happened")
    simloop.sometimes(False, "gave up")
"""


def test_a_sometimes_that_never_held_fails_the_sweep_and_names_it(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(test_retry=RETRIES.format(marker="seeds=20"))
    result = tester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "sometimes('gave up') never held in 20 seeds: the run never exercised it",
            "(a sweep that never saw it did not test it; if it may stay unexercised, mark the "
            "test @pytest.mark.simloop(allow_unexercised=True))",
        ]
    )
    assert "sometimes('retry happened')" not in result.stdout.str()
    assert "traceback entries are hidden" not in result.stdout.str()
    assert summary(result)[0].endswith("; sometimes: 'gave up' never, 'retry happened' in 5/20")


def test_allow_unexercised_lets_the_sweep_pass(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_retry=RETRIES.format(marker="seeds=20, allow_unexercised=True"))
    result = tester.runpytest()
    result.assert_outcomes(passed=1)
    assert summary(result)[0].endswith("; sometimes: 'gave up' never, 'retry happened' in 5/20")


def test_one_pinned_seed_is_not_a_sweep(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_retry=RETRIES.format(marker=""))
    result = tester.runpytest("--simloop-seed=5")
    result.assert_outcomes(passed=1)
    assert summary(result)[0].endswith("; sometimes: 'gave up' never, 'retry happened' in 1/1")


def test_a_test_without_sometimes_has_no_sometimes_in_its_summary(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_plain="""
        import pytest

        @pytest.mark.simloop(seeds=3)
        async def test_plain():
            pass
        """
    )
    assert "sometimes" not in summary(tester.runpytest())[0]


def test_held_counts_add_up_across_xdist_workers(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_spread="""
        import asyncio
        import pytest
        import simloop
        from simloop._determinism import real_sleep

        @pytest.mark.simloop(seeds=200)
        async def test_rare():
            seed = asyncio.get_running_loop().seed & 0xFFFFFFFF
            real_sleep(0.002)  # keep both workers busy
            simloop.sometimes(seed in (7, 190), "rare seed")
            simloop.sometimes(seed == 1000, "never")
        """
    )
    serial = tester.runpytest("-p", "no:cacheprovider", "-n", "0")
    spread = tester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    for result in (serial, spread):
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            ["*sometimes('never') never held in 200 seeds: the run never exercised it"]
        )
        assert summary(result)[0].endswith("; sometimes: 'never' never, 'rare seed' in 2/200")
    assert "simloop-helper" not in spread.stdout.str()


def test_a_hypothesis_test_counts_seeds_not_examples(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_hyp="""
        import pytest
        import simloop
        from hypothesis import given, settings, strategies as st

        @settings(max_examples=10, database=None)
        @given(st.integers())
        @pytest.mark.simloop(seeds=5)
        async def test_numbers(n):
            simloop.sometimes(True, "always")
        """
    )
    result = tester.runpytest()
    result.assert_outcomes(passed=1)
    assert summary(result)[0].endswith("; sometimes: 'always' in 5/5")
