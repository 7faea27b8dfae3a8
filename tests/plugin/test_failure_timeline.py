"""Every failure report shows its last events; --simloop-trace writes the whole run.

Covers pytest_simloop/_postmortem.py, _schedules.py.
"""

from __future__ import annotations

import json
import re

import pytest
from plugin_helpers import section

# Two workers append to a list after one step each: a seed that lets the
# second take its step first breaks the assert.
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
TIMELINE_HEADER = (
    r"timeline: (all (\d+) events|the last (\d+) of (\d+) events) before the run ended "
    r"\(t = virtual seconds; \* = differs from FIFO\):"
)


def timeline(lines: list[str]) -> tuple[str, list[str]]:
    """The timeline's header and its event lines."""
    for index, line in enumerate(lines):
        if line.startswith("timeline: "):
            end = index + 1
            while end < len(lines) and lines[end].startswith(("    ", "  * ")):
                end += 1
            return line, lines[index + 1 : end]
    raise AssertionError("no timeline in:\n" + "\n".join(lines))


def test_a_failure_report_ends_its_timeline_where_the_run_ended(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_race=RACE)
    result = tester.runpytest("-p", "no:cacheprovider")
    header, events = timeline(section(result))
    match = re.fullmatch(TIMELINE_HEADER, header)
    assert match is not None, header
    assert int(match.group(2)) == len(events)
    # (a seed may charge CPU time: the times are a few microseconds, not 0)
    time = r"t=0\.0000\d\d"
    assert re.fullmatch(
        rf"    {time}     main       create   test_workers_finish_in_order", events[0]
    )
    assert re.fullmatch(
        rf"    {time}     main       done     raised AssertionError: "
        r"assert \['b', 'a'\] == \['a', 'b'\] \.\.\.",
        events[-2],
    ), events[-2]
    assert re.fullmatch(
        rf"    {time}     loop       end      the run failed: AssertionError; cleaning up",
        events[-1],
    )
    # the step where this schedule left FIFO is marked
    deviations = [line for line in events if line.startswith("  * ")]
    assert len(deviations) == 1
    assert re.fullmatch(rf"  \* {time}     task order choice   Task-\d then Task-\d", deviations[0])


def test_a_long_run_shows_its_last_thirty_events(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_long="""
        import asyncio
        import pytest

        @pytest.mark.simloop(strategy="fifo")
        async def test_counts_down():
            for left in range(40, -1, -1):
                await asyncio.sleep(0.5)
            assert left == 1, "counted too far"
        """
    )
    header, events = timeline(section(tester.runpytest("-p", "no:cacheprovider")))
    match = re.fullmatch(TIMELINE_HEADER, header)
    assert match is not None, header
    assert (int(match.group(3)), len(events)) == (30, 30)
    assert int(match.group(4)) > 41
    assert events[-1] == (
        "    t=20.500000    loop end      the run failed: AssertionError; cleaning up"
    )
    assert not any(line.startswith("  * ") for line in events)  # fifo: nothing differs


def test_trace_dir_gets_the_whole_run_as_a_chrome_trace_and_a_page(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(test_race=RACE)
    result = tester.runpytest("--simloop-trace=traces")
    lines = section(result)
    seed = int(lines[0].split()[1])
    stem = f"test_race.py_test_workers_finish_in_order-seed{seed}"
    index = lines.index("the whole run, to open in Perfetto (ui.perfetto.dev) or a browser:")
    assert lines[index + 1 : index + 3] == [
        f"  traces/{stem}.trace.json",
        f"  traces/{stem}.html",
    ]
    trace = json.loads((tester.path / "traces" / f"{stem}.trace.json").read_text())
    names = {record["args"]["name"] for record in trace["traceEvents"] if record["ph"] == "M"}
    assert {"main", "Task-2", "Task-3", "differs from FIFO"} <= names
    kinds = {record.get("cat") for record in trace["traceEvents"]}
    assert "end" in kinds  # the whole run: clean-up included
    page = (tester.path / "traces" / f"{stem}.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "test_race.py::test_workers_finish_in_order seed" in page
    # the schedule is saved next to them, and the report says how to replay it
    assert (tester.path / "traces" / f"{stem}.schedule.json").is_file()
    assert lines[-1] == (
        "  pytest 'test_race.py::test_workers_finish_in_order' "
        f"--simloop-replay=traces/{stem}.schedule.json"
    )


def test_trace_file_names_are_made_safe_from_the_test_id() -> None:
    from pytest_simloop._schedules import file_stem

    assert file_stem("tests/test_a.py::TestX::test_b[a/b c]", 3) == (
        "tests_test_a.py_TestX_test_b_a_b_c-seed3"
    )
    long = "tests/test_a.py::test_b[" + "x" * 200 + "]"
    stem = file_stem(long, 0)
    assert len(stem) < 120
    assert stem != file_stem(long.replace("xx]", "xy]"), 0)  # kept apart by a crc32


def test_a_seed_that_passes_when_run_again_is_reported_as_not_deterministic(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_flaky="""
        import pytest

        RUNS = []

        @pytest.mark.simloop
        async def test_only_the_first_run_fails():
            RUNS.append(1)
            assert len(RUNS) > 1
        """
    )
    lines = section(tester.runpytest("-p", "no:cacheprovider"))
    assert (
        "seed 0 passed when run again to record it: the test is not deterministic "
        "(--simloop-check-determinism shows where two runs part); no timeline, no shrinking"
    ) in lines
    assert not any(line.startswith("timeline: ") for line in lines)


def test_after_an_error_in_a_callback_the_timeline_stops_where_it_happened(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_client="""
        import asyncio
        import pytest

        @pytest.mark.simloop(strategy="fifo", strict=True)
        async def test_reply_after_giving_up():
            loop = asyncio.get_running_loop()
            reply = loop.create_future()
            loop.call_later(0.2, reply.set_result, "pong")  # never checks reply.done()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await reply
            await asyncio.sleep(1)
        """
    )
    lines = section(tester.runpytest("-p", "no:cacheprovider"))
    assert lines[2] == (
        "  the first error reached the loop's exception handler at t=0.200000s, after 3 callbacks"
    )
    header, events = timeline(lines)
    assert re.fullmatch(
        r"timeline: all \d+ events up to the first error that reached the loop's exception "
        r"handler \(t = virtual seconds; \* = differs from FIFO\):",
        header,
    ), header
    # (3.13 shows a built-in method's handle without its arguments)
    assert re.fullmatch(
        r"    t=0\.200000     loop timer    Future\.set_result\(('pong')?\)", events[-2]
    ), events[-2]
    assert re.fullmatch(
        r"    t=0\.200000     loop error    Exception in callback Future\.set_result\(('pong')?\): "
        r"InvalidStateError: invalid state",
        events[-1],
    ), events[-1]
    more = lines[lines.index(events[-1]) + 1]
    assert re.fullmatch(r"  \.\.\. and \d+ more events before the run ended", more), more


def test_a_failure_stays_a_failure_whatever_its_second_run_does(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_odd="""
        import pytest

        RUNS = []

        @pytest.mark.simloop
        async def test_fails_then_skips():
            RUNS.append(1)
            if len(RUNS) > 1:
                pytest.skip("second run")
            assert False, "first run"
        """
    )
    result = tester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "simloop could not examine seed 0: Skipped: second run" in section(result)
