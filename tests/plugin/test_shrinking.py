"""A failing seed's schedule is shrunk to the simplest one that still fails, and said in words.

Covers pytest_simloop/_postmortem.py, simloop/_minimize.py.
"""

from __future__ import annotations

import re

import pytest
from plugin_helpers import ini, section

# A reply callback that never checks whether its waiter gave up: it fails when
# the timeout and the reply, due at the same instant, fire timeout first. The
# other awaits add task-order deviations that the failure does not need.
DEADLINE = """
import asyncio
import pytest

@pytest.mark.simloop(strict=True)  # the error in the reply callback fails the test
async def test_reply_at_the_deadline():
    loop = asyncio.get_running_loop()
    for _ in range(4):
        reply = loop.create_future()
        loop.call_later(0.05, reply.set_result, "pong")
        try:
            async with asyncio.timeout(0.05):
                await reply
        except TimeoutError:
            pass
        await asyncio.sleep(0.01)
        await asyncio.gather(asyncio.sleep(0), asyncio.sleep(0))
"""
DEADLINE_ID = "test_deadline.py::test_reply_at_the_deadline"
TIMER_TIE = (
    r"  timer tie at t=0\.\d{6}s \(after \d+ callbacks\): timers due together fire as "
    r"Timeout\._on_timeout then Future\.set_result"
)
SIMPLEST = r"simplest failing schedule \(1 deviation from FIFO, down from (\d+); (\d+) replays\):"


def _simplest(lines: list[str]) -> list[str]:
    """The lines of the simplest failing schedule: its header and what it does."""
    for index, line in enumerate(lines):
        if line.startswith("simplest failing schedule"):
            end = index + 1
            while end < len(lines) and lines[end].startswith("  "):
                end += 1
            return lines[index:end]
    raise AssertionError("no simplest failing schedule in:\n" + "\n".join(lines))


def test_a_failing_schedule_shrinks_to_the_one_deviation_it_needs(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(test_deadline=DEADLINE)
    result = tester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    lines = section(result)
    (listed,) = [line for line in lines if line.startswith("choices that differed from FIFO: ")]
    found = int(listed.rpartition(" ")[2])
    first = lines.index(listed) + 1
    header, deviation, rest = _simplest(lines)
    match = re.fullmatch(SIMPLEST, header)
    assert match is not None, header
    # the deviations before shrinking: the choices listed and the callbacks
    # given CPU time (counted apart in the list)
    cpu = [re.search(r"CPU time spent by (\d+) callback", line) for line in lines]
    costs = next((int(found_cpu.group(1)) for found_cpu in cpu if found_cpu), 0)
    assert int(match.group(1)) == found + costs
    assert found > 1
    assert int(match.group(2)) >= 1
    assert re.fullmatch(TIMER_TIE, deviation), deviation
    assert rest == "  everything else in plain FIFO order"
    # the simplest schedule's one deviation was among the failing run's (at the
    # same callback; its time moves when shrinking takes CPU time away)
    when = re.search(r"\(after (\d+) callbacks\)", deviation)
    assert when is not None
    assert any(
        line.endswith(
            f" after {when.group(1)} callbacks: timer tie: timers due together "
            "fire as Timeout._on_timeout then Future.set_result"
        )
        for line in lines[first : first + found]
    )


def test_shrinking_stops_at_its_budget_of_replays_and_says_so(tester: pytest.Pytester) -> None:
    ini(tester, "simloop_shrink_budget = 1")
    tester.makepyfile(test_deadline=DEADLINE)
    lines = _simplest(section(tester.runpytest("-p", "no:cacheprovider")))
    assert re.fullmatch(
        r"simplest failing schedule found so far \(\d+ deviations from FIFO, as found; "
        r"1 replay\):",
        lines[0],
    ), lines[0]
    assert lines[-1] == (
        "  shrinking stopped early: its budget of 1 replay ran out "
        "(--simloop-shrink-budget=N gives more); a simpler schedule may fail too"
    )


def test_shrinking_stops_at_its_time_limit_and_says_so(
    tester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simloop._minimize

    monkeypatch.setattr(simloop._minimize, "SHRINK_SECONDS", 0.0)
    tester.makepyfile(test_deadline=DEADLINE)
    lines = _simplest(section(tester.runpytest("-p", "no:cacheprovider")))
    assert re.fullmatch(
        r"simplest failing schedule found so far \(\d+ deviations from FIFO, as found; "
        r"0 replays\):",
        lines[0],
    ), lines[0]
    assert lines[-1] == (
        "  shrinking stopped early: its time limit of 0 seconds ran out; "
        "a simpler schedule may fail too"
    )


@pytest.mark.parametrize(
    ("how", "said"),
    [
        (
            ("--simloop-shrink-budget=0",),
            "not shrunk: shrinking is off (--simloop-shrink-budget=0)",
        ),
        (
            ("-o", "simloop_shrink_budget=0"),
            "not shrunk: shrinking is off (--simloop-shrink-budget=0)",
        ),
        (
            ("-k", "marked"),
            "not shrunk: shrinking is off for this test (shrink=False on its marker)",
        ),
    ],
)
def test_shrinking_can_be_turned_off(
    tester: pytest.Pytester, how: tuple[str, ...], said: str
) -> None:
    tester.makepyfile(
        test_deadline=DEADLINE
        + """
@pytest.mark.simloop(shrink=False, strict=True)
async def test_marked():
    await test_reply_at_the_deadline()
"""
    )
    selection = how if how[0] == "-k" else (*how, "-k", "deadline")
    lines = section(tester.runpytest("-p", "no:cacheprovider", *selection))
    assert said in lines
    assert not any(line.startswith("simplest failing schedule") for line in lines)


@pytest.mark.parametrize("value", ["-1", "many"])
def test_a_bad_shrink_budget_is_a_usage_error(tester: pytest.Pytester, value: str) -> None:
    result = tester.runpytest(f"--simloop-shrink-budget={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        f"ERROR: --simloop-shrink-budget: {value!r} is not a valid shrink budget; expected a "
        "number of replays, 0 or more (0 turns shrinking off), e.g. --simloop-shrink-budget=500"
    ) in result.errlines


def test_each_replay_is_a_whole_simulation_of_the_test_on_the_failing_seeds_randomness(
    tester: pytest.Pytester,
) -> None:
    """An async fixture notes every simulation and the first number the
    program's own `random` gives in it: shrinking replays set the fixture up
    too, and all of them draw the failing seed's numbers."""
    tester.makepyfile(
        test_deadline=DEADLINE.replace(
            "async def test_reply_at_the_deadline():",
            "async def test_reply_at_the_deadline(noted):",
        )
        + """
import pathlib
import random

@pytest.fixture
async def noted():
    with open(pathlib.Path(__file__).parent / "runs.txt", "a") as runs:
        runs.write(f"{random.random()}\\n")
    yield
"""
    )
    result = tester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    lines = section(result)
    seed = int(lines[0].split()[1])
    replays = int(re.fullmatch(SIMPLEST, _simplest(lines)[0]).group(2))  # type: ignore[union-attr]
    runs = (tester.path / "runs.txt").read_text().splitlines()
    # the sweep's seeds, the run that records the failing one, the shrinking
    # replays, and the replay of the simplest schedule that describes it
    assert len(runs) == (seed + 1) + 1 + replays + 1
    assert len(set(runs[seed:])) == 1
    assert len(set(runs[: seed + 1])) == seed + 1  # each seed has its own numbers


def test_a_hypothesis_test_is_not_shrunk_by_schedule(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_hyp="""
        import asyncio
        import pytest
        from hypothesis import given, settings, strategies as st

        @settings(max_examples=5, database=None)
        @given(st.integers(0, 3))
        @pytest.mark.simloop(seeds=50)
        async def test_order(n):
            finished = []

            async def worker(name):
                await asyncio.sleep(0)
                finished.append(name)

            async with asyncio.TaskGroup() as group:
                group.create_task(worker("a"))
                group.create_task(worker("b"))
            assert finished == ["a", "b"]
        """
    )
    result = tester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    lines = section(result)
    seed = int(lines[0].split()[1])
    assert (
        "not shrunk: Hypothesis shrinks this test's example, and the schedule stays "
        f"seed {seed}'s (it replays by seed)"
    ) in lines
    assert not any("--simloop-replay" in line for line in lines)
    assert any(line.startswith("timeline: ") for line in lines)
