"""Explaining a failing seed: shrink its schedule, then say what it takes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from ._depends import depends_on_line
from ._loop import SimLoop
from ._run import STRICT, run_on
from ._shrink import ShrinkResult, describe, shrink
from .strategies import ChoiceLog, Replay, Strategy


@dataclass
class Explanation:
    """Why a seed fails, in its simplest form."""

    seed: int
    strategy: str
    #: the failure of the simplest schedule
    failure: BaseException
    #: the simplest failing schedule: replay it with `strategies.Replay`
    schedule: ChoiceLog
    #: what the schedule does differently from plain FIFO, in words
    deviations: list[str]
    shrink: ShrinkResult
    #: what the failure depends on (scheduling alone, a stall, a fault...), in words
    depends: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"seed {self.seed} ({self.strategy}) fails with "
            f"{type(self.failure).__name__}: {self.failure}".rstrip(": "),
            f"simplest failing schedule ({self.shrink.deviations_after} deviation(s) from FIFO, "
            f"down from {self.shrink.deviations_before}, {self.shrink.trials} replays):",
        ]
        lines += [f"  {line}" for line in self.deviations]
        lines.append("everything else in plain FIFO order")
        lines += self.depends
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
    loop = SimLoop(seed, Replay(schedule), record=True, **loop_options)
    try:
        run_on(loop, make_main(), fail_on=STRICT if strict else ())
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        pass
    return loop


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
    result = shrink(trial, log, failure, budget=budget)
    replayed = replay_recorded(make_main, result.log, seed, strict=strict, **loop_options)
    return Explanation(
        seed=seed,
        strategy=name,
        failure=result.failure,
        schedule=result.log,
        deviations=describe(result.log, replayed.trace.deviations),
        shrink=result,
        depends=depends_on_line(result.log, replayed.trace.deviations),
    )
