"""Options, ini keys and marker arguments: the header, usage errors, precedence.

Covers pytest_simloop/_options.py, _settings.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from plugin_helpers import ini, summary

PASSING = """
import asyncio
import pytest

@pytest.mark.simloop
async def test_sleeps():
    await asyncio.sleep(1)
"""


def test_the_header_says_which_seeds_and_strategy_and_how_to_select_them(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(PASSING)
    result = tester.runpytest()
    result.stdout.fnmatch_lines(
        [
            "simloop: seeds 0..99, strategy random "
            "(--simloop-seeds=100 --simloop-strategy=random); markers may choose otherwise"
        ]
    )


@pytest.mark.parametrize(
    ("arguments", "header"),
    [
        (
            ["--simloop-seed=7", "--simloop-strategy=fifo"],
            "simloop: seed 7, strategy fifo (--simloop-seed=7 --simloop-strategy=fifo)",
        ),
        (
            ["--simloop-seed-range=1000:1005", "--simloop-strategy=random"],
            "simloop: seeds 1000..1004, strategy random "
            "(--simloop-seed-range=1000:1005 --simloop-strategy=random)",
        ),
        (
            ["--simloop-seeds=3", "--simloop-strategy=fifo", "--simloop-check-determinism"],
            "simloop: seeds 0..2, strategy fifo (--simloop-seeds=3 --simloop-strategy=fifo), "
            "each seed run twice to check determinism",
        ),
    ],
)
def test_the_header_repeats_the_options_given(
    tester: pytest.Pytester, arguments: list[str], header: str
) -> None:
    tester.makepyfile(PASSING)
    result = tester.runpytest(*arguments)
    result.assert_outcomes(passed=1)
    assert header in result.outlines


def test_ini_keys_are_the_defaults_of_the_options(tester: pytest.Pytester) -> None:
    ini(tester, "simloop_seeds = 4\nsimloop_strategy = fifo")
    tester.makepyfile(PASSING)
    result = tester.runpytest()
    result.stdout.fnmatch_lines(["simloop: seeds 0..3, strategy fifo *"])
    assert summary(result)[0].split(": ")[1].startswith("4 seeds in ")


def test_the_command_line_wins_over_the_ini(tester: pytest.Pytester) -> None:
    ini(tester, "simloop_seeds = 4")
    tester.makepyfile(PASSING)
    result = tester.runpytest("--simloop-seeds=6")
    assert summary(result)[0].split(": ")[1].startswith("6 seeds in ")


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (
            ["--simloop-seeds=0"],
            "ERROR: --simloop-seeds: '0' is not a valid number of seeds; expected a positive "
            "integer, e.g. --simloop-seeds=1000",
        ),
        (
            ["--simloop-seeds=ten"],
            "ERROR: --simloop-seeds: 'ten' is not a valid number of seeds; expected a positive "
            "integer, e.g. --simloop-seeds=1000",
        ),
        (
            ["--simloop-seed=-1"],
            "ERROR: --simloop-seed: '-1' is not a valid seed; expected a non-negative integer, "
            "or 'last' to replay each test's last failing seed (kept in pytest's cache)",
        ),
        (
            ["--simloop-seed-range=5:5"],
            "ERROR: --simloop-seed-range: '5:5' is not a valid seed range; expected START:STOP "
            "with integers 0 <= START < STOP, meaning seeds START to STOP-1, e.g. "
            "--simloop-seed-range=0:1000",
        ),
        (
            ["--simloop-strategy=chaos"],
            "ERROR: --simloop-strategy: 'chaos' is not a simloop strategy; expected one of: "
            "fifo, pct, random",
        ),
        (
            ["--simloop-seed=3", "--simloop-seeds=5"],
            "ERROR: --simloop-seed=3 and --simloop-seeds=5 both choose the seeds to run; give "
            "only one of --simloop-seed, --simloop-seed-range and --simloop-seeds",
        ),
        (
            ["-p", "no:cacheprovider", "--simloop-seed=last"],
            "ERROR: --simloop-seed=last replays the failing seeds kept in pytest's cache, but "
            "the cache is disabled (-p no:cacheprovider); give a seed number instead",
        ),
    ],
)
def test_a_bad_option_is_a_usage_error_that_lists_what_is_accepted(
    tester: pytest.Pytester, arguments: list[str], error: str
) -> None:
    tester.makepyfile(PASSING)
    result = tester.runpytest(*arguments)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error in result.errlines


def test_a_bad_ini_value_is_a_usage_error_naming_the_key(tester: pytest.Pytester) -> None:
    ini(tester, "simloop_seeds = many")
    tester.makepyfile(PASSING)
    result = tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "ERROR: ini simloop_seeds: 'many' is not a valid number of seeds; expected a positive "
        "integer, e.g. --simloop-seeds=1000"
    ) in result.errlines


@pytest.mark.parametrize(
    ("marker", "error"),
    [
        (
            "simloop(seeds=0)",
            "ERROR: test_marker.py::test_a: @pytest.mark.simloop(seeds=0): expected a "
            "positive integer",
        ),
        (
            "simloop(strategy='chaos')",
            "ERROR: test_marker.py::test_a: @pytest.mark.simloop(strategy='chaos'): expected "
            "one of fifo, pct, random or a simloop.strategies.Strategy",
        ),
        (
            "simloop(seed_count=3)",
            "ERROR: test_marker.py::test_a: @pytest.mark.simloop got unknown argument "
            "'seed_count'; accepted keyword arguments: seeds, seed, strategy, faults, network, "
            "strict, time_limit, step_limit, shrink, allow_deadlock, allow_livelock, "
            "allow_unhandled, allow_pending, allow_open_transports, allow_unexercised",
        ),
        (
            "simloop(shrink=0)",
            "ERROR: test_marker.py::test_a: @pytest.mark.simloop(shrink=0): expected True or False",
        ),
        (
            "simloop(allow_pending='yes')",
            "ERROR: test_marker.py::test_a: @pytest.mark.simloop(allow_pending='yes'): "
            "expected True or False",
        ),
    ],
)
def test_a_bad_marker_argument_is_a_usage_error(
    tester: pytest.Pytester, marker: str, error: str
) -> None:
    tester.makepyfile(
        test_marker=f"""
        import pytest

        @pytest.mark.{marker}
        async def test_a():
            pass
        """
    )
    result = tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert error in result.errlines


def test_a_marker_chooses_the_seeds_and_the_command_line_overrides_it(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_counts="""
        import pytest

        @pytest.mark.simloop(seeds=3)
        async def test_three():
            pass

        @pytest.mark.simloop(seed=41)
        async def test_pinned():
            pass
        """
    )
    lines = summary(tester.runpytest())
    assert lines[0].startswith("test_counts.py::test_pinned: 1 seed in ")
    assert lines[1].startswith("test_counts.py::test_three: 3 seeds in ")
    lines = summary(tester.runpytest("--simloop-seeds=5"))
    assert lines[0].startswith("test_counts.py::test_pinned: 5 seeds in ")
    assert lines[1].startswith("test_counts.py::test_three: 5 seeds in ")


def test_class_and_module_marks_apply_and_the_closest_wins(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_scopes="""
        import pytest

        pytestmark = pytest.mark.simloop(seeds=2)

        async def test_module_mark():
            pass

        @pytest.mark.simloop(seeds=3)
        class TestClass:
            async def test_class_mark(self):
                pass

            @pytest.mark.simloop(seeds=4)
            async def test_own_mark(self):
                pass

        def test_plain():
            pass
        """
    )
    result = tester.runpytest()
    result.assert_outcomes(passed=4)
    counts = {line.split(": ")[0]: line.split(": ")[1].split(" in ")[0] for line in summary(result)}
    assert counts == {
        "test_scopes.py::test_module_mark": "2 seeds",
        "test_scopes.py::TestClass::test_class_mark": "3 seeds",
        "test_scopes.py::TestClass::test_own_mark": "4 seeds",
    }


def test_the_options_are_listed_in_help(tester: pytest.Pytester) -> None:
    result = tester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "simloop: deterministic simulation of asyncio:",
            "*--simloop-seeds=N*",
            "*--simloop-seed=S*",
            "*--simloop-seed-range=START:STOP*",
            "*--simloop-strategy=NAME*",
            "*--simloop-check-determinism*",
        ]
    )


def test_loading_the_plugin_does_not_import_the_engine() -> None:
    code = "import sys, pytest_simloop.plugin; print('simloop' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"
