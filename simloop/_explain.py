"""Explaining a failing seed: shrink its schedule, then say what it takes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ._loop import SimLoop
from ._minimize import Minimized, deviation_count, minimize
from ._run import STRICT, run_on
from ._trace import Decision
from .strategies import ChoiceLog, Replay, Strategy


@dataclass
class Explanation:
    """Why a seed fails, in its simplest form."""

    seed: int
    strategy: str
    #: how the failing schedule was minimized (its log, words, counts)
    minimized: Minimized

    @property
    def failure(self) -> BaseException:
        """The failure of the simplest schedule."""
        return self.minimized.failure

    @property
    def schedule(self) -> ChoiceLog:
        """The simplest failing schedule: replay it with `strategies.Replay`."""
        return self.minimized.log

    @property
    def deviations(self) -> list[str]:
        """What the schedule does differently from plain FIFO, in words."""
        return self.minimized.lines

    @property
    def depends(self) -> list[str]:
        """What the failure depends on (scheduling alone, a stall, a fault...)."""
        return self.minimized.depends

    @property
    def shrink(self) -> Minimized:
        return self.minimized

    def __str__(self) -> str:
        minimized = self.minimized
        lines = [
            f"seed {self.seed} ({self.strategy}) fails with "
            f"{type(self.failure).__name__}: {self.failure}".rstrip(": "),
            f"simplest failing schedule ({minimized.deviations_after} deviation(s) from FIFO, "
            f"down from {minimized.deviations_before}, {minimized.replays} replays):",
        ]
        lines += [f"  {line}" for line in minimized.lines]
        lines.append("everything else in plain FIFO order")
        lines += minimized.depends
        return "\n".join(lines)


def trial_runner(
    make_main: Callable[[], Coroutine[Any, Any, Any]],
    seed: int,
    *,
    strict: bool = False,
    **loop_options: Any,
) -> Callable[[Strategy], tuple[BaseException | None, ChoiceLog]]:
    """A `shrink` trial: run a fresh `make_main()` on a logged SimLoop.

    The seed is the failing run's: a replay takes every scheduling choice
    from its log, but the program's own randomness (`random`, `os.urandom`)
    still comes from the seed, and must be the same as in the failing run.
    """

    def trial(strategy: Strategy) -> tuple[BaseException | None, ChoiceLog]:
        loop = SimLoop(seed, strategy, log_choices=True, **loop_options)
        log = loop.choice_log
        assert log is not None
        try:
            run_on(loop, make_main(), fail_on=STRICT if strict else ())
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:
            return error, log
        return None, log

    return trial


def replay_recorded(
    make_main: Callable[[], Coroutine[Any, Any, Any]],
    schedule: ChoiceLog,
    seed: int = 0,
    *,
    strict: bool = False,
    **loop_options: Any,
) -> SimLoop:
    """Run `make_main()` once more on `schedule` (with the program's own
    randomness from `seed`), recording events; the finished loop carries the
    trace (its deviations have readable details). The outcome is not raised."""
    return _replayed(make_main, schedule, seed, strict=strict, **loop_options)[0]


def _replayed(
    make_main: Callable[[], Coroutine[Any, Any, Any]],
    schedule: ChoiceLog,
    seed: int,
    *,
    strict: bool,
    **loop_options: Any,
) -> tuple[SimLoop, BaseException | None]:
    """`replay_recorded`, and how the replay ended (None: it passed)."""
    loop = SimLoop(seed, Replay(schedule), record=True, **loop_options)
    try:
        run_on(loop, make_main(), fail_on=STRICT if strict else ())
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        return loop, error
    return loop, None


def explain(
    make_main: Callable[[], Coroutine[Any, Any, Any]],
    seed: int,
    *,
    strategy: str | Strategy = "random",
    budget: int = 300,
    strict: bool = False,
    **loop_options: Any,
) -> Explanation | None:
    """Run `seed`; if it fails, shrink its schedule and say what the failure takes.

    Returns None when the seed passes. `make_main` is called once per replay
    and must return a fresh coroutine each time. `strict` is as for
    `simloop.run`: leftovers and errors that reached the loop's exception
    handler are failures too.
    """
    loop = SimLoop(seed, strategy, log_choices=True, **loop_options)
    log = loop.choice_log
    assert log is not None
    name = loop.strategy.name
    try:
        run_on(loop, make_main(), fail_on=STRICT if strict else ())
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        failure = error
    else:
        return None
    trial = trial_runner(make_main, seed, strict=strict, **loop_options)

    def describe_run(schedule: ChoiceLog) -> tuple[BaseException | None, list[Decision], int]:
        replayed, outcome = _replayed(make_main, schedule, seed, strict=strict, **loop_options)
        return outcome, list(replayed.trace.deviations), replayed.trace.deviation_count

    minimized = minimize(
        trial,
        describe_run,
        log,
        failure,
        deviations_before=deviation_count(log, loop.trace.deviation_count),
        budget=budget,
    )
    return Explanation(seed=seed, strategy=name, minimized=minimized)
