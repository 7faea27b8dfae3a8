"""Shrinking a failing schedule, and explaining it in words.

Covers simloop/_shrink.py, simloop/_minimize.py, simloop/_explain.py, simloop/_depends.py.
"""

from __future__ import annotations

import asyncio

import pytest

import simloop
from simloop._run import STRICT, run_on
from simloop.strategies import Random, Replay


async def reply_at_the_deadline() -> None:
    """A reply callback that does not check whether the waiter was cancelled."""
    loop = asyncio.get_running_loop()
    for _ in range(4):
        reply = loop.create_future()
        loop.call_later(0.05, reply.set_result, "pong")
        try:
            async with asyncio.timeout(0.05):
                await reply
        except TimeoutError:
            pass
        await asyncio.sleep(0.01)  # unrelated timers and tasks: noise to shrink away
        await asyncio.gather(asyncio.sleep(0), asyncio.sleep(0))


def first_failing_seed() -> int:
    for seed in range(200):
        try:
            simloop.run(reply_at_the_deadline(), seed=seed, strict=True)
        except asyncio.InvalidStateError:
            return seed
    raise AssertionError("no failing seed in 200")


def test_a_failing_seed_shrinks_to_the_one_deviation_it_needs() -> None:
    seed = first_failing_seed()
    explanation = simloop.explain(reply_at_the_deadline, seed, strict=True)
    assert explanation is not None
    assert isinstance(explanation.failure, asyncio.InvalidStateError)
    assert explanation.shrink.deviations_after == 1
    assert explanation.shrink.deviations_before >= 1
    [line] = explanation.deviations
    assert "timer tie" in line
    assert "Timeout._on_timeout then Future.set_result" in line
    assert "everything else in plain FIFO order" in str(explanation)


def test_the_shrunk_schedule_fails_again_by_itself() -> None:
    explanation = simloop.explain(reply_at_the_deadline, first_failing_seed(), strict=True)
    assert explanation is not None
    for _ in range(2):
        loop = simloop.SimLoop(0, Replay(explanation.schedule))
        try:
            run_on(loop, reply_at_the_deadline(), fail_on=STRICT)
        except asyncio.InvalidStateError:
            continue
        raise AssertionError("the shrunk schedule passed")


def test_a_passing_seed_has_nothing_to_explain() -> None:
    assert simloop.explain(reply_at_the_deadline, 0, strategy="fifo") is None


def test_cpu_costs_shrink_to_the_few_that_make_a_timer_late() -> None:
    """The check runs on a busy loop: the failure needs the timer to fire late,
    which takes CPU time; shrinking keeps only the costs that matter."""

    async def timer_fires_late() -> None:
        loop = asyncio.get_running_loop()
        fired: list[float] = []
        deadline = loop.time() + 0.001
        loop.call_at(deadline, lambda: fired.append(loop.time()))
        for _ in range(30):
            await asyncio.sleep(0)
        await asyncio.sleep(0.01)
        assert fired[0] < deadline + 0.0003, "the timer fired late"

    busy = Random(cpu_max_cost=0.0005, cpu_rate=1.0, reorder_rate=0.0)
    for seed in range(30):
        explanation = simloop.explain(timer_fires_late, seed, strategy=busy)
        if explanation is not None:
            break
    else:
        raise AssertionError("no seed made the timer late")
    assert explanation.shrink.deviations_before > 10
    assert 1 <= explanation.shrink.deviations_after < explanation.shrink.deviations_before
    assert all("ms of CPU" in line for line in explanation.deviations)


async def rpc_with_stale_replies() -> None:
    """A client that gives up on a slow reply but leaves it in the stream: the
    next request reads the previous answer (redis-py's CVE-2023-28858 shape)."""

    async def upper(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(line.upper())
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(upper, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for index in range(5):
        writer.write(f"req{index}\n".encode())
        await writer.drain()
        try:
            async with asyncio.timeout(0.005):
                reply = await reader.readline()
        except TimeoutError:
            continue  # the late reply stays in the buffer
        assert reply == f"REQ{index}\n".encode(), f"request {index} got {reply!r}"
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()


def test_network_delays_shrink_to_the_ones_the_failure_needs() -> None:
    for seed in range(300):
        explanation = simloop.explain(rpc_with_stale_replies, seed)
        if explanation is not None:
            break
    else:
        raise AssertionError("no seed delayed a reply past the timeout")
    assert 1 <= explanation.shrink.deviations_after <= 3
    # The reply came too late: network delays, perhaps with some CPU time.
    assert all(
        line.startswith("delivery at t=") or line.endswith("ms of CPU")
        for line in explanation.deviations
    )
    assert any("reply from" in line and "delayed" in line for line in explanation.deviations)
    loop = simloop.SimLoop(0, Replay(explanation.schedule))
    with pytest.raises(AssertionError, match="got b'REQ"):
        run_on(loop, rpc_with_stale_replies())


def test_shrinking_keeps_the_programs_own_randomness_of_the_failing_seed() -> None:
    """Replays take scheduling choices from the log, but `random` still comes
    from the seed: a failure that depends on both shrinks and replays."""
    import random

    async def lottery_at_the_deadline() -> None:
        if random.random() < 0.5:  # the program's own randomness
            return
        await reply_at_the_deadline()

    for seed in range(300):
        explanation = simloop.explain(lottery_at_the_deadline, seed, strict=True)
        if explanation is not None:
            break
    else:
        raise AssertionError("no failing seed")
    assert explanation.shrink.deviations_after == 1
    loop = simloop.SimLoop(seed, Replay(explanation.schedule))
    with pytest.raises(asyncio.InvalidStateError):
        run_on(loop, lottery_at_the_deadline(), fail_on=STRICT)


def test_a_test_runners_hidden_frames_are_not_where_a_failure_happened() -> None:
    """An error from asyncio's code (a callback's), raised again by a test
    runner whose frames hide themselves (`__tracebackhide__`, as pytest
    plugins' do), names no line of the program: it is the same failure
    whichever runner raised it."""
    error = ValueError("boom")  # no frame of the program raised it

    def runner() -> None:
        __tracebackhide__ = True
        raise error

    def rethrown() -> BaseException:
        __tracebackhide__ = True
        try:
            runner()
        except ValueError as caught:
            return caught
        raise AssertionError("no error")

    assert simloop.failure_signature(rethrown()) == frozenset({("ValueError", "")})
