"""A race the stock loop never shows, found by seed and replayed.

A client sends a request and waits for the reply with a deadline. The server
answers at exactly the deadline. The reply callback sets the result on the
waiter without checking whether the deadline already cancelled it; on the
stock loop the reply timer always fires first (it was scheduled first), so
the bug never shows. Two timers due at the same instant may fire in either
order, and simloop's default strategy tries both.
"""

from __future__ import annotations

import asyncio
import sys

import simloop


async def call_with_deadline(reply_after: float, deadline: float) -> str | None:
    loop = asyncio.get_running_loop()
    reply = loop.create_future()
    # The bug: set_result on a future the timeout may have cancelled.
    loop.call_later(reply_after, reply.set_result, "pong")
    try:
        async with asyncio.timeout(deadline):
            return await reply
    except TimeoutError:
        return None


async def client() -> list[str | None]:
    return [await call_with_deadline(0.05, 0.05) for _ in range(3)]


def main() -> int:
    print("On the stock asyncio loop, 200 runs:")
    stock_failures = 0
    for _ in range(200):
        try:
            asyncio.run(client())
        except Exception:
            stock_failures += 1
    print(f"  {stock_failures} failures")

    print("On simloop, strategy 'fifo' (the stock order), 200 seeds:")
    fifo_failures = sum(1 for seed in range(200) if _fails(seed, "fifo") is not None)
    print(f"  {fifo_failures} failures")

    print("On simloop, strategy 'random', seeds 0, 1, 2, ...:")
    for seed in range(1000):
        error = _fails(seed, "random")
        if error is not None:
            break
    else:
        print("  no failure in 1000 seeds")
        return 1
    print(f"  seed {seed} fails: {type(error).__name__}: {error}")
    print(f"  replay: simloop.run(client(), seed={seed})")
    again = _fails(seed, "random")
    same = type(again) is type(error) and str(again) == str(error)
    print(f"  replayed seed {seed}: {'same failure' if same else 'DIFFERENT OUTCOME'}")
    return 0 if same and fifo_failures == 0 else 1


def _fails(seed: int, strategy: str) -> BaseException | None:
    try:
        simloop.run(client(), seed=seed, strategy=strategy)
    except Exception as error:
        return error
    return None


if __name__ == "__main__":
    sys.exit(main())
