"""pytest-asyncio and anyio keep working; a simloop test runs once, on simloop alone.

Covers pytest_simloop/plugin.py, _item.py.
"""

from __future__ import annotations

import pytest
from plugin_helpers import ini, summary

SUITE = """
import asyncio
import pytest
import pytest_asyncio
import simloop

SIMLOOP_RUNS = []

@pytest_asyncio.fixture
async def on_asyncio():
    yield asyncio.get_running_loop()

@pytest.mark.asyncio
async def test_on_pytest_asyncio(on_asyncio):
    loop = asyncio.get_running_loop()
    assert not isinstance(loop, simloop.SimLoop)
    assert on_asyncio is loop

@pytest.fixture
async def on_simloop():
    return asyncio.get_running_loop()

@pytest.mark.simloop(seeds=3)
async def test_on_simloop(on_simloop):
    loop = asyncio.get_running_loop()
    assert isinstance(loop, simloop.SimLoop)
    assert on_simloop is loop
    SIMLOOP_RUNS.append(loop)

@pytest.mark.anyio
async def test_on_anyio(anyio_backend):
    assert not isinstance(asyncio.get_running_loop(), simloop.SimLoop)

@pytest.fixture
def anyio_backend():
    return "asyncio"

def test_simloop_ran_once_per_seed():
    assert len(SIMLOOP_RUNS) == 3
"""


def test_pytest_asyncio_strict_mode_and_anyio_keep_their_tests(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_suite=SUITE)
    result = tester.runpytest()
    result.assert_outcomes(passed=4)
    (line,) = summary(result)
    assert line.startswith("test_suite.py::test_on_simloop: 3 seeds in ")


def test_in_pytest_asyncio_auto_mode_simloop_tests_still_run_once_on_simloop(
    tester: pytest.Pytester,
) -> None:
    ini(tester, "asyncio_mode = auto")
    tester.makepyfile(
        test_suite=SUITE.replace("@pytest.mark.asyncio\n", "")
        + """
async def test_unmarked_runs_on_asyncio():
    assert not isinstance(asyncio.get_running_loop(), simloop.SimLoop)
"""
    )
    result = tester.runpytest()
    result.assert_outcomes(passed=5)
    (line,) = summary(result)
    assert line.startswith("test_suite.py::test_on_simloop: 3 seeds in ")


def test_marking_a_test_both_asyncio_and_simloop_is_a_usage_error(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_both="""
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.simloop
        async def test_confused():
            pass
        """
    )
    result = tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "ERROR: test_both.py::test_confused is marked both simloop and asyncio: each test runs "
        "on one event loop. Remove one of the marks (if the test is not marked explicitly, "
        "look for a 'pytestmark' on its class or module)."
    ) in result.errlines


def test_a_module_marked_asyncio_with_a_simloop_test_is_a_usage_error(
    tester: pytest.Pytester,
) -> None:
    tester.makepyfile(
        test_module_mark="""
        import pytest

        pytestmark = pytest.mark.asyncio

        @pytest.mark.simloop
        async def test_confused():
            pass
        """
    )
    result = tester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: *test_confused is marked both simloop and asyncio*"])
