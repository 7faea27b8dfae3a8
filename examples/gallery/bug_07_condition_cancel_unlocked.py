"""Bug 7: a condition's `wait()`, cancelled while taking the lock back, returns without it.

Source: CPython bpo-22970, fixed by python/asyncio PR #346.
Affected: CPython 3.4.x and 3.5.0-3.5.1.

What goes wrong: `wait()` releases the lock, sleeps until notified, then
takes the lock back. If the waiting task is cancelled while it is queued
for the lock (the notifier still holds it), the CancelledError escapes from
the lock's `acquire()` and `wait()` returns without the lock. The caller's
`async with` then releases a lock it does not hold: another task's lock, or
an unlocked one.

Interleaving, three steps in order: the notifier, holding the lock, calls
notify() and keeps the lock across one more await; the worker resumes and
queues for the lock; the worker's deadline fires before it gets the lock.
The worker waits under a 1 ms deadline and the notifier acts after sleeping
1 ms, its sleep scheduled just before the worker's deadline. On the stock
loop (and in any reordering of one iteration) the deadline fires in the same
iteration as the notifier's wake-up, before notify() runs, and nothing goes
wrong. The bug needs the deadline to fire two iterations late, as on a busy
loop: after the notifier's step (notify), the worker's step (it queues for
the lock) and the notifier's release, but before the worker resumes.

Fix (PR #346): `wait()` keeps trying to take the lock back until it has it,
and only then re-raises the CancelledError.

The lock here checks its owner, so releasing somebody else's lock is an
AssertionError at the moment it happens.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sys
from types import TracebackType

from examples.gallery._support import show

INTERLEAVING = "D"
STOCK_HIDES = True
NEEDS_NETWORK = False


class OwnedLock:
    """An `asyncio.Lock` that knows which task holds it."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.owner: asyncio.Task[object] | None = None

    async def acquire(self) -> None:
        await self._lock.acquire()
        self.owner = asyncio.current_task()

    def release(self) -> None:
        releaser = asyncio.current_task()
        holder = self.owner.get_name() if self.owner is not None else "nobody"
        assert self.owner is releaser, (
            f"{releaser.get_name() if releaser else '?'} released a lock held by {holder}"
        )
        self.owner = None
        self._lock.release()


class _Condition:
    """A condition variable on an `OwnedLock`."""

    def __init__(self) -> None:
        self._lock = OwnedLock()
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def __aenter__(self) -> None:
        await self._lock.acquire()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._lock.release()

    def notify(self, count: int = 1) -> None:
        woken = 0
        for waiter in self._waiters:
            if woken == count:
                return
            if not waiter.done():
                waiter.set_result(None)
                woken += 1

    async def wait(self) -> None:
        self._lock.release()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            self._waiters.remove(waiter)
            await self._take_lock_back()

    async def _take_lock_back(self) -> None:
        raise NotImplementedError


class ConditionLeavingUnlocked(_Condition):
    """The condition of CPython 3.4: a cancel while re-locking escapes without the lock."""

    async def _take_lock_back(self) -> None:
        await self._lock.acquire()  # the bug: a CancelledError here leaves us unlocked


class ConditionAlwaysRelocking(_Condition):
    """The condition after PR #346."""

    async def _take_lock_back(self) -> None:
        cancelled = None
        while True:
            try:
                await self._lock.acquire()
                break
            except asyncio.CancelledError as error:
                cancelled = error  # keep trying; re-raise once we hold the lock
        if cancelled is not None:
            raise cancelled


BUGGY = ConditionLeavingUnlocked
FIXED = ConditionAlwaysRelocking


async def scenario(condition_type: type[_Condition]) -> None:
    """A worker waits for a signal with a deadline; the signal comes as the deadline passes."""
    condition = condition_type()

    async def dispatch() -> None:
        await asyncio.sleep(0.001)
        async with condition:
            condition.notify()
            await asyncio.sleep(0)  # e.g. records the hand-off, still holding the lock

    async def work() -> None:
        async with condition:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.001):
                    await condition.wait()

    dispatcher = asyncio.create_task(dispatch(), name="dispatcher")
    worker = asyncio.create_task(work(), name="worker")
    await asyncio.gather(dispatcher, worker)


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
