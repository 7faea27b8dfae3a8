"""`random`: seeded choices at every choice point, with a per-seed swarm profile."""

from __future__ import annotations

import asyncio
import functools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .._validate import in_range
from ._base import NO_COST, Schedule, Strategy, Streams, derive_seed
from ._network import NETWORK_KINDS, RETIRED_KINDS, NetworkDecisions, NetworkProfile

# Swarm testing (Groce et al., ISSTA 2012): rather than one tuned mix, each
# seed draws its own profile, so some seeds deviate from FIFO everywhere and
# others only now and then. Bugs that need one reordering among many FIFO
# steps are found by the sparse seeds; bugs that need several by the dense ones.
_REORDER_RATES = (0.0, 0.15, 0.5, 1.0, 1.0)
_CPU_MAX_COSTS = (0.0, 0.0, 0.00002, 0.00005, 0.0002)
_CPU_RATES = (1.0, 1.0, 0.3)
#: Loop stalls: now and then a callback takes far longer than its CPU cost,
#: as a garbage collection pause, a slow callback or a descheduled process
#: does on a healthy production machine. Share of callbacks that stall, per
#: seed (a rare event: even the busiest seed stalls one callback in 200)...
_STALL_RATES = (0.0, 0.0005, 0.002, 0.005)
#: ... and how long a stall lasts: log-uniform, so most are a few
#: milliseconds and a few reach tens (median 7 ms). 50 ms at most, so that
#: two stalls and a round trip at the network's bound still fit in 0.5 s.
STALL_MIN = 0.001
STALL_MAX = 0.05
#: Executor jobs take healthy times: up to this much, per seed...
_THREAD_MAX_DELAYS = (0.0001, 0.001, 0.002, 0.005)
#: ... and now and then longer (a contended GIL, a cold cache): up to
#: STALL_MAX when healthy, 0.1-2 s with faults on.
_SLOW_THREAD_CHANCE = 0.02
_COST_BLOCK = 512
_BUGGIFY_FIRES = 0.25
_FIRST_COST_BLOCK = 16
#: batches of at most this many tasks are shuffled uniformly
_SHUFFLE_LIMIT = 32


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return float(low * (high / low) ** rng.random())


def _gap(rng: random.Random, rate: float) -> int:
    """Callbacks until the next event that happens to each with probability
    `rate` (geometric): one draw per event instead of one per callback."""
    return int(math.log(1.0 - rng.random()) / math.log(1.0 - rate))


@dataclass(frozen=True)
class Profile:
    """What one seed's schedule varies, and how much."""

    reorder_rate: float
    cpu_max_cost: float
    cpu_rate: float
    thread_max_delay: float
    stall_rate: float = 0.0
    #: faults on: executor jobs may also take 0.1-2 s
    faults: bool = False
    #: a uniform draw in [0, 1) that places the first loop stall
    first_stall: float = 0.0

    def describe(self) -> str:
        parts = [f"tasks reordered in {self.reorder_rate:.0%} of iterations", "timer ties shuffled"]
        if self.cpu_max_cost:
            parts.append(
                f"CPU cost up to {self.cpu_max_cost * 1e3:g} ms on {self.cpu_rate:.0%} of callbacks"
            )
        if self.stall_rate:
            parts.append(
                f"{self.stall_rate:.2%} of callbacks stall the loop "
                f"{STALL_MIN * 1e3:g}-{STALL_MAX * 1e3:g} ms"
            )
        slow = "0.1-2 s (faults on)" if self.faults else f"{STALL_MAX * 1e3:g} ms"
        parts.append(
            f"executor jobs take up to {self.thread_max_delay * 1e3:g} ms "
            f"({_SLOW_THREAD_CHANCE:.0%} up to {slow})"
        )
        return ", ".join(parts)


class Random(Strategy):
    """Seeded order of tied timers and of the tasks ready in one iteration,
    seeded CPU cost per callback and now and then a loop stall (so due timers
    fire late, as on a busy loop), seeded executor job durations, and a
    seeded, healthy network (see `simloop.strategies.NetworkProfile`).

    Arguments left as None are drawn per seed (swarm testing); give a value to
    pin it for every seed, e.g. ``Random(cpu_max_cost=0, stall_rate=0)`` for
    an instant CPU, ``Random(network="lan")`` for one latency profile
    (``loopback``, ``lan`` or ``wan``), ``steer_rate=0`` so that no delivery
    is steered onto a timer's deadline.

    ``faults=True`` adds what a correct program may legitimately fail under:
    refused connects, resets, lost and retransmitted segments, lost and
    duplicated datagrams, a partition, executor jobs of up to 2 s. Each is
    transient (see `simloop.strategies.FaultPlan`).

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
        stall_rate: float | None = None,
        thread_max_delay: float | None = None,
        reorder_siblings: bool = False,
        network: str | None = None,
        steer_rate: float | None = None,
        faults: bool = False,
    ) -> None:
        if network is not None and network not in NETWORK_KINDS:
            retired = RETIRED_KINDS.get(str(network))
            why = f" ({network!r} is gone: {retired})" if retired else ""
            raise ValueError(
                f"network={network!r} is not a latency profile{why}; "
                f"expected one of: {', '.join(NETWORK_KINDS)}"
            )
        if not isinstance(faults, bool):
            raise TypeError(f"faults={faults!r} is not allowed; expected True or False")
        self.network = network
        self.steer_rate = steer_rate
        self.faults = faults
        for label, value, low, high in (
            ("reorder_rate", reorder_rate, 0.0, 1.0),
            ("cpu_rate", cpu_rate, 0.0, 1.0),
            ("cpu_max_cost", cpu_max_cost, 0.0, 3600.0),
            ("stall_rate", stall_rate, 0.0, 0.5),
            ("thread_max_delay", thread_max_delay, 0.0, 86400.0),
            ("steer_rate", steer_rate, 0.0, 1.0),
        ):
            if value is not None:
                in_range(label, value, low, high)
        self.reorder_rate = reorder_rate
        self.reorder_siblings = bool(reorder_siblings)
        self.cpu_max_cost = cpu_max_cost
        self.cpu_rate = cpu_rate
        self.stall_rate = stall_rate
        self.thread_max_delay = thread_max_delay

    def __repr__(self) -> str:
        pinned = [
            f"{name}={value!r}"
            for name, value in vars(self).items()
            if value is not None and value is not False
        ]
        return f"Random({', '.join(pinned)})"

    def with_world(self, *, faults: bool | None = None, network: str | None = None) -> Random:
        """A copy with faults and the latency profile set as given (None: as
        this strategy has them): what a test's ``faults=`` and ``network=``
        settings do to its strategy."""
        copy = Random.__new__(Random)
        copy.__dict__.update(vars(self))
        if faults is not None:
            copy.faults = faults
        if network is not None:
            Random(network=network)  # the same check as the constructor's
            copy.network = network
        return copy

    def profile(self, streams: Streams) -> Profile:
        """This seed's swarm profile (arguments given to the strategy win)."""
        # A handful of draws: taken from the bits of one derived seed rather
        # than a Mersenne Twister stream, whose seeding costs more than a run.
        # Five draws of 8 bits each (a bias of at most 1/256 between options),
        # and the top 24 bits place the first loop stall.
        word = derive_seed(streams.seed, "swarm")
        bits = word & ((1 << 40) - 1)
        first_stall = (word >> 40) / float(1 << 24)

        def draw(options: tuple[float, ...]) -> float:
            nonlocal bits
            bits, index = divmod(bits, 1 << 8)
            return options[index % len(options)]

        return Profile(
            reorder_rate=draw(_REORDER_RATES) if self.reorder_rate is None else self.reorder_rate,
            cpu_max_cost=draw(_CPU_MAX_COSTS) if self.cpu_max_cost is None else self.cpu_max_cost,
            cpu_rate=draw(_CPU_RATES) if self.cpu_rate is None else self.cpu_rate,
            thread_max_delay=(
                draw(_THREAD_MAX_DELAYS) if self.thread_max_delay is None else self.thread_max_delay
            ),
            stall_rate=draw(_STALL_RATES) if self.stall_rate is None else self.stall_rate,
            faults=self.faults,
            first_stall=first_stall,
        )

    def schedule(self, seed: int, streams: Streams) -> Schedule:
        schedule = RandomSchedule(
            self.profile(streams), streams, self.network, self.steer_rate, self.faults
        )
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
        faults: bool = False,
    ) -> None:
        self.profile = profile
        # Streams are made on first use (seeding one costs microseconds, and
        # most runs never reach most choice points).
        self._streams = streams
        # The network's swarm profile is drawn when the program first uses
        # the network (from streams of its own, so the answer is the same):
        # most tests never do, and four streams cost a fifth of a small run.
        self._network_settings = (network, steer_rate, faults)
        self.reorders_tasks = profile.reorder_rate > 0
        self._cost_block = _FIRST_COST_BLOCK
        #: callbacks, from the start of the next cost block, until the next stall
        self._next_stall = -1
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

    @functools.cached_property
    def _stall_rng(self) -> random.Random:
        return self._streams("stalls")

    def cpu_costs(self) -> list[float]:
        profile = self.profile
        most, stall_rate = profile.cpu_max_cost, profile.stall_rate
        if not most and not stall_rate:
            return NO_COST
        # Blocks grow, so a short run draws few costs and a long one is cheap per callback.
        block = self._cost_block
        self._cost_block = min(block * 2, _COST_BLOCK)
        if not most:
            costs = [0.0] * block
        else:
            draw = self._cpu_rng.random
            rate = profile.cpu_rate
            if rate >= 1.0:
                costs = [most * draw() for _ in range(block)]
            else:
                costs = [most * draw() if draw() < rate else 0.0 for _ in range(block)]
        if stall_rate:
            # Stalls come from a stream of their own: the CPU costs above are
            # the same with stalls on or off. Most runs end before their
            # first stall: its position comes from a derived seed, and the
            # stream (costly to seed) is made only when a stall happens.
            index = self._next_stall
            if index < 0:
                index = int(math.log(1.0 - profile.first_stall) / math.log(1.0 - stall_rate))
            while index < block:
                rng = self._stall_rng
                costs[index] += _log_uniform(rng, STALL_MIN, STALL_MAX)
                index += 1 + _gap(rng, stall_rate)
            self._next_stall = index - block
        return costs

    def thread_delay(self, label: str) -> float:
        rng = self._thread_rng
        delay = self.profile.thread_max_delay * rng.random()
        if rng.random() < _SLOW_THREAD_CHANCE:
            if self.profile.faults:
                delay += rng.uniform(0.1, 2.0)
            else:
                delay += _log_uniform(rng, STALL_MIN, STALL_MAX)
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

    def fault_episodes(self) -> Sequence[tuple[float, float]]:
        plan = self.network_profile.faults
        return () if plan is None else plan.episodes

    def refuse_connect(self) -> bool:
        return self._network.refuse_connect()

    def retransmission_delay(self) -> float:
        return self._network.retransmission_delay()

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
