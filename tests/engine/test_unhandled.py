"""Errors that reach the loop's exception handler are logged, as on the stock
loop; in a strict run they fail it, after main ends.

Covers simloop/_run.py, simloop/_core.py (default_exception_handler).
"""

from __future__ import annotations

import asyncio
import sys

import pytest

import simloop


def test_by_default_a_task_exception_never_retrieved_is_logged_as_asyncio_run_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def orphan() -> None:
        raise LookupError("nobody awaited me")

    async def main() -> str:
        asyncio.get_running_loop().create_task(orphan())
        await asyncio.sleep(2)
        return "main finished"

    assert simloop.run(main()) == "main finished"
    assert [record.getMessage() for record in caplog.records] == [
        "Task exception was never retrieved\n"
        f"future: <Task finished name='Task-2' coro=<{orphan.__qualname__}() done, "
        f"defined at {__file__}:{orphan.__code__.co_firstlineno}> "
        "exception=LookupError('nobody awaited me')>"
    ]


def test_a_task_exception_never_retrieved_is_raised_with_its_traceback() -> None:
    async def orphan() -> None:
        await asyncio.sleep(1)
        raise LookupError("nobody awaited me")

    async def main() -> str:
        asyncio.get_running_loop().create_task(orphan())
        await asyncio.sleep(2)
        return "main finished"

    with pytest.raises(LookupError, match="nobody awaited me") as caught:
        simloop.run(main(), strict=True)
    assert any("Task exception was never retrieved" in note for note in caught.value.__notes__)
    frames = [frame.name for frame in caught.traceback]
    assert "orphan" in frames


def test_an_exception_in_a_callback_is_raised() -> None:
    async def main() -> None:
        asyncio.get_running_loop().call_soon(lambda: 1 / 0)
        await asyncio.sleep(1)

    with pytest.raises(ZeroDivisionError) as caught:
        simloop.run(main(), strict=True)
    assert any("Exception in callback" in note for note in caught.value.__notes__)


def test_several_errors_are_raised_as_a_group() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_soon(lambda: 1 / 0)
        loop.call_soon(lambda: [][1])
        await asyncio.sleep(1)

    with pytest.raises(ExceptionGroup) as caught:
        simloop.run(main(), strict=True)
    assert caught.group_contains(ZeroDivisionError)
    assert caught.group_contains(IndexError)
    assert "2 errors reached the loop's exception handler" in str(caught.value)


def test_main_failing_wins_and_mentions_the_other_errors() -> None:
    async def main() -> None:
        asyncio.get_running_loop().call_soon(lambda: 1 / 0)
        await asyncio.sleep(1)
        raise KeyError("main")

    with pytest.raises(KeyError) as caught:
        simloop.run(main(), strict=True)
    assert any("ZeroDivisionError" in note for note in caught.value.__notes__)


def test_a_custom_exception_handler_is_respected() -> None:
    seen: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda loop, context: seen.append(context["message"]))
        loop.call_soon(lambda: 1 / 0)
        await asyncio.sleep(1)

    simloop.run(main())
    assert len(seen) == 1


def test_an_exception_in_a_task_left_in_a_reference_cycle_is_still_reported() -> None:
    """A failed task kept alive by a cycle is only finalized by the garbage
    collector; the run collects at a fixed point so this is reported every time."""

    async def fails() -> None:
        raise OSError("in a cycle")

    async def main() -> None:
        holder: dict[str, object] = {}
        task = asyncio.get_running_loop().create_task(fails())
        holder["task"] = task
        holder["self"] = holder  # cycle
        await asyncio.sleep(1)

    for _ in range(3):
        with pytest.raises(OSError, match="in a cycle"):
            simloop.run(main(), strict=True)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="asyncio.run(loop_factory=) is new in 3.12")
def test_works_with_asyncio_run_loop_factory() -> None:
    async def main() -> float:
        await asyncio.sleep(100)
        return asyncio.get_running_loop().time()

    assert asyncio.run(main(), loop_factory=lambda: simloop.SimLoop(seed=1)) == pytest.approx(  # type: ignore[call-arg]
        100, abs=1
    )


def test_works_with_asyncio_runner() -> None:
    async def main() -> float:
        await asyncio.sleep(100)
        return asyncio.get_running_loop().time()

    with asyncio.Runner(loop_factory=lambda: simloop.SimLoop(strategy="fifo")) as runner:
        assert runner.run(main()) == 100
        assert runner.run(main()) == 200  # the same virtual clock across runs


def test_works_through_a_policy() -> None:
    async def main() -> simloop.SimLoop:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, simloop.SimLoop)
        return loop

    old = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(simloop.EventLoopPolicy(seed=40, strategy="fifo"))
    try:
        first = asyncio.run(main())
        second = asyncio.run(main())
    finally:
        asyncio.set_event_loop_policy(old)
    assert (first.seed, second.seed) == (40, 41)
    assert first.strategy.name == "fifo"


def test_policy_rejects_bad_options_at_once() -> None:
    with pytest.raises(ValueError, match="unknown strategy"):
        simloop.EventLoopPolicy(strategy="nope")


def test_a_recorded_run_marks_where_an_error_reached_the_exception_handler() -> None:
    from simloop._run import STRICT, run_on

    async def main() -> None:
        await asyncio.sleep(0.5)
        asyncio.get_running_loop().call_soon(lambda: 1 / 0)
        await asyncio.sleep(1)

    loop = simloop.SimLoop(0, "fifo", record=True)
    with pytest.raises(ZeroDivisionError):
        run_on(loop, main(), fail_on=STRICT)
    assert loop.trace.events is not None
    (error,) = [event for event in loop.trace.events if event.kind == "error"]
    assert (error.actor, error.virtual_time) == ("loop", 0.5)
    assert error.detail.startswith("Exception in callback ")
    assert error.detail.endswith(": ZeroDivisionError: division by zero")
    # a run that does not record events records none
    quiet = simloop.SimLoop(0, "fifo")
    with pytest.raises(ZeroDivisionError):
        run_on(quiet, main(), fail_on=STRICT)
    assert quiet.trace.events is None
