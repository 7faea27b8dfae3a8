"""Bug 3: a lock waiter cancelled just after being woken strands the next waiter.

Source: CPython bpo-27585; python/asyncio PR #467, merged as cpython PR #1031
(backports #2037, #2038); an earlier attempt was python/asyncio PR #393.
Affected: CPython 3.4, 3.5 before 3.5.4, 3.6 before 3.6.2.

What goes wrong: `release()` marks the lock free and wakes the first waiter
(W1) by completing its future. If W1 is cancelled before it runs, it sees
CancelledError and leaves the queue, without taking the lock and without
waking anybody. The lock is free, W2 is still queued, and nothing will ever
wake W2: it waits forever.

Interleaving: release() picks W1, then W1.cancel() arrives before W1 runs.
Here the lock's holder releases it from a timer (its lease ends after 1 ms)
and W1's cancel is a timer with the same delay, scheduled just before: the
stock loop fires the cancel first, so release() skips W1 and wakes W2. It
takes the two timers due at the same instant firing in the other order.

Fix (PR #1031): a waiter that is cancelled after being woken, while the lock
is still free, passes the wake-up on to the next waiter.
"""

from __future__ import annotations

import asyncio
import collections
import sys
from types import TracebackType

from examples.gallery._support import finishes, show

INTERLEAVING = "T"
STOCK_HIDES = True
NEEDS_NETWORK = False


class _Lock:
    """A FIFO lock: `release()` wakes the first waiter, which then takes the lock."""

    def __init__(self) -> None:
        self._locked = False
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def locked(self) -> bool:
        return self._locked

    async def acquire(self) -> None:
        if not self._locked and all(waiter.cancelled() for waiter in self._waiters):
            self._locked = True
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            try:
                await waiter
            except asyncio.CancelledError:
                self._cancelled_while_waiting()
                raise
            self._locked = True
        finally:
            self._waiters.remove(waiter)

    def _cancelled_while_waiting(self) -> None:
        """What a waiter does when it is cancelled before it took the lock."""

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release() of an unlocked lock")
        self._locked = False
        self._wake_first()

    def _wake_first(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
                return

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class LockStrandingWaiters(_Lock):
    """The lock before PR #1031: a woken-then-cancelled waiter wakes nobody."""


class LockPassingWakeUpOn(_Lock):
    """The lock after PR #1031."""

    def _cancelled_while_waiting(self) -> None:
        # We may have been woken by release() just before the cancel: if the
        # lock is still free, someone else must get the chance to take it.
        if not self._locked:
            self._wake_first()


BUGGY = LockStrandingWaiters
FIXED = LockPassingWakeUpOn


async def scenario(lock_type: type[_Lock]) -> None:
    """W1 gives up at the moment the lock is released; W2 must get the lock."""
    loop = asyncio.get_running_loop()
    lock = lock_type()
    await lock.acquire()  # the holder takes the lock for a 1 ms lease

    async def use_lock() -> None:
        async with lock:
            await asyncio.sleep(0)

    first = asyncio.create_task(use_lock(), name="W1")
    second = asyncio.create_task(use_lock(), name="W2")
    await asyncio.sleep(0)  # W1 and W2 queue up for the lock
    loop.call_later(0.001, first.cancel)  # W1 gives up after 1 ms ...
    loop.call_later(0.001, lock.release)  # ... as the holder's lease ends
    await asyncio.wait([first])
    await finishes(second, "W2 never got the lock, although it is free")


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
