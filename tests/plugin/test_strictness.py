"""Hangs fail a test unless it opts out. Errors the loop caught and leftovers
are cleaned up, logged and reported as warnings, as asyncio.run and pytest do;
a strict test fails on them.

Covers pytest_simloop/_runner.py, _warnings.py.
"""

from __future__ import annotations

import re

import pytest
from plugin_helpers import ini, section


def _run(tester: pytest.Pytester, body: str, marker: str = "seeds=3") -> pytest.RunResult:
    tester.makepyfile(
        test_strict=f"""
        import asyncio
        import pytest
        import simloop

        @pytest.mark.simloop({marker})
        async def test_it():
        {body}
        """
    )
    return tester.runpytest()


DEADLOCK = """
            first_ready, second_ready = asyncio.Event(), asyncio.Event()

            async def first():
                await second_ready.wait()
                first_ready.set()

            async def second():
                await first_ready.wait()
                second_ready.set()

            async with asyncio.TaskGroup() as group:
                group.create_task(first(), name="first")
                group.create_task(second(), name="second")
"""


def test_a_deadlock_fails_with_every_blocked_task(tester: pytest.Pytester) -> None:
    result = _run(tester, DEADLOCK)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "simloop.Deadlock: deadlock: nothing can run and no timer is pending, so no task "
            "below can ever make progress",
            "  at virtual time t=0.0000*s after * callbacks (seed *, strategy random)",
            "  3 unfinished task(s):",
            "    main (*) at test_strict.py:* in test_it, awaiting TaskGroup.__aexit__()",
            "    first (*) at test_strict.py:* in test_it.<locals>.first, awaiting Event.wait()",
            "    second (*) at test_strict.py:* in test_it.<locals>.second, awaiting Event.wait()",
        ]
    )
    assert (
        section(result)[0]
        == "seed 0 failed; 0 seeds passed before it (seeds 0..2, strategy random)"
    )
    assert "All traceback entries are hidden" not in result.stdout.str()


def test_a_deadlock_may_be_allowed(tester: pytest.Pytester) -> None:
    _run(tester, DEADLOCK, "seeds=3, allow_deadlock=True").assert_outcomes(passed=1)


POLLING = """
            while True:
                await asyncio.sleep(60)
"""


def test_a_livelock_fails_at_the_time_limit(tester: pytest.Pytester) -> None:
    result = _run(tester, POLLING, "seeds=3, time_limit=3600")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "simloop.TimeLimitExceeded: livelock: virtual time passed the time limit of 3600s "
            "(raise it with time_limit=...) while tasks were still running",
        ]
    )
    assert re.fullmatch(
        r"virtual time of the failure: 36\d\d\.\d{6}s, after \d+ callbacks", section(result)[1]
    )


def test_a_run_that_reaches_its_limit_may_pass(tester: pytest.Pytester) -> None:
    # "run the system for an hour of virtual time": reaching the limit is the end
    _run(tester, POLLING, "seeds=3, time_limit=3600, allow_livelock=True").assert_outcomes(passed=1)


UNHANDLED = """
            asyncio.get_running_loop().call_soon(lambda: 1 / 0)
            await asyncio.sleep(1)
"""


def test_an_error_that_reached_the_exception_handler_is_logged_and_a_warning(
    tester: pytest.Pytester,
) -> None:
    result = _run(tester, UNHANDLED)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*SimloopUnhandledErrorWarning: test_strict.py::test_it: in 3 of 3 seeds an error "
            "reached the loop's exception handler (logged to the 'asyncio' logger, as the "
            "stock loop does)",
            "  seed 0:",
            "    Exception in callback *: ZeroDivisionError: division by zero",
            "  Handle the error where it happens (await the task, catch it in the callback) "
            "to silence this; @pytest.mark.simloop(strict=True) makes it a failure.",
        ]
    )


def test_caplog_sees_an_error_the_loop_caught_as_the_stock_loop_logs_it(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_logged="""
        import asyncio
        import logging
        import pytest

        @pytest.mark.simloop(seeds=2)
        async def test_it(caplog):
            asyncio.get_running_loop().call_soon(lambda: 1 / 0)
            await asyncio.sleep(1)
            (record,) = [r for r in caplog.records if r.name == "asyncio"][-1:]
            assert record.levelno == logging.ERROR
            assert record.getMessage().startswith("Exception in callback ")
            assert record.exc_info[0] is ZeroDivisionError
        """
    )
    tester.runpytest().assert_outcomes(passed=1, warnings=1)


def test_a_strict_test_fails_on_an_error_that_reached_the_exception_handler(
    tester: pytest.Pytester,
) -> None:
    _run(tester, UNHANDLED).assert_outcomes(passed=1, warnings=1)
    for how in (["--simloop-strict"], ["-W", "error::pytest_simloop.SimloopWarning"]):
        tester.runpytest(*how).assert_outcomes(failed=1)
    ini(tester, "simloop_strict = true")
    tester.runpytest().assert_outcomes(failed=1)
    result = _run(tester, UNHANDLED, "seeds=3, strict=True")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "E   ZeroDivisionError: division by zero",
            "E   simloop: this reached the loop's exception handler: Exception in callback *",
        ]
    )


def test_errors_that_reach_the_exception_handler_may_be_allowed(
    tester: pytest.Pytester,
) -> None:
    _run(tester, UNHANDLED, "seeds=3, strict=True, allow_unhandled=True").assert_outcomes(passed=1)
    _run(tester, UNHANDLED, "seeds=3, allow_unhandled=True").assert_outcomes(passed=1)


PENDING = """
            asyncio.create_task(asyncio.sleep(10), name="sleeper")
            await asyncio.sleep(0)
"""


def test_a_task_still_pending_when_the_test_returns_is_cancelled_and_a_warning(
    tester: pytest.Pytester,
) -> None:
    result = _run(tester, PENDING)
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*SimloopLeftoversWarning: test_strict.py::test_it: in 3 of 3 seeds the test "
            "returned with tasks still pending (cancelled and awaited by simloop, as "
            "asyncio.run does)",
            "  seed 0:",
            "    sleeper (sleep) in library code, awaiting sleep()",
        ]
    )


def test_a_task_still_pending_fails_a_strict_test(tester: pytest.Pytester) -> None:
    result = _run(tester, PENDING, "seeds=3, strict=True")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "simloop.Leftovers: leftovers: the main coroutine returned with 1 task(s) "
            "still pending",
            "*  1 unfinished task(s):",
            "    sleeper (sleep) in library code, awaiting sleep()",
        ]
    )


def test_pending_tasks_may_be_allowed(tester: pytest.Pytester) -> None:
    _run(tester, PENDING, "seeds=3, strict=True, allow_pending=True").assert_outcomes(passed=1)
    _run(tester, PENDING, "seeds=3, allow_pending=True").assert_outcomes(passed=1)


def test_an_open_transport_fails_a_strict_test_unless_allowed(tester: pytest.Pytester) -> None:
    tester.makeconftest(
        """
        import pytest
        import simloop

        @pytest.fixture(autouse=True)
        def a_transport_left_open(monkeypatch):
            left_open = ["tcp 10.0.0.1:5000 -> 10.0.0.2:80"]
            monkeypatch.setattr(simloop.SimLoop, "open_transports", lambda self: left_open)
        """
    )
    result = _run(tester, "    pass", "strict=True")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "simloop.Leftovers: leftovers: the main coroutine returned with 1 transport(s) "
            "still open",
            "*  open transport(s):",
            "    tcp 10.0.0.1:5000 -> 10.0.0.2:80",
        ]
    )
    _run(tester, "    pass", "strict=True, allow_open_transports=True").assert_outcomes(passed=1)
    result = _run(tester, "    pass")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*transports, servers or sockets still open (closed by simloop)"])


def test_skipping_inside_a_simloop_test_skips_it(tester: pytest.Pytester) -> None:
    _run(tester, "    pytest.skip('not today')").assert_outcomes(skipped=1)


def test_a_sync_test_under_a_module_mark_runs_as_a_plain_test(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_mixed="""
        import pytest

        pytestmark = pytest.mark.simloop

        def test_sync():
            assert True

        async def test_async():
            pass
        """
    )
    tester.runpytest().assert_outcomes(passed=2)
