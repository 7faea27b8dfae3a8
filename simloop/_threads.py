"""Executor jobs as simulated threads: real threads that never race the loop.

`run_in_executor` and `asyncio.to_thread` run their function on a real worker
thread, so code that blocks (on `time.sleep`, a `threading.Event`, a
`concurrent.futures.Future` the loop completes, a `queue.Queue`) still works.
But the worker and the loop run in lockstep: exactly one of them holds the
*baton* at any time. The loop hands the baton to a job at a callback of its
own and waits until the job gives it back, which the job does when it
finishes or when it blocks in a primitive the simulation knows:

* `time.sleep(s)` parks the job until virtual time has advanced by `s`;
* `threading.Condition.wait` (and so `Event.wait`, `Semaphore.acquire`,
  `queue.Queue.get`, `concurrent.futures.Future.result`, ...) parks the job
  until another simulated thread or the loop notifies the condition, or the
  (virtual) timeout passes.

A job's result reaches the loop at a virtual time the strategy chooses (its
simulated duration), never earlier than the job actually finished. A job that
blocks anywhere else (a bare `threading.Lock`, real I/O) would stall the loop;
a real-time watchdog turns that into a `SimulationError` that shows where the
job is stuck, instead of a hang.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from . import _determinism
from ._errors import SimulationError

if TYPE_CHECKING:
    from asyncio import Future, TimerHandle

    from ._choices import Choices


class JobLoop(Protocol):
    """What a thread pool needs of its loop (a `simloop._core.CoreLoop`)."""

    seed: int
    choices: Choices

    def time(self) -> float: ...
    def call_soon(self, callback: Callable[..., object], *args: Any) -> Any: ...
    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> TimerHandle: ...
    def create_future(self) -> Future[Any]: ...


#: Real seconds a job may hold the baton before the run fails as stuck.
WATCHDOG_SECONDS = 30.0

_current = threading.local()


class SimulationOver(BaseException):
    """Raised inside a parked executor job when its simulation ends first."""


def current_job() -> Job | None:
    """The simulated executor job running on this thread, if any."""
    return getattr(_current, "job", None)


def _as_asyncio_error(error: BaseException) -> BaseException:
    """What asyncio.wrap_future turns a job's exception into, so that a job
    raising concurrent.futures.CancelledError cancels its awaiter's await."""
    if isinstance(error, concurrent.futures.CancelledError):
        return asyncio.CancelledError(*error.args)
    if isinstance(error, concurrent.futures.InvalidStateError):
        return asyncio.InvalidStateError(*error.args)
    return error


def _is_machinery(filename: str) -> bool:
    return filename == __file__ or filename == threading.__file__


class Job:
    """One `run_in_executor` call: a function, its future, and its worker thread."""

    __slots__ = (
        "args",
        "error",
        "function",
        "future",
        "label",
        "pool",
        "ready_at",
        "result",
        "resume",
        "state",
        "thread_ident",
        "waiting_on",
        "wake_handle",
        "wake_value",
    )

    def __init__(
        self, pool: ThreadPool, function: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        self.pool = pool
        self.function = function
        self.args = args
        self.future: asyncio.Future[Any] = pool.loop.create_future()
        self.label = job_label(function)
        #: released by the loop to let the job run; acquired by the job to park
        self.resume = threading.Lock()
        self.resume.acquire()
        self.state = "queued"  # queued, running, parked, done
        self.result: Any = None
        self.error: BaseException | None = None
        #: virtual time before which the result must not reach the loop
        self.ready_at = 0.0
        self.wake_value: object = None
        self.wake_handle: asyncio.TimerHandle | None = None
        self.waiting_on = ""
        self.thread_ident = 0

    def __repr__(self) -> str:
        return f"<executor job {self.label} {self.state}>"


def job_label(function: Callable[..., Any]) -> str:
    """A short name for a job's function, seeing through `asyncio.to_thread`'s
    ``functools.partial(context.run, function, ...)`` wrapping."""
    while isinstance(function, functools.partial):
        inner = function.func
        if isinstance(getattr(inner, "__self__", None), contextvars.Context) and function.args:
            function = function.args[0]
        else:
            function = inner
    return getattr(function, "__qualname__", None) or repr(function)


class ThreadPool:
    """The simulated executor of one loop: starts, resumes and delivers jobs."""

    def __init__(self, loop: JobLoop) -> None:
        self.loop = loop
        #: the baton comes back to the loop through this lock
        self._loop_turn = threading.Lock()
        self._loop_turn.acquire()
        self.jobs: list[Job] = []
        #: condition -> jobs parked in its wait(), in the order they parked
        self._condition_waiters: dict[int, deque[Job]] = {}
        self._closing = False

    # -- loop side -------------------------------------------------------

    def submit(self, function: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        job = Job(self, function, args)
        self.jobs.append(job)
        duration = self.loop.choices.thread_delay(job.label)
        job.ready_at = self.loop.time() + duration
        # A worker thread starts at once on the stock loop; the next iteration here.
        self.loop.call_soon(self._start, job)
        return job.future

    def _start(self, job: Job) -> None:
        if job.future.cancelled():
            # Cancelled before a worker picked it up: never runs (as with
            # concurrent.futures, where a pending job is cancelled).
            job.state = "done"
            return
        job.state = "running"
        _Worker.take(job)
        self._hand_baton(job)

    def resume(self, job: Job, value: object) -> None:
        """Loop callback: let a parked job continue, with `value` as what it waited for."""
        if job.state != "parked":
            return
        if job.wake_handle is not None:
            job.wake_handle.cancel()
            job.wake_handle = None
        job.wake_value = value
        job.state = "running"
        self._hand_baton(job)

    def _hand_baton(self, job: Job) -> None:
        job.resume.release()
        if not self._loop_turn.acquire(timeout=WATCHDOG_SECONDS):
            raise SimulationError(self._stuck_report(job), seed=self.loop.seed)
        if job.state == "done":
            self._finished(job)

    def _finished(self, job: Job) -> None:
        if self._closing:
            return
        self.loop.call_at(max(job.ready_at, self.loop.time()), self._deliver, job)

    def _deliver(self, job: Job) -> None:
        future = job.future
        if future.cancelled():
            return
        if job.error is not None:
            future.set_exception(_as_asyncio_error(job.error))
        else:
            future.set_result(job.result)
        job.error = None

    def _stuck_report(self, job: Job) -> str:
        frame = sys._current_frames().get(job.thread_ident)
        summary = traceback.extract_stack(frame) if frame is not None else []
        # Only the job's own frames: not the worker machinery below them.
        own = [entry for entry in summary if not _is_machinery(entry.filename)]
        stack = "".join(traceback.format_list(own)) or "(unknown)\n"
        return (
            f"executor job {job.label} held the simulation for {WATCHDOG_SECONDS:g} s of "
            "real time without finishing or blocking in a primitive simloop simulates "
            "(time.sleep, threading.Condition/Event/Semaphore, queue.Queue, "
            f"concurrent.futures.Future); it is stuck here:\n{stack}"
        )

    def parked(self) -> list[Job]:
        return [job for job in self.jobs if job.state == "parked"]

    def controls(self, ident: int) -> bool:
        """True if `ident` is the thread of one of this pool's running jobs."""
        job = current_job()
        return job is not None and job.pool is self and job.thread_ident == ident

    def close(self) -> None:
        """End every parked job (it sees `SimulationOver`) so no thread outlives the run."""
        self._closing = True
        for job in self.jobs:
            if job.state == "parked":
                job.wake_value = SimulationOver()
                job.state = "running"
                with contextlib.suppress(SimulationError):
                    self._hand_baton(job)
        self.jobs.clear()
        self._condition_waiters.clear()

    # -- job side (runs on the worker thread, holding the baton) ---------

    def give_back(self) -> None:
        """Return the baton to the loop (job finished or parked)."""
        self._loop_turn.release()

    def park(self, job: Job, waiting_on: str) -> object:
        """Give the baton back and block until the loop resumes this job."""
        job.state = "parked"
        job.waiting_on = waiting_on
        self.give_back()
        job.resume.acquire()
        job.waiting_on = ""
        value, job.wake_value = job.wake_value, None
        if isinstance(value, SimulationOver):
            raise value
        return value

    def sleep(self, job: Job, seconds: float) -> None:
        loop = self.loop
        job.wake_handle = loop.call_at(loop.time() + seconds, self.resume, job, None)
        self.park(job, f"time.sleep({seconds:g})")

    def wait_condition(
        self, job: Job, condition: threading.Condition, timeout: float | None
    ) -> bool:
        waiters = self._condition_waiters.setdefault(id(condition), deque())
        waiters.append(job)
        loop = self.loop
        if timeout is not None:
            job.wake_handle = loop.call_at(loop.time() + max(timeout, 0.0), self.resume, job, False)
        try:
            notified = self.park(job, f"{type(condition).__name__}.wait()")
        finally:
            with contextlib.suppress(ValueError):  # already taken by notify()
                waiters.remove(job)
            if not waiters:
                self._condition_waiters.pop(id(condition), None)
        return bool(notified)

    def notify(self, condition: threading.Condition, count: int) -> None:
        """Wake up to `count` jobs parked on `condition` (called by whoever holds the baton)."""
        waiters = self._condition_waiters.get(id(condition))
        if not waiters:
            return
        for job in list(waiters)[:count]:
            waiters.remove(job)
            if job.wake_handle is not None:
                job.wake_handle.cancel()
                job.wake_handle = None
            self.loop.call_soon(self.resume, job, True)


class _Worker:
    """A reusable real thread that runs jobs, one at a time, holding the baton."""

    _idle: list[_Worker] = []
    _idle_lock = threading.Lock()

    def __init__(self) -> None:
        self._go = threading.Lock()
        self._go.acquire()
        self._job: Job | None = None
        self._thread = threading.Thread(target=self._serve, name="simloop-executor", daemon=True)
        self._thread.start()

    @classmethod
    def take(cls, job: Job) -> None:
        with cls._idle_lock:
            worker = cls._idle.pop() if cls._idle else None
        if worker is None:
            worker = cls()
        worker._job = job
        job.thread_ident = worker._thread.ident or 0
        _determinism.add_thread(job.thread_ident)
        worker._go.release()

    def _serve(self) -> None:
        while True:
            self._go.acquire()
            job = self._job
            assert job is not None
            self._run(job)
            self._job = None
            with self._idle_lock:
                self._idle.append(self)
            job.pool.give_back()

    @staticmethod
    def _run(job: Job) -> None:
        job.resume.acquire()  # wait for the baton
        _current.job = job
        try:
            job.result = job.function(*job.args)
        except SimulationOver:
            job.error = None
        except BaseException as error:  # delivered to the awaiting coroutine
            job.error = error
        finally:
            _current.job = None
            job.function = _done
            job.args = ()
            job.state = "done"
            _determinism.remove_thread(job.thread_ident)


def _done() -> None:  # pragma: no cover - placeholder for a finished job's function
    return None


# -- threading.Condition, made simulation-aware while a simulation runs -----

_real_wait = threading.Condition.wait
_real_notify = threading.Condition.notify
_real_notify_all = threading.Condition.notify_all


def _sim_wait(self: threading.Condition, timeout: float | None = None) -> bool:
    job = current_job()
    if job is None:
        return _real_wait(self, timeout)
    if not self._is_owned():  # type: ignore[attr-defined]
        raise RuntimeError("cannot wait on un-acquired lock")
    saved = self._release_save()  # type: ignore[attr-defined]
    try:
        return job.pool.wait_condition(job, self, timeout)
    finally:
        self._acquire_restore(saved)  # type: ignore[attr-defined]


def _sim_notify(self: threading.Condition, n: int = 1) -> None:
    real_waiters = len(self._waiters)  # type: ignore[attr-defined]
    _real_notify(self, n)
    pool = getattr(_determinism.active_loop(), "_thread_pool", None)
    if pool is not None and n > real_waiters and _determinism.in_simulation():
        pool.notify(self, n - real_waiters)


def _sim_notify_all(self: threading.Condition) -> None:
    _sim_notify(self, sys.maxsize)


def install_condition_hooks() -> None:
    threading.Condition.wait = _sim_wait  # type: ignore[method-assign]
    threading.Condition.notify = _sim_notify  # type: ignore[method-assign]
    threading.Condition.notify_all = _sim_notify_all  # type: ignore[method-assign]


def remove_condition_hooks() -> None:
    threading.Condition.wait = _real_wait  # type: ignore[method-assign]
    threading.Condition.notify = _real_notify  # type: ignore[method-assign]
    threading.Condition.notify_all = _real_notify_all  # type: ignore[method-assign]
