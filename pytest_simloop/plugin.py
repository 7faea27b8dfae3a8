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

from . import _options, _settings, _xdist
from ._item import SimloopFunction
from ._stash import (
    MEMORY,
    RESULT,
    RUN_OPTIONS,
    SETTINGS,
    is_hypothesis_test,
    is_simloop_candidate,
)

#: marks of other loops' plugins that a simloop test must not carry too
_OTHER_LOOP_MARKS = ("asyncio", "anyio")
_HELPER_KEY = "simloop_helper"


def pytest_addoption(parser: pytest.Parser) -> None:
    _settings.add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    from ._seeds import FailureMemory

    config.addinivalue_line("markers", _settings.MARKER_HELP)
    options = _options.read_run_options(config)
    cache = getattr(config, "cache", None)
    if options.cli_plan is not None and options.cli_plan.last and cache is None:
        raise pytest.UsageError(
            _options.NO_CACHE_FOR_LAST.format(SEED_OPTION=_settings.SEED_OPTION)
        )
    config.stash[RUN_OPTIONS] = options
    config.stash[MEMORY] = FailureMemory(cache)
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_xdist.ControllerHooks(), "simloop-xdist-controller")


def pytest_report_header(config: pytest.Config) -> str:
    from ._report import header

    return header(config.stash[RUN_OPTIONS])


def _taken_over(node: pytest.Function) -> bool:
    """Whether a test that pytest-asyncio or anyio (asyncio backend) would run
    runs on simloop instead (``--simloop-all``)."""
    config = node.config
    if not config.stash[RUN_OPTIONS].all:
        return False
    if node.get_closest_marker("asyncio") is not None:
        return True
    if _auto_mode(config, "asyncio_mode") and config.pluginmanager.hasplugin("asyncio"):
        return True
    if node.get_closest_marker("anyio") is not None or (
        _auto_mode(config, "anyio_mode") and config.pluginmanager.hasplugin("anyio")
    ):
        # anyio parametrizes its tests by backend: only the asyncio ones are ours.
        callspec = getattr(node, "callspec", None)
        backend = None if callspec is None else callspec.params.get("anyio_backend")
        name = backend[0] if isinstance(backend, (tuple, list)) else backend
        return name is None or name == "asyncio"
    return False


def _auto_mode(config: pytest.Config, name: str) -> bool:
    try:
        value = config.getoption(name, default=None) or config.getini(name)
    except ValueError:  # the plugin that owns it is not installed
        return False
    return str(value) == "auto"


def runs_on_simloop(node: pytest.Function) -> bool:
    """Whether `node` (a collected async test) is simloop's: marked, or taken over."""
    return node.get_closest_marker("simloop") is not None or _taken_over(node)


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Under xdist, collect each simloop test once per worker: the test and its helpers."""
    parts = _xdist.parts(metafunc.config)
    if parts < 2 or not runs_on_simloop(metafunc.definition):
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
    if not any(isinstance(node, pytest.Function) and runs_on_simloop(node) for node in nodes):
        return result
    converted = [
        SimloopFunction.from_function(node)
        if isinstance(node, pytest.Function)
        and not isinstance(node, SimloopFunction)
        and is_simloop_candidate(node.obj)
        and runs_on_simloop(node)
        else node
        for node in nodes
    ]
    return converted


# Last, so that only the tests left after deselection (-k, -m) are checked.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every simloop test's marks and resolve its settings (usage errors here)."""
    options = config.stash[RUN_OPTIONS]
    # A simloop mark that a collection_modifyitems hook added (after the
    # items were made): the test is simloop's all the same.
    for index, item in enumerate(items):
        if (
            type(item) is not SimloopFunction
            and isinstance(item, pytest.Function)
            and item.get_closest_marker("simloop") is not None
            and is_simloop_candidate(getattr(item, "obj", None))
        ):
            items[index] = SimloopFunction.from_function(item)
    simloop_items = [item for item in items if isinstance(item, SimloopFunction)]
    for item in simloop_items:
        for other in _OTHER_LOOP_MARKS:
            # (with --simloop-all, the other plugins' marks are what hands tests over)
            if item.get_closest_marker(other) is not None and not options.all:
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

    # The test being set up (request.node is a module or session for a wider fixture).
    test = getattr(request, "_pyfuncitem", request.node)
    if isinstance(test, SimloopFunction):
        if is_async_fixture_function(fixturedef.func):
            any_scope = test.get_closest_marker("simloop") is None
            with deferring(fixturedef, request, any_scope=any_scope):
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
        from ._report import REPORT_KEY, failure_section, replay_of, report_data

        report.__dict__[REPORT_KEY] = report_data(result)
        if result.failure is not None and report.failed:
            report.sections.append(("simloop", failure_section(item, result)))
            # The replay command in the failure's own first line: it is what
            # -rA, --tb=line, junit XML and CI annotations show of a failure.
            crash = getattr(report.longrepr, "reprcrash", None)
            if crash is not None:
                crash.message = f"[{replay_of(item, result)}] {crash.message}"
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
