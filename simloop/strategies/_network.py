"""The network half of the `random` strategy: a healthy network by default,
faults on request.

**Healthy** (always): every connect to a listening port succeeds; every
segment, ACK, FIN and datagram is delivered, once, in order per connection;
and every delivery arrives within its latency profile's bound, at most
`HEALTHY_BOUND` (200 ms) one way, so any round trip completes within 0.4 s.
What varies per seed (swarm testing) is how fast: a loopback, LAN or WAN
profile, how often a delivery meets a congested moment (late, but within the
bound), how writes are cut into segments, delayed ACKs, and how often a
delivery is steered exactly onto a pending timer's deadline within the bound
(so that "the reply and the timeout in the same instant" happens).

**Faults** (``Random(faults=True)``): refused connects, connections reset
mid-stream, lost segments retransmitted late (beyond the bound), lost and
duplicated datagrams, and a partition. Every fault is transient: faults
happen only inside at most two *fault episodes* per run, each at most
`MAX_EPISODE` (2 s) of virtual time, the first starting within the first
second; outside them the network is healthy again, and a delivery a fault
delayed arrives at most 2 s late. So a client that keeps retrying gets
through.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._base import Streams, derive_seed

#: The slowest a healthy delivery is, one way, in seconds. The longest healthy
#: paths on Earth (an intercontinental link such as Sydney-London) take
#: 130-150 ms one way, plus queueing. Anything later is a retransmission:
#: Linux's minimum retransmission timeout is 200 ms, so a segment later than
#: that was lost once, which is a fault. Two deliveries fit in 0.4 s: a round
#: trip under a 0.5 s timeout never times out from the network alone, with
#: 0.1 s to spare for loop stalls.
HEALTHY_BOUND = 0.2


@dataclass(frozen=True)
class Latency:
    """A kind of network path: its usual one-way latency and its bound."""

    name: str
    #: the range a delivery usually takes, in seconds
    fastest: float
    slowest: float
    #: the most any healthy delivery on it takes (congested moments, steering)
    bound: float
    what: str


#: Latency profiles a seed draws from (or a test pins, by name).
LATENCIES: dict[str, Latency] = {
    latency.name: latency
    for latency in (
        Latency("loopback", 0.00001, 0.0002, 0.001, "one machine"),
        Latency("lan", 0.00005, 0.002, 0.02, "one datacenter"),
        Latency("wan", 0.002, 0.06, HEALTHY_BOUND, "between regions"),
    )
}
NETWORK_KINDS = tuple(LATENCIES)
_KIND_WEIGHTS = (0.35, 0.4, 0.25)
#: what the network profiles were called before faults became opt-in
RETIRED_KINDS = {
    "calm": "a healthy network is the default",
    "congested": "a healthy network is the default (congested moments stay within the bound)",
    "faulty": "faults are on with faults=True",
}
_SPLIT_RATES = (0.0, 0.1, 0.4)
_STEER_RATES = (0.0, 0.02, 0.1)
#: share of deliveries that meet a congested moment: late, up to the bound
_CONGESTION_RATES = (0.0, 0.005, 0.03)
#: how many of the soonest pending deadlines a delivery may be steered onto
#: (those guard what the program is waiting for now)
_STEER_CANDIDATES = 3
_STEERED = frozenset({"connect", "segment", "ack", "datagram", "dns"})
#: A receiver's delayed-ACK timer (Linux waits up to 40 ms before a window
#: update it could have piggybacked): a writer waiting in drain() waits too.
DELAYED_ACK = 0.04
_DELAYED_ACK_RATES = (0.0, 0.05, 0.2)

#: The longest fault episode, in virtual seconds; also the most a fault delays a delivery.
MAX_EPISODE = 2.0
#: TCP's retransmission timeouts double from 200 ms: a lost segment comes one of these late
_RETRANSMISSIONS = (0.2, 0.4, 0.8, 1.6)


@dataclass(frozen=True)
class FaultPlan:
    """When and how often a run's faults strike (``faults=True`` only)."""

    #: [start, end) of each fault episode, in virtual seconds
    episodes: tuple[tuple[float, float], ...]
    refuse_rate: float
    reset_rate: float
    retransmit_rate: float
    loss_rate: float
    duplicate_rate: float
    #: (start, duration, victim host index) of a partition inside the first episode
    partition: tuple[float, float, int] | None

    @classmethod
    def draw(cls, streams: Streams) -> FaultPlan:
        rng = streams("net fault plan")
        start = 0.0 if rng.random() < 0.5 else rng.uniform(0.0, 1.0)
        end = start + rng.uniform(0.05, MAX_EPISODE)
        episodes = [(start, end)]
        if rng.random() < 0.5:
            second = end + rng.uniform(0.5, 5.0)
            episodes.append((second, second + rng.uniform(0.05, MAX_EPISODE)))
        partition = None
        if rng.random() < 0.5:
            partition = (start, end - start, rng.randrange(1 << 16))
        return cls(
            episodes=tuple(episodes),
            refuse_rate=rng.choice((0.3, 0.7)),
            reset_rate=rng.choice((0.01, 0.05)),
            retransmit_rate=rng.choice((0.02, 0.1)),
            loss_rate=rng.choice((0.05, 0.3)),
            duplicate_rate=rng.choice((0.02, 0.1)),
            partition=partition,
        )

    def describe(self) -> str:
        spans = " and ".join(f"{start:.3f}-{end:.3f} s" for start, end in self.episodes)
        parts = [
            f"faults at {spans}: {self.refuse_rate:.0%} of connects refused",
            f"{self.reset_rate:.0%} of segments reset the connection",
            f"{self.retransmit_rate:.0%} lost and retransmitted 0.2-1.6 s late",
            f"datagrams {self.loss_rate:.0%} lost, {self.duplicate_rate:.0%} duplicated",
        ]
        if self.partition is not None:
            start, duration, _ = self.partition
            parts.append(f"a partition at {start:.3f} s healing after {duration:.3f} s")
        return ", ".join(parts)


@dataclass(frozen=True)
class NetworkProfile:
    """What one seed's network varies, and how much."""

    kind: str
    latency_min: float
    latency_max: float
    #: every healthy delivery arrives within this many seconds
    bound: float
    split_rate: float
    steer_rate: float
    congestion_rate: float = 0.0
    #: share of ACKs (window updates) held back by a delayed-ACK timer
    delayed_ack_rate: float = 0.0
    faults: FaultPlan | None = None

    @property
    def partition(self) -> tuple[float, float, int] | None:
        return None if self.faults is None else self.faults.partition

    @classmethod
    def draw(
        cls,
        streams: Streams,
        kind: str | None = None,
        steer_rate: float | None = None,
        faults: bool = False,
    ) -> NetworkProfile:
        """This seed's profile; `kind` and `steer_rate` pin what they name."""
        swarm = streams("net swarm")
        drawn_kind = swarm.choices(NETWORK_KINDS, _KIND_WEIGHTS)[0]
        split_rate = swarm.choice(_SPLIT_RATES)
        drawn_steer_rate = swarm.choice(_STEER_RATES)
        congestion_rate = swarm.choice(_CONGESTION_RATES)
        # Every draw above happens for every seed, so pinning one keeps the rest.
        latency = LATENCIES[drawn_kind if kind is None else kind]
        delayed_acks = _DELAYED_ACK_RATES[
            derive_seed(streams.seed, "net delayed acks") % len(_DELAYED_ACK_RATES)
        ]
        return cls(
            kind=latency.name,
            latency_min=latency.fastest,
            latency_max=latency.slowest,
            bound=latency.bound,
            split_rate=split_rate,
            steer_rate=drawn_steer_rate if steer_rate is None else steer_rate,
            congestion_rate=congestion_rate,
            # A delayed ACK on a path whose bound is shorter would break the bound.
            delayed_ack_rate=delayed_acks if latency.slowest + DELAYED_ACK <= latency.bound else 0,
            faults=FaultPlan.draw(streams) if faults else None,
        )

    def describe(self) -> str:
        latency = LATENCIES[self.kind]
        parts = [
            f"{self.kind} network ({latency.what}): latency "
            f"{_ms(self.latency_min)}-{_ms(self.latency_max)}, every delivery within "
            f"{_ms(self.bound)}"
        ]
        if self.congestion_rate:
            parts.append(f"{self.congestion_rate:.1%} of deliveries late, up to the bound")
        if self.split_rate:
            parts.append(f"{self.split_rate:.0%} of writes cut into segments")
        if self.steer_rate:
            parts.append(f"{self.steer_rate:.0%} steered onto timer deadlines")
        if self.delayed_ack_rate:
            parts.append(f"{self.delayed_ack_rate:.0%} of ACKs delayed {_ms(DELAYED_ACK)}")
        parts.append("no faults" if self.faults is None else self.faults.describe())
        return ", ".join(parts)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:g} ms"


class NetworkDecisions:
    """One seed's network answers, each concern on its own stream."""

    def __init__(self, profile: NetworkProfile, streams: Streams) -> None:
        self.profile = profile
        self.injects_faults = profile.faults is not None
        self._delays = streams("net delays")
        self._cuts = streams("net cuts")
        self._faults = streams("net faults")
        self.steered = False

    def delivery_delay(self, kind: str, pending: Callable[[], Sequence[float]]) -> float:
        profile = self.profile
        rng: random.Random = self._delays
        draw = rng.random
        bound = profile.bound
        self.steered = False
        # Steer what answers a program (data, connects, DNS), not the server's
        # accept, and only onto a deadline the delivery could healthily meet.
        if profile.steer_rate and kind in _STEERED and draw() < profile.steer_rate:
            deadlines = [d for d in pending()[:_STEER_CANDIDATES] if d <= bound]
            if deadlines:
                self.steered = True
                return deadlines[int(draw() * len(deadlines))]
        low = profile.latency_min
        delay = low + (profile.latency_max - low) * draw()
        if kind == "accept":
            return delay * draw()
        if profile.congestion_rate and draw() < profile.congestion_rate:
            # A congested moment: queued behind other traffic, late but healthy.
            delay += (bound - delay) * draw()
        if kind == "ack" and profile.delayed_ack_rate and draw() < profile.delayed_ack_rate:
            delay += DELAYED_ACK
        return min(delay, bound)

    def segment_sizes(self, size: int) -> Sequence[int] | None:
        rate = self.profile.split_rate
        if size < 2 or not rate:
            return None
        draw = self._cuts.random
        if draw() >= rate:
            return None
        # Two or three pieces, cut anywhere: what a receiver sees as separate reads.
        first = 1 + int(draw() * (size - 1))
        if size - first < 2 or draw() < 0.5:
            return [first, size - first]
        second = 1 + int(draw() * (size - first - 1))
        return [first, second, size - first - second]

    # The fault questions: the network asks them only inside a fault episode.

    def _happens(self, rate: float) -> bool:
        return bool(rate) and self._faults.random() < rate

    def refuse_connect(self) -> bool:
        plan = self.profile.faults
        return plan is not None and self._happens(plan.refuse_rate)

    def reset_stream(self) -> bool:
        plan = self.profile.faults
        return plan is not None and self._happens(plan.reset_rate)

    def retransmission_delay(self) -> float:
        plan = self.profile.faults
        if plan is None or not self._happens(plan.retransmit_rate):
            return 0.0
        return self._faults.choice(_RETRANSMISSIONS)

    def datagram_copies(self) -> int:
        plan = self.profile.faults
        if plan is None:
            return 1
        if self._happens(plan.loss_rate):
            return 0
        if self._happens(plan.duplicate_rate):
            return 2
        return 1
