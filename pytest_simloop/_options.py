"""The plugin's settings (`simloop._settings`) resolved into one `TestSettings` per test.

Precedence, the same for every setting: the command line, then the test's
``simloop`` markers (the closest wins), then the ini file, then the default.
So ``--simloop-seeds=1000`` deepens every test, and a printed replay command
(``--simloop-seed=S``) replays whatever the markers say.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._settings import (
    BY_NAME,
    DEFAULT_SEEDS,
    DEFAULT_SHRINK_BUDGET,
    DEFAULT_STRATEGY,
    LAST,
    MARKER_ARGUMENTS,
    NETWORK,
    REPLAY_OPTION,
    SCHEDULE_SETTINGS,
    SEED_OPTION,
    SEED_RANGE_OPTION,
    SEEDS_OPTION,
    SETTINGS,
    SHRINK_BUDGET_OPTION,
    STRATEGY,
    STRATEGY_OPTION,
    network_names,
    parse_seed,
    parse_seed_range,
    parse_seeds,
    strategy_names,
)

if TYPE_CHECKING:
    from ._schedules import RecordedSchedule

CONFLICTING_SEED_OPTIONS = """\
{first} and {second} both choose the seeds to run; give only one of \
{SEED_OPTION}, {SEED_RANGE_OPTION} and {SEEDS_OPTION}\
"""
NO_CACHE_FOR_LAST = """\
{SEED_OPTION}=last replays the failing seeds kept in pytest's cache, but the cache \
is disabled (-p no:cacheprovider); give a seed number instead\
"""
REPLAY_WITH_OTHER_SEEDS = """\
{REPLAY_OPTION} replays one recorded schedule, whose file says its seed and \
strategy; do not combine it with {other}\
"""
UNKNOWN_MARKER_ARGUMENT = """\
{nodeid}: @pytest.mark.simloop got {what}; accepted keyword arguments: {names}\
"""
BAD_MARKER_VALUE = """\
{nodeid}: @pytest.mark.simloop({name}={value!r}): expected {expected}\
"""
WORLD_NEEDS_RANDOM = """\
{nodeid}: {setting} needs the random strategy, which draws the network and \
its faults; this test runs strategy {strategy!r}. Give the test \
strategy='random' (or a simloop.strategies.Random), or leave {name} unset.\
"""
MARKED_FOR_TWO_LOOPS = """\
{nodeid} is marked both simloop and {other}: each test runs on one event loop. \
Remove one of the marks (if the test is not marked explicitly, look for a \
'pytestmark' on its class or module).\
"""


# -- run-wide settings -------------------------------------------------------


@dataclass(frozen=True)
class SeedPlan:
    """The seeds a test runs: a range to explore, or one pinned seed."""

    seeds: range
    pinned: bool = False
    #: resolve per test to its last failing seed (``--simloop-seed=last``)
    last: bool = False

    @classmethod
    def count(cls, seeds: int) -> SeedPlan:
        return cls(range(seeds))

    @classmethod
    def one(cls, seed: int) -> SeedPlan:
        return cls(range(seed, seed + 1), pinned=True)

    def describe(self) -> str:
        if self.last:
            return "each test's last failing seed"
        if self.pinned:
            return f"seed {self.seeds.start}"
        return f"seeds {self.seeds.start}..{self.seeds.stop - 1}"

    def flag(self) -> str:
        """The option that selects these seeds again."""
        if self.last:
            return f"{SEED_OPTION}={LAST}"
        if self.pinned:
            return f"{SEED_OPTION}={self.seeds.start}"
        if self.seeds.start == 0:
            return f"{SEEDS_OPTION}={self.seeds.stop}"
        return f"{SEED_RANGE_OPTION}={self.seeds.start}:{self.seeds.stop}"


@dataclass(frozen=True)
class RunOptions:
    """Run-wide settings from the command line and the ini file."""

    cli_plan: SeedPlan | None
    ini_plan: SeedPlan | None
    #: per setting name, the value the command line gave (absent: not given)
    cli: Mapping[str, Any]
    #: per setting name, the value the ini file gave (absent: not given)
    ini: Mapping[str, Any]
    check_determinism: bool = False
    shrink_budget: int = DEFAULT_SHRINK_BUDGET
    #: run pytest-asyncio's and anyio's async tests on simloop (--simloop-all)
    all: bool = False
    #: where failing seeds' traces and schedules are written (--simloop-trace)
    trace_dir: Path | None = None
    #: the schedule every selected simloop test replays (--simloop-replay)
    replay: RecordedSchedule | None = None

    @property
    def plan(self) -> SeedPlan:
        """The seeds of a test whose markers choose none."""
        return self.cli_plan or self.ini_plan or SeedPlan.count(DEFAULT_SEEDS)

    @property
    def strategy(self) -> str:
        return str(self.cli.get("strategy") or self.ini.get("strategy") or DEFAULT_STRATEGY)

    @property
    def cli_strategy(self) -> str | None:
        return self.cli.get("strategy")

    def run_wide(self, name: str) -> Any:
        """A setting's value for a test whose markers do not give it."""
        if name in self.cli:
            return self.cli[name]
        if name in self.ini:
            return self.ini[name]
        return BY_NAME[name].default


@dataclass(frozen=True)
class TestSettings:
    """Everything one simloop test runs with."""

    plan: SeedPlan
    strategy: object  # a strategy name or a simloop.strategies.Strategy
    strategy_name: str
    #: options a replay command must repeat (the schedule settings the command line gave)
    replay_flags: tuple[str, ...]
    time_limit: float | None
    step_limit: int | None
    allow_deadlock: bool
    allow_livelock: bool
    allow_unhandled: bool
    allow_pending: bool
    allow_open_transports: bool
    check_determinism: bool
    #: a `sometimes()` that never held in a sweep does not fail the test
    allow_unexercised: bool = False
    #: leftovers and handler errors fail the test (else: cleaned up, a warning)
    strict: bool = False
    faults: bool = False
    network: str | None = None
    #: replays a failing seed may spend on shrinking its schedule (0: none)
    shrink_budget: int = DEFAULT_SHRINK_BUDGET
    #: why the schedule of a failing seed is not shrunk (None: it is)
    no_shrink_reason: str | None = None
    #: the recorded schedule this test replays, instead of exploring seeds
    replay: RecordedSchedule | None = None


def _plan_from(
    seed: str | None,
    seed_range: str | None,
    seeds: str | None,
    names: tuple[str, str, str],
) -> SeedPlan | None:
    given = [
        (name, value)
        for name, value in zip(names, (seed, seed_range, seeds), strict=True)
        if value not in (None, "")
    ]
    if len(given) > 1:
        raise pytest.UsageError(
            CONFLICTING_SEED_OPTIONS.format(
                first=f"{given[0][0]}={given[0][1]}",
                second=f"{given[1][0]}={given[1][1]}",
                SEED_OPTION=SEED_OPTION,
                SEED_RANGE_OPTION=SEED_RANGE_OPTION,
                SEEDS_OPTION=SEEDS_OPTION,
            )
        )
    if not given:
        return None
    name, value = given[0]
    assert value is not None
    if name == names[0]:
        parsed = parse_seed(value, name)
        if parsed == LAST:
            return SeedPlan(range(0), pinned=True, last=True)
        assert isinstance(parsed, int)
        return SeedPlan.one(parsed)
    if name == names[1]:
        return SeedPlan(parse_seed_range(value, name))
    return SeedPlan.count(parse_seeds(value, name))


_PLAN_SETTINGS = ("seed", "seed_range", "seeds")


def read_run_options(config: pytest.Config) -> RunOptions:
    """Parse and check the command line and the ini file (a `pytest.UsageError` if wrong)."""
    cli: dict[str, Any] = {}
    ini: dict[str, Any] = {}
    for setting in SETTINGS:
        if setting.option is None or setting.name in _PLAN_SETTINGS:
            continue
        given = config.getoption(setting.dest)
        if given is not None and (setting.flag or given != ""):
            cli[setting.name] = True if setting.flag else setting.kind.parse(given, setting.option)
        elif given == "":
            setting.kind.parse(given, setting.option)  # an empty value: the kind says why not
        if setting.ini:
            text = config.getini(setting.ini_key)
            if text:
                ini[setting.name] = setting.kind.parse(text, f"ini {setting.ini_key}")
    cli_plan = _plan_from(
        config.getoption("simloop_seed"),
        config.getoption("simloop_seed_range"),
        config.getoption("simloop_seeds"),
        (SEED_OPTION, SEED_RANGE_OPTION, SEEDS_OPTION),
    )
    ini_plan = _plan_from(
        config.getini("simloop_seed") or None,
        config.getini("simloop_seed_range") or None,
        config.getini("simloop_seeds") or None,
        ("ini simloop_seed", "ini simloop_seed_range", "ini simloop_seeds"),
    )
    here = config.invocation_params.dir
    replay = None
    if "replay" in cli:
        from ._schedules import load_schedule

        given_flags = [
            f"{option}={value}"
            for option, value in (
                (SEED_OPTION, config.getoption("simloop_seed")),
                (SEED_RANGE_OPTION, config.getoption("simloop_seed_range")),
                (SEEDS_OPTION, config.getoption("simloop_seeds")),
                (STRATEGY_OPTION, cli.get("strategy")),
            )
            if value
        ]
        if given_flags:
            raise pytest.UsageError(
                REPLAY_WITH_OTHER_SEEDS.format(REPLAY_OPTION=REPLAY_OPTION, other=given_flags[0])
            )
        replay = load_schedule(cli["replay"], here)
        cli_plan = SeedPlan.one(replay.seed)

    def run_wide(name: str) -> Any:
        return cli.get(name, ini.get(name, BY_NAME[name].default))

    return RunOptions(
        cli_plan=cli_plan,
        ini_plan=ini_plan,
        cli=cli,
        ini=ini,
        check_determinism=bool(run_wide("check_determinism")),
        shrink_budget=run_wide("shrink_budget"),
        all=bool(run_wide("all")),
        trace_dir=here / cli["trace"] if "trace" in cli else None,
        replay=replay,
    )


# -- markers -----------------------------------------------------------------


def merged_marker_arguments(marks: Iterable[pytest.Mark], nodeid: str) -> dict[str, Any]:
    """The keyword arguments of a test's simloop marks, closest first winning."""
    merged: dict[str, Any] = {}
    for mark in marks:
        if mark.args:
            raise pytest.UsageError(
                UNKNOWN_MARKER_ARGUMENT.format(
                    nodeid=nodeid,
                    what=f"positional argument(s) {mark.args!r}",
                    names=", ".join(MARKER_ARGUMENTS),
                )
            )
        for name, value in mark.kwargs.items():
            if name not in MARKER_ARGUMENTS:
                raise pytest.UsageError(
                    UNKNOWN_MARKER_ARGUMENT.format(
                        nodeid=nodeid,
                        what=f"unknown argument {name!r}",
                        names=", ".join(MARKER_ARGUMENTS),
                    )
                )
            merged.setdefault(name, value)
    return merged


def _checked_marker(nodeid: str, marker: Mapping[str, Any]) -> None:
    """A usage error for the first marker argument its setting does not accept."""
    for name, value in marker.items():
        setting = BY_NAME[name]
        if value is None and setting.default is None:
            continue
        if not setting.kind.accepts(value):
            expected = setting.kind.expected
            if setting.kind is STRATEGY:
                expected = f"one of {', '.join(strategy_names())} or a simloop.strategies.Strategy"
            elif setting.kind is NETWORK:
                expected = f"one of {', '.join(network_names())}"
            raise pytest.UsageError(
                BAD_MARKER_VALUE.format(nodeid=nodeid, name=name, value=value, expected=expected)
            )


def settings_for(run: RunOptions, marker: Mapping[str, Any], nodeid: str) -> TestSettings:
    """Resolve one test's settings; a `pytest.UsageError` for a bad marker argument."""
    from simloop.strategies import Random, Strategy

    _checked_marker(nodeid, marker)
    seeds, seed = marker.get("seeds"), marker.get("seed")
    if seeds is not None and seed is not None:
        raise pytest.UsageError(
            BAD_MARKER_VALUE.format(
                nodeid=nodeid, name="seeds", value=seeds, expected="only one of seeds= and seed="
            )
        )
    if run.cli_plan is not None:
        plan = run.cli_plan
    elif seed is not None:
        plan = SeedPlan.one(seed)
    elif seeds is not None:
        plan = SeedPlan.count(seeds)
    else:
        plan = run.plan

    def value(name: str) -> Any:
        # The command line, the closest marker, the ini file, the default.
        if name in run.cli:
            return run.cli[name]
        if marker.get(name) is not None:
            return marker[name]
        return run.run_wide(name)

    strategy: object = value("strategy")
    faults, network = bool(value("faults")), value("network")
    if faults or network is not None:
        if strategy == "random":
            strategy = Random(faults=faults, network=network)
        elif isinstance(strategy, Random):
            strategy = strategy.with_world(faults=faults or None, network=network)
        else:
            name = "faults" if faults else "network"
            raise pytest.UsageError(
                WORLD_NEEDS_RANDOM.format(
                    nodeid=nodeid,
                    setting="faults=True" if faults else f"network={network!r}",
                    strategy=getattr(strategy, "name", strategy),
                    name=name,
                )
            )
    name = strategy.name if isinstance(strategy, Strategy) else str(strategy)
    replay_flags = tuple(
        str(BY_NAME[setting].option)
        if BY_NAME[setting].flag
        else f"{BY_NAME[setting].option}={given}"
        for setting, given in run.cli.items()
        if setting in SCHEDULE_SETTINGS
    )
    time_limit = marker.get("time_limit")
    flags = {
        flag: bool(value(flag))
        for flag in (
            "allow_deadlock",
            "allow_livelock",
            "allow_unhandled",
            "allow_pending",
            "allow_open_transports",
            "allow_unexercised",
        )
    }
    no_shrink_reason = None
    if not value("shrink"):
        no_shrink_reason = "shrinking is off for this test (shrink=False on its marker)"
    elif run.shrink_budget == 0:
        no_shrink_reason = f"shrinking is off ({SHRINK_BUDGET_OPTION}=0)"
    if run.replay is not None:
        from simloop.strategies import Replay

        strategy, name = Replay(run.replay.log), "replay"
        no_shrink_reason = "a replay runs the recorded schedule as it is"
    return TestSettings(
        plan=plan,
        strategy=strategy,
        strategy_name=name,
        replay_flags=replay_flags,
        time_limit=None if time_limit is None else float(time_limit),
        step_limit=marker.get("step_limit"),
        check_determinism=run.check_determinism,
        strict=bool(value("strict")),
        faults=faults,
        network=network,
        shrink_budget=0 if no_shrink_reason else run.shrink_budget,
        no_shrink_reason=no_shrink_reason,
        replay=run.replay,
        **flags,
    )
