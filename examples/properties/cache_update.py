"""An update that is not cancellation-safe, found only by injected cancellation.

A cache keeps a value and its version; `update` bumps the version, writes
ahead to a log (an await), then stores the value. Cancelled between the two,
the cache holds a (version, value) pair no update ever wrote. No timeout in the program ever
fires there, so every seed of a plain sweep passes; cancelling the update
task at each of its awaits (`strategies.InjectCancellation("update-*")`)
finds it. The fixed update does all its awaiting first and changes both
fields together, after the last await.
"""

from __future__ import annotations

import asyncio
import contextlib


class Cache:
    def __init__(self) -> None:
        self.value = 0
        self.version = 0
        self.log: list[tuple[int, int]] = []

    async def write_ahead(self, version: int, value: int) -> None:
        await asyncio.sleep(0.001)
        self.log.append((version, value))


class BuggyCache(Cache):
    async def update(self, value: int) -> None:
        self.version += 1
        await self.write_ahead(self.version, value)
        self.value = value


class FixedCache(Cache):
    async def update(self, value: int) -> None:
        version = self.version + 1
        await self.write_ahead(version, value)
        self.version, self.value = version, value  # after the last await: all or nothing


async def scenario(cache: Cache) -> None:
    for value in range(1, 4):
        task = asyncio.create_task(cache.update(value), name=f"update-{value}")
        with contextlib.suppress(asyncio.CancelledError):
            await task
        state = (cache.version, cache.value)
        assert state in [(0, 0), *cache.log], f"(version, value) = {state}: no update wrote it"


async def buggy() -> None:
    await scenario(BuggyCache())


async def fixed() -> None:
    await scenario(FixedCache())
