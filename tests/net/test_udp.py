"""UDP through create_datagram_endpoint, on the stock loop and on simloop.

Covers simloop/net/_udp.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import simloop
from simloop.strategies import Random


class _Collector(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.datagrams: list[tuple[bytes, Any]] = []
        self.errors: list[BaseException] = []
        self.arrived = asyncio.Event()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.datagrams.append((data, addr))
        self.arrived.set()

    def error_received(self, exc: Exception) -> None:
        self.errors.append(exc)
        self.arrived.set()


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.transport.sendto(data.upper(), addr)


def test_datagrams_go_to_a_bound_port_and_back(run_on: Any) -> None:
    async def main() -> tuple[bytes, bool]:
        loop = asyncio.get_running_loop()
        server, _ = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", 0))
        address = server.get_extra_info("sockname")
        client, protocol = await loop.create_datagram_endpoint(_Collector, remote_addr=address)
        assert isinstance(protocol, _Collector)
        client.sendto(b"ping")
        await protocol.arrived.wait()
        data, sender = protocol.datagrams[0]
        with pytest.raises(ValueError, match="Invalid address: must be None or"):
            client.sendto(b"x", ("127.0.0.1", 1))
        local = client.get_extra_info("sockname")
        client.close()
        server.close()
        return data, sender == address and local[0] == "127.0.0.1" and local[1] > 0

    assert run_on(main()) == (b"PING", True)


def test_a_connected_endpoint_hears_that_nobody_listens(run_on: Any) -> None:
    async def main() -> tuple[str, tuple[Any, ...]]:
        loop = asyncio.get_running_loop()
        probe, _ = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", 0))
        address = probe.get_extra_info("sockname")
        probe.close()
        await asyncio.sleep(0.01)
        client, protocol = await loop.create_datagram_endpoint(_Collector, remote_addr=address)
        assert isinstance(protocol, _Collector)
        client.sendto(b"anyone?")
        await protocol.arrived.wait()
        client.close()
        error = protocol.errors[0]
        return type(error).__name__, error.args

    assert run_on(main()) == ("ConnectionRefusedError", (111, "Connection refused"))


def test_a_datagram_too_large_is_reported_to_the_protocol(run_on: Any) -> None:
    async def main() -> tuple[Any, ...]:
        loop = asyncio.get_running_loop()
        client, protocol = await loop.create_datagram_endpoint(
            _Collector, local_addr=("127.0.0.1", 0)
        )
        assert isinstance(protocol, _Collector)
        client.sendto(b"x" * 70000, ("127.0.0.1", 9))
        await protocol.arrived.wait()
        client.close()
        return protocol.errors[0].args

    assert run_on(main()) == (90, "Message too long")


def test_a_faulty_network_loses_duplicates_and_reorders_datagrams() -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        server, protocol = await loop.create_datagram_endpoint(
            _Collector, local_addr=("127.0.0.1", 0)
        )
        assert isinstance(protocol, _Collector)
        client, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=server.get_extra_info("sockname")
        )
        for number in range(200):
            client.sendto(b"%d" % number)
        await asyncio.sleep(5)
        client.close()
        server.close()
        return [int(data) for data, _ in protocol.datagrams]

    seen_loss = seen_duplicate = seen_reorder = False
    for seed in range(10):
        got = simloop.run(main(), seed=seed, strategy=Random(faults=True))
        assert set(got) <= set(range(200))
        seen_loss |= len(set(got)) < 200
        seen_duplicate |= len(got) > len(set(got))
        seen_reorder |= got != sorted(got)
    assert seen_loss
    assert seen_duplicate
    assert seen_reorder


def test_a_healthy_network_delivers_every_datagram_once_in_order() -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        server, protocol = await loop.create_datagram_endpoint(
            _Collector, local_addr=("127.0.0.1", 0)
        )
        assert isinstance(protocol, _Collector)
        client, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=server.get_extra_info("sockname")
        )
        for number in range(100):
            client.sendto(b"%d" % number)
        await asyncio.sleep(1)
        client.close()
        server.close()
        return [int(data) for data, _ in protocol.datagrams]

    for seed in range(20):
        assert simloop.run(main(), seed=seed) == list(range(100))
