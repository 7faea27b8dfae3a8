"""Bug 10: a task group nested in a task group swallows the outer group's cancellation.

Source: CPython gh-116720, fixed by PR #117407 (which also made
`Task.uncancel()` clear a pending cancel request once the count reaches zero).
Affected: CPython 3.11.x and 3.12.x (this machine's 3.11 and 3.12
`asyncio.TaskGroup` have it); fixed in 3.13.0.

What goes wrong: a host task runs an inner group inside an outer group. A
sibling of the host in the outer group and a child in the inner group fail
at the same time. The outer group cancels the host; the inner group cancels
the host too (to stop its body), and on exit takes back only its own
request. One cancel request is still outstanding, but the inner group has
errors, and errors win: it raises its ExceptionGroup, and the outer group's
CancelledError is never delivered. If the host handles that error and goes
on, it runs as if nobody had cancelled it, and the outer group waits for it.

Interleaving: the two failures are seen in the same iteration, before the
host's next step. That is the common case: on the stock loop it shows every
time. It is avoided only if the inner child's failure comes late, after the
host has already handled the outer group's cancellation.

Fix (PR #117407, in our own form): when a group exits with errors while its
host still has cancel requests from outside, it re-arms the host's
cancellation, so the host's next await raises CancelledError.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

from examples.gallery._support import show

INTERLEAVING = "W"
STOCK_HIDES = False
NEEDS_NETWORK = False
#: The stdlib's own `asyncio.TaskGroup` has this bug before 3.13.
STDLIB = asyncio.TaskGroup
STDLIB_HAS_BUG = sys.version_info < (3, 13)


class _TaskGroup:
    """A task group: the first failing child cancels the others and the host
    (the task running ``async with``); errors are raised as an ExceptionGroup."""

    def __init__(self) -> None:
        self._children: list[asyncio.Task[Any]] = []
        self._errors: list[BaseException] = []
        self._aborting = False
        self._exiting = False
        self._cancelled_host = False
        self._all_done: asyncio.Future[None] | None = None
        self._host: asyncio.Task[Any] | None = None

    async def __aenter__(self) -> _TaskGroup:
        self._host = asyncio.current_task()
        return self

    def create_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        child = asyncio.create_task(coro)
        self._children.append(child)
        child.add_done_callback(self._child_done)
        return child

    def _child_done(self, child: asyncio.Task[Any]) -> None:
        self._children.remove(child)
        if not self._children and self._all_done is not None and not self._all_done.done():
            self._all_done.set_result(None)
        if child.cancelled() or child.exception() is None:
            return
        self._errors.append(child.exception())  # type: ignore[arg-type]
        if not self._aborting:
            self._abort()
            if not self._exiting and not self._cancelled_host:
                self._cancelled_host = True  # stop the body of the `async with`
                assert self._host is not None
                self._host.cancel()

    def _abort(self) -> None:
        self._aborting = True
        for child in self._children:
            child.cancel()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._host is not None
        self._exiting = True
        cancelled = kind is asyncio.CancelledError
        if self._cancelled_host and self._host.uncancel() == 0:
            cancelled = False  # the only cancel request was ours
        if kind is not None and not self._aborting:
            self._abort()
        while self._children:
            self._all_done = asyncio.get_running_loop().create_future()
            try:
                await self._all_done
            except asyncio.CancelledError:
                cancelled = True
                if not self._aborting:
                    self._abort()
        if self._errors:
            self._before_raising_errors()
            raise BaseExceptionGroup("errors in a task group", self._errors)
        if cancelled:
            raise asyncio.CancelledError

    def _before_raising_errors(self) -> None:
        """Called when the group is about to raise its errors."""


class TaskGroupDroppingCancel(_TaskGroup):
    """The task group of CPython 3.11/3.12: errors replace an outside cancellation."""


class TaskGroupKeepingCancel(_TaskGroup):
    """The task group of CPython 3.13."""

    def _before_raising_errors(self) -> None:
        assert self._host is not None
        if self._host.cancelling():
            # Someone outside the group also cancelled the host, and the
            # errors raised here replace that CancelledError: re-arm the
            # request (same count) so the host's next await raises it.
            self._host.uncancel()
            self._host.cancel()


BUGGY = TaskGroupDroppingCancel
FIXED = TaskGroupKeepingCancel


async def scenario(group_type: Any) -> None:
    """A sibling in the outer group and a child in the inner group fail together."""
    went_on: list[str] = []

    async def fail_soon(what: str) -> None:
        await asyncio.sleep(0.001)
        raise ValueError(what)

    async def host() -> None:
        try:
            async with group_type() as inner:
                inner.create_task(fail_soon("inner child"))
                await asyncio.sleep(1)
        except* ValueError:
            pass  # the host handles its own group's failure ...
        await asyncio.sleep(0.001)  # ... and goes on, unless it is cancelled
        went_on.append("host")

    try:
        async with group_type() as outer:
            outer.create_task(host())
            outer.create_task(fail_soon("sibling"))
    except* ValueError:
        pass
    assert not went_on, "the host went on after the outer group cancelled it"


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
