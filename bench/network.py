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


def timed(run: Callable[[Coroutine[Any, Any, None]], None], count: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run(round_trips(count))
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
    print(f"stock asyncio, real loopback: {stock:.3f} s for {count} round trips")
    worst = 0.0
    for strategy in ("fifo", "random"):
        elapsed = timed(
            lambda coro, strategy=strategy: simloop.run(coro, seed=1, strategy=strategy),
            count,
            options.repeat,
        )
        ratio = elapsed / stock
        worst = max(worst, ratio)
        print(f"simloop {strategy:<6}: {elapsed:.3f} s, ratio {ratio:.2f} (target <= 0.33)")
    print(f"worst ratio: {worst:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
