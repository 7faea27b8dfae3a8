"""A failing schedule is saved as a file, and --simloop-replay runs a test on it.

Covers pytest_simloop/_schedules.py.
"""

from __future__ import annotations

import json
import re

import pytest
from plugin_helpers import line_after, section

RACE = """
import asyncio
import pytest

@pytest.mark.simloop
async def test_workers_finish_in_order():
    finished = []

    async def worker(name):
        await asyncio.sleep(0)
        finished.append(name)

    async with asyncio.TaskGroup() as group:
        group.create_task(worker("a"))
        group.create_task(worker("b"))
    assert finished == ["a", "b"]

@pytest.mark.simloop
async def test_other():
    pass
"""
TEST_ID = "test_race.py::test_workers_finish_in_order"
SAVED = r"replay the simplest failing schedule alone:"


def saved_schedule(result: pytest.RunResult) -> str:
    """The schedule file the replay command of a failure report names."""
    command = line_after(section(result), SAVED)
    match = re.fullmatch(rf"  pytest '{re.escape(TEST_ID)}' --simloop-replay=(\S+)", command)
    assert match is not None, command
    return match.group(1)


def test_the_simplest_schedule_is_saved_with_its_test_and_seeds(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    result = tester.runpytest("-k", "in_order")
    lines = section(result)
    seed = int(lines[0].split()[1])
    schedule = saved_schedule(result)
    assert schedule == (
        ".pytest_cache/d/simloop/schedules/"
        f"test_race.py_test_workers_finish_in_order-seed{seed}.schedule.json"
    )
    saved = json.loads((tester.path / schedule).read_text())
    loop_seed = int(re.search(r"SimLoop seed (\d+)", "\n".join(lines)).group(1))  # type: ignore[union-attr]
    assert {key: saved[key] for key in ("test", "seed", "loop_seed", "strategy", "shrunk")} == {
        "test": TEST_ID,
        "seed": seed,
        "loop_seed": loop_seed,
        "strategy": "random",
        "shrunk": True,
    }
    assert saved["choices"]["task order"]


def test_the_printed_command_replays_the_failure_on_exactly_that_schedule(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(test_race=RACE)
    explored = tester.runpytest("-k", "in_order")
    seed = int(section(explored)[0].split()[1])
    schedule = saved_schedule(explored)
    replayed = tester.runpytest(TEST_ID, f"--simloop-replay={schedule}")
    replayed.assert_outcomes(failed=1)
    assert (
        f"simloop: replaying the schedule in {schedule} (seed {seed} of {TEST_ID}, strategy random)"
    ) in replayed.outlines
    replayed.stdout.fnmatch_lines(["E       AssertionError: assert ['b', 'a'] == ['a', 'b']"])
    lines = section(replayed)
    assert lines[0] == (
        f"the schedule in {schedule} failed (the simplest failing schedule of seed {seed}, "
        "strategy random)"
    )
    assert lines[2] == "schedule: replay: replay of a recorded schedule (1 deviations)"
    assert lines[3] == "choices that differed from FIFO: 1"
    assert any(line.startswith("timeline: ") for line in lines)
    assert lines[-2:] == [
        "replay it again:",
        f"  pytest '{TEST_ID}' --simloop-replay={schedule}",
    ]


def test_a_replay_of_a_fixed_bug_passes(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    schedule = saved_schedule(tester.runpytest("-k", "in_order"))
    tester.makepyfile(
        test_race=RACE.replace('finished == ["a", "b"]', 'sorted(finished) == ["a", "b"]')
    )
    tester.runpytest(TEST_ID, f"--simloop-replay={schedule}").assert_outcomes(passed=1)


def test_a_schedule_replays_only_the_test_it_was_recorded_for(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    schedule = saved_schedule(tester.runpytest("-k", "in_order"))
    result = tester.runpytest("test_race.py", f"--simloop-replay={schedule}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.errlines[:2] == [
        f"ERROR: --simloop-replay={schedule}: the schedule was recorded for {TEST_ID}, but "
        "test_race.py::test_other is selected too; a schedule replays the test it was "
        "recorded for, so select only that test:",
        f"  pytest '{TEST_ID}' --simloop-replay={schedule}",
    ]


def test_a_schedule_replays_its_test_when_others_are_deselected(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    schedule = saved_schedule(tester.runpytest("-k", "in_order"))
    result = tester.runpytest("-k", "in_order", f"--simloop-replay={schedule}")
    result.assert_outcomes(failed=1)


def test_a_schedule_whose_test_is_not_selected_is_a_usage_error(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    schedule = saved_schedule(tester.runpytest("-k", "in_order"))
    tester.makepyfile(test_race=RACE.replace("test_workers_finish_in_order", "test_renamed"))
    result = tester.runpytest(f"--simloop-replay={schedule}", "-k", "renamed")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.errlines[0] == (
        f"ERROR: --simloop-replay={schedule}: the schedule was recorded for {TEST_ID}, which "
        "is not among the selected simloop tests (renamed, deselected, or no longer marked "
        "simloop?)"
    )


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (None, "cannot read a simloop schedule from it: [Errno 2] No such file or directory"),
        ("{}", "cannot read a simloop schedule from it: not a simloop schedule of version 1"),
        (
            json.dumps({"simloop_schedule": 1, "choices": {}, "target": "m:f", "seed": 1}),
            "the schedule names no test (it was not saved by the pytest plugin); replay it "
            "with: python -m simloop replay saved.json",
        ),
        (
            json.dumps(
                {"simloop_schedule": 1, "choices": {}, "test": TEST_ID, "seed": 1, "loop_seed": 1}
            ),
            f"cannot read a simloop schedule from it: its loop_seed 1 is not seed 1 of {TEST_ID}",
        ),
    ],
)
def test_an_unusable_schedule_file_is_a_usage_error(
    tester: pytest.Pytester, content: str | None, error: str
) -> None:
    tester.makepyfile(test_race=RACE)
    if content is not None:
        (tester.path / "saved.json").write_text(content)
    result = tester.runpytest("--simloop-replay=saved.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.errlines[0].startswith(f"ERROR: --simloop-replay=saved.json: {error}")


def test_a_replay_chooses_its_own_seed_and_strategy(tester: pytest.Pytester) -> None:
    result = tester.runpytest("--simloop-replay=saved.json", "--simloop-seed=3")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.errlines[0] == (
        "ERROR: --simloop-replay replays one recorded schedule, whose file says its seed and "
        "strategy; do not combine it with --simloop-seed=3"
    )


def test_a_hypothesis_test_replays_by_seed_not_by_schedule(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_hyp="""
        import pytest
        from hypothesis import given, strategies as st

        @given(st.integers())
        @pytest.mark.simloop
        async def test_numbers(n):
            pass
        """
    )
    from pytest_simloop._seeds import loop_seed

    nodeid = "test_hyp.py::test_numbers"
    (tester.path / "saved.json").write_text(
        json.dumps(
            {
                "simloop_schedule": 1,
                "choices": {},
                "test": nodeid,
                "seed": 0,
                "loop_seed": loop_seed(nodeid, 0),
            }
        )
    )
    result = tester.runpytest("--simloop-replay=saved.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.errlines[0] == (
        f"ERROR: --simloop-replay: {nodeid} is a Hypothesis test, whose failures replay by "
        "seed (--simloop-seed=S), not by schedule"
    )


def test_without_pytests_cache_the_schedule_is_not_saved_and_the_report_says_so(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(test_race=RACE)
    lines = section(tester.runpytest("-p", "no:cacheprovider", "-k", "in_order"))
    assert (
        "the schedule is not saved: pytest's cache is disabled (give --simloop-trace=DIR to "
        "save it there)"
    ) in lines
    assert SAVED not in lines
    assert not any("--simloop-replay" in line for line in lines)


def test_a_replay_leaves_the_remembered_failing_seeds_alone(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    schedule = saved_schedule(tester.runpytest("-k", "in_order"))
    cache = tester.path / ".pytest_cache" / "v" / "simloop" / "failing"
    (remembered,) = cache.iterdir()
    before = remembered.read_text()
    tester.runpytest(TEST_ID, f"--simloop-replay={schedule}").assert_outcomes(failed=1)
    assert remembered.read_text() == before


def test_a_replay_writes_its_trace_next_to_the_schedules_name(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    schedule = saved_schedule(tester.runpytest("-k", "in_order"))
    replayed = tester.runpytest(TEST_ID, f"--simloop-replay={schedule}", "--simloop-trace=out")
    stem = schedule.rsplit("/", 1)[1].removesuffix(".schedule.json")
    lines = section(replayed)
    assert line_after(lines, r"the whole run, to open in .*") == f"  out/{stem}-replay.trace.json"
    assert (tester.path / "out" / f"{stem}-replay.html").is_file()
    assert not (tester.path / "out" / f"{stem}.schedule.json").exists()  # none saved anew
