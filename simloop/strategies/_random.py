"""`random`: seeded choices at every choice point, with a per-seed swarm profile."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .._validate import in_range
from ._base import NO_COST, Schedule, Strategy, Streams, derive_seed
from ._network import NETWORK_KINDS, NetworkDecisions, NetworkProfile

# Swarm testing (Groce et al., ISSTA 2012): rather than one tuned mix, each
# seed draws its own profile, so some seeds deviate from FIFO everywhere and
# others only now and then. Bugs that need one reordering among many FIFO
# steps are found by the sparse seeds; bugs that need several by the dense ones.
_REORDER_RATES = (0.0, 0.15, 0.5, 1.0, 1.0)
_CPU_MAX_COSTS = (0.0, 0.0, 0.00002, 0.00005, 0.0002)
_CPU_RATES = (1.0, 1.0, 0.3)
_THREAD_MAX_DELAYS = (0.0001, 0.001, 0.005, 0.005, 0.05)
_SLOW_THREAD_CHANCE = 0.02
_COST_BLOCK = 512
_BUGGIFY_FIRES = 0.25
_FIRST_COST_BLOCK = 16
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
    seeded CPU cost per callback (so due timers fire late, as on a busy loop),
    seeded executor job durations, and a seeded network (see
    `simloop.strategies.NetworkProfile`).

    Arguments left as None are drawn per seed (swarm testing); give a value to
    pin it for every seed, e.g. ``Random(cpu_max_cost=0)`` for an instant CPU
    or ``Random(network="calm")`` for a network without faults or stalls
    (``steer_rate=0`` also stops deliveries being steered onto timer deadlines).

    ``reorder_siblings=True`` also reorders task steps that one callback
    scheduled (the tasks one step created or woke), which the stock loop
    always runs in order: a wider search that can report schedules no
    asyncio program could meet.
    """

    name = "random"

    def __init__(
        self,
        *,
        reorder_rate: float | None = None,
        cpu_max_cost: float | None = None,
        cpu_rate: float | None = None,
        thread_max_delay: float | None = None,
        reorder_siblings: bool = False,
        network: str | None = None,
        steer_rate: float | None = None,
    ) -> None:
        if network is not None and network not in NETWORK_KINDS:
            raise ValueError(
                f"network={network!r} is not a kind of network; "
                f"expected one of: {', '.join(NETWORK_KINDS)}"
            )
        self.network = network
        self.steer_rate = steer_rate
        for label, value, low, high in (
            ("reorder_rate", reorder_rate, 0.0, 1.0),
            ("cpu_rate", cpu_rate, 0.0, 1.0),
            ("cpu_max_cost", cpu_max_cost, 0.0, 3600.0),
            ("thread_max_delay", thread_max_delay, 0.0, 86400.0),
            ("steer_rate", steer_rate, 0.0, 1.0),
        ):
            if value is not None:
                in_range(label, value, low, high)
        self.reorder_rate = reorder_rate
        self.reorder_siblings = bool(reorder_siblings)
        self.cpu_max_cost = cpu_max_cost
        self.cpu_rate = cpu_rate
        self.thread_max_delay = thread_max_delay

    def profile(self, streams: Streams) -> Profile:
        """This seed's swarm profile (arguments given to the strategy win)."""
        # A handful of draws: taken from the bits of one derived seed rather
        # than a Mersenne Twister stream, whose seeding costs more than a run.
        bits = derive_seed(streams.seed, "swarm")

        def draw(options: tuple[float, ...]) -> float:
            nonlocal bits
            bits, index = divmod(bits, 1 << 12)
            return options[index % len(options)]

        return Profile(
            reorder_rate=draw(_REORDER_RATES) if self.reorder_rate is None else self.reorder_rate,
            cpu_max_cost=draw(_CPU_MAX_COSTS) if self.cpu_max_cost is None else self.cpu_max_cost,
            cpu_rate=draw(_CPU_RATES) if self.cpu_rate is None else self.cpu_rate,
            thread_max_delay=(
                draw(_THREAD_MAX_DELAYS) if self.thread_max_delay is None else self.thread_max_delay
            ),
        )

    def schedule(self, seed: int, streams: Streams) -> Schedule:
        schedule = RandomSchedule(self.profile(streams), streams, self.network, self.steer_rate)
        schedule.keeps_siblings = not self.reorder_siblings
        return schedule


def buggify_site(
    streams: Streams, active: dict[str, bool], site: str, probability: float | None
) -> bool:
    """FoundationDB's two-level BUGGIFY: a site is active in a run with
    probability 1/4, decided from the seed and the site alone (so adding a
    site elsewhere changes nothing here); an active site fires on a call with
    `probability` (default 1/4) drawn from the run's buggify stream."""
    on = active.get(site)
    if on is None:
        on = active[site] = derive_seed(streams.seed, f"buggify site {site}") % 4 == 0
    if not on:
        return False
    return streams("buggify").random() < (_BUGGIFY_FIRES if probability is None else probability)


class RandomSchedule(Schedule):
    """One seed's random decisions, each concern on its own stream."""

    reorders_tasks = True

    def __init__(
        self,
        profile: Profile,
        streams: Streams,
        network: str | None = None,
        steer_rate: float | None = None,
    ) -> None:
        self.profile = profile
        # Streams are made on first use (seeding one costs microseconds, and
        # most runs never reach most choice points).
        self._streams = streams
        # The network's swarm profile is drawn when the program first uses
        # the network (from streams of its own, so the answer is the same):
        # most tests never do, and four streams cost a fifth of a small run.
        self._network_settings = (network, steer_rate)
        self.reorders_tasks = profile.reorder_rate > 0
        self._cost_block = _FIRST_COST_BLOCK
        self._active_sites: dict[str, bool] = {}

    @functools.cached_property
    def network_profile(self) -> NetworkProfile:
        return NetworkProfile.draw(self._streams, *self._network_settings)

    @functools.cached_property
    def _network(self) -> NetworkDecisions:
        return NetworkDecisions(self.network_profile, self._streams)

    @functools.cached_property
    def injects_faults(self) -> bool:  # type: ignore[override]
        return self._network.injects_faults

    @functools.cached_property
    def splits_segments(self) -> bool:  # type: ignore[override]
        return self.network_profile.split_rate > 0

    @functools.cached_property
    def _task_rng(self) -> random.Random:
        return self._streams("tasks")

    @functools.cached_property
    def _timer_rng(self) -> random.Random:
        return self._streams("timers")

    @functools.cached_property
    def _cpu_rng(self) -> random.Random:
        return self._streams("cpu")

    @functools.cached_property
    def _thread_rng(self) -> random.Random:
        return self._streams("threads")

    def order_tasks(self, tasks: Sequence[asyncio.Task[object]]) -> Sequence[int] | None:
        rng = self._task_rng
        rate = self.profile.reorder_rate
        if rate < 1.0 and rng.random() >= rate:
            return None
        count = len(tasks)
        draw = rng.random
        if count == 2:
            return [0, 1] if draw() < 0.5 else [1, 0]
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
        self._timer_rng.shuffle(order)
        return order

    def cpu_costs(self) -> list[float]:
        profile = self.profile
        if not profile.cpu_max_cost:
            return NO_COST
        draw = self._cpu_rng.random
        most, rate = profile.cpu_max_cost, profile.cpu_rate
        # Blocks grow, so a short run draws few costs and a long one is cheap per callback.
        block = self._cost_block
        self._cost_block = min(block * 2, _COST_BLOCK)
        if rate >= 1.0:
            return [most * draw() for _ in range(block)]
        return [most * draw() if draw() < rate else 0.0 for _ in range(block)]

    def thread_delay(self, label: str) -> float:
        rng = self._thread_rng
        delay = self.profile.thread_max_delay * rng.random()
        if rng.random() < _SLOW_THREAD_CHANCE:
            delay += rng.uniform(0.1, 2.0)
        return delay

    def buggify(self, site: str, probability: float | None) -> bool:
        return buggify_site(self._streams, self._active_sites, site, probability)

    def delivery_delay(self, kind: str, pending: Callable[[], Sequence[float]]) -> float:
        network = self._network
        delay = network.delivery_delay(kind, pending)
        self.steered = network.steered
        return delay

    def segment_sizes(self, size: int) -> Sequence[int] | None:
        return self._network.segment_sizes(size)

    def refuse_connect(self) -> bool:
        return self._network.refuse_connect()

    def reset_stream(self) -> bool:
        return self._network.reset_stream()

    def datagram_copies(self) -> int:
        return self._network.datagram_copies()

    def partition_window(self) -> tuple[float, float, int] | None:
        return self.network_profile.partition

    def describe_network(self) -> str:
        return self.network_profile.describe()

    def describe(self) -> str:
        return self.profile.describe()
