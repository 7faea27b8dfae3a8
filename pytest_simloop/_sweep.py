"""A test's sweep: its seeds in order until the first failure, alone or with xdist helpers.

Order: seeds that failed before (pytest's cache) first, then the plan's seeds
in increasing order. The reported seed is the first that fails in that order,
so a serial run and a run spread over xdist workers report the same seed.
"""

from __future__ import annotations

import contextvars
import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._fixtures import DeferredFixture
from ._options import TestSettings
from ._progress import Progress
from ._runner import SimRun, Simulation, TestFactory, for_report
from ._seeds import FailureMemory
from ._stash import MEMORY, RESULT, RUN_OPTIONS, SETTINGS, is_hypothesis_test
from ._warnings import Seen, warn
from ._xdist import PART_ARGUMENT, BlockResult, Pool, parts, pool_root, primary_nodeid

if TYPE_CHECKING:
    from ._postmortem import Postmortem

NOT_REPRODUCED = """\
seed {seed} failed on another xdist worker but passed when replayed on this one: \
the test is not deterministic (run it with --simloop-check-determinism to see where \
two runs part)"""
NOTHING_REMEMBERED = """\
--simloop-seed=last: no failing seed of this test is remembered (strategy {strategy})"""
NEVER_HELD = """\
sometimes({name!r}) never held in {seeds}: the run never exercised it\
"""
NEVER_HELD_HINT = """\
(a sweep that never saw it did not test it; if it may stay unexercised, mark the \
test @pytest.mark.simloop(allow_unexercised=True))\
"""

_real_clock = time.perf_counter
#: a full garbage collection every this many simulations of a sweep
COLLECT_EVERY = 100
#: share of a pytest-timeout limit the seeds may take (the rest: examining a
#: failure, teardown)
SWEEP_SHARE_OF_TIMEOUT = 0.6
SHRINK_SHARE_OF_TIMEOUT = 0.2


class FlatHeap:
    """Keeps a long sweep's memory flat.

    A finished simulation is a web of cycles (the loop, its trace and tasks),
    and the engine's collection at the end of a run sees it still alive, so
    it is promoted to the oldest generation, which CPython collects rarely:
    100,000 seeds would keep gigabytes. So the objects that exist before the
    sweep are frozen (`gc.freeze`), and every `COLLECT_EVERY` simulations a
    full collection, which then only looks at what the sweep made, frees them.
    """

    def __init__(self) -> None:
        self._runs = 0

    def __enter__(self) -> FlatHeap:
        gc.freeze()
        return self

    def after_run(self) -> None:
        self._runs += 1
        if self._runs % COLLECT_EVERY == 0:
            gc.collect()

    def __exit__(self, *exc_info: object) -> None:
        gc.unfreeze()


@dataclass
class Stats:
    """What a sweep explored: simulations, distinct schedules, choice points."""

    seeds: int = 0
    digests: set[int] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    #: every `simloop.sometimes` name seen, and in how many seeds it held
    sometimes: dict[str, int] = field(default_factory=dict)
    #: what the seeds left behind or let through (reported as warnings)
    seen: Seen = field(default_factory=Seen)
    #: why the sweep stopped before its last seed, if it did (a time limit)
    stopped: str | None = None

    def add(self, run: SimRun, seed: int) -> None:
        self.digests.add(int(run.digest[:16], 16))
        self.kinds.update(run.kinds)
        if run.findings is not None:
            self.seen.add(seed, run.findings)

    def add_block(self, block: BlockResult) -> None:
        self.seeds += block.ran
        self.digests.update(int(digest, 16) for digest in block.digests)
        self.kinds.update(block.kinds)
        for name, held in block.sometimes.items():
            self.sometimes[name] = self.sometimes.get(name, 0) + held
        if block.findings:
            self.seen.merge(Seen.from_data(block.findings))

    def never_held(self) -> list[str]:
        """The `sometimes` names that held in no seed."""
        return sorted(name for name, held in self.sometimes.items() if not held)


def count_sometimes(counts: dict[str, int], seen: dict[str, bool]) -> None:
    """Add one seed's `sometimes` outcomes to `counts` (name -> seeds it held in)."""
    for name, held in seen.items():
        counts[name] = counts.get(name, 0) + held


@dataclass
class Failure:
    seed: int
    run: SimRun
    #: seeds that ran (and passed) before it, in the sweep's order
    passed_before: int
    #: it had failed before and was tried first
    remembered: bool
    #: the second look at it: timeline, simplest schedule, files
    postmortem: Postmortem | None = None


@dataclass
class SweepResult:
    test_id: str
    settings: TestSettings
    stats: Stats
    seconds: float
    failure: Failure | None


# The seed a Hypothesis example runs under, set while its sweep calls the
# Hypothesis wrapper (Hypothesis calls `inner_test` once per example).
_current_example: contextvars.ContextVar[Callable[[TestFactory, dict[str, Any]], None]] = (
    contextvars.ContextVar("simloop_current_example")
)


def run_hypothesis_example(
    original: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """Called by Hypothesis for each example of a simloop test."""
    __tracebackhide__ = True
    try:
        run_example = _current_example.get()
    except LookupError:
        raise RuntimeError(
            f"{original.__qualname__} is a simloop test; run it through pytest"
        ) from None

    def make_test(values: dict[str, object]) -> Any:
        arguments = {
            name: values[value.name] if isinstance(value, DeferredFixture) else value
            for name, value in kwargs.items()
        }
        return original(*args, **arguments)

    run_example(make_test, kwargs)


class Sweep:
    """Runs one item's seeds (for a test, or for one of its xdist helpers)."""

    def __init__(
        self,
        *,
        test_id: str,
        settings: TestSettings,
        funcargs: dict[str, object],
        call_test: Callable[[dict[str, object]], Any],
        is_hypothesis: bool,
        memory: FailureMemory,
        progress: Progress | None,
    ) -> None:
        self.test_id = test_id
        self.settings = settings
        self.funcargs = funcargs
        self.call_test = call_test
        self.is_hypothesis = is_hypothesis
        self.memory = memory
        self.progress = progress
        #: the pytest item being swept (None when driven outside pytest)
        self.item: pytest.Item | None = None
        self.simulation = Simulation(settings, test_id)
        self.stats = Stats()
        self.heap = FlatHeap()
        #: (real-clock deadline, why): no new seed starts after it
        self.deadline: tuple[float, str] | None = None

    def out_of_time(self) -> bool:
        """Whether the sweep's time is up (then the stats say so)."""
        if self.deadline is None or _real_clock() < self.deadline[0]:
            return False
        self.stats.stopped = self.deadline[1]
        return True

    # -- one seed ------------------------------------------------------------

    def run_seed(self, seed: int) -> SimRun:
        self.stats.seeds += 1
        if not self.is_hypothesis:
            run = self.simulation.run(seed, self.call_test, self.funcargs)
            self.stats.add(run, seed)
            if run.sometimes:
                count_sometimes(self.stats.sometimes, run.sometimes)
            self.heap.after_run()
            return run
        last = self._run_examples(seed)
        if last.sometimes:
            count_sometimes(self.stats.sometimes, last.sometimes)
        return last

    def _run_examples(self, seed: int) -> SimRun:
        """Seed `seed` of a Hypothesis test: each example its own simulation.
        The run returned is the last example's, with what every example's
        `sometimes` saw."""
        seen: dict[str, bool] = {}

        def run_example(make_test: TestFactory, kwargs: dict[str, Any]) -> None:
            __tracebackhide__ = True
            values = {**self.funcargs, **kwargs}
            run = self.simulation.run(seed, make_test, values)
            self.stats.add(run, seed)
            for name, held in run.sometimes.items():
                seen[name] = seen.get(name, False) or held
            self.heap.after_run()
            if run.error is not None:
                raise run.error

        token = _current_example.set(run_example)
        try:
            self.call_test({})
        except (Exception, pytest.fail.Exception) as error:
            last = self.simulation.last
            assert last is not None
            last.error = error
            last.sometimes = seen
            return last
        finally:
            _current_example.reset(token)
        last = self.simulation.last
        if last is None:  # every example was rejected or skipped
            return SimRun(None, 0.0, 0, "0" * 32, frozenset(), [], 0, "", 0, sometimes=seen)
        last.error = None
        last.sometimes = seen
        return last

    # -- the sweep -----------------------------------------------------------

    def remembered(self) -> list[int]:
        if self.settings.plan.pinned:
            return []
        return sorted(set(self.memory.seeds(self.test_id, self.settings.strategy_name)))

    def planned(self) -> range:
        plan = self.settings.plan
        if plan.last:
            last = self.memory.last(self.test_id, self.settings.strategy_name)
            if last is None:
                pytest.skip(NOTHING_REMEMBERED.format(strategy=self.settings.strategy_name))
            return range(last, last + 1)
        return plan.seeds

    def explore(self, pool: Pool | None) -> SweepResult:
        """Run the test's seeds; stop at the first failing one."""
        started = _real_clock()
        with self.heap:
            failure = self._explore(pool)
        seconds = _real_clock() - started
        if self.progress is not None:
            self.progress.finish()
        if self.settings.replay is not None:  # not a seed of the test's strategy
            return SweepResult(self.test_id, self.settings, self.stats, seconds, failure)
        memory_seeds = self.remembered()
        passed = [seed for seed in memory_seeds if failure is None or seed != failure.seed]
        if failure is not None and failure.remembered:
            passed = [seed for seed in memory_seeds if seed < failure.seed]
        self.memory.update(
            self.test_id,
            self.settings.strategy_name,
            failed=None if failure is None else failure.seed,
            passed=passed,
        )
        return SweepResult(self.test_id, self.settings, self.stats, seconds, failure)

    def _explore(self, pool: Pool | None) -> Failure | None:
        remembered = self.remembered()
        for index, seed in enumerate(remembered):
            run = self.run_seed(seed)
            if run.error is not None:
                if pool is not None:
                    pool.stop()
                return Failure(seed, run, index, remembered=True)
        tried = set(remembered)
        planned = self.planned()
        if pool is None:
            return self._serial(planned, tried, len(remembered))
        return self._pooled(pool, tried, len(remembered))

    def _serial(self, seeds: range, tried: set[int], before: int) -> Failure | None:
        total = len(seeds)
        for index, seed in enumerate(seeds):
            if seed in tried:
                continue
            if self.out_of_time():
                return None
            run = self.run_seed(seed)
            if run.error is not None:
                return Failure(seed, run, before + index - _count_in(tried, seeds, seed), False)
            if self.progress is not None:
                self.progress.update(index + 1, total)
        return None

    def run_blocks(self, pool: Pool, tried: set[int], blocks: Iterator[int]) -> dict[int, SimRun]:
        """Run the blocks this process claims; the failing runs it found, by seed."""
        failures: dict[int, SimRun] = {}
        for index in blocks:
            if self.out_of_time():
                pool.release(index)
                pool.stop()
                break
            result = BlockResult()
            started = _real_clock()
            kinds: set[str] = set()
            seen = Seen()
            try:
                for seed in pool.block(index):
                    if seed in tried:
                        continue
                    if self.out_of_time():
                        break
                    run = self.run_seed(seed)
                    result.ran += 1
                    result.digests.append(run.digest[:16])
                    kinds.update(run.kinds)
                    if run.findings is not None:
                        seen.add(seed, run.findings)
                    if run.sometimes:
                        count_sometimes(result.sometimes, run.sometimes)
                    if run.error is not None:
                        result.failed = seed
                        failures[seed] = run
                        break
            except BaseException:
                # A skip, an exit, an interrupt: nobody must wait for this block.
                pool.release(index)
                raise
            result.kinds = sorted(kinds)
            if seen.counts:
                result.findings = seen.to_data()
            result.seconds = _real_clock() - started
            pool.publish(index, result)
        return failures

    def help(self, pool: Pool) -> None:
        """As an xdist helper: run the blocks nobody has claimed yet."""
        with self.heap:
            self.run_blocks(pool, set(), pool.unclaimed_blocks())

    def _pooled(self, pool: Pool, tried: set[int], before: int) -> Failure | None:
        mine = self.run_blocks(pool, tried, pool.unclaimed_blocks())
        mine.update(self.run_blocks(pool, tried, pool.wait_for_others()))
        # The stats of the whole pool, this process's blocks included.
        self.stats = Stats()
        for block in pool.results():
            self.stats.add_block(block)
        best = pool.best_failure()
        if best is None:
            return None
        run = mine.get(best)
        if run is None:
            run = self.run_seed(best)
            self.stats.seeds -= 1  # a replay, not a seed explored
            if run.error is None:
                run.error = pytest.fail.Exception(NOT_REPRODUCED.format(seed=best), pytrace=False)
        passed_before = before + best - pool.seeds.start - _count_in(tried, pool.seeds, best)
        return Failure(best, run, passed_before, remembered=False)


def _count_in(seeds: set[int], plan: range, below: int) -> int:
    """How many of `seeds` the plan holds before `below` (they ran earlier)."""
    return sum(1 for seed in seeds if seed in plan and seed < below)


def run_item(item: Any, test: Any, kwargs: dict[str, Any]) -> None:
    """The body of a simloop item: sweep its seeds (or help another item sweep)."""
    __tracebackhide__ = True

    config = item.config
    settings: TestSettings = item.stash[SETTINGS]
    test_id = primary_nodeid(item)
    funcargs = {name: value for name, value in item.funcargs.items() if name != PART_ARGUMENT}
    hypothesis = is_hypothesis_test(test)
    if hypothesis:

        def call_test(values: dict[str, object]) -> Any:
            return test(**kwargs)
    else:
        argnames = list(kwargs)

        def call_test(values: dict[str, object]) -> Any:
            return test(**{name: values[name] for name in argnames})

    root = pool_root(config)
    plan = settings.plan
    pool = (
        Pool(root, test_id, plan.seeds, parts(config))
        if root is not None and not plan.pinned and len(plan.seeds) > 1
        else None
    )
    on_worker = hasattr(config, "workerinput")
    sweep = Sweep(
        test_id=test_id,
        settings=settings,
        funcargs=funcargs,
        call_test=call_test,
        is_hypothesis=hypothesis,
        memory=config.stash[MEMORY],
        progress=None if on_worker else Progress(config, test_id),
    )
    sweep.item = item
    limit = timeout_of(item)
    if limit:
        # pytest-timeout's limit covers the whole sweep: stop starting seeds
        # well before it, so that it never fires in the middle of a seed
        # (which would be reported as that seed's failure).
        sweep.deadline = (
            _real_clock() + SWEEP_SHARE_OF_TIMEOUT * limit,
            f"pytest-timeout's limit of {limit:g} s",
        )
    if item.part > 0:
        if pool is not None:
            sweep.help(pool)
        return
    result = sweep.explore(pool)
    item.stash[RESULT] = result
    # A test taken over from pytest-asyncio or anyio (--simloop-all) is
    # treated as they treat it: leftovers cleaned up and handler errors
    # logged, with no warning (the summary line still counts them).
    if result.stats.seen.counts and item.get_closest_marker("simloop") is not None:
        path, line, _ = item.location
        module = getattr(getattr(item, "module", None), "__name__", path)
        where = (str(item.config.rootpath / path), (line or 0) + 1, module)
        warn(test_id, result.stats.seen, result.stats.seeds, where)
    failure = result.failure
    if failure is not None:
        error = failure.run.error
        assert error is not None
        failure.postmortem = _examine(sweep, failure, config)
        _raise(for_report(error))
    never = result.stats.never_held()
    if never and not plan.pinned and not settings.allow_unexercised:
        seeds = f"{result.stats.seeds} seed{'' if result.stats.seeds == 1 else 's'}"
        lines = [NEVER_HELD.format(name=name, seeds=seeds) for name in never]
        _raise(pytest.fail.Exception("\n".join([*lines, NEVER_HELD_HINT]), pytrace=False))


def timeout_of(item: pytest.Item) -> float:
    """The test's pytest-timeout limit in seconds (0: none, or no pytest-timeout)."""
    plugin = item.config.pluginmanager.get_plugin("timeout")
    settings = getattr(plugin, "_get_item_settings", None)
    if settings is None:
        return 0.0
    try:
        limit = settings(item).timeout
    except Exception:  # a pytest-timeout whose private API moved: no limit known
        return 0.0
    return float(limit) if isinstance(limit, (int, float)) and limit > 0 else 0.0


def _examine(sweep: Sweep, failure: Failure, config: pytest.Config) -> Postmortem:
    """The failing seed's second look; what went wrong in it, if it goes wrong."""
    from simloop._minimize import SHRINK_SECONDS

    from ._postmortem import Postmortem, examine

    trace_dir: Path | None = config.stash[RUN_OPTIONS].trace_dir
    # Under pytest-timeout, shrinking takes a share of the limit, not more.
    limit = timeout_of(sweep.item) if sweep.item is not None else 0.0
    shrink_seconds = (
        min(SHRINK_SECONDS, SHRINK_SHARE_OF_TIMEOUT * limit) if limit else SHRINK_SECONDS
    )
    try:
        return examine(
            sweep.simulation,
            failure.seed,
            failure.run,
            config=config,
            trace_dir=trace_dir,
            is_hypothesis=sweep.is_hypothesis,
            progress=sweep.progress,
            shrink_seconds=shrink_seconds,
        )
    # The test's failure is reported whatever happens here (a replay that
    # skips, a bug in the plugin).
    except (Exception, pytest.skip.Exception, pytest.xfail.Exception) as error:
        note = f"simloop could not examine seed {failure.seed}: {type(error).__name__}: {error}"
        return Postmortem(notes=[note])
    finally:
        if sweep.progress is not None:
            sweep.progress.finish()


def _raise(error: BaseException) -> None:
    # Not hidden from tracebacks: a loop failure (pytrace=False) has no other
    # frame to show its message on.
    raise error
