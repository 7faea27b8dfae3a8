"""Every setting of the plugin, declared once: its command-line option, ini
key, marker argument, default, check and help text (`SETTINGS`).

The options, the ini keys, the marker's help, its accepted arguments and the
reference table in the docs (`reference_table`) are all derived from it;
`simloop._options` resolves them into each test's settings.

Nothing here imports the engine until a strategy or network name must be checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

DEFAULT_SEEDS = 100
DEFAULT_STRATEGY = "random"
#: replays a failing seed's schedule may spend on shrinking it (0: no shrinking)
DEFAULT_SHRINK_BUDGET = 200
#: the value of --simloop-seed that replays each test's last failing seed
LAST = "last"
BAD_FLAG = """\
{source}: {value!r} is not a boolean; expected one of: true, false, 1, 0, yes, no\
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


def parse_seeds(text: str, source: str) -> int:
    number = _int(text)
    if number is None or number < 1:
        raise pytest.UsageError(
            f"{source}: {text!r} is not a valid number of seeds; expected a positive "
            f"integer, e.g. {SEEDS_OPTION}=1000"
        )
    return number


def parse_seed(text: str, source: str) -> int | str:
    if text.strip() == LAST:
        return LAST
    number = _int(text)
    if number is None or number < 0:
        raise pytest.UsageError(
            f"{source}: {text!r} is not a valid seed; expected a non-negative integer, or "
            "'last' to replay each test's last failing seed (kept in pytest's cache)"
        )
    return number


def parse_seed_range(text: str, source: str) -> range:
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


SEEDS = Kind(parse_seeds, _integer_at_least(1), "a positive integer", "N >= 1")
SEED = Kind(parse_seed, _integer_at_least(0), "a non-negative integer", "S >= 0, or `last`")
SEED_RANGE = Kind(parse_seed_range, lambda value: False, "", "START:STOP")
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
SCHEDULE_SETTINGS = ("strategy", "faults", "network")


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
