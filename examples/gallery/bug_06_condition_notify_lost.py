"""Bug 6: a condition's notification is lost when the notified waiter is cancelled.

Source: CPython gh-112202, fixed by PR #112201.
Affected: CPython up to 3.12 (this machine's 3.11 and 3.12 `asyncio.Condition`
have it); fixed in 3.13.0.

What goes wrong: `notify(1)` completes the future of the first waiter, C1.
If C1 is cancelled before it resumes, `wait()` raises CancelledError: C1
consumed the notification but will not act on it, and no other waiter was
woken. The job that was announced sits there while C2 sleeps forever.

Interleaving: the producer's notify(1) runs, then C1's cancel() lands before
C1 resumes. C1 waits under a 1 ms deadline, and the producer announces the
job after sleeping 1 ms, its sleep scheduled just before C1's deadline. At the
same instant both orders are harmless: the deadline fires in the same
iteration as the producer's wake-up, before the producer's step, so C1 is
already cancelled when notify() runs and the notification goes to C2. The bug
needs the deadline to fire *late*: after the producer's next step, as a busy
loop does when the callbacks before it take time. A reordering inside one
iteration never produces it.

Fix (PR #112201, in our own form): a waiter that was notified and then
cancelled passes the notification on to another waiter before it leaves.
"""

from __future__ import annotations

import asyncio
import collections
import sys
from types import TracebackType

from examples.gallery._support import finishes, show

INTERLEAVING = "D"
STOCK_HIDES = True
NEEDS_NETWORK = False
#: The stdlib's own `asyncio.Condition` has this bug before 3.13.
STDLIB = asyncio.Condition
STDLIB_HAS_BUG = sys.version_info < (3, 13)


class _Condition:
    """A condition variable on an `asyncio.Lock`."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
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
            try:
                await waiter
            except asyncio.CancelledError:
                self._cancelled_while_waiting(waiter)
                raise
            finally:
                self._waiters.remove(waiter)
        finally:
            await self._take_lock_back()

    def _cancelled_while_waiting(self, waiter: asyncio.Future[None]) -> None:
        """What a waiter does when it is cancelled in `wait()`."""

    async def _take_lock_back(self) -> None:
        # Even when cancelled, wait() must return holding the lock (bug 7).
        cancelled = None
        while True:
            try:
                await self._lock.acquire()
                break
            except asyncio.CancelledError as error:
                cancelled = error
        if cancelled is not None:
            raise cancelled


class ConditionLosingNotification(_Condition):
    """The condition of CPython 3.12: a cancelled waiter keeps its notification."""


class ConditionPassingNotificationOn(_Condition):
    """The condition of CPython 3.13."""

    def _cancelled_while_waiting(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done() and not waiter.cancelled():
            self.notify(1)  # we were notified but will not act: wake someone who will


BUGGY = ConditionLosingNotification
FIXED = ConditionPassingNotificationOn


async def scenario(condition_type: type[_Condition] | type[asyncio.Condition]) -> None:
    """One job is announced as the impatient consumer gives up; the patient one must get it."""
    condition = condition_type()
    jobs: list[str] = []

    async def take_job() -> str:
        async with condition:
            while not jobs:
                await condition.wait()
            return jobs.pop()

    async def take_job_impatiently() -> None:
        async with asyncio.timeout(0.001):
            await take_job()

    async def produce() -> None:
        await asyncio.sleep(0.001)
        async with condition:
            jobs.append("job")
            condition.notify(1)

    producer = asyncio.create_task(produce(), name="producer")
    impatient = asyncio.create_task(take_job_impatiently(), name="C1")
    patient = asyncio.create_task(take_job(), name="C2")
    await asyncio.wait([producer, impatient])
    if not impatient.cancelled() and isinstance(impatient.exception(), TimeoutError):
        await finishes(patient, "C1 timed out after being notified, and C2 was never woken")
    else:
        patient.cancel()  # C1 took the job


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
