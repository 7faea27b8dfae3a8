"""`random`: seeded choices at every choice point, with a per-seed swarm profile."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from ._base import NO_COST, Schedule, Strategy, Streams

# Swarm testing (Groce et al., ISSTA 2012): rather than one tuned mix, each
# seed draws its own profile, so some seeds deviate from FIFO everywhere and
# others only now and then. Bugs that need one reordering among many FIFO
# steps are found by the sparse seeds; bugs that need several by the dense ones.
_REORDER_RATES = (1.0, 1.0, 0.5, 0.15)
_CPU_MAX_COSTS = (0.0, 0.0, 0.00002, 0.0002, 0.002)
_CPU_RATES = (1.0, 0.3)
_THREAD_MAX_DELAYS = (0.0001, 0.001, 0.005, 0.005, 0.05)
_SLOW_THREAD_CHANCE = 0.02
_COST_BLOCK = 512
#: the first block is small: most runs are short, and a block's draws are the
#: same sequence whatever the block sizes, so growing blocks change no schedule
_FIRST_COST_BLOCK = 32
#: batches of at most this many tasks are shuffled uniformly
_SHUFFLE_LIMIT = 32


@dataclass(frozen=True)
class Profile:
    """What one seed's schedule varies, and how much."""

    reorder_rate: float
    cpu_max_cost: float
    cpu_rate: float
    thread_max_delay: float

    def describe(self) -> str:
        parts = [f"tasks reordered in {self.reorder_rate:.0%} of iterations", "timer ties shuffled"]
        if self.cpu_max_cost:
            parts.append(
                f"CPU cost up to {self.cpu_max_cost * 1e3:g} ms on {self.cpu_rate:.0%} of callbacks"
            )
        parts.append(f"executor jobs take up to {self.thread_max_delay * 1e3:g} ms")
        return ", ".join(parts)


class Random(Strategy):
    """Seeded order of tied timers and of the tasks ready in one iteration,
    seeded CPU cost per callback (so due timers fire late, as on a busy loop)
    and seeded executor job durations.

    Arguments left as None are drawn per seed (swarm testing); give a value to
    pin it for every seed, e.g. ``Random(cpu_max_cost=0)`` for an instant CPU.
    """

    name = "random"

    def __init__(
        self,
        *,
        reorder_rate: float | None = None,
        cpu_max_cost: float | None = None,
        cpu_rate: float | None = None,
        thread_max_delay: float | None = None,
    ) -> None:
        for label, value, low, high in (
            ("reorder_rate", reorder_rate, 0.0, 1.0),
            ("cpu_rate", cpu_rate, 0.0, 1.0),
            ("cpu_max_cost", cpu_max_cost, 0.0, 3600.0),
            ("thread_max_delay", thread_max_delay, 0.0, 86400.0),
        ):
            if value is not None and not (low <= value <= high):
                raise ValueError(f"{label}={value!r} is out of range; expected {low} to {high}")
        self.reorder_rate = reorder_rate
        self.cpu_max_cost = cpu_max_cost
        self.cpu_rate = cpu_rate
        self.thread_max_delay = thread_max_delay

    def profile(self, streams: Streams) -> Profile:
        """This seed's swarm profile (arguments given to the strategy win)."""
        swarm = streams("swarm")
        drawn = Profile(
            reorder_rate=swarm.choice(_REORDER_RATES),
            cpu_max_cost=swarm.choice(_CPU_MAX_COSTS),
            cpu_rate=swarm.choice(_CPU_RATES),
            thread_max_delay=swarm.choice(_THREAD_MAX_DELAYS),
        )
        return Profile(
            reorder_rate=drawn.reorder_rate if self.reorder_rate is None else self.reorder_rate,
            cpu_max_cost=drawn.cpu_max_cost if self.cpu_max_cost is None else self.cpu_max_cost,
            cpu_rate=drawn.cpu_rate if self.cpu_rate is None else self.cpu_rate,
            thread_max_delay=(
                drawn.thread_max_delay if self.thread_max_delay is None else self.thread_max_delay
            ),
        )

    def schedule(self, seed: int, streams: Streams) -> Schedule:
        return RandomSchedule(self.profile(streams), streams)


class RandomSchedule(Schedule):
    """One seed's random decisions, each concern on its own stream."""

    reorders_tasks = True

    def __init__(self, profile: Profile, streams: Streams) -> None:
        self.profile = profile
        # Streams are made on first use (each is independent of the others,
        # so when it is made changes nothing): a short run needs few of them.
        self._streams = streams
        self._task_rng = streams("tasks") if profile.reorder_rate > 0 else None
        self._cost_block = _FIRST_COST_BLOCK
        self.reorders_tasks = profile.reorder_rate > 0

    def order_tasks(self, tasks: Sequence[asyncio.Task[object]]) -> Sequence[int] | None:
        rng = self._task_rng
        if rng is None:
            rng = self._task_rng = self._streams("tasks")
        rate = self.profile.reorder_rate
        if rate < 1.0 and rng.random() >= rate:
            return None
        count = len(tasks)
        draw = rng.random
        if count <= _SHUFFLE_LIMIT:
            # Uniform over all orders. Sorting by random keys costs less than
            # random.shuffle's Python loop.
            keys = [draw() for _ in tasks]
            return sorted(range(count), key=keys.__getitem__)
        # A big batch: a uniform shuffle would cost more than the steps
        # themselves (the sort, and above all the cache misses once tasks no
        # longer run in memory order, which compound over iterations). A
        # random rotation, reversed half the time, with a few swaps of
        # neighbours, still puts any two tasks in either order with
        # probability about 1/2, and keeps neighbours near each other.
        cut = int(draw() * count)
        order = list(range(cut, count))
        order.extend(range(cut))
        if draw() < 0.5:
            order.reverse()
        last = count - 1
        for _ in range(count // _SHUFFLE_LIMIT):
            i = int(draw() * last)
            order[i], order[i + 1] = order[i + 1], order[i]
        return order

    def order_timers(self, count: int) -> Sequence[int] | None:
        order = list(range(count))
        self._streams("timers").shuffle(order)
        return order

    def cpu_costs(self) -> list[float]:
        profile = self.profile
        if not profile.cpu_max_cost:
            return NO_COST
        draw = self._streams("cpu").random
        most, rate = profile.cpu_max_cost, profile.cpu_rate
        block = self._cost_block
        self._cost_block = min(2 * block, _COST_BLOCK)
        if rate >= 1.0:
            return [most * draw() for _ in range(block)]
        return [most * draw() if draw() < rate else 0.0 for _ in range(block)]

    def thread_delay(self, label: str) -> float:
        rng = self._streams("threads")
        delay = self.profile.thread_max_delay * rng.random()
        if rng.random() < _SLOW_THREAD_CHANCE:
            delay += rng.uniform(0.1, 2.0)
        return delay

    def describe(self) -> str:
        return self.profile.describe()
