"""Request/reply round trips over asyncio streams: simloop's network against
the stock loop over real loopback, in the same process.

    python bench/network.py [--round-trips 10000] [--repeat 3] [--profile]

Prints the wall time of each and the ratio simloop / stock (the target is
at most 0.33). A plain script, not a test: timings do not belong in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

import simloop
from simloop.strategies import Random

REQUEST = b"GET /key HTTP/1.1\r\n"
REPLY = b"value 0123456789\r\n"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while await reader.readline():
        writer.write(REPLY)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def round_trips(count: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    address = server.sockets[0].getsockname()
    reader, writer = await asyncio.open_connection(*address)
    for _ in range(count):
        writer.write(REQUEST)
        await writer.drain()
        if await reader.readline() != REPLY:
            raise AssertionError("wrong reply")
    # End cleanly: the server's handler sees EOF and closes before we return.
    writer.write_eof()
    if await reader.read() != b"":
        raise AssertionError("unexpected bytes at the end")
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()


class _MemoryTransport(asyncio.Transport):
    """Hands each write to the peer's protocol on the next loop iteration: the
    cost of asyncio's streams alone, with no network under them."""

    def __init__(self, protocol: asyncio.Protocol) -> None:
        super().__init__()
        self.protocol = protocol
        self.peer: _MemoryTransport | None = None
        self.closing = False

    def write(self, data: Any) -> None:
        assert self.peer is not None
        asyncio.get_running_loop().call_soon(self.peer.protocol.data_received, bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True


async def streams_only(count: int) -> None:
    """The same exchange over an in-memory transport pair (no network at all)."""
    loop = asyncio.get_running_loop()
    ends = []
    for _ in range(2):
        reader = asyncio.StreamReader()
        protocol = asyncio.StreamReaderProtocol(reader)
        transport = _MemoryTransport(protocol)
        protocol.connection_made(transport)
        ends.append((reader, asyncio.StreamWriter(transport, protocol, reader, loop), transport))
    (client_reader, client, client_end), (server_reader, server, server_end) = ends
    client_end.peer, server_end.peer = server_end, client_end

    async def serve() -> None:
        for _ in range(count):
            await server_reader.readline()
            server.write(REPLY)
            await server.drain()

    serving = loop.create_task(serve())
    for _ in range(count):
        client.write(REQUEST)
        await client.drain()
        await client_reader.readline()
    await serving


def timed(
    run: Callable[[Coroutine[Any, Any, None]], None],
    count: int,
    repeat: int,
    exchange: Callable[[int], Coroutine[Any, Any, None]] = round_trips,
) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run(exchange(count))
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", choices=["fifo", "random"], help="profile one simloop run")
    options = parser.parse_args()
    count = options.round_trips
    if options.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        simloop.run(round_trips(count), seed=1, strategy=options.profile)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0
    stock = timed(asyncio.run, count, options.repeat)
    print(f"stock asyncio, real loopback:        {stock:.3f} s for {count} round trips")
    floor = timed(asyncio.run, count, options.repeat, streams_only)
    print(
        f"stock asyncio, streams with no network: {floor:.3f} s "
        f"(the floor: ratio {floor / stock:.2f})"
    )
    # The default (healthy) network, as each seed draws it, and the fastest
    # profile pinned; faults would reset the one long connection timed here.
    for label, strategy, seeds in (
        ("fifo", "fifo", [0]),
        ("random default, seeds 0-4", Random(), list(range(5))),
        ("random loopback, 0-4", Random(network="loopback"), list(range(5))),
    ):
        elapsed = 0.0
        for seed in seeds:
            elapsed += timed(
                lambda coro, seed=seed, strategy=strategy: simloop.run(
                    coro, seed=seed, strategy=strategy
                ),
                count,
                options.repeat,
            )
        elapsed /= len(seeds)
        print(f"simloop {label:<25}: {elapsed:.3f} s, ratio {elapsed / stock:.2f} (target <= 0.33)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
