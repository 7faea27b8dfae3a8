"""A worker pool that never drains after a partition heals.

Workers take jobs from a queue and send them to a server on another host.
When a reply does not come in time, a job goes back on the queue. The buggy
workers then give up for good (a common "let it crash" without a
supervisor): every final assert after the run passes if the test only waits
for the workers, but the queue is never drained. The check is liveness: once
the faults stop (`simloop.converge(heal_at=...)`), every job must be done
within a bound. The fixed workers reconnect and carry on.
"""

from __future__ import annotations

import asyncio
import contextlib

import simloop

JOBS = 5
PORT = 7000


class JobServer:
    """Acknowledges each job line after a little work."""

    def __init__(self) -> None:
        self.done: list[int] = []
        self.sessions: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        network = simloop.network()
        network.add_host("jobs", "10.0.0.2")
        with network.on("jobs"):
            self.server = await asyncio.start_server(self.session, "10.0.0.2", PORT)

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.sessions.add(task)
        with contextlib.suppress(ConnectionError):
            while line := await reader.readline():
                await asyncio.sleep(0.1)  # each job takes a while
                self.done.append(int(line))
                writer.write(b"ok\n")
                await writer.drain()
        writer.close()

    async def stop(self) -> None:
        self.server.close()
        for session in self.sessions:
            session.cancel()
        await asyncio.gather(*self.sessions, return_exceptions=True)


async def worker(queue: asyncio.Queue[int], *, reconnects: bool) -> None:
    while True:
        writer = None
        try:
            # Without a bound a connect can hang as long as the network
            # stalls; simloop found that in the first "fixed" version.
            async with asyncio.timeout(0.5):
                reader, writer = await asyncio.open_connection("jobs", PORT)
            while True:
                job = await queue.get()
                try:
                    writer.write(f"{job}\n".encode())
                    async with asyncio.timeout(0.3):
                        await reader.readline()
                except (TimeoutError, ConnectionError):
                    queue.put_nowait(job)  # not done: back in the queue
                    raise
        except (TimeoutError, ConnectionError, OSError):
            if not reconnects:
                return  # the bug: the worker gives up for good
            await asyncio.sleep(0.1)
        finally:
            if writer is not None:
                writer.close()


async def scenario(*, reconnects: bool) -> None:
    server = JobServer()
    await server.start()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for job in range(JOBS):
        queue.put_nowait(job)
    workers = [asyncio.create_task(worker(queue, reconnects=reconnects)) for _ in range(2)]
    await asyncio.sleep(0.15)  # jobs under way...
    simloop.network().partition("main", "jobs")  # ...when the server is cut off
    convergence = simloop.converge(
        lambda: sorted(set(server.done)) == list(range(JOBS)),
        heal_at=1.0,
        within=5.0,
        name="every job done",
    )
    await asyncio.sleep(7)
    assert convergence.held
    for task in workers:
        task.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    await server.stop()


async def buggy() -> None:
    await scenario(reconnects=False)


async def fixed() -> None:
    await scenario(reconnects=True)
