"""Bug 4: a semaphore hangs for good after a woken waiter is cancelled.

Source: CPython gh-90155 (bpo-45997): a regression introduced by PR #31910
(the fix for bug 5) and fixed by PR #93222.
Affected: CPython 3.9.12-3.9.18 (checked on the 3.9.18 stdlib) and
3.10.4-3.10.7.

What goes wrong: to stop newcomers from overtaking a woken waiter (bug 5),
this semaphore keeps a flag, "a wake-up is in flight", set by `release()`
and cleared by the woken waiter when it resumes; while the flag is set,
every `acquire()` queues. If the woken waiter is cancelled before it
resumes, it leaves the queue without clearing the flag. From then on every
`acquire()` waits, forever, although a permit is free.

Interleaving: release() wakes W, then W.cancel() arrives before W runs.
Here the holder releases from a timer and W's cancel is a timer with the same
delay, scheduled just before: the stock loop fires the cancel first, W leaves
the queue, and release() finds nobody to wake. It takes the two timers due at
the same instant firing in the other order.

Fix (PR #93222, in our own form): no flag. `release()` hands the permit
straight to the first waiter; a waiter cancelled after being handed a permit
passes it on (or back); a newcomer queues behind anyone still waiting.
"""

from __future__ import annotations

import asyncio
import collections
import sys

from examples.gallery._support import finishes, show

INTERLEAVING = "T"
STOCK_HIDES = True
NEEDS_NETWORK = False


class SemaphoreWithWakeupFlag:
    """The semaphore of CPython 3.10.4: a wake-up flag that can stay set."""

    def __init__(self, value: int = 1) -> None:
        self._value = value
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._wakeup_in_flight = False

    async def acquire(self) -> None:
        while self._wakeup_in_flight or self._value <= 0:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
                self._wakeup_in_flight = False
            except asyncio.CancelledError:
                # The bug: if we were the one woken, the flag stays set,
                # and there may be nobody left to wake who would clear it.
                self._wake_next()
                raise
        self._value -= 1

    def release(self) -> None:
        self._value += 1
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._wakeup_in_flight = True
                return


class SemaphoreHandingOver:
    """A semaphore whose `release()` hands the permit to the first waiter."""

    def __init__(self, value: int = 1) -> None:
        self._value = value
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        if self._value > 0 and not any(not waiter.done() for waiter in self._waiters):
            self._value -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # when this returns, the permit is ours
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # we were handed a permit we will not use: pass it on
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the permit goes to this waiter
                return
        self._value += 1


BUGGY = SemaphoreWithWakeupFlag
FIXED = SemaphoreHandingOver


async def scenario(semaphore_type: type[SemaphoreHandingOver]) -> None:
    """W gives up at the moment the permit is released; a later acquire() must succeed."""
    loop = asyncio.get_running_loop()
    semaphore = semaphore_type(1)
    await semaphore.acquire()  # the holder takes the only permit

    async def use_once() -> None:
        await semaphore.acquire()
        semaphore.release()

    waiter = asyncio.create_task(use_once(), name="W")
    await asyncio.sleep(0)  # W queues up
    loop.call_later(0.001, waiter.cancel)  # W gives up after 1 ms ...
    loop.call_later(0.001, semaphore.release)  # ... as the holder releases
    await asyncio.wait([waiter])
    later = asyncio.create_task(use_once(), name="later")
    await finishes(later, "acquire() hangs although the permit is free")


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
