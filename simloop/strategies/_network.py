"""The network half of the `random` strategy: a per-seed network profile.

Swarm testing again: most seeds get a calm network (sub-millisecond to a few
milliseconds per delivery), some a congested one where a delivery now and
then stalls for 100 ms to 2 s (a TCP retransmission), some a faulty one
(refused connects, connections reset mid-stream, lost and duplicated
datagrams, a partition that heals later). Any profile may steer a delivery
exactly onto the deadline of a pending timer, so that "the reply and the
timeout in the same instant" happens.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._base import Streams, derive_seed

#: Profiles a seed can draw, with their weights.
NETWORK_KINDS = ("calm", "congested", "faulty")
_KIND_WEIGHTS = (0.6, 0.25, 0.15)
#: (fastest, slowest) one-way latency of a calm delivery, in seconds
_LATENCY_RANGES = ((0.00001, 0.0002), (0.00005, 0.001), (0.0002, 0.004))
_SPLIT_RATES = (0.0, 0.1, 0.4)
_STEER_RATES = (0.0, 0.02, 0.1)
_STALL_RATES = (0.002, 0.01, 0.03)
#: TCP retransmission timeouts double from 200 ms: a stall lasts about one of these
_STALLS = (0.1, 0.2, 0.4, 0.8, 1.6, 2.0)
#: how far ahead a delivery may be steered onto a pending timer, and onto how
#: many of the soonest ones (those guard what the program is waiting for now)
_STEER_HORIZON = 10.0
_STEER_CANDIDATES = 3
_STEERED = frozenset({"connect", "segment", "ack", "datagram", "dns"})
#: A receiver's delayed-ACK timer (Linux waits up to 40 ms before a window
#: update it could have piggybacked): a writer waiting in drain() waits too.
DELAYED_ACK = 0.04
_DELAYED_ACK_RATES = (0.0, 0.05, 0.2)


@dataclass(frozen=True)
class NetworkProfile:
    """What one seed's network varies, and how much."""

    kind: str
    latency_min: float
    latency_max: float
    split_rate: float
    steer_rate: float
    stall_rate: float = 0.0
    refuse_rate: float = 0.0
    reset_rate: float = 0.0
    loss_rate: float = 0.0
    duplicate_rate: float = 0.0
    #: (start, duration, victim host index) of an injected partition
    partition: tuple[float, float, int] | None = None
    #: share of ACKs (window updates) held back by a delayed-ACK timer
    delayed_ack_rate: float = 0.0

    @classmethod
    def draw(
        cls, streams: Streams, kind: str | None = None, steer_rate: float | None = None
    ) -> NetworkProfile:
        """This seed's profile; `kind` and `steer_rate` pin what they name."""
        swarm = streams("net swarm")
        drawn_kind = swarm.choices(NETWORK_KINDS, _KIND_WEIGHTS)[0]
        low, high = swarm.choice(_LATENCY_RANGES)
        split_rate = swarm.choice(_SPLIT_RATES)
        drawn_steer_rate = swarm.choice(_STEER_RATES)
        steer_rate = drawn_steer_rate if steer_rate is None else steer_rate
        # Every draw above happens for every seed, so pinning `kind` keeps the rest.
        kind = drawn_kind if kind is None else kind
        # Drawn apart from the swarm stream, so that its draws stay as they were.
        delayed_acks = _DELAYED_ACK_RATES[
            derive_seed(streams.seed, "net delayed acks") % len(_DELAYED_ACK_RATES)
        ]
        common = {
            "kind": kind,
            "latency_min": low,
            "latency_max": high,
            "split_rate": split_rate,
            "steer_rate": steer_rate,
            "delayed_ack_rate": delayed_acks,
        }
        if kind == "calm":
            return cls(**common)  # type: ignore[arg-type]
        if kind == "congested":
            return cls(
                **common,  # type: ignore[arg-type]
                stall_rate=swarm.choice(_STALL_RATES),
                loss_rate=0.01,
                duplicate_rate=0.005,
            )
        return cls(
            **common,  # type: ignore[arg-type]
            stall_rate=0.002,
            refuse_rate=swarm.choice((0.05, 0.2)),
            reset_rate=swarm.choice((0.0005, 0.005)),
            loss_rate=swarm.choice((0.05, 0.2)),
            duplicate_rate=swarm.choice((0.02, 0.1)),
            partition=(swarm.uniform(0.0, 1.0), swarm.uniform(0.05, 2.0), swarm.randrange(1 << 16)),
        )

    def describe(self) -> str:
        parts = [
            f"{self.kind} network: latency {self.latency_min * 1e3:g}-{self.latency_max * 1e3:g} ms"
        ]
        if self.split_rate:
            parts.append(f"{self.split_rate:.0%} of writes cut into segments")
        if self.stall_rate:
            parts.append(f"{self.stall_rate:.1%} of deliveries stall 0.1-2 s")
        if self.steer_rate:
            parts.append(f"{self.steer_rate:.0%} steered onto timer deadlines")
        if self.refuse_rate:
            parts.append(f"{self.refuse_rate:.0%} of connects refused")
        if self.reset_rate:
            parts.append(f"{self.reset_rate:.1%} of segments reset the connection")
        if self.loss_rate or self.duplicate_rate:
            parts.append(
                f"datagrams {self.loss_rate:.0%} lost, {self.duplicate_rate:.1%} duplicated"
            )
        if self.partition is not None:
            start, duration, _ = self.partition
            parts.append(f"a partition at {start:.3f} s healing after {duration:.3f} s")
        if self.delayed_ack_rate:
            parts.append(f"{self.delayed_ack_rate:.0%} of ACKs delayed {DELAYED_ACK * 1e3:g} ms")
        return ", ".join(parts)


class NetworkDecisions:
    """One seed's network answers, each concern on its own stream."""

    def __init__(self, profile: NetworkProfile, streams: Streams) -> None:
        self.profile = profile
        self.injects_faults = bool(
            profile.refuse_rate or profile.reset_rate or profile.loss_rate
        ) or bool(profile.duplicate_rate)
        self._delays = streams("net delays")
        self._cuts = streams("net cuts")
        self._faults = streams("net faults")
        self.steered = False

    def delivery_delay(self, kind: str, pending: Callable[[], Sequence[float]]) -> float:
        profile = self.profile
        rng: random.Random = self._delays
        draw = rng.random
        self.steered = False
        # Steer what answers a program (data, connects, DNS), not the server's
        # accept or a window update.
        if profile.steer_rate and kind in _STEERED and draw() < profile.steer_rate:
            deadlines = [d for d in pending()[:_STEER_CANDIDATES] if d <= _STEER_HORIZON]
            if deadlines:
                self.steered = True
                return deadlines[int(draw() * len(deadlines))]
        low = profile.latency_min
        delay = low + (profile.latency_max - low) * draw()
        if kind == "accept":
            return delay * draw()
        if kind == "dns":
            delay *= 1.0 + 9.0 * draw()
        if profile.stall_rate and draw() < profile.stall_rate:
            delay += rng.choice(_STALLS) * (0.5 + draw())
            delay = min(delay, 2.0)
        if kind == "ack" and profile.delayed_ack_rate and draw() < profile.delayed_ack_rate:
            delay += DELAYED_ACK
        return delay

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

    def refuse_connect(self) -> bool:
        rate = self.profile.refuse_rate
        return bool(rate) and self._faults.random() < rate

    def reset_stream(self) -> bool:
        rate = self.profile.reset_rate
        return bool(rate) and self._faults.random() < rate

    def datagram_copies(self) -> int:
        profile = self.profile
        draw = self._faults.random
        if profile.loss_rate and draw() < profile.loss_rate:
            return 0
        if profile.duplicate_rate and draw() < profile.duplicate_rate:
            return 2
        return 1
