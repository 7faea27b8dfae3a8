"""Running a coroutine on a fresh simulation: `run`, like `asyncio.run`, and the
policy for code that still picks its loop through policies."""

from __future__ import annotations

import asyncio
import gc
import itertools
from asyncio import events
from collections.abc import Collection, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._core import active_loop
from ._errors import Leftovers, SimulationError, UnhandledError
from ._loop import DEFAULT_STEP_LIMIT, DEFAULT_TIME_LIMIT, SimLoop, check_seed
from ._tasks import describe_pending, is_coroutine_like
from .strategies import Strategy, resolve

_T = TypeVar("_T")

#: Callbacks a run may spend cancelling what is left after it ends or fails.
CLEANUP_STEP_LIMIT = 100_000

#: What a run may leave behind or let through, which the stock loop cleans up
#: or logs and a *strict* run fails on instead:
#: tasks still pending when the main coroutine returns,
PENDING = "pending"
#: simulated transports, servers and sockets still open then,
OPEN_TRANSPORTS = "open transports"
#: and errors that reached the loop's exception handler.
UNHANDLED = "unhandled"
STRICT = frozenset({PENDING, OPEN_TRANSPORTS, UNHANDLED})


@dataclass
class Findings:
    """What a run left behind or let through (cleaned up as `asyncio.run`
    would: pending tasks cancelled and awaited, transports closed, handler
    errors logged), described for a report. ``loop.findings`` after a run."""

    #: tasks still pending when the main coroutine returned (then cancelled)
    pending: list[str] = field(default_factory=list)
    #: transports, servers and sockets still open then (then closed)
    open_transports: list[str] = field(default_factory=list)
    #: errors that reached the loop's exception handler, a line each
    unhandled: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.pending or self.open_transports or self.unhandled)

    def kinds(self) -> set[str]:
        """Which of `STRICT`'s kinds this run had."""
        found = set()
        if self.pending:
            found.add(PENDING)
        if self.open_transports:
            found.add(OPEN_TRANSPORTS)
        if self.unhandled:
            found.add(UNHANDLED)
        return found


def run(
    main: Coroutine[Any, Any, _T],
    *,
    seed: int = 0,
    strategy: str | Strategy = "random",
    time_limit: float = DEFAULT_TIME_LIMIT,
    step_limit: int = DEFAULT_STEP_LIMIT,
    debug: bool | None = None,
    strict: bool = False,
) -> _T:
    """Run `main` on a fresh `SimLoop` and return its result, like `asyncio.run`.

    As `asyncio.run` does, tasks still pending when `main` returns are
    cancelled and errors that reach the loop's exception handler (a task
    exception never retrieved, an exception in a callback) are logged to the
    ``asyncio`` logger. With ``strict=True`` they fail the run instead: a
    `Leftovers` error for pending tasks and open transports, and the errors
    themselves (with a note, or as an `ExceptionGroup`) once `main` has ended.

    Raises:
      Deadlock: nothing could run, no timer was pending, `main` unfinished.
      TimeLimitExceeded, StepLimitExceeded: the run passed a limit.
      TypeError, ValueError: `main` is not a coroutine, or a bad seed, strategy or limit.
    """
    if not is_coroutine_like(main):
        hint = " (did you mean to call it?)" if callable(main) else ""
        raise TypeError(
            f"simloop.run() needs a coroutine object, like asyncio.run(); "
            f"got {type(main).__name__} {main!r}{hint}"
        )
    try:
        running = active_loop()
        if running is not None or asyncio._get_running_loop() is not None:
            raise RuntimeError(
                f"simloop.run() cannot be called while another loop "
                f"({running or asyncio._get_running_loop()!r}) is running in this process"
            )
        loop = SimLoop(seed, strategy, time_limit=time_limit, step_limit=step_limit)
    except BaseException:
        main.close()  # never awaited; don't let it warn
        raise
    return run_on(loop, main, debug=debug, fail_on=STRICT if strict else ())


def run_on(
    loop: SimLoop,
    main: Coroutine[Any, Any, _T],
    *,
    debug: bool | None = None,
    fail_on: Collection[str] = (),
) -> _T:
    """Run `main` to completion on `loop`, then clean up and close the loop.

    What the run left behind or let through is in ``loop.findings``.

    Args:
      fail_on: which of `STRICT`'s kinds fail the run instead of being
        cleaned up and logged as the stock loop does: `PENDING` (raises
        `Leftovers`), `OPEN_TRANSPORTS` (`Leftovers`), `UNHANDLED` (the
        errors that reached the exception handler, raised once `main` ended).
    """
    unknown = set(fail_on) - STRICT
    if unknown:
        main.close()  # never awaited; don't let it warn
        loop.close()
        raise ValueError(
            f"fail_on={sorted(unknown)!r} is not allowed; expected some of {sorted(STRICT)!r}"
        )
    if debug is not None:
        loop.set_debug(debug)
    findings = loop.findings = Findings()
    leftovers: Leftovers | None = None
    # One takeover of the process for the whole run (the run and its clean-up
    # are several run_until_complete calls), given back before errors surface.
    loop.enter_simulation()
    try:
        task = loop.create_task(main, name="main")
        task._log_destroy_pending = False  # type: ignore[attr-defined]
        try:
            result = loop.run_until_complete(task)
        except BaseException as error:
            loop.trace.record("end", "loop", f"the run failed: {type(error).__name__}; cleaning up")
            finish(loop, failed=True)
            findings.unhandled = [_describe_context(context) for context in loop.unhandled]
            if UNHANDLED in fail_on:
                _note_unhandled(error, loop.unhandled)
            raise
        loop.trace.record("end", "loop", "main returned; cleaning up")
        pending = loop.pending_tasks()
        if pending:
            findings.pending = describe_pending(pending)
        findings.open_transports = loop.open_transports()
        leftovers = _leftovers(loop, findings, fail_on)
        finish(loop, failed=leftovers is not None, pending=pending)
        findings.unhandled = [_describe_context(context) for context in loop.unhandled]
    finally:
        loop.exit_simulation(final=True)
    if UNHANDLED in fail_on:
        try:
            raise_unhandled(loop.unhandled)
        except BaseException as error:
            if leftovers is not None:
                error.add_note(f"simloop: also {leftovers.report.splitlines()[0]}")
            raise
    if leftovers is not None:
        raise leftovers
    return result


def _leftovers(loop: SimLoop, findings: Findings, fail_on: Collection[str]) -> Leftovers | None:
    """What `main` left behind that the caller asked to fail on, as an error."""
    problems = []
    if PENDING in fail_on and findings.pending:
        problems.append(f"{len(findings.pending)} task(s) still pending")
    transports = findings.open_transports if OPEN_TRANSPORTS in fail_on else []
    if transports:
        problems.append(f"{len(transports)} transport(s) still open")
    if not problems:
        return None
    report = loop._report(f"leftovers: the main coroutine returned with {' and '.join(problems)}")
    if transports:
        report += "\n  open transport(s):\n" + "\n".join(f"    {text}" for text in transports)
    return Leftovers(report, seed=loop.seed, virtual_time=loop.virtual_time(), steps=loop.steps)


def _describe_context(context: dict[str, Any]) -> str:
    """One line for an error that reached the exception handler."""
    error = context.get("exception")
    message = str(context.get("message", "unhandled error"))
    if error is None:
        return message
    return f"{message}: {type(error).__name__}: {error}".splitlines()[0]


def finish(loop: SimLoop, *, failed: bool, pending: list[asyncio.Task[Any]] | None = None) -> None:
    """Cancel what is left, shut async generators down, and close `loop`.

    After a failure (a deadlock, a limit) the leftovers may never finish:
    the clean-up gets a bounded number of steps and is then abandoned.
    """
    # The test is over: its monitors watch no more (tasks being cancelled
    # may well break an invariant on their way out).
    loop.stop_monitors()
    try:
        _cancel_leftovers(loop, failed=failed, pending=pending)
        # Most runs leave no async generator alive: then there is nothing to
        # shut down, and a run of the loop just to learn that costs about 7%
        # of a small test's run.
        if loop._asyncgens:  # type: ignore[attr-defined]
            shutdown = loop.shutdown_asyncgens()
            try:
                loop.run_until_complete(shutdown)
            except BaseException:
                shutdown.close()  # if it never started, it must not warn "never awaited"
                raise
    except SimulationError:
        if not failed:
            raise
    finally:
        # Collect the run's garbage at a fixed point, so a task that died
        # with an unretrieved exception is reported here, in every run.
        gc.collect(1)
        loop.close()


def _cancel_leftovers(
    loop: SimLoop, *, failed: bool, pending: list[asyncio.Task[Any]] | None = None
) -> None:
    """Cancel and await what is left (`pending`: the tasks left, if known)."""
    if pending is None:
        pending = loop.pending_tasks()
    if not pending:
        return
    for task in pending:
        task.cancel()
    if failed:
        loop.step_limit = loop.steps + CLEANUP_STEP_LIMIT
    gathered = asyncio.gather(*pending, return_exceptions=True)
    loop.run_until_complete(gathered)
    for task in pending:
        if task.cancelled():
            continue
        if task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception during simloop.run() shutdown",
                    "exception": task.exception(),
                    "task": task,
                }
            )


def _as_exception(context: dict[str, Any]) -> BaseException:
    error = context.get("exception")
    if isinstance(error, BaseException):
        error.add_note(f"simloop: this reached the loop's exception handler: {context['message']}")
        return error
    return UnhandledError(f"{context.get('message', 'unhandled error')}")


def raise_unhandled(contexts: list[dict[str, Any]]) -> None:
    """Raise what reached the exception handler: one error as itself, several as a group."""
    if not contexts:
        return
    errors = [_as_exception(context) for context in contexts]
    if len(errors) == 1:
        raise errors[0]
    message = f"{len(errors)} errors reached the loop's exception handler"
    if all(isinstance(error, Exception) for error in errors):
        raise ExceptionGroup(message, errors)  # type: ignore[type-var]
    raise BaseExceptionGroup(message, errors)


def _note_unhandled(error: BaseException, contexts: list[dict[str, Any]]) -> None:
    for context in contexts:
        exception = context.get("exception")
        what = f"{type(exception).__name__}: {exception}" if exception is not None else ""
        error.add_note(
            f"simloop: also reached the loop's exception handler: {context.get('message')} {what}"
        )


# Renamed with a leading underscore in 3.14, when policies were deprecated.
_BasePolicy: Any = vars(events).get("BaseDefaultEventLoopPolicy") or vars(events).get(
    "_BaseDefaultEventLoopPolicy"
)


class EventLoopPolicy(_BasePolicy):  # type: ignore[misc]
    """A policy whose loops are `SimLoop`s, for code that picks loops through
    policies (deprecated from Python 3.14; prefer `simloop.run` or
    ``asyncio.Runner(loop_factory=...)``).

    The n-th loop it makes gets seed ``seed + n``, so a program that makes
    several loops is still reproducible from one seed.
    """

    def __init__(
        self, seed: int = 0, strategy: str | Strategy = "random", **loop_options: Any
    ) -> None:
        super().__init__()
        self._seeds = itertools.count(check_seed(seed))
        self._strategy = resolve(strategy)
        self._loop_options = loop_options
        SimLoop(seed, self._strategy, **loop_options).close()  # bad options fail here

    def new_event_loop(self) -> SimLoop:
        return SimLoop(next(self._seeds), self._strategy, **self._loop_options)
