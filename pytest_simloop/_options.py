"""Every setting of the plugin, declared once, and resolved into one `TestSettings` per test.

`SETTINGS` is the one declaration: each setting's command-line option, ini
key, marker argument, default, check and help text. The options, the ini
keys, the marker's help, its accepted arguments and the reference table in
the docs (`reference_table`) are all derived from it.

Precedence, the same for every setting: the command line, then the test's
``simloop`` markers (the closest wins), then the ini file, then the default.
So ``--simloop-seeds=1000`` deepens every test, and a printed replay command
(``--simloop-seed=S``) replays whatever the markers say.

Nothing here imports the engine until a strategy or network name must be checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._schedules import RecordedSchedule

DEFAULT_SEEDS = 100
DEFAULT_STRATEGY = "random"
#: replays a failing seed's schedule may spend on shrinking it (0: no shrinking)
DEFAULT_SHRINK_BUDGET = 200
#: the value of --simloop-seed that replays each test's last failing seed
LAST = "last"

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


# -- kinds of value ----------------------------------------------------------


def _int(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class Kind:
    """How one kind of setting's value is read from text (an option or an ini
    key) and checked when a marker gives it."""

    #: text -> value; raises pytest.UsageError naming `source` and the value
    parse: Callable[[str, str], Any]
    #: whether a marker's value is acceptable
    accepts: Callable[[object], bool]
    #: what a marker must give, in words (for its usage error)
    expected: str
    #: how the docs' reference table shows the values
    values: str


def _seeds(text: str, source: str) -> int:
    number = _int(text)
    if number is None or number < 1:
        raise pytest.UsageError(
            f"{source}: {text!r} is not a valid number of seeds; expected a positive "
            f"integer, e.g. {SEEDS_OPTION}=1000"
        )
    return number


def _seed(text: str, source: str) -> int | str:
    if text.strip() == LAST:
        return LAST
    number = _int(text)
    if number is None or number < 0:
        raise pytest.UsageError(
            f"{source}: {text!r} is not a valid seed; expected a non-negative integer, or "
            "'last' to replay each test's last failing seed (kept in pytest's cache)"
        )
    return number


def _seed_range(text: str, source: str) -> range:
    start_text, colon, stop_text = text.partition(":")
    start, stop = _int(start_text), _int(stop_text)
    if not colon or start is None or stop is None or not 0 <= start < stop:
        raise pytest.UsageError(
            f"{source}: {text!r} is not a valid seed range; expected START:STOP with "
            "integers 0 <= START < STOP, meaning seeds START to STOP-1, e.g. "
            f"{SEED_RANGE_OPTION}=0:1000"
        )
    return range(start, stop)


def _shrink_budget(text: str, source: str) -> int:
    number = _int(text)
    if number is None or number < 0:
        raise pytest.UsageError(
            f"{source}: {text!r} is not a valid shrink budget; expected a number of "
            f"replays, 0 or more (0 turns shrinking off), e.g. {SHRINK_BUDGET_OPTION}=500"
        )
    return number


def strategy_names() -> list[str]:
    from simloop.strategies import STRATEGIES

    return sorted(STRATEGIES)


def _strategy(text: str, source: str) -> str:
    name = text.strip()
    names = strategy_names()
    if name not in names:
        raise pytest.UsageError(
            f"{source}: {text!r} is not a simloop strategy; expected one of: {', '.join(names)}"
        )
    return name


def _is_strategy(value: object) -> bool:
    from simloop.strategies import Strategy

    return isinstance(value, Strategy) or value in strategy_names()


def network_names() -> tuple[str, ...]:
    from simloop.strategies import NETWORK_KINDS

    return NETWORK_KINDS


def _network(text: str, source: str) -> str:
    name = text.strip()
    if name not in network_names():
        raise pytest.UsageError(
            f"{source}: {text!r} is not a simloop network; expected one of: "
            f"{', '.join(network_names())}"
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


def _seconds(text: str, source: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise pytest.UsageError(
            f"{source}: {text!r} is not a valid number of seconds; expected a positive number"
        )
    return value


def _no_text(text: str, source: str) -> Any:  # pragma: no cover - marker-only settings
    raise AssertionError(f"{source} is not read from text")


def _path(text: str, source: str) -> str:
    if not text.strip():
        raise pytest.UsageError(f"{source}: expected a path, got an empty value")
    return text


def _integer_at_least(minimum: int) -> Callable[[object], bool]:
    def accepts(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= minimum

    return accepts


def _positive_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < math.inf


SEEDS = Kind(_seeds, _integer_at_least(1), "a positive integer", "N >= 1")
SEED = Kind(_seed, _integer_at_least(0), "a non-negative integer", "S >= 0, or `last`")
SEED_RANGE = Kind(_seed_range, lambda value: False, "", "START:STOP")
STRATEGY = Kind(
    _strategy,
    _is_strategy,
    "",  # filled in at check time: the names come from the engine
    "`random`, `fifo`, `pct` (a marker may give a `Strategy`)",
)
FLAG = Kind(parse_flag, lambda value: isinstance(value, bool), "True or False", "true/false")
NETWORK = Kind(_network, lambda value: value in network_names(), "", "`loopback`, `lan`, `wan`")
SECONDS = Kind(_seconds, _positive_number, "a positive number", "seconds > 0")
VIRTUAL_SECONDS = Kind(
    _no_text, _positive_number, "a positive number of virtual seconds", "virtual seconds > 0"
)
CALLBACKS = Kind(_no_text, _integer_at_least(1), "a positive number of callbacks", "callbacks > 0")
REPLAYS = Kind(_shrink_budget, lambda value: False, "", "N >= 0")
PATH = Kind(_path, lambda value: False, "", "a path")


# -- the declaration ---------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One setting: where it can be given, its default, and what it means."""

    name: str
    kind: Kind
    default: Any
    help: str
    #: the command-line option (None: none); a flag is a switch with no value
    option: str | None = None
    flag: bool = False
    metavar: str | None = None
    #: whether an ini key (``simloop_<name>``) sets its default
    ini: bool = True
    #: whether ``@pytest.mark.simloop(<name>=...)`` sets it per test
    marker: bool = False

    @property
    def ini_key(self) -> str:
        return f"simloop_{self.name}"

    @property
    def dest(self) -> str:
        return f"simloop_{self.name}"


SEEDS_OPTION = "--simloop-seeds"
SEED_OPTION = "--simloop-seed"
SEED_RANGE_OPTION = "--simloop-seed-range"
STRATEGY_OPTION = "--simloop-strategy"
FAULTS_OPTION = "--simloop-faults"
NETWORK_OPTION = "--simloop-network"
STRICT_OPTION = "--simloop-strict"
ALL_OPTION = "--simloop-all"
CHECK_DETERMINISM_OPTION = "--simloop-check-determinism"
SHRINK_BUDGET_OPTION = "--simloop-shrink-budget"
TRACE_OPTION = "--simloop-trace"
REPLAY_OPTION = "--simloop-replay"

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "seeds",
        SEEDS,
        DEFAULT_SEEDS,
        f"Run each simloop test under seeds 0 to N-1 (default {DEFAULT_SEEDS}).",
        option=SEEDS_OPTION,
        metavar="N",
        marker=True,
    ),
    Setting(
        "seed",
        SEED,
        None,
        "Run each simloop test under seed S only, to replay a failure; 'last' replays "
        "each test's last failing seed.",
        option=SEED_OPTION,
        metavar="S",
        marker=True,
    ),
    Setting(
        "seed_range",
        SEED_RANGE,
        None,
        "Run seeds START to STOP-1, to split a long sweep over CI jobs or machines.",
        option=SEED_RANGE_OPTION,
        metavar="START:STOP",
    ),
    Setting(
        "strategy",
        STRATEGY,
        DEFAULT_STRATEGY,
        f"How seeds fill the choice points (default {DEFAULT_STRATEGY}).",
        option=STRATEGY_OPTION,
        metavar="NAME",
        marker=True,
    ),
    Setting(
        "faults",
        FLAG,
        False,
        "Inject network faults as well: refused connects, resets, lost and "
        "retransmitted segments, lost and duplicated datagrams, partitions, slow "
        "executor jobs. Each is transient (at most 2 s). Off by default: the default "
        "network is healthy.",
        option=FAULTS_OPTION,
        flag=True,
        marker=True,
    ),
    Setting(
        "network",
        NETWORK,
        None,
        "Pin the network's latency profile: loopback (one machine, within 1 ms), lan "
        "(one datacenter, within 20 ms) or wan (between regions, within 200 ms). By "
        "default each seed draws one.",
        option=NETWORK_OPTION,
        metavar="NAME",
        marker=True,
    ),
    Setting(
        "strict",
        FLAG,
        False,
        "Fail a test that leaves tasks pending or transports open when it returns, or "
        "lets an error reach the loop's exception handler. By default these are cleaned "
        "up and logged as asyncio.run does, and reported as a warning.",
        option=STRICT_OPTION,
        flag=True,
        marker=True,
    ),
    Setting(
        "all",
        FLAG,
        False,
        "Run every async test that pytest-asyncio or anyio (asyncio backend) would run "
        "on simloop's sweep instead, with no edit to the test files.",
        option=ALL_OPTION,
        flag=True,
    ),
    Setting(
        "check_determinism",
        FLAG,
        False,
        "Run every seed twice and fail a test whose two runs differ.",
        option=CHECK_DETERMINISM_OPTION,
        flag=True,
    ),
    Setting(
        "shrink_budget",
        REPLAYS,
        DEFAULT_SHRINK_BUDGET,
        "Replays a failing seed may spend on shrinking its schedule to the simplest "
        f"that still fails (default {DEFAULT_SHRINK_BUDGET}; 0 turns shrinking off).",
        option=SHRINK_BUDGET_OPTION,
        metavar="N",
    ),
    Setting(
        "trace",
        PATH,
        None,
        "Write each failing seed's whole run into DIR as a Chrome trace (Perfetto, "
        "chrome://tracing) and an HTML timeline, with its schedules.",
        option=TRACE_OPTION,
        metavar="DIR",
        ini=False,
    ),
    Setting(
        "replay",
        PATH,
        None,
        "Run the selected simloop test once on the schedule saved in FILE (a failure "
        "report prints the command).",
        option=REPLAY_OPTION,
        metavar="FILE",
        ini=False,
    ),
    Setting(
        "time_limit",
        VIRTUAL_SECONDS,
        None,
        "Virtual seconds after which a run fails as a livelock (default one day).",
        ini=False,
        marker=True,
    ),
    Setting(
        "step_limit",
        CALLBACKS,
        None,
        "Callbacks after which a run fails as a livelock (default 10,000,000).",
        ini=False,
        marker=True,
    ),
    Setting(
        "shrink",
        FLAG,
        True,
        "Shrink a failing seed's schedule (False: report it as found).",
        ini=False,
        marker=True,
    ),
    Setting(
        "allow_deadlock",
        FLAG,
        False,
        "Let a run end in a deadlock without failing.",
        ini=False,
        marker=True,
    ),
    Setting(
        "allow_livelock",
        FLAG,
        False,
        "Let a run pass its time or step limit without failing.",
        ini=False,
        marker=True,
    ),
    Setting(
        "allow_unhandled",
        FLAG,
        False,
        "Errors that reach the loop's exception handler neither fail this test when it "
        "is strict nor warn.",
        ini=False,
        marker=True,
    ),
    Setting(
        "allow_pending",
        FLAG,
        False,
        "Tasks still pending when this test returns neither fail it when it is strict nor warn.",
        ini=False,
        marker=True,
    ),
    Setting(
        "allow_open_transports",
        FLAG,
        False,
        "Transports left open when this test returns neither fail it when it is strict nor warn.",
        ini=False,
        marker=True,
    ),
    Setting(
        "allow_unexercised",
        FLAG,
        False,
        "Let a sometimes() that never held in the sweep pass.",
        ini=False,
        marker=True,
    ),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}
MARKER_ARGUMENTS = tuple(setting.name for setting in SETTINGS if setting.marker)
MARKER_HELP = (
    "simloop("
    + ", ".join(f"{name}={BY_NAME[name].default!r}" for name in MARKER_ARGUMENTS)
    + "): run this async test on simloop's virtual-time loop under many seeds"
)
#: settings that change which schedule a seed gives: a replay command repeats them
_SCHEDULE_SETTINGS = ("strategy", "faults", "network")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("simloop", "simloop: deterministic simulation of asyncio")
    for setting in SETTINGS:
        if setting.option is not None:
            if setting.flag:
                group.addoption(
                    setting.option,
                    dest=setting.dest,
                    action="store_true",
                    default=None,
                    help=setting.help,
                )
            else:
                group.addoption(
                    setting.option, dest=setting.dest, metavar=setting.metavar, help=setting.help
                )
        if setting.ini and setting.option is not None:
            parser.addini(setting.ini_key, f"Default for {setting.option}.", default="")


def reference_table() -> str:
    """The settings as the docs' reference table (Markdown)."""
    rows = [
        "| setting | command line | ini key | marker argument | values | default | meaning |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for setting in SETTINGS:
        option = "" if setting.option is None else f"`{setting.option}`"
        if setting.option is not None and not setting.flag:
            option = f"`{setting.option}={setting.metavar}`"
        ini = f"`{setting.ini_key}`" if setting.ini and setting.option else ""
        marker = f"`{setting.name}=`" if setting.marker else ""
        default = "" if setting.default is None else f"`{setting.default!r}`"
        rows.append(
            f"| {setting.name} | {option} | {ini} | {marker} | {setting.kind.values} | "
            f"{default} | {setting.help} |"
        )
    return "\n".join(rows)


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
        parsed = _seed(value, name)
        if parsed == LAST:
            return SeedPlan(range(0), pinned=True, last=True)
        assert isinstance(parsed, int)
        return SeedPlan.one(parsed)
    if name == names[1]:
        return SeedPlan(_seed_range(value, name))
    return SeedPlan.count(_seeds(value, name))


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
        if setting in _SCHEDULE_SETTINGS
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
