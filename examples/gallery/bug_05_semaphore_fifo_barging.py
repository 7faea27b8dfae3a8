"""Bug 5: a newcomer takes the permit that `release()` meant for a waiter.

Source: CPython bpo-45997 / gh-90155 (the original report), fixed first by
PR #31910 (which caused bug 4) and for good by PR #93222; discussed long
before in python/asyncio #269 and #270.
Affected: CPython up to 3.9.11 and 3.10.0-3.10.3 (the 3.8.18 stdlib still
has it).

What goes wrong: `release()` adds a permit and wakes the first waiter, W1,
but W1 takes the permit only when it runs. A newcomer whose `acquire()` runs
in between sees a free permit and takes it. W1 then finds no permit and
queues again, at the tail: the semaphore is not first-come, first-served,
and under steady load a waiter can starve.

Interleaving: release() wakes W1, then the newcomer's acquire() runs before
W1 does. Here the holder releases from its own step after a 1 ms sleep, and
the newcomer arrives from a timer with the same delay, scheduled just
before: the stock loop runs the newcomer first, it finds no permit and
queues behind W1. It takes the timer tie, or the two tasks woken in the same
iteration, in the other order.

Fix (PR #93222, in our own form): `release()` hands the permit straight to
the first waiter, so there is nothing for a newcomer to take; a newcomer
queues behind anyone still waiting. The same fix closed bug 4.
"""

from __future__ import annotations

import asyncio
import collections
import sys

from examples.gallery._support import show
from examples.gallery.bug_04_semaphore_wakeup_stuck import SemaphoreHandingOver

INTERLEAVING = "T or S"
STOCK_HIDES = True
NEEDS_NETWORK = False


class SemaphoreLettingNewcomersBarge:
    """The semaphore of CPython 3.9.11: a woken waiter competes with newcomers."""

    def __init__(self, value: int = 1) -> None:
        self._value = value
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        # The bug: a free permit goes to whoever runs first, woken or not.
        while self._value <= 0:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if self._value > 0 and not waiter.cancelled():
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
                return


BUGGY = SemaphoreLettingNewcomersBarge
FIXED = SemaphoreHandingOver


async def scenario(semaphore_type: type[SemaphoreHandingOver]) -> None:
    """W1 waits for the permit; a newcomer arrives as it is released."""
    loop = asyncio.get_running_loop()
    semaphore = semaphore_type(1)
    served: list[str] = []
    await semaphore.acquire()  # the holder takes the only permit

    async def use_once(name: str) -> None:
        await semaphore.acquire()
        served.append(name)
        semaphore.release()

    first = asyncio.create_task(use_once("W1"), name="W1")
    await asyncio.sleep(0)  # W1 queues up
    arrivals: list[asyncio.Task[None]] = []
    # A newcomer arrives after 1 ms, as the holder releases.
    loop.call_later(0.001, lambda: arrivals.append(asyncio.create_task(use_once("newcomer"))))
    await asyncio.sleep(0.001)
    semaphore.release()
    await asyncio.wait([first, *arrivals])
    assert served == ["W1", "newcomer"], (
        f"served in the order {served}: the newcomer took the permit released for W1"
    )


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
