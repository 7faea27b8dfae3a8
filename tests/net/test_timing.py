"""Every delivery is timed by the seed, through the run's Choices.

Covers simloop/net/_network.py, simloop/strategies/_network.py, simloop/_choices.py.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

import simloop
from simloop.strategies import FIFO_LATENCY, Random
from simloop.strategies._network import NetworkProfile


async def _exchange(rounds: int = 20, size: int = 3000) -> list[int]:
    """Echo `rounds` writes; returns the sizes of the chunks the client read."""
    chunks: list[int] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(1 << 16):
            writer.write(data)
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
    expected = b""
    for number in range(rounds):
        payload = bytes([number]) * size
        expected += payload
        writer.write(payload)
    writer.write_eof()
    received = b""
    while data := await reader.read(1 << 16):
        chunks.append(len(data))
        received += data
    assert received == expected  # in order, nothing lost, nothing twice
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    return chunks


async def _close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


def _healthy(seed: int) -> Any:
    return simloop.SimLoop(seed=seed, strategy=Random())


def _run(loop: simloop.SimLoop, main: Any) -> Any:
    from simloop._run import run_on

    return run_on(loop, main)


def test_fifo_delivers_each_segment_after_one_constant_latency() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        server = await asyncio.start_server(_close, "127.0.0.1", 0)
        started = loop.time()
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        elapsed = loop.time() - started  # SYN there, SYN-ACK back
        await reader.read()
        writer.close()
        server.close()
        return elapsed

    assert simloop.run(main(), strategy="fifo") == pytest.approx(2 * FIFO_LATENCY)


def test_how_bytes_are_chunked_varies_by_seed_but_never_their_order() -> None:
    chunkings = {tuple(_run(_healthy(seed), _exchange())) for seed in range(12)}
    assert len(chunkings) > 1


def test_the_same_seed_gives_the_same_network_schedule() -> None:
    digests = []
    for _ in range(2):
        loop = simloop.SimLoop(seed=11)
        _run(loop, _exchange())
        digests.append(loop.trace_digest())
    assert digests[0] == digests[1]
    others = set()
    for seed in range(12, 16):
        loop = simloop.SimLoop(seed=seed)
        _run(loop, _exchange())
        others.add(loop.trace_digest())
    assert digests[0] not in others
    assert len(others) == 4


def test_deliveries_are_recorded_with_a_readable_detail() -> None:
    loop = _healthy(3)
    _run(loop, _exchange(rounds=2))
    assert "delivery" in loop.trace.kinds_seen
    details = [d.detail for d in loop.trace.deviations if d.kind == "delivery"]
    assert any(
        detail.startswith("reply from 127.0.0.1:")
        and re.search(r" delayed [0-9.]+ (µs|ms|s)$", detail) is not None
        for detail in details
    ), details
    assert any(detail.startswith("connect to 127.0.0.1:") for detail in details), details


def test_a_reply_is_sometimes_steered_onto_a_pending_timeout() -> None:
    async def main() -> str:
        done = asyncio.Event()

        async def slow_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(100):
                writer.write(data)
            writer.close()
            done.set()

        server = await asyncio.start_server(slow_echo, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        outcomes = []
        for _ in range(20):
            writer.write(b"ping")
            try:
                async with asyncio.timeout(0.1):
                    await reader.readexactly(4)
                outcomes.append("reply")
            except TimeoutError:
                outcomes.append("timeout")
                await reader.readexactly(4)
        writer.write_eof()
        await done.wait()
        writer.close()
        server.close()
        return ",".join(outcomes)

    steered = 0
    for seed in range(30):
        loop = simloop.SimLoop(seed=seed, strategy=Random(network="wan"))
        _run(loop, main())
        steered += any("onto a pending timer" in d.detail for d in loop.trace.deviations)
    assert steered > 0


def test_the_random_strategy_draws_loopback_lan_and_wan_networks() -> None:
    from simloop.strategies import Streams

    kinds = [NetworkProfile.draw(Streams(seed)).kind for seed in range(1000)]
    assert kinds.count("lan") > kinds.count("loopback") > kinds.count("wan") > 0


def test_a_network_kind_must_be_one_the_strategy_knows() -> None:
    with pytest.raises(ValueError, match="network='lossy' is not a latency profile; expected"):
        Random(network="lossy")
    with pytest.raises(ValueError, match="'faulty' is gone: faults are on with faults=True"):
        Random(network="faulty")


class _AlwaysSteer(simloop.strategies.Strategy):
    """Every delivery that can be steered lands on the soonest pending deadline."""

    name = "always-steer"

    def schedule(self, seed: int, streams: Any) -> simloop.strategies.Schedule:
        class Steering(simloop.strategies.Schedule):
            def delivery_delay(self, kind: str, pending: Any) -> float:
                deadlines = pending()
                self.steered = bool(deadlines) and kind == "segment"
                return deadlines[0] if self.steered else FIFO_LATENCY

        return Steering()


def test_a_steered_delivery_lands_exactly_on_the_deadline() -> None:
    async def main() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        arrived: asyncio.Future[float] = loop.create_future()

        class Stamp(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                if not arrived.done():
                    arrived.set_result(loop.time())

        server = await loop.create_server(Stamp, "127.0.0.1", 0)
        transport, _ = await loop.create_connection(
            asyncio.Protocol, *server.sockets[0].getsockname()
        )
        deadline = loop.time() + 0.3137
        timer = loop.call_at(deadline, lambda: None)
        transport.write(b"x")
        landed = await arrived
        timer.cancel()
        transport.close()
        server.close()
        return landed, deadline

    landed, deadline = simloop.run(main(), strategy=_AlwaysSteer())
    assert landed == deadline  # exactly: the reply and the timeout tie


_DIGESTS = """
import sys
sys.path.insert(0, {here!r})
import simloop
from echo_scenario import exchange, Outcome
from simloop._run import run_on
for seed in range(30):
    loop = simloop.SimLoop(seed=seed)
    run_on(loop, exchange(Outcome()))
    print(loop.trace_digest())
"""


def _network_digests(hash_seed: str) -> list[str]:
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = _DIGESTS.format(here=str(Path(__file__).parent))
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def test_network_traces_are_identical_across_processes_and_hash_seeds() -> None:
    first = _network_digests("1")
    assert first == _network_digests("2")
    assert len(set(first)) == 30
