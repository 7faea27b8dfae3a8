"""The core of the loop: asyncio's own event loop, on virtual time, driven by one seed.

`CoreLoop` knows no sockets: the network (`simloop.net`) sits on top of it,
and `simloop.SimLoop` is the two together. What the core promises:

1. It is asyncio's loop. `CoreLoop` subclasses `asyncio.BaseEventLoop`, so
   futures, tasks (the C ones), TaskGroup, timeout, gather, locks and queues
   run the standard library's code. Only what touches the outside world is
   replaced: the clock, the selector and threads (and, above, sockets).
2. One seeded decision point. Every choice a run makes goes through
   ``self.choices`` (`simloop._choices.Choices`); nothing here draws random
   numbers. Same seed and strategy, same run.
3. Only schedules asyncio could produce. `call_soon` callbacks run first in,
   first out, as asyncio promises and transports rely on. What may vary: the
   order of timers due at the same instant, the order in which *tasks* woken
   in one iteration take their step (`simloop._batches`), the virtual CPU
   time a callback takes (so a due timer fires late, after steps queued
   before it, as on a busy loop), and how long the outside world (executor
   jobs, the network) takes.
4. Virtual time moves only when nothing can run: the clock jumps to the next
   timer. When nothing is ready, no timer is pending and the loop is still
   asked to run, no event can ever arrive: the run is deadlocked, and
   `Deadlock` says which tasks are stuck where (`simloop._reports`).

The layers above use the core through its public methods (`time`,
`virtual_time`, `call_at`, `create_future`, `choices`, `trace`, ...) and the
extension points `take_over_process`, `give_back_process` and `stop_faults`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import itertools
import logging
import random
import threading
from asyncio import events, format_helpers
from collections.abc import Callable, Coroutine, Generator
from contextvars import Context, copy_context
from heapq import heappush
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, TypeVarTuple, Unpack

from . import _determinism, _threads
from ._batches import CLOCK_RESOLUTION, BatchOrder, TimerEntry, task_of_step
from ._choices import Choices
from ._determinism import ProcessState
from ._errors import RealIOError, SimulationError
from ._outside import OutsideWorld
from ._reports import Reports, format_handle, preview
from ._tasks import SimTask, at, where_suspended
from ._trace import Trace
from ._validate import integer_at_least, positive_number
from .strategies import ChoiceLog, Strategy, derive_seed, resolve

_T = TypeVar("_T")
logger = logging.getLogger("asyncio")
_Ts = TypeVarTuple("_Ts")

#: What `loop.time()` reads when a simulation starts.
VIRTUAL_START = 0.0
#: Default limit on virtual time: one simulated day.
DEFAULT_TIME_LIMIT = 86_400.0
#: Default limit on callbacks run (a busy loop that never lets time pass).
DEFAULT_STEP_LIMIT = 10_000_000
#: Young-generation garbage collection every this many callbacks (automatic
#: collection is paused during a run so finalizers run at fixed points).
GC_EVERY_STEPS = 100_000
#: A loop that stays busy (never idle) for this many iterations...
BUSY_ITERATIONS = 1000
#: ... spends this much virtual time per callback from then on, until it is
#: idle again: no real loop runs unbounded work in no time (a stock loop's
#: step costs about a microsecond), so a timer due meanwhile fires, as it
#: would on the stock loop. A program that spins on `sleep(0)` waiting for a
#: `sleep(0.01)` elsewhere would otherwise never see that timer fire.
BUSY_CALLBACK_COST = 1e-6


class Handle(events.Handle):
    """asyncio's Handle, plus which callback scheduled it (`_parent`: the
    number of the callback that was running when `call_soon` was called).
    Callbacks scheduled by one callback form a chain whose order asyncio
    fixes (call_soon is first in, first out); only chains may interleave."""

    __slots__ = ("_parent",)


# Handles are built and read through their private slots (typeshed does not
# declare them), so they are typed loosely here.
_Handle: Any = Handle
_TimerHandle: Any = events.TimerHandle
_new_handle = object.__new__
# The callbacks that are a task's own steps: the C task's step wrapper and
# wake-up function, the Python task's __step and __wakeup. Any other bound
# method of a task (task.cancel, task.set_name scheduled as a callback) is a
_EAGER_TASK_FACTORY = getattr(asyncio, "eager_task_factory", None)
# asyncio's own plumbing, left out of recorded timelines
_UNRECORDED = frozenset({asyncio.base_events._run_until_complete_cb})  # type: ignore[attr-defined]
# Timers due within this much of "now" are due now (stock loops use the


def check_seed(seed: object) -> int:
    """`seed` if it is a valid seed, else a TypeError/ValueError that says what is."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be a non-negative integer, not {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    return seed


def active_loop() -> CoreLoop | None:
    """The loop whose simulation runs in this process, if any."""
    loop = _determinism.active_loop()
    return loop if isinstance(loop, CoreLoop) else None


class StepMonitor(Protocol):
    """What the loop runs after each callback while it is active
    (`simloop.invariant`, `eventually` and `always` are such monitors)."""

    active: bool

    def after_step(self, loop: Any) -> None: ...


class CoreLoop(BatchOrder, Reports, OutsideWorld, asyncio.BaseEventLoop):
    """An asyncio event loop on virtual time whose every choice comes from `seed`
    (the network comes with `simloop.SimLoop`).

    Args:
      seed: a non-negative integer; the same seed gives the same run.
      strategy: ``"random"`` (default), ``"fifo"``, or a `simloop.strategies.Strategy`.
      time_limit: virtual seconds after which the run fails as a livelock.
      step_limit: callbacks after which the run fails as a livelock.
      record: keep every event in ``loop.trace.events`` (slower; the digest
        is the same either way).
      log_choices: keep every answer of every choice point in
        ``loop.choice_log``, to replay the run with `strategies.Replay` or
        shrink it (`simloop.shrink`).
    """

    if TYPE_CHECKING:
        # BaseEventLoop's private state and helpers, which typeshed omits.
        _ready: collections.deque[Any]
        _stopping: bool
        _debug: bool
        _closed: bool
        _thread_id: int | None
        _task_factory: Any
        _exception_handler: Any
        _timer_cancelled_count: int
        _current_handle: Any
        _clock_resolution: float
        _selector: Any

        def _check_closed(self) -> None: ...
        def _check_thread(self) -> None: ...
        def _check_callback(self, callback: object, method: str) -> None: ...

    def __init__(
        self,
        seed: int = 0,
        strategy: str | Strategy = "random",
        *,
        time_limit: float = DEFAULT_TIME_LIMIT,
        step_limit: int = DEFAULT_STEP_LIMIT,
        record: bool = False,
        log_choices: bool = False,
    ) -> None:
        # Until BaseEventLoop.__init__ runs, a bad argument must leave an
        # object that __del__ sees as closed (no "unclosed event loop" noise).
        self._closed = True
        self.seed = check_seed(seed)
        self.strategy = resolve(strategy)
        self.time_limit = positive_number("time_limit", time_limit)
        self.step_limit = integer_at_least("step_limit", step_limit, 1)
        super().__init__()
        self._clock_resolution = CLOCK_RESOLUTION
        self._selector = None
        self._start = VIRTUAL_START
        self._now = VIRTUAL_START
        self._time_limit_at = VIRTUAL_START + self.time_limit
        #: heap of (when, sequence, handle): ties on `when` are broken by the
        #: strategy, never by the heap's arbitrary order
        self._timers: list[TimerEntry] = []
        self._scheduled = self._timers  # cleared by close()
        self._timer_sequence = itertools.count()
        self._task_serials = itertools.count(1)
        self._steps = 0
        #: the number of the callback running now (negative between callbacks):
        #: the parent of what `call_soon` schedules
        self._running = -1
        self._next_collect = GC_EVERY_STEPS
        #: iterations run since the loop was last idle (see BUSY_ITERATIONS)
        self._busy = 0
        #: loops the program made with asyncio.new_event_loop() during a run
        self._loops_made = 0
        self.trace = Trace(record=record)
        self.trace.position = self._position
        #: events are kept: callbacks run on the observed (slower) path
        self._recording = record
        #: every answer of every choice point, when `log_choices` is set
        self.choice_log: ChoiceLog | None = ChoiceLog() if log_choices else None
        self.choices = Choices(
            self.seed, self.strategy, self.trace, self._position, log=self.choice_log
        )
        self._reorders_tasks = self.choices.reorders_tasks
        #: task steps one callback scheduled keep their order (see `_reorder_tasks`)
        self._keep_siblings = self.choices.keeps_siblings
        #: virtual CPU seconds of the coming callbacks, consumed from `_cost_index`
        self._costs = self.choices.cpu_costs()
        self._cost_index = 0
        self._process_state = ProcessState(self.seed)
        self._thread_pool: _threads.ThreadPool | None = None
        self._entropy_stream: random.Random | None = None
        #: contexts that reached the exception handler with no custom handler set
        self.unhandled: list[dict[str, Any]] = []
        #: what the last `simloop.run_on` of this loop left behind (a `Findings`)
        self.findings: Any = None
        #: log errors that reach the exception handler, as the stock loop does
        #: (a runner replaying a run it already reported turns this off)
        self.log_errors = True
        #: invariants and liveness checks run after each step (`simloop._monitors`)
        self._monitors: list[StepMonitor] = []
        #: the strategy may cancel selected tasks at their awaits
        self._injects_cancels = self.choices.injects_cancels
        #: callbacks run on the observed (slower) path
        self._observed = False
        self._update_observed()
        #: `simloop.sometimes` names, and whether each held at least once in this run
        self.sometimes: dict[str, bool] = {}
        #: calls refused because they came from a thread the simulation does not control
        self._refused: list[str] = []

    @property
    def strategy_name(self) -> str:
        return self.strategy.name

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} seed={self.seed} strategy={self.strategy.name} "
            f"t={self.virtual_time():.6f} running={self.is_running()} closed={self.is_closed()}>"
        )

    @property
    def _threads(self) -> _threads.ThreadPool:
        # Made on first use: most runs never touch an executor.
        pool = self._thread_pool
        if pool is None:
            pool = self._thread_pool = _threads.ThreadPool(self)
        return pool

    @property
    def _entropy(self) -> random.Random:
        """The run's stream for os.urandom and friends (made on first use)."""
        stream = self._entropy_stream
        if stream is None:
            stream = self._entropy_stream = random.Random(derive_seed(self.seed, "entropy"))
        return stream

    # -- the clock ---------------------------------------------------------

    def time(self) -> float:
        return self._now

    def virtual_time(self) -> float:
        """Virtual seconds since the simulation started."""
        return self._now - self._start

    @property
    def steps(self) -> int:
        """Callbacks run so far."""
        return self._steps

    def _position(self) -> tuple[float, int]:
        return self._now - self._start, self._steps

    def trace_digest(self) -> str:
        """Hex digest of every decision and loop iteration so far."""
        return self.trace.digest()

    def _sleep_blocking(self, seconds: float) -> None:
        """`time.sleep` inside the simulation: an executor job parks; the loop's
        own thread is busy for `seconds` of virtual time (timers fire late)."""
        job = _threads.current_job()
        if job is not None:
            job.pool.sleep(job, seconds)
        else:
            self._now += seconds

    # -- running -----------------------------------------------------------

    def run_forever(self) -> None:
        self.enter_simulation()
        try:
            super().run_forever()
        finally:
            self.exit_simulation()

    def enter_simulation(self) -> None:
        """Take over the process's clocks, randomness and GC for this loop
        (see `simloop._determinism`). Re-entrant; `run_forever` does it, and
        a runner may hold it across several runs to pay for it once."""
        self._process_state.enter(self)
        if self._process_state.depth == 1:
            self.take_over_process()

    def exit_simulation(self, *, final: bool = False) -> None:
        """Undo one `enter_simulation`; the outermost one gives everything back."""
        if self._process_state.depth == 1:
            self.give_back_process()
        self._process_state.exit(final=final)

    def take_over_process(self) -> None:
        """Extension point: what a layer above takes over from the process while
        the simulation runs (once, at the outermost `enter_simulation`)."""
        _threads.install_condition_hooks()

    def give_back_process(self) -> None:
        """Extension point: undo `take_over_process` (at the outermost exit)."""
        _threads.remove_condition_hooks()

    def stop_faults(self) -> None:
        """Extension point: stop every fault injected into this run from now
        on (`simloop.converge` heals here). The core injects none."""

    def _run_once(self) -> None:
        """One iteration: jump the clock if idle, release due timers, run the
        callbacks ready at the start of the iteration."""
        ready = self._ready
        timers = self._timers
        if self._refused:
            raise RealIOError(self._report(self._refused[0]), seed=self.seed)
        if self._timer_cancelled_count:
            self._drop_cancelled_timers()
        if not ready and not self._stopping:
            if not timers:
                raise self._deadlock()
            self._busy = 0
            when = timers[0][0]
            if when > self._now:
                self._now = when
        if self._now > self._time_limit_at:
            raise self._time_limit_exceeded()
        if timers and timers[0][0] < self._now + CLOCK_RESOLUTION:
            self._release_due_timers()
        count = len(ready)
        if count > 1 and self._reorders_tasks:
            self._reorder_tasks(count)
        self.trace.iteration(self._now - self._start, count)
        if self._observed:
            self._run_ready_observed(count)
        else:
            self._run_ready(count)
        self._busy += 1
        if self._busy > BUSY_ITERATIONS:
            self._now += count * BUSY_CALLBACK_COST
        if self._steps >= self._next_collect:
            self._next_collect = self._steps + GC_EVERY_STEPS
            gc.collect(0)
        if self._steps > self.step_limit:
            raise self._step_limit_exceeded()

    def _run_ready(self, count: int) -> None:
        # Handle._run, inlined: one Python frame less per callback.
        popleft = self._ready.popleft
        costs = self._costs
        index = self._cost_index
        ran = 0
        first = self._steps
        try:
            for ran in range(1, count + 1):
                handle = popleft()
                if handle._cancelled:
                    continue
                self._running = first + ran
                try:
                    handle._context.run(handle._callback, *handle._args)
                except (SystemExit, KeyboardInterrupt, SimulationError):
                    raise
                except BaseException as error:
                    self._callback_failed(handle, error)
                if costs:
                    self._now += costs[index]
                    index += 1
                    if index == len(costs):
                        costs = self._costs = self.choices.cpu_costs()
                        index = 0
        finally:
            self._cost_index = index
            self._steps += ran
            # What is scheduled between iterations is one more chain.
            self._running = -self._steps - 1

    def _callback_failed(self, handle: Any, error: BaseException) -> None:
        # What Handle._run reports when its callback raises.
        if _cancelled_stream_handler(handle, error):
            return
        source = format_helpers._format_callback_source(handle._callback, handle._args)
        context = {
            "message": f"Exception in callback {source}",
            "exception": error,
            "handle": handle,
        }
        if handle._source_traceback:
            context["source_traceback"] = handle._source_traceback
        self.call_exception_handler(context)

    def _run_ready_observed(self, count: int) -> None:
        # The slow path, for debug mode, recorded runs, monitors and injected
        # cancellations. Debug mode, as on the stock loop: the exception
        # handler knows the current handle and slow callbacks (in virtual
        # time) are logged. Recording: an event per callback. Monitors: run
        # after each callback. None of them changes the schedule.
        popleft = self._ready.popleft
        for _ in range(count):
            handle = popleft()
            if handle._cancelled:
                continue
            self._current_handle = handle
            self._running = self._steps + 1
            started = self._now
            task = task_of_step(handle._callback)
            if task is None and self._recording and handle._callback not in _UNRECORDED:
                kind = "timer" if isinstance(handle, events.TimerHandle) else "call"
                self.trace.record(kind, "loop", format_handle(handle))
            try:
                handle._context.run(handle._callback, *handle._args)
            except (SystemExit, KeyboardInterrupt, SimulationError):
                raise
            except BaseException as error:
                self._callback_failed(handle, error)
            finally:
                self._current_handle = None
            if task is not None and self._recording:
                self._record_step(task)
            self._steps += 1
            self._running = -self._steps - 1
            if self._costs:
                self._now += self._costs[self._cost_index]
                self._cost_index += 1
                if self._cost_index == len(self._costs):
                    self._costs = self.choices.cpu_costs()
                    self._cost_index = 0
            self._after_step(task)
            took = self._now - started
            if self._debug and took >= self.slow_callback_duration:
                logger.warning(
                    "Executing %s took %.3f seconds (virtual)", format_handle(handle), took
                )

    def _record_step(self, task: asyncio.Task[Any]) -> None:
        name = task.get_name()
        if not task.done():
            location, awaiting = where_suspended(task)
            self.trace.record("step", name, f"awaits {awaiting} {at(location)}")
        elif task.cancelled():
            self.trace.record("done", name, "cancelled")
        elif task.exception() is not None:
            error = task.exception()
            self.trace.record("done", name, f"raised {type(error).__name__}: {error}")
        else:
            self.trace.record("done", name, f"returned {preview(task.result())}")

    # -- monitors ------------------------------------------------------------

    def set_debug(self, enabled: bool) -> None:
        super().set_debug(enabled)
        self._update_observed()

    def add_monitor(self, monitor: StepMonitor) -> None:
        """Run `monitor.after_step(loop)` after every callback from now on."""
        self._monitors.append(monitor)
        self._update_observed()

    def stop_monitors(self) -> None:
        """Stop every monitor (a runner does so once the test itself is over)."""
        self._monitors = []
        self._update_observed()

    def _update_observed(self) -> None:
        self._observed = bool(
            self._debug
            or getattr(self, "_recording", False)
            or getattr(self, "_monitors", None)
            or getattr(self, "_injects_cancels", False)
        )

    def _after_step(self, task: asyncio.Task[Any] | None) -> None:
        if self._injects_cancels and task is not None and not task.done():
            location, awaiting = where_suspended(task)
            if self.choices.inject_cancel(task, f"{location}, awaiting {awaiting}"):
                task.cancel(msg="simloop: injected cancellation")
                if self._recording:
                    self.trace.record(
                        "cancel", task.get_name(), f"injected at {location}", deviates=True
                    )
        if self._monitors:
            for monitor in self._monitors:
                monitor.after_step(self)
            if not all(monitor.active for monitor in self._monitors):
                self._monitors = [monitor for monitor in self._monitors if monitor.active]
                self._update_observed()

    # -- scheduling --------------------------------------------------------

    def call_soon(
        self,
        callback: Callable[[Unpack[_Ts]], object],
        *args: *_Ts,
        context: Context | None = None,
    ) -> events.Handle:
        if self._closed:
            raise RuntimeError("Event loop is closed")
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_soon")
            handle = _Handle(callback, args, self, context)
            if handle._source_traceback:
                del handle._source_traceback[-1]
            handle._parent = self._running
        else:
            # What Handle.__init__ does outside debug mode, without its call
            # overhead: this is the hottest path of the loop.
            handle = _new_handle(_Handle)
            handle._callback = callback
            handle._args = args
            handle._cancelled = False
            handle._loop = self
            handle._source_traceback = None
            handle._repr = None
            handle._context = copy_context() if context is None else context
            handle._parent = self._running
        self._ready.append(handle)
        return handle  # type: ignore[no-any-return]

    def call_at(
        self,
        when: float,
        callback: Callable[[Unpack[_Ts]], object],
        *args: *_Ts,
        context: Context | None = None,
    ) -> events.TimerHandle:
        if when is None:
            raise TypeError("when cannot be None")
        if self._closed:
            raise RuntimeError("Event loop is closed")
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
        timer = _TimerHandle(when, callback, args, self, context)
        if timer._source_traceback:
            del timer._source_traceback[-1]
        heappush(self._timers, (when, next(self._timer_sequence), timer))
        timer._scheduled = True
        return timer  # type: ignore[no-any-return]

    def call_soon_threadsafe(
        self,
        callback: Callable[[Unpack[_Ts]], object],
        *args: *_Ts,
        context: Context | None = None,
    ) -> events.Handle:
        running_on = self._thread_id
        if running_on is not None:
            caller = threading.get_ident()
            if caller != running_on and not (
                self._thread_pool is not None and self._thread_pool.controls(caller)
            ):
                name = getattr(callback, "__qualname__", repr(callback))
                message = (
                    f"call_soon_threadsafe({name}) came from thread "
                    f"{threading.current_thread().name!r}, which the simulation does not "
                    "control; its timing would make the run irreproducible. Run blocking "
                    "work with loop.run_in_executor or asyncio.to_thread, which simloop "
                    "simulates."
                )
                self._refused.append(message)
                raise RealIOError(message, seed=self.seed)
        return super().call_soon_threadsafe(callback, *args, context=context)

    def _write_to_self(self) -> None:
        # No selector to wake: nothing outside the simulation can make work.
        pass

    def _process_events(self, event_list: list[Any]) -> None:
        pass

    # -- tasks -------------------------------------------------------------

    def _next_task_serial(self) -> int:
        return next(self._task_serials)

    def create_task(  # type: ignore[override]
        self,
        coro: Coroutine[Any, Any, _T] | Generator[Any, None, _T],
        *,
        name: str | None = None,
        context: Context | None = None,
        **kwargs: Any,
    ) -> asyncio.Task[_T]:
        self._check_closed()
        serial = next(self._task_serials)
        factory = self._task_factory
        if factory is None or factory is _EAGER_TASK_FACTORY:
            if factory is not None:
                kwargs.setdefault("eager_start", True)
            task = _make_sim_task(self, coro, serial, name, context, kwargs)
        else:
            if context is not None:
                kwargs["context"] = context
            task = factory(self, coro, **kwargs)
            if name is not None:
                task.set_name(name)
            if not hasattr(task, "_simloop_serial"):
                _adopt(task, serial)
        self.trace.task_created(serial)
        if self._recording:
            creator = asyncio.current_task(self)
            self.trace.record(
                "create",
                task.get_name(),
                f"{getattr(coro, '__qualname__', type(coro).__name__)}"
                + (f" by {creator.get_name()}" if creator is not None else ""),
            )
        return task

    # -- threads -----------------------------------------------------------

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., _T], *args: Any
    ) -> asyncio.Future[_T]:
        """Run `func` as a simulated thread (see `simloop._threads`); `executor`
        is accepted for compatibility, but no real executor is used."""
        self._check_closed()
        if self._debug:
            self._check_callback(func, "run_in_executor")
        return self._threads.submit(func, args)

    def close(self) -> None:
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if not self.is_closed() and self._thread_pool is not None:
            self._thread_pool.close()
        super().close()
        # Break the loop's reference cycles, so that a finished simulation
        # (and every task and frame it still holds) is freed at once by
        # reference counting, not whenever the collector next runs.
        now, steps = self._position()
        self.trace.position = self.choices.position = lambda: (now, steps)
        self._thread_pool = None

    # -- resources ---------------------------------------------------------

    def pending_timers(self) -> list[events.TimerHandle]:
        """The timers not yet run nor cancelled, soonest first (for strategies
        that steer an event onto a pending deadline)."""
        return [entry[2] for entry in sorted(self._timers) if not entry[2]._cancelled]

    # -- errors ------------------------------------------------------------

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        """Log the error to the ``asyncio`` logger, as the stock loop does, and
        keep it for whoever runs the loop (`simloop.run`, the pytest plugin),
        which reports it, or raises it in a strict run. A custom handler set
        with `set_exception_handler` replaces this, as on the stock loop."""
        self.unhandled.append(context)
        if self._recording:  # a timeline shows where the error happened, not only the end
            error = context.get("exception")
            what = f": {type(error).__name__}: {error}" if error is not None else ""
            self.trace.record("error", "loop", f"{context.get('message', 'error')}{what}")
        if self.log_errors:
            super().default_exception_handler(context)


def _make_sim_task(
    loop: CoreLoop,
    coro: Any,
    serial: int,
    name: str | None,
    context: Context | None,
    kwargs: dict[str, Any],
) -> asyncio.Task[Any]:
    task = SimTask.__new__(SimTask)
    # The serial must exist before __init__: an eager task runs its first step
    # (and may be put in a set, which hashes it) inside __init__.
    task._simloop_serial = serial
    SimTask.__init__(
        task,
        coro,
        loop=loop,
        name=f"Task-{serial}" if name is None else name,
        context=context,
        **kwargs,
    )
    traceback = getattr(task, "_source_traceback", None)
    if traceback:
        del traceback[-1]
    return task


def _adopt(task: asyncio.Future[Any], serial: int) -> None:
    with contextlib.suppress(AttributeError):  # a task type without a __dict__
        task._simloop_serial = serial  # type: ignore[attr-defined]


_STREAM_HANDLER_DONE = "StreamReaderProtocol.connection_made.<locals>.callback"


def _cancelled_stream_handler(handle: Any, error: BaseException) -> bool:
    """Python 3.11 and 3.12's streams report a *cancelled* server handler task
    (`start_server`'s client_connected_cb) as an error in a callback, and
    leave its connection open; 3.13 closes the connection and reports
    nothing. Handlers are cancelled whenever a test ends before them, so the
    3.13 behaviour is taken on every version: close, don't report."""
    callback = handle._callback
    if not isinstance(error, asyncio.CancelledError) or (
        getattr(callback, "__qualname__", None) != _STREAM_HANDLER_DONE
    ):
        return False
    cells = dict(zip(callback.__code__.co_freevars, callback.__closure__ or (), strict=True))
    transport = cells.get("transport")
    if transport is not None:
        transport.cell_contents.close()
    return True
