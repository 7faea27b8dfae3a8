"""Imitates the retry helpers every service grows (tenacity/backoff-style):
exponential backoff with jitter around an operation that fails transiently,
an overall deadline around the whole retry loop, giving up after N attempts,
and a client that reconnects to a server that drops its first connections
without answering (flaky by design in the test, not by the network)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


async def retry(
    op: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    base: float = 0.1,
    cap: float = 2.0,
    retry_on: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError),
) -> T:
    for attempt in range(attempts):
        try:
            return await op()
        except retry_on:
            if attempt == attempts - 1:
                raise
            delay = min(cap, base * 2**attempt)
            await asyncio.sleep(delay + random.uniform(0, delay / 2))
    raise AssertionError("unreachable")


class Flaky:
    """Fails its first ``failures`` calls, then succeeds."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        await asyncio.sleep(0.01)
        if self.calls <= self.failures:
            raise ConnectionError(f"transient failure #{self.calls}")
        return "ok"


@pytest.mark.simloop
async def test_backoff_succeeds_on_third_call():
    loop = asyncio.get_running_loop()
    flaky = Flaky(failures=2)
    started = loop.time()
    assert await retry(flaky) == "ok"
    assert flaky.calls == 3
    # slept at least 0.1 + 0.2 between the calls
    assert loop.time() - started >= 0.3


@pytest.mark.simloop
async def test_backoff_gives_up_after_max_attempts():
    flaky = Flaky(failures=100)
    with pytest.raises(ConnectionError, match="transient failure #4"):
        await retry(flaky, attempts=4)
    assert flaky.calls == 4


@pytest.mark.simloop
async def test_backoff_under_overall_deadline():
    flaky = Flaky(failures=100)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.0):
            await retry(flaky, attempts=1000, base=0.1, cap=0.4)
    assert 3 <= flaky.calls < 20


@pytest.mark.simloop
async def test_backoff_does_not_retry_other_errors():
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("bad request")

    with pytest.raises(ValueError, match="bad request"):
        await retry(broken)
    assert calls == 1


@pytest.mark.simloop
async def test_reconnect_with_backoff_to_flaky_server():
    """The server hangs up without a reply on its first two connections."""
    accepted = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        try:
            line = await reader.readline()
            if accepted > 2:
                writer.write(b"pong " + line)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def ping() -> str:
        async with asyncio.timeout(2.0):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(b"ping\n")
                await writer.drain()
                reply = await reader.readline()
            finally:
                writer.close()
                await writer.wait_closed()
        if not reply:
            raise ConnectionError("server hung up")
        return reply.decode().strip()

    assert await retry(ping) == "pong ping"
    assert accepted == 3
    server.close()
    await server.wait_closed()
