"""A replicated register that serves stale reads under a partition: not linearizable.

A primary holds a value and copies every write to a backup. The buggy
primary acknowledges a write as soon as it has applied it and copies it to
the backup afterwards, and clients read from either replica. While a
partition cuts the backup off (and, more rarely, whenever a copy is slower
than a client) a client reads the old value from the backup after another
client's write has completed: each answer looks fine on its own, but no
single order of the operations explains them all. Final-state asserts cannot see this; the
linearizability checker (`simloop.check`) can, and its report shows the few
operations that contradict each other, one lane per client.

The fixed register copies the write to the backup before acknowledging it
(so an acknowledged write survives the primary) and serves every read from
the primary, the one copy that is never behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import simloop
from simloop.check import History, Register, assert_linearizable

PORT = 6000
CLIENTS = 3
OPERATIONS = 6
#: How long the backup is cut off from the primary, from a moment each seed draws.
PARTITION = 0.1
#: How long a client waits for one answer before it gives up on it.
PATIENCE = 0.5


class Replica:
    """One copy of the register, served over a line protocol:
    ``GET`` answers the value, ``SET v`` and ``COPY v`` store v and answer ``ok``."""

    def __init__(self, name: str, address: str, *, backup: str | None, synchronous: bool) -> None:
        self.name = name
        self.address = address
        self.backup = backup
        self.synchronous = synchronous
        self.value = 0
        self.copies: set[asyncio.Task[None]] = set()
        self.sessions: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        network = simloop.network()
        network.add_host(self.name, self.address)
        with network.on(self.name):
            self.server = await asyncio.start_server(self.serve, self.address, PORT)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = asyncio.current_task()
        assert session is not None
        self.sessions.add(session)
        session.add_done_callback(self.sessions.discard)
        # A lost connection (to the client, or to the backup while copying)
        # ends the session; the client sees no answer and the write stays
        # pending in its history: it may or may not have happened.
        with contextlib.suppress(ConnectionError, OSError), contextlib.closing(writer):
            while line := await reader.readline():
                command, *argument = line.decode().split()
                if command == "GET":
                    writer.write(f"{self.value}\n".encode())
                    continue
                value = int(argument[0])
                if command == "SET" and self.backup is not None:
                    if self.synchronous:
                        await send(self.backup, f"COPY {value}")
                    else:
                        # the bug: acknowledge first, copy in the background
                        copy = asyncio.create_task(self.copy_later(value))
                        self.copies.add(copy)
                        copy.add_done_callback(self.copies.discard)
                self.value = value
                writer.write(b"ok\n")

    async def copy_later(self, value: int) -> None:
        """Copy `value` to the backup, retrying until the backup has it."""
        assert self.backup is not None
        while True:
            with contextlib.suppress(TimeoutError, ConnectionError, OSError):
                async with asyncio.timeout(PATIENCE):
                    await send(self.backup, f"COPY {value}")
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self.server.close()
        # A connection accepted just before the close still gets its session
        # (its connection_made callback is already scheduled): let it start,
        # then cancel it with the rest.
        await asyncio.sleep(0.01)
        busy = self.copies | self.sessions
        for task in busy:
            task.cancel()
        await asyncio.gather(*busy, return_exceptions=True)


async def send(host: str, request: str) -> str:
    """Send one request on a connection of its own and return the answer."""
    reader, writer = await asyncio.open_connection(host, PORT)
    try:
        writer.write(f"{request}\n".encode())
        answer = await reader.readline()
        if not answer:
            raise ConnectionResetError(f"{host} closed the connection")
        return answer.decode().strip()
    finally:
        writer.close()


async def client(name: str, history: History, *, read_from: list[str], rng: random.Random) -> None:
    for _ in range(OPERATIONS):
        await asyncio.sleep(rng.uniform(0, 0.01))
        if rng.random() < 0.5:
            value = rng.randrange(1, 100)
            host, request, call = "primary", f"SET {value}", ("write", value)
        else:
            host, request, call = rng.choice(read_from), "GET", ("read",)
        # Recorded before the request leaves; a request that times out or
        # loses its connection stays pending: it may or may not have happened.
        with (
            contextlib.suppress(TimeoutError, ConnectionError, OSError),
            history.record(name, *call) as operation,
        ):
            async with asyncio.timeout(PATIENCE):
                answer = await send(host, request)
            operation.complete(int(answer) if call[0] == "read" else None)


async def cut_off_the_backup() -> None:
    await asyncio.sleep(random.uniform(0, 0.03))
    network = simloop.network()
    network.partition("primary", "backup")
    await asyncio.sleep(PARTITION)
    network.heal("primary", "backup")


async def scenario(*, synchronous: bool, read_from: list[str], partition: bool = True) -> None:
    backup = Replica("backup", "10.0.0.3", backup=None, synchronous=synchronous)
    primary = Replica("primary", "10.0.0.2", backup="backup", synchronous=synchronous)
    await backup.start()
    await primary.start()
    history = History()
    # random is seeded by the simulation: each seed picks its own workload
    faults = [cut_off_the_backup()] if partition else []
    await asyncio.gather(
        *faults,
        *(
            client(f"client-{n}", history, read_from=read_from, rng=random.Random(random.random()))
            for n in range(1, CLIENTS + 1)
        ),
    )
    await primary.stop()
    await backup.stop()
    assert_linearizable(history, Register(0))


async def buggy() -> None:
    await scenario(synchronous=False, read_from=["primary", "backup"])


async def fixed() -> None:
    await scenario(synchronous=True, read_from=["primary"])
