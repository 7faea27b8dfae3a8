"""Imitates the structured-concurrency code of service handlers: fan-out/fan-in
with ``asyncio.TaskGroup``, ``asyncio.gather(..., return_exceptions=True)`` to
collect partial failures, hedged requests with ``asyncio.wait(...,
return_when=FIRST_COMPLETED)`` that cancel the loser, and ``as_completed`` to
process results as they arrive. Backends are simulated with sleeps, as in
most unit tests, and one fan-out goes over real (simulated) TCP."""

from __future__ import annotations

import asyncio

import pytest
from corpus_lineproto import LineServer, request


async def fetch_user(user_id: int) -> dict[str, object]:
    await asyncio.sleep(0.01 * (user_id % 5))
    return {"id": user_id, "name": f"user{user_id}"}


async def fetch_maybe_failing(item: int) -> int:
    await asyncio.sleep(0.05)
    if item % 3 == 0:
        raise ValueError(f"bad item {item}")
    return item * 10


@pytest.mark.simloop
async def test_taskgroup_fan_out_fan_in():
    async with asyncio.TaskGroup() as tg:
        tasks = {uid: tg.create_task(fetch_user(uid)) for uid in range(10)}
    users = {uid: task.result() for uid, task in tasks.items()}
    assert [users[uid]["name"] for uid in range(10)] == [f"user{uid}" for uid in range(10)]


@pytest.mark.simloop
async def test_taskgroup_failure_cancels_siblings():
    finished: list[int] = []
    cancelled: list[int] = []

    async def slow(i: int) -> None:
        try:
            await asyncio.sleep(10)
            finished.append(i)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise

    async def broken() -> None:
        await asyncio.sleep(0.1)
        raise RuntimeError("backend down")

    with pytest.raises(ExceptionGroup) as info:  # noqa: PT012
        async with asyncio.TaskGroup() as tg:
            for i in range(3):
                tg.create_task(slow(i))
            tg.create_task(broken())
    assert info.group_contains(RuntimeError, match="backend down")
    assert finished == []
    assert sorted(cancelled) == [0, 1, 2]


@pytest.mark.simloop
async def test_gather_return_exceptions():
    results = await asyncio.gather(
        *(fetch_maybe_failing(i) for i in range(7)), return_exceptions=True
    )
    ok = [r for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, ValueError)]
    assert ok == [10, 20, 40, 50]
    assert [str(e) for e in errors] == ["bad item 0", "bad item 3", "bad item 6"]


@pytest.mark.simloop
async def test_wait_first_completed_hedged_request():
    cancelled: list[str] = []

    async def replica(name: str, delay: float) -> str:
        try:
            await asyncio.sleep(delay)
            return name
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    primary = asyncio.create_task(replica("primary", 3.0))
    backup = asyncio.create_task(replica("backup", 0.5))
    done, pending = await asyncio.wait({primary, backup}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    assert [t.result() for t in done] == ["backup"]
    assert cancelled == ["primary"]


@pytest.mark.simloop
async def test_wait_with_timeout_returns_pending():
    fast = asyncio.create_task(asyncio.sleep(0.1, result="fast"))
    slow = asyncio.create_task(asyncio.sleep(60, result="slow"))
    done, pending = await asyncio.wait({fast, slow}, timeout=5.0)
    assert done == {fast}
    assert pending == {slow}
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow


@pytest.mark.simloop
async def test_as_completed_processes_in_finish_order():
    async def job(name: str, delay: float) -> str:
        await asyncio.sleep(delay)
        return name

    coros = [job("c", 1.5), job("a", 0.5), job("b", 1.0)]
    order = []
    for next_done in asyncio.as_completed(coros, timeout=10):
        order.append(await next_done)  # noqa: PERF401
    assert order == ["a", "b", "c"]


@pytest.mark.simloop
async def test_as_completed_sum_of_results():
    total = 0
    for fut in asyncio.as_completed([fetch_user(i) for i in range(12)]):
        user = await fut
        total += int(user["id"])  # type: ignore[call-overload]
    assert total == sum(range(12))


@pytest.mark.simloop
async def test_taskgroup_fan_out_over_tcp():
    server = LineServer()
    port = await server.start()

    async def ask(i: int) -> str:
        async with asyncio.timeout(2.0):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await request(reader, writer, f"ADD {i} {i * i}")
        finally:
            writer.close()
            await writer.wait_closed()

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(ask(i)) for i in range(6)]
    assert [t.result() for t in tasks] == [str(i + i * i) for i in range(6)]
    await server.stop()
