"""Bug 14: a client that tries once, on a network that fails now and then.

Source: the first fallacy of distributed computing, "the network is
reliable" (Deutsch, Sun Microsystems, 1994), and every outage report that
begins with a transient blip: a refused connect during a deploy, a reset
from a load balancer, a segment lost and retransmitted a second later.
Affected: any client whose only attempt must succeed.

What goes wrong: the client connects, sends one request and waits up to a
second for the reply, once. On a healthy network that always works (every
round trip fits in 0.4 s). When the network misbehaves for a moment, the
connect is refused, the connection is reset, or a lost segment comes back
after the deadline, and the call fails although the server is fine.

Interleaving: F, an injected fault. The default world never injects one (a
red test means a bug in the code, not in the network), so this test passes
by default and fails only with ``@pytest.mark.simloop(faults=True)``: the
way to say "this client must survive a misbehaving network".

Fix: retry with backoff on a refused or reset connection and on a timeout.
Every simulated fault is transient (at most two fault episodes of at most
2 s each), as real blips are, so a client that keeps retrying gets through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from examples.gallery._support import show

INTERLEAVING = "F"
STOCK_HIDES = True
NEEDS_NETWORK = True
#: found only when the test asks for faults
FAULTS = True

Fetch = Callable[[int], Awaitable[str]]


async def ask_once(port: int) -> str:
    """One connect, one request, one reply within a second."""
    async with asyncio.timeout(1.0):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"ping\n")
            await writer.drain()
            return (await reader.readline()).decode().strip()
        finally:
            writer.close()


async def ask_until_answered(port: int) -> str:
    """The same request, tried again with backoff until it is answered."""
    backoff = 0.05
    for _ in range(50):
        try:
            reply = await ask_once(port)
        except (ConnectionError, TimeoutError):
            pass
        else:
            if reply:  # a connection reset before the reply reads as EOF
                return reply
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 1.0)
    raise ConnectionError("no answer after 50 attempts")


BUGGY = ask_once
FIXED = ask_until_answered


async def scenario(fetch: Any) -> None:
    handlers: set[asyncio.Task[Any]] = set()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            if await reader.readline():
                writer.write(b"pong\n")
                await writer.drain()
        except ConnectionError:
            pass  # the client's connection was reset: nothing to answer
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        for _ in range(3):
            try:
                reply = await fetch(port)
            except (ConnectionError, TimeoutError) as error:
                raise AssertionError(
                    f"the request failed on a transient fault: {type(error).__name__}: {error}"
                ) from error
            assert reply == "pong", f"got {reply!r} instead of the server's answer"
    finally:
        # A client that gave up may never have said goodbye (its FIN lost in
        # a partition): the server stops its handlers itself.
        server.close()
        for handler in handlers:
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(show(sys.modules[__name__]))
