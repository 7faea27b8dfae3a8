"""Async fixtures of a simloop test run on each seed's loop, once per seed.

Covers pytest_simloop/_fixtures.py.
"""

from __future__ import annotations

import pytest


def test_async_fixtures_share_the_tests_loop_and_clock_once_per_seed(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_clock_fixtures="""
        import asyncio
        import pytest
        import simloop

        EVENTS = []

        @pytest.fixture
        def journal():
            # sync: set up once by pytest, shared by every seed of the test
            EVENTS.append("journal")
            return EVENTS

        @pytest.fixture
        async def clock(journal):
            await asyncio.sleep(5)
            journal.append("clock up")
            return asyncio.get_running_loop()

        @pytest.fixture
        async def server(clock, journal):
            await asyncio.sleep(1)
            journal.append("server up")
            yield asyncio.get_running_loop()
            await asyncio.sleep(2)
            journal.append(f"server down at {asyncio.get_running_loop().time():g}")

        @pytest.mark.simloop(seeds=2, strategy="fifo")
        async def test_uses_them(clock, server):
            loop = asyncio.get_running_loop()
            assert isinstance(loop, simloop.SimLoop)
            assert clock is loop and server is loop
            assert loop.time() == 6

        def test_afterwards():
            assert EVENTS == [
                "journal",
                "clock up", "server up", "server down at 8",
                "clock up", "server up", "server down at 8",
            ]
        """
    )
    tester.runpytest().assert_outcomes(passed=2)


def test_autouse_async_fixtures_run_in_each_simulation(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_autouse="""
        import asyncio
        import contextvars
        import pytest

        USER = contextvars.ContextVar("user")
        RUNS = []

        class TestLoggedIn:
            @pytest.fixture(autouse=True)
            async def logged_in(self):
                USER.set("ada")
                RUNS.append(asyncio.get_running_loop())
                yield

            @pytest.mark.simloop(seeds=3)
            async def test_sees_the_fixtures_context(self):
                assert USER.get() == "ada"
                assert RUNS[-1] is asyncio.get_running_loop()

        def test_once_per_seed():
            assert len(RUNS) == 3
            assert len(set(map(id, RUNS))) == 3
        """
    )
    tester.runpytest().assert_outcomes(passed=2)


def test_async_fixtures_on_a_test_class_are_bound_to_its_instance(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_class="""
        import asyncio
        import pytest

        class TestService:
            @pytest.fixture
            async def started(self):
                await asyncio.sleep(2)
                return self

            @pytest.mark.simloop(seeds=2)
            async def test_method(self, started):
                assert started is self
                assert asyncio.get_running_loop().time() >= 2
        """
    )
    tester.runpytest().assert_outcomes(passed=1)


def test_a_failing_teardown_fails_the_test(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_teardown="""
        import pytest

        @pytest.fixture
        async def resource():
            yield
            raise OSError("could not release")

        @pytest.mark.simloop(seeds=2)
        async def test_it(resource):
            pass
        """
    )
    result = tester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E       OSError: could not release"])


def test_an_async_fixture_wider_than_a_function_is_refused(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_scope="""
        import pytest

        @pytest.fixture(scope="module")
        async def shared():
            return 1

        @pytest.mark.simloop(seeds=2)
        async def test_it(shared):
            pass
        """
    )
    result = tester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "simloop runs the async fixtures of a simloop test on each seed's own loop, once "
            "per seed, so they must be function-scoped; 'shared' has scope 'module'. Make it "
            "function-scoped, or make it a plain (sync) fixture."
        ]
    )


def test_a_sync_fixture_that_needs_an_async_one_is_refused(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_sync_on_async="""
        import pytest

        @pytest.fixture
        async def server():
            return "server"

        @pytest.fixture
        def client(server):
            return ("client of", server)

        @pytest.mark.simloop(seeds=2)
        async def test_it(client):
            pass
        """
    )
    result = tester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "sync fixture 'client' needs async fixture 'server', but pytest sets a sync fixture "
            "up once per test while a simloop test's async fixtures are set up in each seed's "
            "simulation. Make 'client' an async fixture."
        ]
    )
