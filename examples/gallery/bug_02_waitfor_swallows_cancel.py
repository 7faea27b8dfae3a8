"""Bug 2: `wait_for` swallows a cancellation that arrives as the result does.

Source: CPython bpo-42130 (python/cpython#86296), with attempted fixes in
PRs #26097 and #28149; resolved by gh-96764 (PR #98518), which rebuilt
`wait_for` on top of `asyncio.timeout`.
Affected: CPython 3.8.6 to 3.11.x (this machine's 3.11 `asyncio.wait_for`
has it); fixed in 3.12.

What goes wrong: the fix for bug 1 made a cancelled `wait_for` return the
inner task's result when the inner task had already finished. The caller's
cancel() is then silently dropped: `wait_for` returns normally, and a consumer
loop that was told to stop takes the next job and carries on.

Interleaving: the same coincidence as bug 1. The consumer's cancel() and the
inner task's last step (taking the job from the queue) happen in one loop
iteration, with the inner task's step first. Here both the shutdown and the
job's arrival are timers due after 1 ms, the shutdown scheduled first: the
stock loop runs it first, the consumer resumes before the inner task, and the
cancellation goes through. A timer tie in the other order, or the inner task
stepping before the consumer in that iteration, swallows it.

Fix (3.12): there is no inner task any more. `wait_for` awaits the coroutine
in the caller's own task under a deadline (`asyncio.timeout`), so a result
and a cancellation can no longer both be pending for the caller.
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
#: The stdlib's own `wait_for` has this bug before 3.12.
STDLIB = asyncio.wait_for
STDLIB_HAS_BUG = sys.version_info < (3, 12)


async def wait_for_in_inner_task(awaitable: Awaitable[_T], timeout: float) -> _T:
    """`wait_for` as in CPython 3.8.6-3.11: a cancelled caller whose inner
    task has finished returns the result, and the cancellation is lost."""
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
            if inner.done():
                return inner.result()  # the bug: the CancelledError is dropped here
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


async def wait_for_in_own_task(awaitable: Awaitable[_T], timeout: float) -> _T:
    """`wait_for` as in 3.12: the caller awaits the work itself, under a deadline."""
    async with asyncio.timeout(timeout):
        return await awaitable


BUGGY = wait_for_in_inner_task
FIXED = wait_for_in_own_task


async def scenario(wait_for: Any) -> None:
    """A consumer is shut down at the moment a job arrives."""
    loop = asyncio.get_running_loop()
    jobs: asyncio.Queue[str] = asyncio.Queue()
    handled: list[str] = []

    async def consume() -> None:
        while True:
            handled.append(await wait_for(jobs.get(), timeout=60.0))

    consumer = asyncio.create_task(consume())
    # Let the consumer, then wait_for's inner task, start waiting: otherwise a
    # slow start on the stock loop can let the job arrive before the inner
    # task has even looked at the queue, which is the bug's window too.
    for _ in range(2):
        await asyncio.sleep(0)
    loop.call_later(0.001, consumer.cancel)  # shut the consumer down after 1 ms ...
    loop.call_later(0.001, jobs.put_nowait, "job")  # ... as a job arrives
    await asyncio.wait([consumer], timeout=1.0)
    assert consumer.cancelled(), (
        f"the consumer was cancelled but kept going (handled {handled}): "
        "wait_for returned the job and dropped the CancelledError"
    )


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
