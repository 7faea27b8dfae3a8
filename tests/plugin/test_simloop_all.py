"""--simloop-all: an existing pytest-asyncio or anyio suite runs on simloop's
sweep unchanged; a simloop mark added late is honoured (pytest_simloop/plugin.py).

Covers pytest_simloop/plugin.py, _item.py, _sweep.py.
"""

from __future__ import annotations

import pytest
from plugin_helpers import ini, summary

SUITE = """
import asyncio
import pytest
import pytest_asyncio


@pytest_asyncio.fixture
async def server():
    async def echo(reader, writer):
        writer.write(await reader.readline())
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest_asyncio.fixture(scope="module")
async def wide():
    return asyncio.get_running_loop()


@pytest.mark.asyncio
async def test_echo(server):
    reader, writer = await asyncio.open_connection("127.0.0.1", server)
    writer.write(b"ping\\n")
    assert await reader.readline() == b"ping\\n"
    writer.close()


@pytest.mark.asyncio
async def test_wide_fixture_is_set_up_on_each_seeds_loop(wide):
    assert wide is asyncio.get_running_loop()


@pytest.mark.asyncio
async def test_sleeps_in_virtual_time():
    await asyncio.sleep(3600)


def test_sync():
    pass
"""


def test_pytest_asyncio_tests_run_on_simloop_with_simloop_all(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_suite=SUITE)
    result = tester.runpytest("-p", "no:cacheprovider", "--simloop-all", "--simloop-seeds=7")
    result.assert_outcomes(passed=4)
    lines = summary(result)
    assert [line.split(": ")[0] for line in lines] == [
        "test_suite.py::test_echo",
        "test_suite.py::test_sleeps_in_virtual_time",
        "test_suite.py::test_wide_fixture_is_set_up_on_each_seeds_loop",
    ]
    assert all(": 7 seeds in " in line for line in lines)
    # Without the option they are pytest-asyncio's (the sleep would take an hour).
    tester.makepyfile(test_suite=SUITE.replace("3600", "0"))
    result = tester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)  # the module-scoped loop fixture


@pytest.mark.parametrize("how", ["module mark", "class mark", "auto mode"])
def test_every_way_pytest_asyncio_claims_a_test_is_taken_over(
    tester: pytest.Pytester, how: str
) -> None:
    body = "async def test_it():\n    await asyncio.sleep(10)\n"
    if how == "module mark":
        source = f"import asyncio\nimport pytest\npytestmark = pytest.mark.asyncio\n{body}"
    elif how == "class mark":
        indented = "    " + body.replace("\n    ", "\n        ").replace("(", "(self", 1)
        source = f"import asyncio\nimport pytest\n@pytest.mark.asyncio\nclass TestIt:\n{indented}"
    else:
        ini(tester, "asyncio_mode = auto")
        source = f"import asyncio\n{body}"
    tester.makepyfile(test_claimed=source)
    result = tester.runpytest("-p", "no:cacheprovider", "--simloop-all", "--simloop-seeds=3")
    result.assert_outcomes(passed=1)
    assert summary(result)[0].split(": ")[1].startswith("3 seeds in ")


def test_anyio_tests_on_the_asyncio_backend_are_taken_over(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_anyio_suite="""
        import anyio
        import pytest

        @pytest.mark.anyio
        async def test_it():
            await anyio.sleep(10)
        """
    )
    result = tester.runpytest("-p", "no:cacheprovider", "--simloop-all", "--simloop-seeds=2")
    result.assert_outcomes(passed=1)
    assert summary(result)[0].startswith("test_anyio_suite.py::test_it[asyncio]: 2 seeds in ")


def test_the_ini_key_takes_over_too(tester: pytest.Pytester) -> None:
    ini(tester, "simloop_all = true\nsimloop_seeds = 2")
    tester.makepyfile(SUITE)
    tester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_a_taken_over_test_that_fails_reports_its_seed(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_racy="""
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_race():
            order = []

            async def worker(name):
                await asyncio.sleep(0.001)
                order.append(name)

            await asyncio.gather(worker("a"), worker("b"))
            assert order == ["a", "b"]
        """
    )
    result = tester.runpytest("-p", "no:cacheprovider", "--simloop-all")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*pytest 'test_racy.py::test_race' --simloop-seed=*"])


def test_leftovers_of_a_taken_over_test_are_cleaned_up_silently(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_leaves="""
        import asyncio
        import pytest

        @pytest.mark.asyncio
        async def test_leaves_a_task():
            asyncio.create_task(asyncio.sleep(10))
        """
    )
    result = tester.runpytest(
        "-p", "no:cacheprovider", "--simloop-all", "-W", "error::pytest_simloop.SimloopWarning"
    )
    result.assert_outcomes(passed=1)  # as pytest-asyncio treats it
    assert summary(result)[0].endswith("; tasks left pending in 100/100")


def test_a_simloop_mark_added_by_a_collection_hook_is_honoured(tester: pytest.Pytester) -> None:
    tester.makeconftest(
        """
        import pytest

        def pytest_collection_modifyitems(items):
            for item in items:
                item.add_marker(pytest.mark.simloop(seeds=4))
        """
    )
    tester.makepyfile(
        test_late="""
        import asyncio

        async def test_sleeps():
            await asyncio.sleep(3600)
        """
    )
    result = tester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert summary(result)[0].startswith("test_late.py::test_sleeps: 4 seeds in ")


def test_a_second_loop_made_inside_a_test_is_a_simulated_one(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_second_loop="""
        import asyncio
        import pytest
        import simloop

        @pytest.mark.simloop(seeds=3)
        async def test_it():
            loop = asyncio.new_event_loop()
            try:
                assert isinstance(loop, simloop.SimLoop)
                assert loop is not asyncio.get_running_loop()
            finally:
                loop.close()
        """
    )
    tester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_pytest_timeout_ends_the_sweep_not_a_seed(tester: pytest.Pytester) -> None:
    tester.makepyfile(
        test_slow_seeds="""
        import pytest
        from simloop._determinism import real_sleep

        @pytest.mark.timeout(2)
        @pytest.mark.simloop(seeds=1000)
        async def test_each_seed_takes_real_time():
            real_sleep(0.01)  # 1000 seeds would take 10 s
        """
    )
    result = tester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    (line,) = summary(result)
    assert "seeds of 1000: pytest-timeout's limit of 2 s ran out (every seed that ran passed)" in (
        line
    ), line


def test_pytest_aiohttp_client_and_server_fixtures_work(tester: pytest.Pytester) -> None:
    """pytest-aiohttp's fixtures make a real socket.socket() for the test
    server: inside the simulation it is a simulated one."""
    tester.makepyfile(
        test_app="""
        import pytest
        from aiohttp import web

        async def hello(request):
            return web.Response(text="hello")

        @pytest.mark.asyncio
        async def test_hello(aiohttp_client):
            app = web.Application()
            app.router.add_get("/", hello)
            client = await aiohttp_client(app)
            response = await client.get("/")
            assert response.status == 200
            assert await response.text() == "hello"
        """
    )
    result = tester.runpytest("-p", "no:cacheprovider", "--simloop-all", "--simloop-seeds=20")
    result.assert_outcomes(passed=1)
    assert summary(result)[0].startswith("test_app.py::test_hello: 20 seeds in ")
