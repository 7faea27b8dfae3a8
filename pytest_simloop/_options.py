"""Options, ini keys and marker arguments, resolved into one `TestSettings` per test.

Precedence, the same for every setting: the command line, then the test's
``simloop`` markers (the closest wins), then the ini file, then the default.
So ``--simloop-seeds=1000`` deepens every test, and a printed replay command
(``--simloop-seed=S``) replays whatever the markers say.

Nothing here imports the engine until a strategy name must be checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._schedules import RecordedSchedule

SEEDS_OPTION = "--simloop-seeds"
SEED_OPTION = "--simloop-seed"
SEED_RANGE_OPTION = "--simloop-seed-range"
STRATEGY_OPTION = "--simloop-strategy"
CHECK_DETERMINISM_OPTION = "--simloop-check-determinism"
SHRINK_BUDGET_OPTION = "--simloop-shrink-budget"
TRACE_OPTION = "--simloop-trace"
REPLAY_OPTION = "--simloop-replay"

SEEDS_INI = "simloop_seeds"
SEED_INI = "simloop_seed"
SEED_RANGE_INI = "simloop_seed_range"
STRATEGY_INI = "simloop_strategy"
CHECK_DETERMINISM_INI = "simloop_check_determinism"
SHRINK_BUDGET_INI = "simloop_shrink_budget"

DEFAULT_SEEDS = 100
DEFAULT_STRATEGY = "random"
#: replays a failing seed's schedule may spend on shrinking it (0: no shrinking)
DEFAULT_SHRINK_BUDGET = 200
#: the value of --simloop-seed that replays each test's last failing seed
LAST = "last"

BAD_SEEDS = """\
{source}: {value!r} is not a valid number of seeds; expected a positive integer, \
e.g. {SEEDS_OPTION}=1000\
"""
BAD_SEED = """\
{source}: {value!r} is not a valid seed; expected a non-negative integer, or 'last' \
to replay each test's last failing seed (kept in pytest's cache)\
"""
BAD_SEED_RANGE = """\
{source}: {value!r} is not a valid seed range; expected START:STOP with integers \
0 <= START < STOP, meaning seeds START to STOP-1, e.g. {SEED_RANGE_OPTION}=0:1000\
"""
BAD_SHRINK_BUDGET = """\
{source}: {value!r} is not a valid shrink budget; expected a number of replays, \
0 or more (0 turns shrinking off), e.g. {SHRINK_BUDGET_OPTION}=500\
"""
REPLAY_WITH_OTHER_SEEDS = """\
{REPLAY_OPTION} replays one recorded schedule, whose file says its seed and \
strategy; do not combine it with {other}\
"""
BAD_STRATEGY = """\
{source}: {value!r} is not a simloop strategy; expected one of: {names}\
"""
BAD_FLAG = """\
{source}: {value!r} is not a boolean; expected one of: true, false, 1, 0, yes, no\
"""
CONFLICTING_SEED_OPTIONS = """\
{first} and {second} both choose the seeds to run; give only one of \
{SEED_OPTION}, {SEED_RANGE_OPTION} and {SEEDS_OPTION}\
"""
NO_CACHE_FOR_LAST = """\
{SEED_OPTION}=last replays the failing seeds kept in pytest's cache, but the cache \
is disabled (-p no:cacheprovider); give a seed number instead\
"""
UNKNOWN_MARKER_ARGUMENT = """\
{nodeid}: @pytest.mark.simloop got {what}; accepted keyword arguments: {names}\
"""
BAD_MARKER_VALUE = """\
{nodeid}: @pytest.mark.simloop({name}={value!r}): expected {expected}\
"""
MARKED_FOR_TWO_LOOPS = """\
{nodeid} is marked both simloop and {other}: each test runs on one event loop. \
Remove one of the marks (if the test is not marked explicitly, look for a \
'pytestmark' on its class or module).\
"""
ASYNC_FIXTURE_SCOPE = """\
simloop runs the async fixtures of a simloop test on each seed's own loop, once \
per seed, so they must be function-scoped; {name!r} has scope {scope!r}. Make it \
function-scoped, or make it a plain (sync) fixture.\
"""

SYNC_NEEDS_ASYNC = """\
sync fixture {fixture!r} needs async fixture {needs!r}, but pytest sets a sync \
fixture up once per test while a simloop test's async fixtures are set up in each \
seed's simulation. Make {fixture!r} an async fixture.\
"""

MARKER_HELP = (
    "simloop(seeds=None, seed=None, strategy=None, time_limit=None, step_limit=None, "
    "allow_deadlock=False, allow_livelock=False, allow_unhandled=False, "
    "allow_pending=False, allow_open_transports=False, allow_unexercised=False, "
    "shrink=True): run this async test on simloop's virtual-time loop under many seeds"
)

_FLAGS = (
    "allow_deadlock",
    "allow_livelock",
    "allow_unhandled",
    "allow_pending",
    "allow_open_transports",
    "allow_unexercised",
)
MARKER_ARGUMENTS = ("seeds", "seed", "strategy", "time_limit", "step_limit", "shrink", *_FLAGS)


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
    cli_strategy: str | None
    ini_strategy: str | None
    check_determinism: bool
    shrink_budget: int = DEFAULT_SHRINK_BUDGET
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
        return self.cli_strategy or self.ini_strategy or DEFAULT_STRATEGY


@dataclass(frozen=True)
class TestSettings:
    """Everything one simloop test runs with."""

    plan: SeedPlan
    strategy: object  # a strategy name or a simloop.strategies.Strategy
    strategy_name: str
    #: the strategy came from --simloop-strategy, so a replay must repeat it
    strategy_from_cli: bool
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
    #: replays a failing seed may spend on shrinking its schedule (0: none)
    shrink_budget: int = DEFAULT_SHRINK_BUDGET
    #: why the schedule of a failing seed is not shrunk (None: it is)
    no_shrink_reason: str | None = None
    #: the recorded schedule this test replays, instead of exploring seeds
    replay: RecordedSchedule | None = None


# -- parsing -----------------------------------------------------------------


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def parse_seeds(value: str, source: str) -> int:
    number = _int(value)
    if number is None or number < 1:
        raise pytest.UsageError(
            BAD_SEEDS.format(source=source, value=value, SEEDS_OPTION=SEEDS_OPTION)
        )
    return number


def parse_seed(value: str, source: str) -> int | str:
    if value.strip() == LAST:
        return LAST
    number = _int(value)
    if number is None or number < 0:
        raise pytest.UsageError(BAD_SEED.format(source=source, value=value))
    return number


def parse_seed_range(value: str, source: str) -> range:
    start_text, colon, stop_text = value.partition(":")
    start, stop = _int(start_text), _int(stop_text)
    if not colon or start is None or stop is None or not 0 <= start < stop:
        raise pytest.UsageError(
            BAD_SEED_RANGE.format(source=source, value=value, SEED_RANGE_OPTION=SEED_RANGE_OPTION)
        )
    return range(start, stop)


def parse_shrink_budget(value: str, source: str) -> int:
    number = _int(value)
    if number is None or number < 0:
        raise pytest.UsageError(
            BAD_SHRINK_BUDGET.format(
                source=source, value=value, SHRINK_BUDGET_OPTION=SHRINK_BUDGET_OPTION
            )
        )
    return number


def strategy_names() -> list[str]:
    from simloop.strategies import STRATEGIES

    return sorted(STRATEGIES)


def parse_strategy(value: str, source: str) -> str:
    name = value.strip()
    names = strategy_names()
    if name not in names:
        raise pytest.UsageError(
            BAD_STRATEGY.format(source=source, value=value, names=", ".join(names))
        )
    return name


def parse_flag(value: object, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise pytest.UsageError(BAD_FLAG.format(source=source, value=value))


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


def read_run_options(config: pytest.Config) -> RunOptions:
    """Parse and check the command line and the ini file (a `pytest.UsageError` if wrong)."""
    cli_plan = _plan_from(
        config.getoption("simloop_seed"),
        config.getoption("simloop_seed_range"),
        config.getoption("simloop_seeds"),
        (SEED_OPTION, SEED_RANGE_OPTION, SEEDS_OPTION),
    )
    ini_plan = _plan_from(
        config.getini(SEED_INI) or None,
        config.getini(SEED_RANGE_INI) or None,
        config.getini(SEEDS_INI) or None,
        (f"ini {SEED_INI}", f"ini {SEED_RANGE_INI}", f"ini {SEEDS_INI}"),
    )
    cli_strategy = config.getoption("simloop_strategy")
    ini_strategy = config.getini(STRATEGY_INI) or None
    check = config.getoption("simloop_check_determinism") or parse_flag(
        config.getini(CHECK_DETERMINISM_INI), f"ini {CHECK_DETERMINISM_INI}"
    )
    budget_text = config.getoption("simloop_shrink_budget")
    if budget_text is not None:
        shrink_budget = parse_shrink_budget(budget_text, SHRINK_BUDGET_OPTION)
    elif config.getini(SHRINK_BUDGET_INI):
        shrink_budget = parse_shrink_budget(
            config.getini(SHRINK_BUDGET_INI), f"ini {SHRINK_BUDGET_INI}"
        )
    else:
        shrink_budget = DEFAULT_SHRINK_BUDGET
    here = config.invocation_params.dir
    trace_text = config.getoption("simloop_trace")
    replay = None
    replay_text = config.getoption("simloop_replay")
    if replay_text:
        from ._schedules import load_schedule

        given = [
            f"{name}={value}"
            for name, value in (
                (SEED_OPTION, config.getoption("simloop_seed")),
                (SEED_RANGE_OPTION, config.getoption("simloop_seed_range")),
                (SEEDS_OPTION, config.getoption("simloop_seeds")),
                (STRATEGY_OPTION, cli_strategy),
            )
            if value
        ]
        if given:
            raise pytest.UsageError(
                REPLAY_WITH_OTHER_SEEDS.format(REPLAY_OPTION=REPLAY_OPTION, other=given[0])
            )
        replay = load_schedule(replay_text, here)
        cli_plan = SeedPlan.one(replay.seed)
    return RunOptions(
        cli_plan=cli_plan,
        ini_plan=ini_plan,
        cli_strategy=parse_strategy(cli_strategy, STRATEGY_OPTION) if cli_strategy else None,
        ini_strategy=(
            parse_strategy(ini_strategy, f"ini {STRATEGY_INI}") if ini_strategy else None
        ),
        check_determinism=bool(check),
        shrink_budget=shrink_budget,
        trace_dir=here / trace_text if trace_text else None,
        replay=replay,
    )


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("simloop", "simloop: deterministic simulation of asyncio")
    group.addoption(
        SEEDS_OPTION,
        dest="simloop_seeds",
        metavar="N",
        help=f"Run each simloop test under seeds 0 to N-1 (default {DEFAULT_SEEDS}).",
    )
    group.addoption(
        SEED_OPTION,
        dest="simloop_seed",
        metavar="S",
        help="Run each simloop test under seed S only, to replay a failure; 'last' "
        "replays each test's last failing seed.",
    )
    group.addoption(
        SEED_RANGE_OPTION,
        dest="simloop_seed_range",
        metavar="START:STOP",
        help="Run seeds START to STOP-1, to split a long sweep over CI jobs or machines.",
    )
    group.addoption(
        STRATEGY_OPTION,
        dest="simloop_strategy",
        metavar="NAME",
        help=f"How seeds fill the choice points (default {DEFAULT_STRATEGY}).",
    )
    group.addoption(
        CHECK_DETERMINISM_OPTION,
        dest="simloop_check_determinism",
        action="store_true",
        default=False,
        help="Run every seed twice and fail a test whose two runs differ.",
    )
    group.addoption(
        SHRINK_BUDGET_OPTION,
        dest="simloop_shrink_budget",
        metavar="N",
        help="Replays a failing seed may spend on shrinking its schedule to the simplest "
        f"that still fails (default {DEFAULT_SHRINK_BUDGET}; 0 turns shrinking off).",
    )
    group.addoption(
        TRACE_OPTION,
        dest="simloop_trace",
        metavar="DIR",
        help="Write each failing seed's whole run into DIR as a Chrome trace (Perfetto, "
        "chrome://tracing) and an HTML timeline, with its schedules.",
    )
    group.addoption(
        REPLAY_OPTION,
        dest="simloop_replay",
        metavar="FILE",
        help="Run the selected simloop test once on the schedule saved in FILE (a "
        "failure report prints the command).",
    )
    parser.addini(SEEDS_INI, f"Default for {SEEDS_OPTION}.", default="")
    parser.addini(SEED_INI, f"Default for {SEED_OPTION}.", default="")
    parser.addini(SEED_RANGE_INI, f"Default for {SEED_RANGE_OPTION}.", default="")
    parser.addini(STRATEGY_INI, f"Default for {STRATEGY_OPTION}.", default="")
    parser.addini(CHECK_DETERMINISM_INI, f"Default for {CHECK_DETERMINISM_OPTION}.", default="")
    parser.addini(SHRINK_BUDGET_INI, f"Default for {SHRINK_BUDGET_OPTION}.", default="")


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


def _check(nodeid: str, name: str, value: object, ok: bool, expected: str) -> None:
    if not ok:
        raise pytest.UsageError(
            BAD_MARKER_VALUE.format(nodeid=nodeid, name=name, value=value, expected=expected)
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def settings_for(run: RunOptions, marker: Mapping[str, Any], nodeid: str) -> TestSettings:
    """Resolve one test's settings; a `pytest.UsageError` for a bad marker argument."""
    from simloop.strategies import Strategy

    seeds, seed = marker.get("seeds"), marker.get("seed")
    if seeds is not None:
        _check(nodeid, "seeds", seeds, _is_int(seeds) and seeds >= 1, "a positive integer")
    if seed is not None:
        _check(nodeid, "seed", seed, _is_int(seed) and seed >= 0, "a non-negative integer")
    _check(
        nodeid,
        "seeds",
        seeds,
        seeds is None or seed is None,
        "only one of seeds= and seed=",
    )
    if run.cli_plan is not None:
        plan = run.cli_plan
    elif seed is not None:
        plan = SeedPlan.one(seed)
    elif seeds is not None:
        plan = SeedPlan.count(seeds)
    else:
        plan = run.plan

    strategy: object = marker.get("strategy")
    if strategy is not None:
        names = strategy_names()
        _check(
            nodeid,
            "strategy",
            strategy,
            isinstance(strategy, Strategy) or strategy in names,
            f"one of {', '.join(names)} or a simloop.strategies.Strategy",
        )
    if run.cli_strategy is not None:
        strategy = run.cli_strategy
    elif strategy is None:
        strategy = run.strategy
    name = strategy.name if isinstance(strategy, Strategy) else str(strategy)

    time_limit, step_limit = marker.get("time_limit"), marker.get("step_limit")
    if time_limit is not None:
        _check(
            nodeid,
            "time_limit",
            time_limit,
            isinstance(time_limit, (int, float))
            and not isinstance(time_limit, bool)
            and time_limit > 0,
            "a positive number of virtual seconds",
        )
    if step_limit is not None:
        _check(
            nodeid,
            "step_limit",
            step_limit,
            _is_int(step_limit) and step_limit > 0,
            "a positive number of callbacks",
        )
    flags = {}
    for flag in (*_FLAGS, "shrink"):
        value = marker.get(flag, flag == "shrink")
        _check(nodeid, flag, value, isinstance(value, bool), "True or False")
        flags[flag] = value
    shrink = flags.pop("shrink")
    no_shrink_reason = None
    if not shrink:
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
        strategy_from_cli=run.cli_strategy is not None,
        time_limit=None if time_limit is None else float(time_limit),
        step_limit=step_limit,
        check_determinism=run.check_determinism,
        shrink_budget=0 if no_shrink_reason else run.shrink_budget,
        no_shrink_reason=no_shrink_reason,
        replay=run.replay,
        **flags,
    )
