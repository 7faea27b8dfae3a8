"""Failing seeds are kept in pytest's cache, tried first next time, and replayed by 'last'.

Covers pytest_simloop/_seeds.py.
"""

from __future__ import annotations

import pytest
from plugin_helpers import failing_seed, section, summary

# Fails only under small seed 7 (the low 32 bits of the loop seed); the
# marker's flag file lets a test "fix the bug" between runs.
FLAKY = """
import asyncio
import pathlib
import pytest

@pytest.mark.simloop(seeds=20)
async def test_seven():
    seed = asyncio.get_running_loop().seed & 0xFFFFFFFF
    fixed = pathlib.Path(__file__).with_name("fixed").exists()
    assert fixed or seed != 7
"""


def test_a_failing_seed_is_tried_first_on_the_next_run(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_flaky=FLAKY)
    first = tester.runpytest()
    assert failing_seed(first) == 7
    assert summary(first)[0].startswith("test_flaky.py::test_seven: failed at seed 7; 8 seeds in ")
    second = tester.runpytest()
    assert section(second)[0] == (
        "seed 7 failed; it had failed before and was tried first (strategy random)"
    )
    assert summary(second)[0].startswith("test_flaky.py::test_seven: failed at seed 7; 1 seed in ")


def test_last_replays_the_last_failing_seed_until_it_passes(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_flaky=FLAKY)
    tester.runpytest()
    replay = tester.runpytest("--simloop-seed=last")
    replay.stdout.fnmatch_lines(
        ["simloop: each test's last failing seed, strategy random (--simloop-seed=last *"]
    )
    replay.assert_outcomes(failed=1)
    assert section(replay)[0] == "seed 7 failed; 0 seeds passed before it (seed 7, strategy random)"
    (tester.path / "fixed").touch()
    tester.runpytest().assert_outcomes(passed=1)  # tries 7 first, then all 20
    forgotten = tester.runpytest("--simloop-seed=last", "-rs")
    forgotten.assert_outcomes(skipped=1)
    forgotten.stdout.fnmatch_lines(
        ["*--simloop-seed=last: no failing seed of this test is remembered (strategy random)"]
    )


def test_remembered_seeds_belong_to_their_strategy(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_flaky=FLAKY)
    tester.runpytest()
    fifo = tester.runpytest("--simloop-strategy=fifo")
    assert failing_seed(fifo) == 7
    assert section(fifo)[0].startswith("seed 7 failed; 7 seeds passed before it")
