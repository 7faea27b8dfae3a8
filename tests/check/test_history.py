"""Recording what clients asked for and got back.

Covers simloop/check/_history.py.
"""

from __future__ import annotations

import asyncio
import time

import pytest

import simloop
from simloop.check import History


def test_an_operation_records_its_call_result_and_times() -> None:
    readings = iter([1.0, 2.5])
    history = History(clock=lambda: next(readings))

    op = history.invoke("c1", "write", 3, "x")
    op.complete("done")

    assert (op.client, op.name, op.args) == ("c1", "write", (3, "x"))
    assert (op.status, op.result) == ("ok", "done")
    assert (op.invoked_at, op.completed_at) == (1.0, 2.5)
    assert history.operations == (op,)


def test_an_operation_not_completed_is_pending() -> None:
    history = History()

    op = history.invoke("c1", "read")

    assert op.status == "pending"
    assert op.completed_at is None


def test_a_failed_operation_is_marked_failed() -> None:
    history = History()
    op = history.invoke("c1", "write", 1)

    op.fail()

    assert op.status == "failed"
    assert op.completed_at is not None


def test_times_are_virtual_on_simloop() -> None:
    history = History()

    async def client() -> float:
        op = history.invoke("c1", "write", 1)
        await asyncio.sleep(2.5)
        op.complete(None)
        return asyncio.get_running_loop().time()

    started = time.monotonic()
    finished_at = simloop.run(client(), strategy="fifo")  # no simulated CPU time

    (op,) = history
    assert op.completed_at == finished_at
    assert op.completed_at is not None
    assert op.completed_at - op.invoked_at == 2.5
    assert time.monotonic() - started < 2.5  # a virtual wait takes no real time


def test_times_come_from_the_monotonic_clock_without_a_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(time, "monotonic", lambda: 42.0)
    history = History()

    op = history.invoke("c1", "read")

    assert op.invoked_at == 42.0


def test_record_completes_with_none_when_the_block_ends() -> None:
    history = History()

    with history.record("c1", "write", 5) as op:
        pass

    assert (op.status, op.result) == ("ok", None)


def test_record_keeps_the_result_the_block_completed_with() -> None:
    history = History()

    with history.record("c1", "read") as op:
        op.complete(7)

    assert (op.status, op.result) == ("ok", 7)


@pytest.mark.parametrize("error", [asyncio.CancelledError, TimeoutError])
def test_record_leaves_the_operation_pending_when_the_block_raises(
    error: type[BaseException],
) -> None:
    history = History()

    with pytest.raises(error), history.record("c1", "write", 5):
        raise error

    (op,) = history
    assert op.status == "pending"


def test_record_works_around_awaits_on_simloop() -> None:
    history = History()

    async def client() -> None:
        with history.record("c1", "read") as op:
            await asyncio.sleep(1)
            op.complete(0)
        with history.record("c1", "write", 1):
            await asyncio.wait_for(asyncio.sleep(10), timeout=2)

    with pytest.raises(TimeoutError):
        simloop.run(client(), strategy="fifo")

    read, write = history
    assert (read.status, read.invoked_at, read.completed_at) == ("ok", 0.0, 1.0)
    assert (write.status, write.invoked_at) == ("pending", 1.0)


def test_an_operation_finishes_only_once() -> None:
    history = History()
    op = history.invoke("c1", "read")
    op.complete(1)

    with pytest.raises(RuntimeError, match=r"read\(\) -> 1.* already finished \(ok\)"):
        op.complete(2)
    with pytest.raises(RuntimeError, match="already finished"):
        op.fail()
    assert op.result == 1


def test_an_operation_cannot_finish_before_it_was_invoked() -> None:
    history = History()
    op = history.invoke("c1", "read", at=5.0)

    with pytest.raises(ValueError, match=r"cannot finish at 4\.0, before it was invoked at 5\.0"):
        op.complete(1, at=4.0)
    assert op.status == "pending"


def test_clients_are_listed_in_order_of_first_call() -> None:
    history = History()
    for client in ["b", "a", "b", "c"]:
        history.invoke(client, "read")

    assert history.clients == ("b", "a", "c")
    assert len(history) == 4


def test_lanes_show_each_client_in_a_column_with_times() -> None:
    history = History()
    write = history.invoke("alice", "write", 1, at=0.0)
    read = history.invoke("bob", "read", at=0.25)
    write.complete(None, at=1.0)
    stuck = history.invoke("carol", "write", 2, at=1.5)
    read.complete(1, at=2.0)
    failed = history.invoke("bob", "cas", 1, 3, at=2.0)
    failed.fail(at=3.0)
    assert stuck.status == "pending"

    assert str(history) == "\n".join(
        [
            "time  alice     bob        carol",
            "0.00  write(1)",
            "0.25  |         read()",
            "1.00  -> None   |",
            "1.50            |          write(2)",
            "2.00            -> 1       |",
            "2.00            cas(1, 3)  |",
            "3.00            failed     |",
            "                           write(2) pending",
        ]
    )


def test_lanes_shorten_long_values() -> None:
    history = History()
    history.invoke("c1", "write", "x" * 100, at=0.0).complete(None, at=1.0)

    first_call = str(history).splitlines()[1]

    assert first_call == "0.0   write('" + "x" * 38 + "…)"
