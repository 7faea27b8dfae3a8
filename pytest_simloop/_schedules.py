"""Failing schedules as files: where they are written, and reading one back to replay.

A saved schedule is a `ChoiceLog` as JSON (`ChoiceLog.to_json`) with the
test's node id, its seed, the loop seed and the strategy that found it.
``pytest NODEID --simloop-replay=FILE`` runs the test once on exactly that
schedule: every choice point answered from the file, the program's own
randomness (`random`, `os.urandom`) from the recorded loop seed.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ._settings import REPLAY_OPTION

#: under pytest's cache directory (``.pytest_cache/d/``), without --simloop-trace
CACHE_SUBDIR = ("simloop", "schedules")
#: longest file name stem made from a node id (a crc32 keeps long ones apart)
LONGEST_STEM = 96

BAD_SCHEDULE_FILE = """\
{REPLAY_OPTION}={value}: cannot read a simloop schedule from it: {error}\
"""
SCHEDULE_WITHOUT_TEST = """\
{REPLAY_OPTION}={value}: the schedule names no test (it was not saved by the \
pytest plugin); replay it with: python -m simloop replay {value}\
"""
SCHEDULE_FOR_ANOTHER_TEST = """\
{REPLAY_OPTION}={value}: the schedule was recorded for {recorded}, but {nodeid} is \
selected too; a schedule replays the test it was recorded for, so select only that test:
  pytest '{recorded}' {REPLAY_OPTION}={value}\
"""
SCHEDULE_TEST_NOT_SELECTED = """\
{REPLAY_OPTION}={value}: the schedule was recorded for {recorded}, which is not among \
the selected simloop tests (renamed, deselected, or no longer marked simloop?)\
"""
SCHEDULE_OF_HYPOTHESIS_TEST = """\
{REPLAY_OPTION}: {nodeid} is a Hypothesis test, whose failures replay by seed \
(--simloop-seed=S), not by schedule\
"""


@dataclass(frozen=True)
class RecordedSchedule:
    """A schedule file given to ``--simloop-replay``."""

    #: as the user gave it
    given: str
    log: Any  # simloop.strategies.ChoiceLog (the engine is imported lazily)
    test: str
    seed: int
    loop_seed: int
    #: the strategy whose seed found it
    strategy: str
    #: whether it was shrunk to the simplest failing schedule
    shrunk: bool

    def check_selected(self, nodeid: str, is_hypothesis: bool) -> None:
        """A `pytest.UsageError` unless the test `nodeid` may replay this schedule."""
        if nodeid != self.test:
            raise pytest.UsageError(
                SCHEDULE_FOR_ANOTHER_TEST.format(
                    REPLAY_OPTION=REPLAY_OPTION, value=self.given, recorded=self.test, nodeid=nodeid
                )
            )
        if is_hypothesis:
            raise pytest.UsageError(
                SCHEDULE_OF_HYPOTHESIS_TEST.format(REPLAY_OPTION=REPLAY_OPTION, nodeid=nodeid)
            )

    def check_replayed(self, selected: list[str]) -> None:
        """A `pytest.UsageError` unless the test it was recorded for is `selected`."""
        if self.test not in selected:
            raise pytest.UsageError(
                SCHEDULE_TEST_NOT_SELECTED.format(
                    REPLAY_OPTION=REPLAY_OPTION, value=self.given, recorded=self.test
                )
            )


def load_schedule(value: str, here: Path) -> RecordedSchedule:
    """Read a schedule saved by the plugin; a `pytest.UsageError` saying what is wrong."""
    from simloop.strategies import ChoiceLog

    def bad(error: object) -> pytest.UsageError:
        return pytest.UsageError(
            BAD_SCHEDULE_FILE.format(REPLAY_OPTION=REPLAY_OPTION, value=value, error=error)
        )

    try:
        log, metadata = ChoiceLog.from_json((here / value).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as error:
        raise bad(error) from None
    test = metadata.get("test")
    if not isinstance(test, str):
        raise pytest.UsageError(
            SCHEDULE_WITHOUT_TEST.format(REPLAY_OPTION=REPLAY_OPTION, value=value)
        )
    seed, loop_seed = _seed_in(metadata, "seed"), _seed_in(metadata, "loop_seed")
    if seed is None or loop_seed is None:
        raise bad("its seed and loop_seed must be non-negative integers")
    from ._seeds import loop_seed as loop_seed_of

    if loop_seed != loop_seed_of(test, seed):
        raise bad(f"its loop_seed {loop_seed} is not seed {seed} of {test}")
    return RecordedSchedule(
        given=value,
        log=log,
        test=test,
        seed=seed,
        loop_seed=loop_seed,
        strategy=str(metadata.get("strategy", "?")),
        shrunk=bool(metadata.get("shrunk", False)),
    )


def _seed_in(metadata: dict[str, Any], name: str) -> int | None:
    value = metadata.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def file_stem(nodeid: str, seed: int) -> str:
    """A file name for seed `seed` of test `nodeid`: the node id with anything
    but letters, digits, '.', '-' and '_' made '_', then the seed."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid).strip("._-") or "test"
    if len(stem) > LONGEST_STEM:
        stem = f"{stem[:LONGEST_STEM]}-{zlib.crc32(nodeid.encode()):08x}"
    return f"{stem}-seed{seed}"


def schedules_dir(config: pytest.Config, trace_dir: Path | None) -> Path | None:
    """Where failing schedules are saved: the trace directory when given,
    else pytest's cache; None when the cache is disabled too."""
    if trace_dir is not None:
        return trace_dir
    cache: pytest.Cache | None = getattr(config, "cache", None)
    if cache is None:
        return None
    return cache.mkdir(CACHE_SUBDIR[0]).joinpath(*CACHE_SUBDIR[1:])


def save_schedule(
    directory: Path,
    stem: str,
    log: Any,
    *,
    test: str,
    seed: int,
    loop_seed: int,
    strategy: str,
    shrunk: bool,
) -> Path:
    """Write `log` as ``directory/stem.schedule.json``; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.schedule.json"
    text = log.to_json(test=test, seed=seed, loop_seed=loop_seed, strategy=strategy, shrunk=shrunk)
    path.write_text(text + "\n", encoding="utf-8")
    return path
