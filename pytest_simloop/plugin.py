"""The simloop pytest plugin (registered under ``pytest11`` as ``simloop``).

It translates pytest's world into engine calls and back: options and the
``simloop`` marker into each test's settings, a marked ``async def`` test into
an item that sweeps its seeds, async fixtures into fixtures set up on each
seed's loop, and a failing seed into one report with a replay command.

Kept light: the engine (``simloop``) is imported only when a marked test is
collected, so loading the plugin costs nothing for suites that do not use it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from . import _options, _xdist
from ._item import (
    MEMORY,
    RESULT,
    RUN_OPTIONS,
    SETTINGS,
    SimloopFunction,
    is_hypothesis_test,
    is_simloop_candidate,
)

#: marks of other loops' plugins that a simloop test must not carry too
_OTHER_LOOP_MARKS = ("asyncio", "anyio")
_HELPER_KEY = "simloop_helper"


def pytest_addoption(parser: pytest.Parser) -> None:
    _options.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    from ._seeds import FailureMemory

    config.addinivalue_line("markers", _options.MARKER_HELP)
    options = _options.read_run_options(config)
    cache = getattr(config, "cache", None)
    if options.cli_plan is not None and options.cli_plan.last and cache is None:
        raise pytest.UsageError(_options.NO_CACHE_FOR_LAST.format(SEED_OPTION=_options.SEED_OPTION))
    config.stash[RUN_OPTIONS] = options
    config.stash[MEMORY] = FailureMemory(cache)
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_xdist.ControllerHooks(), "simloop-xdist-controller")


def pytest_report_header(config: pytest.Config) -> str:
    from ._report import header

    return header(config.stash[RUN_OPTIONS])


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Under xdist, collect each simloop test once per worker: the test and its helpers."""
    parts = _xdist.parts(metafunc.config)
    if parts < 2 or metafunc.definition.get_closest_marker("simloop") is None:
        return
    if not is_simloop_candidate(metafunc.function):
        return
    metafunc.fixturenames.append(_xdist.PART_ARGUMENT)
    metafunc.parametrize(_xdist.PART_ARGUMENT, range(parts), ids=_xdist.helper_ids(parts))


# Inner to pytest-asyncio's and anyio's collection hooks (trylast): they then
# see the simloop item, whose function is not a coroutine, and leave it alone.
@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    result = yield
    if result is None:
        return result
    nodes = result if isinstance(result, list) else [result]
    if not any(
        isinstance(node, pytest.Function) and node.get_closest_marker("simloop") is not None
        for node in nodes
    ):
        return result
    converted = [
        SimloopFunction.from_function(node)
        if isinstance(node, pytest.Function)
        and not isinstance(node, SimloopFunction)
        and node.get_closest_marker("simloop") is not None
        and is_simloop_candidate(node.obj)
        else node
        for node in nodes
    ]
    return converted


# Last, so that only the tests left after deselection (-k, -m) are checked.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every simloop test's marks and resolve its settings (usage errors here)."""
    options = config.stash[RUN_OPTIONS]
    simloop_items = [item for item in items if isinstance(item, SimloopFunction)]
    for item in simloop_items:
        for other in _OTHER_LOOP_MARKS:
            if item.get_closest_marker(other) is not None:
                raise pytest.UsageError(
                    _options.MARKED_FOR_TWO_LOOPS.format(nodeid=item.nodeid, other=other)
                )
        marker = _options.merged_marker_arguments(item.iter_markers("simloop"), item.nodeid)
        item.stash[SETTINGS] = _options.settings_for(options, marker, item.nodeid)
    if options.replay is not None:
        options.replay.check_replayed([_xdist.primary_nodeid(item) for item in simloop_items])
        for item in simloop_items:
            options.replay.check_selected(
                _xdist.primary_nodeid(item), is_hypothesis_test(getattr(item, "function", None))
            )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    """An async fixture of a simloop test is set up by each seed's simulation."""
    from ._fixtures import check_sync_arguments, deferring, is_async_fixture_function

    if isinstance(request.node, SimloopFunction):
        if is_async_fixture_function(fixturedef.func):
            with deferring(fixturedef, request):
                return (yield)
        check_sync_arguments(fixturedef, request)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not isinstance(item, SimloopFunction):
        return report
    if item.part > 0:
        # Plain data survives xdist: the controller hides helpers' reports.
        report.__dict__[_HELPER_KEY] = True
        return report
    result = item.stash.get(RESULT, None)
    if call.when == "call" and result is not None:
        from ._report import REPORT_KEY, failure_section, report_data

        report.__dict__[REPORT_KEY] = report_data(result)
        if result.failure is not None and report.failed:
            report.sections.append(("simloop", failure_section(item, result)))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    if report.__dict__.get(_HELPER_KEY) and (report.passed or report.skipped):
        return "", "", ""  # an xdist helper: its test reports for it
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from ._report import REPORT_KEY, summary_line

    lines = []
    for reports in terminalreporter.stats.values():
        for report in reports:
            data = getattr(report, "__dict__", {}).get(REPORT_KEY)
            if data is not None:
                lines.append(summary_line(data))
    if lines:
        terminalreporter.write_sep("=", "simloop")
        for line in sorted(lines):
            terminalreporter.write_line(line)
