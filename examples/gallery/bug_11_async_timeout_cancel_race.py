"""Bug 11: a deadline turns somebody else's cancel() into a TimeoutError.

Source: aio-libs/async-timeout#229 (seen from aio-libs/aiohttp#5979); a
partial fix in async-timeout PR #230, a fuller one (PR #237) never merged.
The race is what motivated `Task.cancelling()`/`uncancel()` in asyncio
(bpo-46771, PR #31394), on which `asyncio.timeout` is built.
Affected: async-timeout up to 3.0.1 (in both orders) and 4.0.x (in the order
below), and the aiohttp code paths built on it.

What goes wrong: when the deadline passes, the timeout cancels its task and
remembers that it did; on exit it turns any CancelledError into
TimeoutError. If somebody else (a shutdown, say) also cancels the task after
the deadline fired and before the task runs, the task sees one
CancelledError for both requests. The timeout turns it into TimeoutError,
the caller treats it as a slow call and retries, and the shutdown is lost.

Interleaving: the deadline's cancel() comes first, then the app's cancel(),
both before the task runs. (The partial fix made the deadline stand aside
when the app's cancel came first.) Here the app cancels from a timer with
the same delay as the deadline, scheduled just before it: the stock loop
fires the app's cancel first and the deadline stands aside. It takes the two
timers due at the same instant firing in the other order.

Fix (asyncio.timeout, in our own form): count cancel requests. On exit, the
timeout withdraws its own request and reports TimeoutError only if no other
request is left; otherwise the CancelledError goes on.
"""

from __future__ import annotations

import asyncio
import sys
from types import TracebackType
from typing import Any

from examples.gallery._support import show

INTERLEAVING = "T"
STOCK_HIDES = True
NEEDS_NETWORK = False


class _Timeout:
    """``async with Timeout(delay):`` cancels the task after `delay` seconds."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._expired = False

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._requests_before = task.cancelling()
        self._deadline = asyncio.get_running_loop().call_later(self._delay, self._expire)

    def _expire(self) -> None:
        self._task.cancel()
        self._expired = True

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._deadline.cancel()
        if kind is asyncio.CancelledError and self._expired and self._withdraw_our_request():
            raise TimeoutError

    def _withdraw_our_request(self) -> bool:
        """Take back our cancel request; True if no other request is left."""
        raise NotImplementedError


class TimeoutRacingCancel(_Timeout):
    """The timeout of async-timeout 4.0: any CancelledError after expiry is "ours"."""

    def _expire(self) -> None:
        if self._task.cancelling() > self._requests_before:
            return  # the partial fix: someone cancelled first, stand aside
        super()._expire()

    def _withdraw_our_request(self) -> bool:
        self._task.uncancel()  # take our request back (async-timeout predates this)
        return True  # the bug: a later cancel() from someone else is swallowed


class TimeoutCountingRequests(_Timeout):
    """The timeout of asyncio.timeout."""

    def _withdraw_our_request(self) -> bool:
        return self._task.uncancel() <= self._requests_before


BUGGY = TimeoutRacingCancel
FIXED = TimeoutCountingRequests


async def scenario(timeout_type: Any) -> None:
    """A worker retries a slow call with a deadline; a shutdown cancels it as a deadline passes."""
    loop = asyncio.get_running_loop()
    timed_out: list[int] = []

    async def fetch_with_retries() -> None:
        for attempt in range(3):
            try:
                async with timeout_type(0.001):
                    await asyncio.sleep(1)  # a slow upstream
                return
            except TimeoutError:
                timed_out.append(attempt)

    worker = asyncio.create_task(fetch_with_retries(), name="worker")
    loop.call_later(0.001, worker.cancel)  # the application shuts down after 1 ms
    await asyncio.wait([worker])
    assert worker.cancelled(), (
        f"the worker was cancelled but went on (attempts timed out: {timed_out}): "
        "the timeout turned the shutdown's cancel() into TimeoutError"
    )


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
