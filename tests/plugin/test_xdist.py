"""Under pytest-xdist one test's seeds spread over the workers, with a serial run's verdict.

Covers pytest_simloop/_xdist.py, _sweep.py.
"""

from __future__ import annotations

import re

import pytest
from plugin_helpers import section, summary

# Fails on three seeds far apart, so both workers find failures: the one
# reported must be the smallest, as in a serial run.
SOME_SEEDS_FAIL = """
import asyncio
import pytest
from simloop._determinism import real_sleep

@pytest.mark.simloop(seeds=300)
async def test_fails_on_some_seeds():
    seed = asyncio.get_running_loop().seed & 0xFFFFFFFF
    real_sleep(0.002)  # keep both workers busy
    await asyncio.sleep(1)
    assert seed not in (130, 260, 290)
"""

# Each seed notes which worker ran it; a real pause makes both workers busy.
SPREAD = """
import asyncio
import os
import pathlib
import pytest
import simloop
from simloop._determinism import real_sleep

@pytest.mark.simloop(seeds=200)
async def test_notes_its_worker():
    seed = asyncio.get_running_loop().seed & 0xFFFFFFFF
    worker = os.environ.get("PYTEST_XDIST_WORKER", "serial")
    (pathlib.Path(__file__).parent / "ran" / f"{seed}-{worker}").touch()
    real_sleep(0.005)
"""


def test_a_failure_has_the_same_verdict_and_replay_with_and_without_xdist(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(test_some=SOME_SEEDS_FAIL)
    serial = tester.runpytest("-p", "no:cacheprovider", "-n", "0")
    spread = tester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    serial.assert_outcomes(failed=1)
    spread.assert_outcomes(failed=1)  # the helper is not counted
    assert section(spread) == section(serial)
    serial_summary, spread_summary = summary(serial)[0], summary(spread)[0]
    verdict = re.compile(r"(.*: failed at seed \d+;) ")
    assert verdict.match(spread_summary).group(1) == verdict.match(serial_summary).group(1)  # type: ignore[union-attr]
    assert section(spread)[0] == (
        "seed 130 failed; 130 seeds passed before it (seeds 0..299, strategy random)"
    )
    assert "simloop-helper" not in spread.stdout.str()


def test_the_seeds_of_one_test_run_on_every_worker_once_each(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_spread=SPREAD)
    (tester.path / "ran").mkdir()
    result = tester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=1)
    ran = [name.split("-") for name in (path.name for path in (tester.path / "ran").iterdir())]
    seeds = sorted(int(seed) for seed, _ in ran)
    assert seeds == list(range(200))  # every seed, none twice
    assert {worker for _, worker in ran} == {"gw0", "gw1"}
    assert summary(result)[0].startswith("test_spread.py::test_notes_its_worker: 200 seeds in ")
    # progress counts the test, not its hidden helper: it ends at 100%
    assert any(line.endswith("[100%]") for line in result.outlines)


def test_a_skip_under_xdist_skips_the_test_once(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_skips="""
        import pytest

        @pytest.mark.simloop(seeds=300)
        async def test_not_here():
            pytest.skip("not on this platform")
        """
    )
    result = tester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(skipped=1)
