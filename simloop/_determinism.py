"""What a simulation takes over from the process while it runs, and gives back.

While a `SimLoop` runs (and only then) this module installs, on the threads
the simulation controls (the loop's thread and its simulated executor jobs):

* the clocks: `time.time`, `time.monotonic`, `time.perf_counter` and their
  ``_ns`` forms follow virtual time, and so do `datetime.datetime.now`,
  `utcnow`, `today` and `datetime.date.today`; `time.sleep` spends virtual
  time instead of real time;
* randomness: the global `random` generator, `os.urandom` (and so `uuid.uuid4`
  and `secrets`) draw from streams seeded by the run's seed;
* loops: `asyncio.new_event_loop()` makes another `SimLoop` (seeded from
  this one), since a real loop needs a real selector and self-pipe;
* garbage collection: automatic collection is paused, so finalizers
  (`Task.__del__`, async generator clean-up) run at the same points in every
  run; the loop collects young generations at fixed step counts instead.

Other threads keep the real clock. Everything is restored when the loop
stops running, also when it stops with an exception. Only names looked up
through their module are covered: ``from time import monotonic`` executed
before the simulation keeps the real function (documented limitation).
"""

from __future__ import annotations

import asyncio
import datetime as _datetime_module
import gc
import os
import random as _random_module
import threading
import time as _time_module
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from . import _imports
from .strategies import derive_seed

if TYPE_CHECKING:
    import random


class Simulated(Protocol):
    """What this module needs of the loop whose simulation runs (a `CoreLoop`)."""

    seed: int
    strategy: Any
    _now: float
    _start: float
    _loops_made: int

    @property
    def _entropy(self) -> random.Random: ...

    def _sleep_blocking(self, seconds: float) -> None: ...


#: Wall-clock time (seconds since the Unix epoch) at virtual time zero:
#: 2026-01-01T00:00:00Z. Fixed so that timestamps in traces read the same everywhere.
WALL_CLOCK_START = 1_767_225_600.0

_real_time = _time_module.time
_real_time_ns = _time_module.time_ns
_real_monotonic = _time_module.monotonic
_real_monotonic_ns = _time_module.monotonic_ns
_real_perf_counter = _time_module.perf_counter
_real_perf_counter_ns = _time_module.perf_counter_ns
_real_sleep = _time_module.sleep
_real_urandom = os.urandom
_real_datetime = _datetime_module.datetime
_real_date = _datetime_module.date
_get_ident = threading.get_ident

_lock = threading.Lock()
#: the loop whose patches are installed, if any (one simulation per process at a time)
_active: Simulated | None = None
#: threads that see the simulation's clock: the loop's thread and its executor jobs
_sim_threads: set[int] = set()


def active_loop() -> Simulated | None:
    """The simulation running in this process, if any (`simloop._core.active_loop`
    gives it as the loop it is)."""
    return _active


def in_simulation() -> bool:
    """True on a thread the running simulation controls."""
    return _active is not None and _get_ident() in _sim_threads


def _virtual_elapsed() -> float:
    loop = _active
    assert loop is not None
    return loop._now - loop._start


def _clock(real: Callable[[], float], virtual: Callable[[], float]) -> Callable[[], float]:
    def patched() -> float:
        if _active is not None and _get_ident() in _sim_threads:
            return virtual()
        return real()

    patched.__name__ = real.__name__
    patched.__doc__ = f"simloop: {real.__name__}() on the virtual clock inside a simulation."
    return patched


def _clock_ns(real: Callable[[], int], virtual: Callable[[], float]) -> Callable[[], int]:
    def patched() -> int:
        if _active is not None and _get_ident() in _sim_threads:
            return round(virtual() * 1e9)
        return real()

    patched.__name__ = real.__name__
    patched.__doc__ = f"simloop: {real.__name__}() on the virtual clock inside a simulation."
    return patched


def _loop_time() -> float:
    loop = _active
    assert loop is not None
    return loop._now


def _wall_time() -> float:
    return WALL_CLOCK_START + _virtual_elapsed()


_patched_time = _clock(_real_time, _wall_time)
_patched_time_ns = _clock_ns(_real_time_ns, _wall_time)
_patched_monotonic = _clock(_real_monotonic, _loop_time)
_patched_monotonic_ns = _clock_ns(_real_monotonic_ns, _loop_time)
_patched_perf_counter = _clock(_real_perf_counter, _loop_time)
_patched_perf_counter_ns = _clock_ns(_real_perf_counter_ns, _loop_time)


def _patched_sleep(seconds: float) -> None:
    """simloop: time.sleep() spends virtual time inside a simulation."""
    loop = _active
    if loop is None or _get_ident() not in _sim_threads:
        _real_sleep(seconds)
        return
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    loop._sleep_blocking(float(seconds))


def _patched_urandom(size: int) -> bytes:
    """simloop: os.urandom() draws from the run's seeded entropy stream inside a simulation."""
    loop = _active
    if loop is None or _get_ident() not in _sim_threads:
        return _real_urandom(size)
    if size < 0:
        raise ValueError("negative argument not allowed")
    return loop._entropy.randbytes(size)


class _DatetimeMeta(type):
    """Keeps ``isinstance(x, datetime.datetime)`` true for real datetimes while
    `datetime.datetime` is the simulation's subclass."""

    _real: type

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, cls._real)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls._real)


class _SimDate(_real_date, metaclass=_DatetimeMeta):
    _real = _real_date

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return _real_date(*args, **kwargs)

    @classmethod
    def today(cls) -> Any:
        if in_simulation():
            return _real_datetime.fromtimestamp(_wall_time()).date()
        return _real_date.today()


class _SimDatetime(_real_datetime, metaclass=_DatetimeMeta):
    _real = _real_datetime

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return _real_datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: _datetime_module.tzinfo | None = None) -> Any:
        if in_simulation():
            return _real_datetime.fromtimestamp(_wall_time(), tz)
        return _real_datetime.now(tz)

    @classmethod
    def utcnow(cls) -> Any:
        if in_simulation():
            stamp = _real_datetime.fromtimestamp(_wall_time(), _datetime_module.UTC)
            return stamp.replace(tzinfo=None)
        return _real_datetime.now(_datetime_module.UTC).replace(tzinfo=None)

    @classmethod
    def today(cls) -> Any:
        return cls.now()


_real_new_event_loop = asyncio.events.new_event_loop


def _patched_new_event_loop() -> asyncio.AbstractEventLoop:
    """simloop: asyncio.new_event_loop() makes another simulated loop inside a
    simulation (a real one would need a real selector and self-pipe)."""
    loop = _active
    if loop is None or _get_ident() not in _sim_threads:
        return _real_new_event_loop()
    loop._loops_made += 1
    seed = derive_seed(loop.seed, f"new event loop {loop._loops_made}") >> 1
    made: asyncio.AbstractEventLoop = type(loop)(seed, loop.strategy)  # type: ignore[call-arg, assignment]
    return made


_TIME_PATCHES: dict[str, Callable[..., Any]] = {
    "time": _patched_time,
    "time_ns": _patched_time_ns,
    "monotonic": _patched_monotonic,
    "monotonic_ns": _patched_monotonic_ns,
    "perf_counter": _patched_perf_counter,
    "perf_counter_ns": _patched_perf_counter_ns,
    "sleep": _patched_sleep,
}


class ProcessState:
    """The process-wide state one simulation takes over: saved on `enter`,
    given back on `exit`.

    Entering is re-entrant (a whole `simloop.run` holds it once, and each
    `run_forever` inside enters again for free). The run's random state
    survives between the loop's runs, so a loop run in several
    `run_until_complete` calls (fixtures, then the test) continues one seeded
    stream.
    """

    def __init__(self, seed: int) -> None:
        # The seed, not the loop: no reference cycle, so a finished loop is
        # freed by reference counting.
        self._seed = seed
        #: the random module's state inside this simulation (None: seed it on first entry)
        self._sim_random_state: object = None
        self._saved_random_state: object = None
        self._gc_was_enabled = False
        self._depth = 0

    def enter(self, loop: Simulated) -> None:
        global _active
        if self._depth:
            self._depth += 1
            return
        with _lock:
            if _active is not None:
                raise RuntimeError(
                    f"another simulation ({_active!r}) is running in this process; "
                    "simloop runs one simulation at a time"
                )
            _active = loop
            _sim_threads.clear()
            _sim_threads.add(_get_ident())
        self._depth = 1
        for name, function in _TIME_PATCHES.items():
            setattr(_time_module, name, function)
        asyncio.new_event_loop = asyncio.events.new_event_loop = _patched_new_event_loop
        os.urandom = _patched_urandom
        _random_module._urandom = _patched_urandom  # type: ignore[attr-defined]
        _datetime_module.datetime = _SimDatetime  # type: ignore[misc]
        _datetime_module.date = _SimDate  # type: ignore[misc]
        # The global generator itself is swapped (not just the module's
        # functions) so that `from random import choice` is seeded too.
        self._saved_random_state = _random_module.getstate()
        if self._sim_random_state is None:
            _random_module.seed(derive_seed(self._seed, "random module"))
        else:
            _random_module.setstate(self._sim_random_state)  # type: ignore[arg-type]
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        _imports.install(in_simulation, lambda: loop._entropy)

    def exit(self, *, final: bool = False) -> None:
        """Give everything back. `final`: the loop will not run again, so its
        own random state need not be kept (saving it costs a few microseconds)."""
        global _active
        if not self._depth:
            return
        self._depth -= 1
        if self._depth:
            return
        _imports.remove()
        if self._gc_was_enabled:
            gc.enable()
        if not final:
            self._sim_random_state = _random_module.getstate()
        _random_module.setstate(self._saved_random_state)  # type: ignore[arg-type]
        self._saved_random_state = None
        _datetime_module.datetime = _real_datetime  # type: ignore[misc]
        _datetime_module.date = _real_date  # type: ignore[misc]
        _random_module._urandom = _real_urandom  # type: ignore[attr-defined]
        os.urandom = _real_urandom
        for name in _TIME_PATCHES:
            setattr(_time_module, name, getattr(_REAL_TIME, name))
        asyncio.new_event_loop = asyncio.events.new_event_loop = _real_new_event_loop
        with _lock:
            _sim_threads.clear()
            _active = None

    @property
    def entered(self) -> bool:
        return self._depth > 0

    @property
    def depth(self) -> int:
        """How many `enter` calls are not yet undone."""
        return self._depth


class _RealTime:
    time = staticmethod(_real_time)
    time_ns = staticmethod(_real_time_ns)
    monotonic = staticmethod(_real_monotonic)
    monotonic_ns = staticmethod(_real_monotonic_ns)
    perf_counter = staticmethod(_real_perf_counter)
    perf_counter_ns = staticmethod(_real_perf_counter_ns)
    sleep = staticmethod(_real_sleep)


_REAL_TIME = _RealTime


def add_thread(ident: int) -> None:
    """Let a simulated executor job's thread see the simulation's clock."""
    _sim_threads.add(ident)


def remove_thread(ident: int) -> None:
    _sim_threads.discard(ident)


def real_monotonic() -> float:
    """The real monotonic clock, whatever is patched (for watchdogs)."""
    return _real_monotonic()


def real_sleep(seconds: float) -> None:
    _real_sleep(seconds)
