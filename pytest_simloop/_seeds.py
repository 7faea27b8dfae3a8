"""From a test's small seed to its loop's seed, and the failing seeds pytest's cache keeps.

A user sees small seeds (0, 1, 2, ...) and types them back
(``--simloop-seed=7``). The loop of seed S of a test runs with
``(crc32(nodeid) << 32) + S``: two tests (or two parameters of one test) explore
different schedules under the same small seeds, and the loop seed is still a
pure function of the node id and S, the same on every machine and under every
``PYTHONHASHSEED`` (``hash()`` of a string is not). Renaming a test therefore
changes which schedule a seed means; failure reports print the loop seed too,
so ``simloop.run(main(), seed=<that seed>)`` replays a failure outside pytest.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest

#: failing seeds kept per test and strategy (the most recent ones)
REMEMBERED_SEEDS = 16
_CACHE_PREFIX = "simloop/failing"


def test_key(nodeid: str) -> int:
    """The stable 32-bit key of a test: crc32 of its node id."""
    return zlib.crc32(nodeid.encode())


def loop_seed(nodeid: str, seed: int) -> int:
    """The `SimLoop` seed that seed `seed` of test `nodeid` runs with."""
    return (test_key(nodeid) << 32) + seed


class FailureMemory:
    """Failing seeds, per test and strategy, in pytest's cache (like Hypothesis's
    example database): tried first on the next run, so a fix is checked against
    the schedule that broke it before new seeds are explored."""

    def __init__(self, cache: pytest.Cache | None) -> None:
        self._cache = cache

    @property
    def enabled(self) -> bool:
        return self._cache is not None

    def _key(self, nodeid: str) -> str:
        return f"{_CACHE_PREFIX}/{test_key(nodeid):08x}"

    def _load(self, nodeid: str) -> dict[str, Any]:
        if self._cache is None:
            return {}
        entry = self._cache.get(self._key(nodeid), None)
        if not isinstance(entry, dict) or entry.get("nodeid") != nodeid:
            return {}  # nothing kept, or another test with the same crc32
        return entry

    def seeds(self, nodeid: str, strategy: str) -> list[int]:
        """Failing seeds kept for this test and strategy, oldest first."""
        seeds = self._load(nodeid).get("seeds", {}).get(strategy, [])
        return [seed for seed in seeds if isinstance(seed, int) and seed >= 0]

    def last(self, nodeid: str, strategy: str) -> int | None:
        seeds = self.seeds(nodeid, strategy)
        return seeds[-1] if seeds else None

    def update(self, nodeid: str, strategy: str, *, failed: int | None, passed: list[int]) -> None:
        """Keep `failed` as the most recent failing seed; forget seeds that passed."""
        if self._cache is None:
            return
        seeds = [seed for seed in self.seeds(nodeid, strategy) if seed not in passed]
        if failed is not None:
            seeds = [seed for seed in seeds if seed != failed] + [failed]
        seeds = seeds[-REMEMBERED_SEEDS:]
        if seeds == self.seeds(nodeid, strategy):
            return
        entry = self._load(nodeid) or {"nodeid": nodeid, "seeds": {}}
        entry["seeds"][strategy] = seeds
        self._cache.set(self._key(nodeid), entry)
