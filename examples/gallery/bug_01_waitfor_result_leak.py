"""Bug 1: `wait_for` drops the result of a call that finished as it was cancelled.

Source: CPython bpo-37658 (python/cpython#81839), fixed by PR #21894 with
follow-ups #21964, #21965 and #21969. asyncpg users met it as connections
leaking from their pools (MagicStack/asyncpg #467, PR #548).
Affected: CPython up to 3.7 and 3.8.0-3.8.5; fixed in 3.8.6 and 3.9.0
(inferred from the fix's date, August 2020).

What goes wrong: this `wait_for` runs the awaited coroutine as an inner task
and sleeps on a private future. When the caller is cancelled, it cancels the
inner task and re-raises. But if the inner task has already finished by the
time the caller resumes, there is nothing left to cancel: its result (here a
connection taken from a pool) is simply dropped, and nobody gives it back.

Interleaving: the caller's cancel() and the inner task's last step happen in
the same loop iteration, and the inner task's step runs before the caller
resumes. In this scenario the cancel comes from a timer scheduled just before
the inner task's own timer, with the same delay: the stock loop always runs
the cancel first (earlier deadline), then the caller, then the inner task, so
the bug never shows there. It needs the two timers due at the same instant to
fire in the other order (a timer tie), or the two tasks woken in the same
iteration to step in the other order.

Fix (PR #21894): when cancelled, look at the inner task first; if it has
finished, return its result instead of dropping it. That fix opened bug 2:
the cancellation itself is then lost.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import Any, TypeVar

from examples.gallery._support import show

_T = TypeVar("_T")

INTERLEAVING = "T or S"
STOCK_HIDES = True
NEEDS_NETWORK = False


async def wait_for_dropping_result(awaitable: Awaitable[_T], timeout: float) -> _T:
    """`wait_for` as in CPython 3.7: a cancelled caller loses a finished result."""
    loop = asyncio.get_running_loop()
    inner = asyncio.ensure_future(awaitable)
    woken = loop.create_future()  # set when `inner` finishes or the time is up

    def wake(_: object = None) -> None:
        if not woken.done():
            woken.set_result(None)

    deadline = loop.call_later(timeout, wake)
    inner.add_done_callback(wake)
    try:
        try:
            await woken
        except asyncio.CancelledError:
            # The bug: `inner` may have finished already; its result is lost.
            inner.remove_done_callback(wake)
            inner.cancel()
            raise
        if inner.done():
            return inner.result()
        inner.remove_done_callback(wake)
        inner.cancel()
        raise TimeoutError
    finally:
        deadline.cancel()


async def wait_for_keeping_result(awaitable: Awaitable[_T], timeout: float) -> _T:
    """`wait_for` as fixed for 3.8.6: a result that is there is returned."""
    loop = asyncio.get_running_loop()
    inner = asyncio.ensure_future(awaitable)
    woken = loop.create_future()

    def wake(_: object = None) -> None:
        if not woken.done():
            woken.set_result(None)

    deadline = loop.call_later(timeout, wake)
    inner.add_done_callback(wake)
    try:
        try:
            await woken
        except asyncio.CancelledError:
            if inner.done():
                return inner.result()  # the fix (and the door to bug 2)
            inner.remove_done_callback(wake)
            inner.cancel()
            raise
        if inner.done():
            return inner.result()
        inner.remove_done_callback(wake)
        inner.cancel()
        raise TimeoutError
    finally:
        deadline.cancel()


BUGGY = wait_for_dropping_result
FIXED = wait_for_keeping_result


class Pool:
    """A pool of one connection; `free` counts the connections in it."""

    def __init__(self) -> None:
        self.free = 1

    def take(self) -> str:
        assert self.free, "the pool is empty"
        self.free -= 1
        return "connection"

    def give_back(self, connection: str) -> None:
        self.free += 1


async def scenario(wait_for: Any) -> None:
    """A client gives up on a connection at the moment the pool hands one out."""
    loop = asyncio.get_running_loop()
    pool = Pool()

    async def connect() -> str:
        await asyncio.sleep(0.001)  # the handshake
        return pool.take()

    async def request() -> None:
        connection = await wait_for(connect(), timeout=1.0)
        pool.give_back(connection)

    client = asyncio.create_task(request())
    loop.call_later(0.001, client.cancel)  # the caller gives up after 1 ms
    await asyncio.wait([client])
    assert pool.free == 1, "the connection was taken but never given back: wait_for dropped it"


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
