"""One seed of one test, run as one fresh simulation, and what it showed.

The test (with its deferred async fixtures set up and torn down around it)
runs as the main coroutine of `simloop.run_on`, which fails the run on a
deadlock, a livelock, an error that reached the loop's exception handler, and
(as asked here) tasks still pending or transports still open when the test
returned. The plugin only decides which of these the test opted out of.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

import simloop
from simloop._run import OPEN_TRANSPORTS, PENDING, STRICT, UNHANDLED, Findings, run_on
from simloop._trace import Decision, Trace, first_divergence, without_addresses
from simloop.strategies import ChoiceLog, Strategy

from ._fixtures import FixtureRun
from ._options import TestSettings
from ._seeds import loop_seed

#: makes the test's coroutine from its arguments (deferred fixtures set up)
TestFactory = Callable[[dict[str, object]], Coroutine[Any, Any, object]]

#: failures the loop, not the test's code, raises: reported without a traceback
LOOP_FAILURES: tuple[type[BaseException], ...] = (
    simloop.Deadlock,
    simloop.Livelock,
    simloop.Leftovers,
)

NOT_DETERMINISTIC = """\
seed {seed} is not deterministic: two runs of it in this process differed
{where}
A seed must replay exactly. Look for what the simulation does not control:
a clock, random generator or thread reached through a reference bound before
the simulation started (`from time import monotonic`), ordering by id() or
hash(), or state kept between runs (module globals, caches)."""


@dataclass
class SimRun:
    """What one simulation showed."""

    error: BaseException | None
    virtual_time: float
    steps: int
    digest: str
    kinds: frozenset[str]
    deviations: list[Decision]
    deviation_count: int
    schedule: str
    loop_seed: int
    #: the run's trace with every event, when recorded (a determinism check, a report)
    trace: Trace | None = field(default=None, repr=False)
    #: `simloop.sometimes` names of the run, and whether each held
    sometimes: dict[str, bool] = field(default_factory=dict)
    #: every answer of every choice point, when logged (to save or shrink the schedule)
    choice_log: ChoiceLog | None = field(default=None, repr=False)
    #: questions a replayed recording could not answer (the program took another path)
    divergences: int = 0
    #: what ran: the test (a Hypothesis example) and its values, to run it again
    call: tuple[TestFactory, Mapping[str, object]] | None = field(default=None, repr=False)
    #: what the run left behind or let through (None: nothing), cleaned up
    findings: Findings | None = None


class Simulation:
    """Runs seeds of one test, each on a fresh `SimLoop`."""

    def __init__(self, settings: TestSettings, test_id: str) -> None:
        self.settings = settings
        self.test_id = test_id
        #: the test function's name (with its parameters)
        self.test_name = test_id.rpartition("::")[2]
        self._strategy = simloop.strategies.resolve(settings.strategy)  # type: ignore[arg-type]
        #: the last run, for a Hypothesis test whose last example is the one it reports
        self.last: SimRun | None = None

    def run(self, seed: int, make_test: TestFactory, values: Mapping[str, object]) -> SimRun:
        """Run seed `seed` (twice, comparing, if checking determinism)."""
        if not self.settings.check_determinism:
            outcome = self._run_once(seed, make_test, values, record=False)
        else:
            outcome = self._run_once(seed, make_test, values, record=True)
            again = self._run_once(seed, make_test, values, record=True, again=True)
            difference = _compare(outcome, again)
            if difference is not None and outcome.error is None:
                outcome.error = pytest.fail.Exception(
                    NOT_DETERMINISTIC.format(seed=seed, where=difference), pytrace=False
                )
            elif difference is not None:
                assert outcome.error is not None
                outcome.error.add_note(NOT_DETERMINISTIC.format(seed=seed, where=difference))
            outcome.trace = None
        outcome.call = (make_test, values)
        self.last = outcome
        return outcome

    def rerun(
        self,
        seed: int,
        make_test: TestFactory,
        values: Mapping[str, object],
        *,
        strategy: Strategy | None = None,
        record: bool = False,
        log_choices: bool = False,
    ) -> SimRun:
        """Run seed `seed` once more, to look at it: recording its events,
        logging its choices, or on another strategy (a `Replay` while shrinking).
        The loop seed stays the seed's, so the program's own randomness is the same."""
        return self._run_once(
            seed,
            make_test,
            values,
            record=record,
            strategy=strategy,
            log_choices=log_choices,
            again=True,
        )

    def _run_once(
        self,
        seed: int,
        make_test: TestFactory,
        values: Mapping[str, object],
        *,
        record: bool,
        strategy: Strategy | None = None,
        log_choices: bool = False,
        again: bool = False,
    ) -> SimRun:
        """One simulation of seed `seed`; `again` when the sweep already ran
        it (its errors were logged then: a second look does not log them)."""
        __tracebackhide__ = True
        settings = self.settings
        options: dict[str, Any] = {"record": record, "log_choices": log_choices}
        if settings.time_limit is not None:
            options["time_limit"] = settings.time_limit
        if settings.step_limit is not None:
            options["step_limit"] = settings.step_limit
        loop = simloop.SimLoop(loop_seed(self.test_id, seed), strategy or self._strategy, **options)
        loop.log_errors = not again
        # (virtual time, callbacks) when the test raised or returned
        ended: list[tuple[float, int]] = []

        async def main() -> None:
            __tracebackhide__ = True
            fixtures = FixtureRun()
            try:
                arguments = await fixtures.set_up(values)
                await make_test(arguments)
            except BaseException as error:
                ended.append((loop.virtual_time(), loop.steps))
                for problem in await fixtures.tear_down():
                    error.add_note(f"simloop: an async fixture's teardown also failed: {problem!r}")
                raise
            ended.append((loop.virtual_time(), loop.steps))
            problems = await fixtures.tear_down()
            if problems:
                raise problems[0]

        error: BaseException | None = None
        coroutine = main()
        # What timelines and hang reports call the main task's coroutine.
        coroutine.__qualname__ = self.test_name  # type: ignore[attr-defined]
        try:
            run_on(loop, coroutine, fail_on=fail_on(settings))
        except simloop.Deadlock as deadlock:
            error = None if settings.allow_deadlock else deadlock
        except simloop.Livelock as livelock:
            error = None if settings.allow_livelock else livelock
        except (Exception, pytest.fail.Exception) as failure:
            error = failure
        if isinstance(error, simloop.SimulationError) and isinstance(error, LOOP_FAILURES):
            at = (error.virtual_time, loop.steps if error.steps is None else error.steps)
        else:
            at = ended[0] if ended else (loop.virtual_time(), loop.steps)
        trace = loop.trace
        findings = loop.findings
        if isinstance(findings, Findings):
            for kind in allowed(settings):
                setattr(findings, kind.replace(" ", "_"), [])
        return SimRun(
            error=error,
            virtual_time=at[0],
            steps=at[1],
            digest=trace.digest(),
            kinds=frozenset(trace.kinds_seen),
            deviations=list(trace.deviations),
            deviation_count=trace.deviation_count,
            schedule=loop.choices.describe(),
            loop_seed=loop.seed,
            trace=trace if record else None,
            sometimes=loop.sometimes,
            choice_log=loop.choice_log,
            divergences=len(getattr(loop.choices.schedule, "divergences", ())),
            findings=findings if findings else None,
        )


def allowed(settings: TestSettings) -> set[str]:
    """What the test's markers let it leave behind or let through, unsaid."""
    allow = set()
    if settings.allow_pending:
        allow.add(PENDING)
    if settings.allow_open_transports:
        allow.add(OPEN_TRANSPORTS)
    if settings.allow_unhandled:
        allow.add(UNHANDLED)
    return allow


def fail_on(settings: TestSettings) -> frozenset[str]:
    """What fails a run of the test: in a strict test, every leftover it is not allowed."""
    return STRICT - allowed(settings) if settings.strict else frozenset()


def _outcome(run: SimRun) -> str:
    if run.error is None:
        return "passed"
    return without_addresses(f"{type(run.error).__name__}: {run.error}")


def _compare(first: SimRun, second: SimRun) -> str | None:
    """Where two runs of one seed differ, in words; None if they do not."""

    assert first.trace is not None
    assert second.trace is not None
    divergence = first_divergence(first.trace, second.trace)
    if divergence is not None:
        index, event_a, event_b = divergence
        if event_a is None and event_b is None:
            return (
                f"the runs recorded the same {index} events but took different decisions "
                f"(trace digests {first.digest[:16]} and {second.digest[:16]})"
            )
        return (
            f"first difference at event #{index}:\n"
            f"  run 1: {event_a if event_a is not None else '(run ended)'}\n"
            f"  run 2: {event_b if event_b is not None else '(run ended)'}"
        )
    if _outcome(first) != _outcome(second):
        return (
            "same schedule, different outcome:\n"
            f"  run 1: {_outcome(first)}\n  run 2: {_outcome(second)}"
        )
    return None


def for_report(error: BaseException) -> BaseException:
    """The error to raise from the test: a loop failure as its report alone
    (its traceback would show the loop's internals, not the test)."""
    if isinstance(error, LOOP_FAILURES):
        name = f"simloop.{type(error).__name__}"
        return pytest.fail.Exception(f"{name}: {error}", pytrace=False)
    return error
