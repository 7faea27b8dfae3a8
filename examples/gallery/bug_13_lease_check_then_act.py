"""Bug 13: a leader writes after its lease ran out, because it checked the lease a step early.

Source: the fencing problem of leases, as old as leases (Gray and Cheriton,
"Leases", SOSP 1989) and the subject of Kleppmann's "How to do distributed
locking" (2016): a process that checks its lease and then acts can be
paused in between, and acts after the lease expired, when another process
may already hold it. Distributed lock clients built on asyncio meet it as a
check in one task and the write in another.
Affected: any code that checks a deadline in one step and acts on it in a
later one.

What goes wrong: the leader renews a 10 ms lease, works for 9 ms, checks
that the lease has time left (1 ms) and hands the write to a writer task,
which performs it on its next step. A garbage collection pause or a slow
callback of a few milliseconds between the check and the write (common on a
loaded production loop) makes the write land after the lease expired: the
storage, which fences writes by lease expiry, sees a write from a leader
that is no longer one.

Interleaving: the callback that runs between the check and the write takes
longer than the lease's last millisecond. Task order and timer ties cannot
do it, nor the sub-millisecond CPU cost of ordinary callbacks: only a loop
stall (the default world's rare 1-50 ms callbacks). The stock loop on an
idle machine never stalls that long, so it passes.

Fix: check where you act, in the same step (no await between the check and
the write): the writer checks the lease itself right before writing, and
drops the write if the lease ran out.
"""

from __future__ import annotations

import asyncio
from typing import Any

from examples.gallery._support import show

INTERLEAVING = "D (a stall)"
STOCK_HIDES = True
NEEDS_NETWORK = False

#: seconds a lease lasts, and how long the leader works before it writes
LEASE = 0.010
WORK = 0.009
ROUNDS = 100


class Lease:
    def __init__(self) -> None:
        self.expires_at = 0.0

    def renew(self) -> None:
        self.expires_at = asyncio.get_running_loop().time() + LEASE

    def valid(self) -> bool:
        return asyncio.get_running_loop().time() < self.expires_at


class Storage:
    """Fences writes by lease: a write after expiry is one it must reject."""

    def __init__(self) -> None:
        self.accepted: list[int] = []
        self.late: list[int] = []

    def write(self, value: int, lease: Lease) -> None:
        (self.accepted if lease.valid() else self.late).append(value)


async def writer_trusting_the_check(lease: Lease, storage: Storage, writes: Any) -> None:
    """The writer writes what the leader checked: the check was a step ago."""
    while True:
        value = await writes.get()
        storage.write(value, lease)


async def writer_checking_itself(lease: Lease, storage: Storage, writes: Any) -> None:
    """The writer checks the lease in the step that writes."""
    while True:
        value = await writes.get()
        if lease.valid():
            storage.write(value, lease)


BUGGY = writer_trusting_the_check
FIXED = writer_checking_itself


async def scenario(writer: Any) -> None:
    lease, storage = Lease(), Storage()
    writes: asyncio.Queue[int] = asyncio.Queue()
    writing = asyncio.create_task(writer(lease, storage, writes))
    for value in range(ROUNDS):
        lease.renew()
        await asyncio.sleep(WORK)
        if lease.valid():  # still the leader: 1 ms left
            writes.put_nowait(value)
        await asyncio.sleep(0.001)  # the writer writes meanwhile
    writing.cancel()
    await asyncio.gather(writing, return_exceptions=True)
    assert not storage.late, (
        f"writes {storage.late} landed after the lease expired: the lease was checked a "
        "step before the write"
    )


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(show(sys.modules[__name__]))
