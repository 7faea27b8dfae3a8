"""Spreading one test's seeds over pytest-xdist workers, with the verdict of a serial run.

Under ``-n N`` every simloop test is collected N times: the test itself (its
node id unchanged, through `pytest.HIDDEN_PARAM`) and N-1 helpers
(``test[simloop-helper-1]`` ...) that xdist schedules like any test. Whoever
runs first takes blocks of seeds from a pool shared through a directory the
controller hands out (claiming a block is creating its file with O_EXCL, so
no lock is needed); the test itself then waits for the blocks others are
still running, and reports.

The verdict is the one a serial run gives: a serial run stops at its first
failing seed, the smallest one, and the pool finds the smallest failing seed
too, because a block is skipped only when it starts after a failure already
found. A failure found by a helper is replayed by the test itself, which
raises the real exception (and says so if it does not reproduce). Helpers'
reports are hidden on the controller, so the counts match a serial run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: the pseudo-argument that tells the test (0) from its helpers (1, 2, ...)
PART_ARGUMENT = "_simloop_part"
HELPER_ID = "simloop-helper-{part}"
_POOL_KEY = "simloop_pool"
_POLL_SECONDS = 0.002
#: a block is at most this many seeds (more blocks: better balance, more files)
MAX_BLOCK = 50


def parts(config: pytest.Config) -> int:
    """How many items each simloop test is collected as (1 when not under xdist)."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if not workerinput or _POOL_KEY not in workerinput:
        return 1
    return max(1, int(workerinput.get("workercount", 1)))


def pool_root(config: pytest.Config) -> Path | None:
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if not workerinput or _POOL_KEY not in workerinput:
        return None
    return Path(workerinput[_POOL_KEY])


def part_of(item: pytest.Item) -> int:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return 0
    return int(callspec.params.get(PART_ARGUMENT, 0))


def primary_nodeid(item: pytest.Item) -> str:
    """The node id of the test a helper helps (the test's own id for the test)."""
    part = part_of(item)
    if part == 0:
        return item.nodeid
    helper = HELPER_ID.format(part=part)
    nodeid = item.nodeid
    for suffix, replacement in ((f"[{helper}]", ""), (f"-{helper}]", "]")):
        if nodeid.endswith(suffix):
            return nodeid[: -len(suffix)] + replacement
    return nodeid  # pragma: no cover - pytest changed how ids are joined


def helper_ids(count: int) -> list[object]:
    return [pytest.HIDDEN_PARAM, *(HELPER_ID.format(part=part) for part in range(1, count))]


class ControllerHooks:
    """Registered on the xdist controller: one pool directory for the session,
    and progress counted without the helpers (whose reports are hidden)."""

    def __init__(self) -> None:
        self._root: str | None = None
        self._session: pytest.Session | None = None
        self._tests: int | None = None

    def pytest_configure_node(self, node: Any) -> None:
        if self._root is None:
            self._root = tempfile.mkdtemp(prefix="simloop-pool-")
        node.workerinput[_POOL_KEY] = self._root

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._session = session

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        helpers = sum(1 for nodeid in ids if "simloop-helper-" in nodeid)
        self._tests = len(ids) - helpers

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        # xdist sets the number of collected items after the hook above; the
        # terminal's "[ 42%]" must count tests only, as a serial run does.
        if self._session is not None and self._tests is not None:
            self._session.testscollected = self._tests

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)


@dataclass
class BlockResult:
    """What one block of seeds showed, as it travels between workers."""

    ran: int = 0
    failed: int | None = None
    digests: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: `simloop.sometimes` names seen, and in how many of the block's seeds each held
    sometimes: dict[str, int] = field(default_factory=dict)
    #: what the block's seeds left behind (`pytest_simloop._warnings.Seen` as data)
    findings: dict[str, Any] = field(default_factory=dict)


class Pool:
    """The seeds of one test, in blocks that the test and its helpers claim."""

    def __init__(self, root: Path, test_id: str, seeds: range, workers: int) -> None:
        name = hashlib.blake2b(test_id.encode(), digest_size=10).hexdigest()
        self.path = root / name
        self.path.mkdir(parents=True, exist_ok=True)
        self.seeds = seeds
        self.block_size = max(1, min(MAX_BLOCK, len(seeds) // (workers * 4)))
        self.blocks = -(-len(seeds) // self.block_size)
        self._results: dict[int, BlockResult] = {}

    def block(self, index: int) -> range:
        return self.seeds[index * self.block_size : (index + 1) * self.block_size]

    def claim(self, index: int) -> bool:
        try:
            handle = os.open(self.path / f"claim-{index}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        with os.fdopen(handle, "w") as file:
            file.write(str(os.getpid()))
        return True

    def release(self, index: int) -> None:
        """Give a claimed block back (its run was interrupted): the test runs it."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path / f"claim-{index}")

    def _claimed_by_the_dead(self, index: int) -> bool:
        try:
            pid = int((self.path / f"claim-{index}").read_text() or "0")
        except (OSError, ValueError):
            return False
        if pid <= 0 or pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False

    def claimed(self, index: int) -> bool:
        return (self.path / f"claim-{index}").exists()

    def stop(self) -> None:
        (self.path / "stop").touch()

    def stopped(self) -> bool:
        return (self.path / "stop").exists()

    def best_failure(self) -> int | None:
        """The smallest failing seed found so far by anyone."""
        failed = [int(name[5:]) for name in os.listdir(self.path) if name.startswith("fail-")]
        return min(failed) if failed else None

    def publish(self, index: int, result: BlockResult) -> None:
        if result.failed is not None:
            (self.path / f"fail-{result.failed}").touch()
        temporary = self.path / f".result-{index}-{os.getpid()}"
        temporary.write_text(json.dumps(result.__dict__))
        os.replace(temporary, self.path / f"result-{index}.json")
        self._results[index] = result

    def result(self, index: int) -> BlockResult | None:
        if index not in self._results:
            with contextlib.suppress(FileNotFoundError):
                data = json.loads((self.path / f"result-{index}.json").read_text())
                self._results[index] = BlockResult(**data)
        return self._results.get(index)

    def unclaimed_blocks(self) -> Iterator[int]:
        """Blocks in order, each one this process claims, until the rest start
        after a known failure or the test has stopped the pool."""
        for index in range(self.blocks):
            if self.stopped():
                return
            best = self.best_failure()
            if best is not None and self.block(index).start > best:
                return
            if self.claim(index):
                yield index

    def wait_for_others(self) -> Iterator[int]:
        """Wait until every block that could hold the smallest failing seed has
        a result; yield blocks whose claimer died, for this process to run."""
        while True:
            best = self.best_failure()
            missing = [
                index
                for index in range(self.blocks)
                if (best is None or self.block(index).start <= best) and self.result(index) is None
            ]
            if not missing:
                return
            for index in missing:
                if not self.claimed(index) and self.claim(index):
                    yield index  # nobody took it (a helper that never ran)
                elif self._claimed_by_the_dead(index):
                    yield index
            time.sleep(_POLL_SECONDS)

    def results(self) -> list[BlockResult]:
        found = (self.result(index) for index in range(self.blocks))
        return [result for result in found if result is not None]
