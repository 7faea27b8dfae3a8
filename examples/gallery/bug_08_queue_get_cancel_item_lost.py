"""Bug 8: a queue item handed to a getter that is then cancelled is lost.

Source: CPython bpo-23812, fixed by python/asyncio PR #256 (and PR #269).
Affected: CPython 3.4.0-3.4.3 and 3.5.0.

What goes wrong: when a getter is waiting, `put_nowait()` skips the queue and
hands the item straight to the getter's future. If the getter is cancelled
before it runs, it raises CancelledError and the item, which now lives only
in that future, is gone: nobody will ever get it.

Interleaving: put_nowait() hands the item over, then the getter is cancelled
before it runs. Here the getter waits under a 1 ms deadline and the item
arrives from a timer (a protocol callback, say) with the same delay,
scheduled just after the deadline: the stock loop fires the deadline first,
the getter leaves, and the item goes into the queue. It takes the two timers
due at the same instant firing in the other order.

Fix (PR #256, in our own form): `put_nowait()` always stores the item in the
queue and only wakes a getter; the getter takes the item when it runs. A
getter cancelled after being woken wakes the next one instead.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sys

from examples.gallery._support import show

INTERLEAVING = "T"
STOCK_HIDES = True
NEEDS_NETWORK = False


class QueueHandingItemsOver:
    """The queue of CPython 3.4.3: items go straight into a waiting getter's future."""

    def __init__(self) -> None:
        self._items: collections.deque[str] = collections.deque()
        self._getters: collections.deque[asyncio.Future[str]] = collections.deque()

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: str) -> None:
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(item)  # the bug: the item now lives only in this future
                return
        self._items.append(item)

    async def get(self) -> str:
        if self._items:
            return self._items.popleft()
        getter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._getters.append(getter)
        return await getter


class QueueWakingGetters:
    """The queue after PR #256: items stay in the queue until a getter takes them."""

    def __init__(self) -> None:
        self._items: collections.deque[str] = collections.deque()
        self._getters: collections.deque[asyncio.Future[None]] = collections.deque()

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: str) -> None:
        self._items.append(item)
        self._wake_next()

    async def get(self) -> str:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except asyncio.CancelledError:
                if getter.done() and not getter.cancelled():
                    self._wake_next()  # we were woken for an item we will not take
                raise
            finally:
                with contextlib.suppress(ValueError):
                    self._getters.remove(getter)
        return self._items.popleft()

    def _wake_next(self) -> None:
        while self._getters:
            getter = self._getters.popleft()
            if not getter.done():
                getter.set_result(None)
                return


BUGGY = QueueHandingItemsOver
FIXED = QueueWakingGetters


async def scenario(queue_type: type[QueueWakingGetters]) -> None:
    """A getter gives up at the moment an item arrives; the item must not vanish."""
    loop = asyncio.get_running_loop()
    queue = queue_type()
    received: list[str] = []

    async def get_with_deadline() -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.001):
                received.append(await queue.get())

    arrived = asyncio.Event()

    def deliver() -> None:
        queue.put_nowait("item")
        arrived.set()

    getter = asyncio.create_task(get_with_deadline(), name="getter")
    await asyncio.sleep(0)  # the getter starts waiting, with its deadline
    loop.call_later(0.001, deliver)  # the item arrives after 1 ms
    await arrived.wait()
    await asyncio.wait([getter])
    assert len(received) + queue.qsize() == 1, (
        "the item is neither received nor in the queue: it went to a cancelled getter"
    )


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
