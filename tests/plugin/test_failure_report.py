"""A failing test stops at its first failing seed and is reported once, with a replay.

Covers pytest_simloop/_report.py, _sweep.py.
"""

from __future__ import annotations

import os
import re
import zlib

import pytest
from plugin_helpers import failing_seed, line_after, section, summary

import simloop

# Two workers append to a list after one step each: FIFO keeps their order,
# a seed that lets the second worker take its step first breaks the assert.
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
"""
TEST_ID = "test_race.py::test_workers_finish_in_order"


def _race_seed(seed: int) -> bool:
    """Whether the race fails under `seed` of test_race.py::test_reply_beats_deadline."""
    from pytest_simloop._seeds import loop_seed

    namespace: dict[str, object] = {}
    exec(RACE, namespace)
    main = namespace["test_workers_finish_in_order"]
    try:
        simloop.run(main(), seed=loop_seed(TEST_ID, seed))  # type: ignore[operator]
    except AssertionError:
        return True
    return False


def test_a_failure_is_reported_once_with_a_simloop_section(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    result = tester.runpytest()
    result.assert_outcomes(failed=1)
    seed = failing_seed(result)
    expected_seed = next(s for s in range(100) if _race_seed(s))
    assert seed == expected_seed  # the first failing seed: the smallest
    assert result.stdout.str().count("_ test_workers_finish_in_order _") == 1
    lines = section(result)
    assert lines[0] == (
        f"seed {seed} failed; {seed} seed{'' if seed == 1 else 's'} passed before it "
        "(seeds 0..99, strategy random)"
    )
    assert re.fullmatch(r"virtual time of the failure: 0\.0\d{5}s, after \d+ callbacks", lines[1])
    assert lines[2].startswith("schedule: random: ")
    assert re.fullmatch(r"choices that differed from FIFO: \d+", lines[3])
    assert any(
        re.fullmatch(
            r"  t=0\.0\d{5}s after \d+ callbacks: task order: Task-\d then Task-\d.*", line
        )
        for line in lines
    )
    replay = line_after(lines, r"replay it \(SimLoop seed \d+\):")
    assert replay == f"  pytest '{TEST_ID}' --simloop-seed={seed}"


def test_the_original_traceback_is_shown_without_the_plugins_frames(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(test_race=RACE)
    result = tester.runpytest()
    result.stdout.fnmatch_lines(
        [
            "    async def test_workers_finish_in_order():",
            "*",
            '>       assert finished == ["a", "b"]',
            "E       AssertionError: assert ['b', 'a'] == ['a', 'b']",
        ]
    )
    assert "pytest_simloop" not in result.stdout.str()


def test_the_sweep_stops_at_the_first_failing_seed(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    result = tester.runpytest()
    seed = failing_seed(result)
    ran = seed + 1
    assert summary(result)[0].startswith(
        f"{TEST_ID}: failed at seed {seed}; {ran} seed{'' if ran == 1 else 's'} in "
    )


def test_the_printed_command_replays_the_same_failure(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    explored = tester.runpytest("-p", "no:cacheprovider")
    seed = failing_seed(explored)
    replayed = tester.runpytest("-p", "no:cacheprovider", f"--simloop-seed={seed}")
    replayed.assert_outcomes(failed=1)
    first, again = section(explored), section(replayed)
    assert (
        again[0] == f"seed {seed} failed; 0 seeds passed before it (seed {seed}, strategy random)"
    )
    assert again[1:] == first[1:]


def test_the_seed_replays_in_another_process_under_another_hash_seed(
    tester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    tester.makepyfile(test_race=RACE)
    explored = tester.runpytest("-p", "no:cacheprovider")
    seed = failing_seed(explored)
    monkeypatch.setenv("PYTHONHASHSEED", "12345")
    replayed = tester.runpytest_subprocess("-p", "no:cacheprovider", f"--simloop-seed={seed}")
    replayed.assert_outcomes(failed=1)
    assert section(replayed)[1:] == section(explored)[1:]


def test_the_printed_loop_seed_replays_outside_pytest(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    result = tester.runpytest("-p", "no:cacheprovider")
    match = re.search(r"replay it \(SimLoop seed (\d+)\):", result.stdout.str())
    assert match is not None
    namespace: dict[str, object] = {}
    exec(RACE, namespace)
    main = namespace["test_workers_finish_in_order"]
    with pytest.raises(AssertionError):
        simloop.run(main(), seed=int(match.group(1)))  # type: ignore[operator]


def test_a_strategy_given_on_the_command_line_is_part_of_the_replay(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_always="""
        import pytest

        @pytest.mark.simloop
        async def test_fails():
            assert 1 == 2
        """
    )
    result = tester.runpytest("--simloop-strategy=fifo")
    lines = section(result)
    assert line_after(lines, r"replay it \(SimLoop seed \d+\):") == (
        "  pytest 'test_always.py::test_fails' --simloop-seed=0 --simloop-strategy=fifo"
    )
    assert lines[3] == "choices that differed from FIFO: none (the stock loop's order)"


def test_the_replay_path_is_relative_to_where_pytest_was_started(
    tester: pytest.Pytester,
) -> None:
    tester.mkpydir("sub")
    (tester.path / "sub" / "test_deep.py").write_text(
        "import pytest\n\n@pytest.mark.simloop\nasync def test_fails():\n    assert False\n"
    )
    os.chdir(tester.path / "sub")
    result = tester.runpytest("test_deep.py")
    assert line_after(section(result), r"replay it \(SimLoop seed \d+\):") == (
        "  pytest 'test_deep.py::test_fails' --simloop-seed=0"
    )


def test_seeds_of_different_tests_explore_different_schedules() -> None:
    from pytest_simloop._seeds import loop_seed

    assert loop_seed("a.py::test_a", 0) != loop_seed("a.py::test_b", 0)
    # crc32 of the node id, never hash(): the same in every process
    assert loop_seed("a.py::test_a", 7) == (zlib.crc32(b"a.py::test_a") << 32) + 7


def test_a_passing_sweep_runs_every_seed_and_summarizes_it(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_fine="""
        import asyncio
        import pytest

        @pytest.mark.simloop(seeds=20)
        async def test_two_workers():
            async def worker(n):
                for _ in range(3):
                    await asyncio.sleep(0)
                return n

            async with asyncio.timeout(1):
                async with asyncio.TaskGroup() as group:
                    a = group.create_task(worker(1))
                    b = group.create_task(worker(2))
            assert a.result() + b.result() == 3
        """
    )
    result = tester.runpytest()
    result.assert_outcomes(passed=1)
    (line,) = summary(result)
    match = re.fullmatch(
        r"test_fine\.py::test_two_workers: 20 seeds in \d+\.\d\ds, \d+ seeds/s, "
        r"(\d+) distinct schedules, choice points: (.*)",
        line,
    )
    assert match is not None, line
    assert 1 < int(match.group(1)) <= 20
    assert "task order" in match.group(2)


def test_fifo_explores_one_schedule(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_fifo="""
        import asyncio
        import pytest

        @pytest.mark.simloop(seeds=5, strategy="fifo")
        async def test_steps():
            await asyncio.gather(asyncio.sleep(0), asyncio.sleep(0))
        """
    )
    (line,) = summary(tester.runpytest())
    assert ", 1 distinct schedule, " in line


def test_an_async_test_without_the_marker_is_left_to_other_plugins(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_unmarked="""
        async def test_unmarked():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:asyncio", "-p", "no:anyio", "-p", "no:aiohttp")
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])


def test_the_replay_command_is_in_the_failures_own_first_line(
    tester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What -rA, --tb=line, junit XML and CI annotations show of a failure."""
    monkeypatch.setenv("CI", "true")  # as on CI, where pytest does not cut the -rA line
    tester.makepyfile(test_race=RACE)
    result = tester.runpytest("-p", "no:cacheprovider", "-rA", "--tb=line", "--junitxml=out.xml")
    result.assert_outcomes(failed=1)
    seed = failing_seed(result)
    command = f"[pytest '{TEST_ID}' --simloop-seed={seed}] AssertionError: assert"
    assert f"{tester.path / 'test_race.py'}:{RACE.count(chr(10)) - 1}: {command}" in "\n".join(
        result.outlines
    )
    assert f"FAILED {TEST_ID} - {command}" in "\n".join(result.outlines)
    junit = (tester.path / "out.xml").read_text()
    assert f'<failure message="{command.replace(chr(39), "&apos;")}' in junit or (
        f'<failure message="{command}' in junit
    )
