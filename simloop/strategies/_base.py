"""The decision interface every strategy implements.

A `Strategy` is configuration ("random with CPU cost off"); for each run it
draws a `Schedule`, the object that answers that run's choice points. The
loop never asks a `Schedule` directly: it goes through `simloop._choices.
Choices`, which records each answer in the run's trace.

Every method has a FIFO answer (``None`` or zero), which is what the base
class returns; a strategy overrides only the choice points it varies.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import random
from collections.abc import Callable, Sequence
from typing import Any

#: Answer of `Schedule.cpu_costs` meaning "no virtual CPU time, ever".
NO_COST: list[float] = []

#: Seconds every network delivery (connect, segment, datagram, DNS answer)
#: takes under FIFO: one small constant, so the network keeps every order the
#: program asked for, as loopback does.
FIFO_LATENCY = 0.0001

#: Kinds of network delivery a schedule times (see `Schedule.delivery_delay`).
DELIVERY_KINDS = ("connect", "accept", "segment", "ack", "datagram", "dns")


def derive_seed(seed: int, concern: str) -> int:
    """A 64-bit seed for one concern of a run, stable across processes and machines."""
    material = f"simloop:{seed}:{concern}".encode()
    return int.from_bytes(hashlib.blake2b(material, digest_size=8).digest(), "little")


class Streams:
    """One independent RNG stream per concern of a run.

    Adding draws to one concern (say the network) never shifts another's (say
    the task order), so a seed keeps finding the same task interleaving when
    the network model grows.
    """

    __slots__ = ("_streams", "seed")

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def __call__(self, concern: str) -> random.Random:
        stream = self._streams.get(concern)
        if stream is None:
            stream = self._streams[concern] = random.Random(derive_seed(self.seed, concern))
        return stream


class Schedule:
    """One run's answers to the choice points. The base class answers FIFO."""

    #: whether `order_tasks` may return anything but None (lets the loop skip work)
    reorders_tasks: bool = False
    #: whether task steps scheduled by one callback keep their order whatever
    #: `order_tasks` answers (the stock loop always keeps it)
    keeps_siblings: bool = True
    #: whether `inject_cancel` may return True (the loop then watches task steps)
    injects_cancels: bool = False

    def order_tasks(self, tasks: Sequence[asyncio.Task[object]]) -> Sequence[int] | None:
        """Order in which the tasks made ready in one iteration take their step.

        `tasks` are in FIFO order (a task may appear twice). Return a
        permutation of ``range(len(tasks))`` or None for FIFO. The loop keeps
        each task's own steps in order and never moves non-task callbacks.
        """
        return None

    def order_timers(self, count: int) -> Sequence[int] | None:
        """Order of `count` timers due at the same virtual instant (FIFO: as scheduled)."""
        return None

    def cpu_costs(self) -> list[float]:
        """Virtual CPU seconds taken by each of the next callbacks, as a block
        the loop consumes in order and then asks again (blocks keep the cost
        per callback low). An empty list means no CPU time, ever."""
        return NO_COST

    def thread_delay(self, label: str) -> float:
        """Virtual seconds an executor job (`label` names its function) takes to run."""
        return 0.0

    def inject_cancel(self, task: asyncio.Task[Any]) -> bool:
        """Whether to cancel `task` at the await it just reached (FIFO: never)."""
        return False

    def buggify(self, site: str, probability: float | None) -> bool:
        """Whether a `simloop.buggify()` call at `site` fires (FIFO: never)."""
        return False

    # -- the network (simloop.net) ---------------------------------------

    #: whether the fault questions below may answer anything but "no fault"
    #: (lets the network skip them on every segment)
    injects_faults: bool = False
    #: whether `segment_sizes` may answer anything but None
    splits_segments: bool = False
    #: set by `delivery_delay` when its last answer was steered onto a timer
    steered: bool = False

    def delivery_delay(self, kind: str, pending: Callable[[], Sequence[float]]) -> float:
        """Seconds until a network delivery of `kind` (one of `DELIVERY_KINDS`)
        arrives. `pending()` gives the delays, from now, of the program's
        pending timers, for schedules that steer a delivery onto a deadline.
        FIFO: `FIFO_LATENCY`, and an accept takes no time."""
        return 0.0 if kind == "accept" else FIFO_LATENCY

    def segment_sizes(self, size: int) -> Sequence[int] | None:
        """How a write of `size` bytes is cut into TCP segments (sizes that sum
        to `size`), or None for one segment."""
        return None

    def fault_episodes(self) -> Sequence[tuple[float, float]]:
        """The [start, end) spans of virtual time in which faults may strike:
        the network asks the fault questions below only inside them. None:
        a healthy network."""
        return ()

    def refuse_connect(self) -> bool:
        """Whether a connect to a listening port is refused anyway (a fault)."""
        return False

    def retransmission_delay(self) -> float:
        """Extra seconds a TCP segment or connect takes because it was lost
        and sent again (a fault; 0.0: it was not lost)."""
        return 0.0

    def reset_stream(self) -> bool:
        """Whether the connection is reset instead of carrying this segment (a fault)."""
        return False

    def datagram_copies(self) -> int:
        """How many copies of a datagram arrive: 0 (lost), 1, or 2 (duplicated)."""
        return 1

    def partition_window(self) -> tuple[float, float, int] | None:
        """A partition the strategy injects: (start, duration) in virtual
        seconds and which host it cuts off (an index into the hosts), or None."""
        return None

    def describe_network(self) -> str:
        """One line saying what this run's network varies."""
        return f"constant latency {FIFO_LATENCY * 1e3:g} ms"

    def describe(self) -> str:
        """One line saying what this run's schedule varies."""
        return "FIFO"


class Strategy(abc.ABC):
    """How runs fill their choice points. Immutable; one `Schedule` per seed."""

    name: str = "?"

    @abc.abstractmethod
    def schedule(self, seed: int, streams: Streams) -> Schedule:
        """The decisions of the run with this `seed`."""

    def __repr__(self) -> str:
        return f"<strategy {self.name}>"
