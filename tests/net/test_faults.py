"""Faults a test scripts: partitions, heals, clogs, fixed latency, resets.

Covers simloop/net/_network.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import simloop
from simloop.net import CONNECT_TIMEOUT
from simloop.strategies import Random


class _Server:
    """Host db's upper-casing echo on 10.0.0.2:7000; `close` waits for its handlers."""

    def __init__(self, server: asyncio.AbstractServer, handlers: list[asyncio.Task[None]]) -> None:
        self.server = server
        self.handlers = handlers

    async def close(self) -> None:
        self.server.close()
        await asyncio.gather(*self.handlers)


async def _two_hosts() -> tuple[simloop.Network, _Server]:
    net = simloop.network()
    net.add_host("db", "10.0.0.2")
    handlers: list[asyncio.Task[None]] = []

    async def upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            while line := await reader.readline():
                writer.write(line.upper())
                await writer.drain()
        except ConnectionResetError:
            pass
        writer.close()

    with net.on("db"):
        server = await asyncio.start_server(upper, port=7000)
    return net, _Server(server, handlers)


def test_a_partition_holds_segments_until_it_heals() -> None:
    async def main() -> tuple[float, bytes]:
        loop = asyncio.get_running_loop()
        net, server = await _two_hosts()
        reader, writer = await asyncio.open_connection("db", 7000)
        net.partition("main", "db")
        loop.call_later(3.0, net.heal)
        started = loop.time()
        writer.write(b"one\n")
        writer.write(b"two\n")
        answer = await reader.readexactly(8)
        waited = loop.time() - started
        writer.close()
        await server.close()
        return waited, answer

    waited, answer = simloop.run(main(), strategy="fifo")
    assert answer == b"ONE\nTWO\n"
    assert 3.0 <= waited < 3.01


def test_a_connect_across_a_partition_times_out_as_linux_does() -> None:
    async def main() -> tuple[str, float]:
        loop = asyncio.get_running_loop()
        net, server = await _two_hosts()
        net.partition("db")
        with pytest.raises(TimeoutError) as caught:
            await asyncio.open_connection("10.0.0.2", 7000)
        await server.close()
        return str(caught.value), loop.time()

    message, when = simloop.run(main(), strategy="fifo")
    assert message == "[Errno 110] Connect call failed ('10.0.0.2', 7000)"
    assert when == pytest.approx(CONNECT_TIMEOUT, abs=0.01)


def test_a_one_way_partition_lets_requests_through_but_not_replies() -> None:
    async def main() -> tuple[bool, bytes]:
        asyncio.get_running_loop()
        net, server = await _two_hosts()
        reader, writer = await asyncio.open_connection("db", 7000)
        net.partition("db", "main", one_way=True)
        writer.write(b"hello\n")
        try:
            async with asyncio.timeout(1):
                await reader.readline()
            timed_out = False
        except TimeoutError:
            timed_out = True
        net.heal("db", "main")
        answer = await reader.readline()
        writer.close()
        await server.close()
        return timed_out, answer

    assert simloop.run(main(), strategy="fifo") == (True, b"HELLO\n")


def test_clogging_a_host_delays_everything_for_a_while() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        net, server = await _two_hosts()
        reader, writer = await asyncio.open_connection("db", 7000)
        net.clog("db", seconds=2.5)
        started = loop.time()
        writer.write(b"x\n")
        await reader.readline()
        elapsed = loop.time() - started
        writer.close()
        await server.close()
        return elapsed

    elapsed = simloop.run(main(), strategy="fifo")
    assert 2.5 <= elapsed < 2.51


def test_set_latency_fixes_the_time_of_every_delivery_on_a_link() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        net, server = await _two_hosts()
        net.set_latency("main", "db", 0.25)
        reader, writer = await asyncio.open_connection("db", 7000)
        started = loop.time()
        writer.write(b"x\n")
        await reader.readline()
        elapsed = loop.time() - started
        writer.close()
        await server.close()
        return elapsed

    # Whatever the seed: one way and back, 0.25 s each (plus virtual CPU time).
    # (Faults off, as by default: with them, a partition may delay it.)
    for seed in range(3):
        elapsed = simloop.run(main(), seed=seed, strategy=Random(stall_rate=0))
        assert elapsed == pytest.approx(0.5, abs=0.01)


def test_reset_ends_both_sides_with_connection_reset_error() -> None:
    async def main() -> tuple[int, str]:
        net, server = await _two_hosts()
        reader, writer = await asyncio.open_connection("db", 7000)
        writer.write(b"a\n")
        assert await reader.readline() == b"A\n"
        count = net.reset("main", "db")
        with pytest.raises(ConnectionResetError) as caught:
            await reader.readline()
        writer.close()
        await server.close()
        return count, str(caught.value)

    assert simloop.run(main(), strategy="fifo") == (1, "[Errno 104] Connection reset by peer")


def test_a_partition_loses_datagrams() -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        net = simloop.network()
        net.add_host("peer", "10.0.0.9")
        got: list[bytes] = []

        class Collect(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                got.append(data)

        with net.on("peer"):
            receiver, _ = await loop.create_datagram_endpoint(Collect, local_addr=("0.0.0.0", 53))
        sender, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=("10.0.0.9", 53)
        )
        sender.sendto(b"before")
        await asyncio.sleep(0.1)
        net.partition("main", "peer")
        sender.sendto(b"during")
        await asyncio.sleep(0.1)
        net.heal()
        sender.sendto(b"after")
        await asyncio.sleep(0.1)
        sender.close()
        receiver.close()
        return len(got) if got == [b"before", b"after"] else -1

    assert simloop.run(main(), strategy="fifo") == 2


def test_fault_arguments_are_checked() -> None:
    async def main() -> None:
        net = simloop.network()
        with pytest.raises(ValueError, match="seconds must be a non-negative number, not -1"):
            net.clog("main", seconds=-1)
        with pytest.raises(ValueError, match="no host called 'ghost'"):
            net.partition("main", "ghost")

    simloop.run(main())


class _PartitionAt(simloop.strategies.Strategy):
    """FIFO, plus the partition a faulty profile draws: host #0 (main) cut off
    from the other hosts from t=0.5 s for 1 s."""

    name = "partition-at"

    def schedule(self, seed: int, streams: Any) -> simloop.strategies.Schedule:
        class Partitioned(simloop.strategies.Schedule):
            def partition_window(self) -> tuple[float, float, int] | None:
                return (0.5, 1.0, 0)

        return Partitioned()


def test_a_drawn_partition_delays_tcp_until_it_heals_and_loses_datagrams() -> None:
    async def main() -> tuple[float, int]:
        loop = asyncio.get_running_loop()
        got: list[bytes] = []

        class Collect(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                got.append(data)

        net, server = await _two_hosts()
        with net.on("db"):
            receiver, _ = await loop.create_datagram_endpoint(Collect, local_addr=("0.0.0.0", 53))
        sender, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=("10.0.0.2", 53)
        )
        reader, writer = await asyncio.open_connection("db", 7000)
        await asyncio.sleep(0.6 - loop.time())  # inside the partition
        sender.sendto(b"lost")
        writer.write(b"held\n")
        answer = await reader.readline()
        answered_at = loop.time()
        writer.close()
        sender.close()
        receiver.close()
        await server.close()
        assert answer == b"HELD\n"
        return answered_at, len(got)

    answered_at, datagrams = simloop.run(main(), strategy=_PartitionAt())
    assert answered_at >= 1.5
    assert datagrams == 0


def test_a_link_with_no_latency_still_delivers_every_segment() -> None:
    async def main() -> list[bytes]:
        net, server = await _two_hosts()
        net.set_latency("main", "db", 0)
        reader, writer = await asyncio.open_connection("db", 7000)
        answers = []
        for word in (b"a", b"b", b"c"):
            writer.write(word + b"\n")
            answers.append(await reader.readline())
        writer.close()
        await server.close()
        return answers

    assert simloop.run(main(), strategy="fifo") == [b"A\n", b"B\n", b"C\n"]
