"""The checker: pending and failed operations, real-time order, verdicts and reports.

Covers simloop/check/_linearizability.py, _search.py.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest

import simloop
import simloop.check._shrink
from simloop.check import (
    Counter,
    FifoQueue,
    History,
    KeyValueMap,
    NotLinearizable,
    Register,
    Undecided,
    assert_linearizable,
    is_linearizable,
)

HistoryOf = Callable[..., History]  # the conftest fixture


def test_a_pending_write_may_have_taken_effect(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "write", (1,), None, 0, None),
        ("b", "read", (), 1, 5, 6),
    )
    assert is_linearizable(history, Register(0))


def test_a_pending_write_may_not_have_taken_effect(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "write", (1,), None, 0, None),
        ("b", "read", (), 0, 5, 6),
    )
    assert is_linearizable(history, Register(0))


def test_a_pending_write_takes_effect_only_after_it_was_invoked(history_of: HistoryOf) -> None:
    history = history_of(
        ("b", "read", (), 1, 0, 1),
        ("a", "write", (1,), None, 2, None),
    )
    assert not is_linearizable(history, Register(0))


def test_a_pending_write_takes_effect_at_one_point_only(history_of: HistoryOf) -> None:
    # 0, then 1 (the pending write), then 0 again: no single point explains it.
    history = history_of(
        ("a", "write", (1,), None, 0, None),
        ("b", "read", (), 0, 1, 2),
        ("b", "read", (), 1, 3, 4),
        ("b", "read", (), 0, 5, 6),
    )
    assert not is_linearizable(history, Register(0))


def test_a_failed_write_had_no_effect(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "write", (1,), None, 0, "failed"),
        ("b", "read", (), 1, 5, 6),
    )
    assert not is_linearizable(history, Register(0))


def test_events_in_one_instant_are_ordered_as_recorded() -> None:
    # On simloop the clock stands still while callbacks run: the write's reply
    # and the next read share an instant, yet one was recorded first.
    write_first = History(clock=lambda: 1.0)
    write = write_first.invoke("a", "write", 1)
    write.complete(None)
    write_first.invoke("b", "read").complete(0)

    read_first = History(clock=lambda: 1.0)
    write = read_first.invoke("a", "write", 1)
    read = read_first.invoke("b", "read")
    write.complete(None)
    read.complete(0)

    assert not is_linearizable(write_first, Register(0))
    assert is_linearizable(read_first, Register(0))


def test_an_empty_history_is_linearizable() -> None:
    assert is_linearizable(History(), Register(0))


def test_a_model_class_starts_from_its_default_state(history_of: HistoryOf) -> None:
    history = history_of(("a", "read", (), None, 0, 1))
    assert is_linearizable(history, Register)


def test_operations_can_be_checked_without_their_history(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "write", (1,), None, 0, 1),
        ("b", "read", (), 0, 2, 3),
    )
    write, read = history
    assert is_linearizable([read], Register(0))
    assert not is_linearizable([write, read], Register(0))


def test_an_operation_the_model_lacks_is_named_with_those_it_has(history_of: HistoryOf) -> None:
    history = history_of(("a", "increment", (), None, 0, 1))
    with pytest.raises(
        ValueError,
        match=r"operation 'increment', which Register does not have; its "
        r"operations are: cas, read, write",
    ):
        is_linearizable(history, Register(0))


def test_a_model_without_state_comparison_is_refused(history_of: HistoryOf) -> None:
    class Plain:
        def read(self) -> int:
            return 0

    with pytest.raises(TypeError, match=r"must compare states with __eq__ and __hash__"):
        is_linearizable(history_of(("a", "read", (), 0, 0, 1)), Plain())


def test_a_plain_class_with_eq_hash_and_copy_is_a_model(history_of: HistoryOf) -> None:
    class Flag:
        def __init__(self) -> None:
            self.up = False

        def raise_(self) -> None:
            self.up = True

        def check(self) -> bool:
            return self.up

        def __copy__(self) -> Flag:
            clone = Flag()
            clone.up = self.up
            return clone

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Flag) and other.up == self.up

        def __hash__(self) -> int:
            return hash(self.up)

    history = history_of(
        ("a", "raise_", (), None, 0, 1),
        ("b", "check", (), False, 2, 3),
    )
    assert not is_linearizable(history, Flag())


def test_too_hard_a_history_is_undecided_rather_than_a_hang(history_of: HistoryOf) -> None:
    # Six concurrent enqueues whose order only the dequeues reveal.
    items = range(6)
    history = history_of(
        *[(f"p{i}", "enqueue", (i,), None, 0, 1) for i in items],
        *[("c", "dequeue", (), 5 - i, 2 + i, 2.5 + i) for i in items],
    )

    with pytest.raises(Undecided, match=r"no verdict on 12 operations by 7 clients .* after 100"):
        is_linearizable(history, FifoQueue(), max_states=100)
    with pytest.raises(Undecided):
        assert_linearizable(history, FifoQueue(), max_states=100)
    assert is_linearizable(history, FifoQueue())


def test_a_failing_key_is_reported_even_when_another_is_undecided(
    history_of: HistoryOf,
) -> None:
    hard_x = [(f"p{i}", "put", ("x", i), None, 0, 1) for i in range(4)]
    hard_x += [("r", "get", ("x",), 0, 2, 3)]
    wrong_y = [("r", "get", ("y",), 1, 4, 5)]

    with pytest.raises(Undecided):
        is_linearizable(history_of(*hard_x), KeyValueMap(), max_states=3)
    assert not is_linearizable(history_of(*hard_x, *wrong_y), KeyValueMap(), max_states=3)


def test_a_violation_shows_the_operations_that_make_it(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "write", (1,), None, 0, 1),
        ("c", "read", (), 1, 0.5, 1.5),
        ("b", "write", (2,), None, 2, 3),
        ("c", "read", (), 2, 3.5, 4),
        ("a", "read", (), 1, 5, 6),
        ("c", "read", (), 1, 5, 6.5),
    )

    with pytest.raises(NotLinearizable) as caught:
        assert_linearizable(history, Register(0))

    assert str(caught.value) == "\n".join(
        [
            "history of 6 operations is not linearizable against Register(value=0).",
            "These 3 of its operations already are not: each result could come from some "
            "order of them,",
            "but no order that respects real time (an operation that completed before another "
            "was invoked",
            "comes first) gives them all, and without any one of them that is no longer so.",
            "",
            "time  a         b",
            "0.0   write(1)",
            "1.0   -> None",
            "2.0             write(2)",
            "3.0             -> None",
            "5.0   read()",
            "6.0   -> 1",
        ]
    )
    assert caught.value.history is history
    assert len(caught.value.minimal) == 3


def test_a_result_nothing_explains_is_shown_alone(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "write", (1,), None, 0, 1),
        ("b", "read", (), 7, 2, 3),
    )

    with pytest.raises(NotLinearizable) as caught:
        assert_linearizable(history, Register(0))

    assert str(caught.value).splitlines()[1:] == [
        "'b' got read() -> 7, which no order of the history's operations returns.",
        "",
        "time  b",
        "2.0   read()",
        "3.0   -> 7",
    ]


def test_shrinking_stops_at_its_limit_and_says_so(
    history_of: HistoryOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simloop.check._shrink, "SHRINK_CALLS", 1)
    history = history_of(
        ("a", "write", (1,), None, 0, 1),
        ("b", "write", (2,), None, 2, 3),
        ("c", "read", (), 1, 4, 5),
        ("c", "read", (), 2, 6, 7),
    )

    with pytest.raises(NotLinearizable, match=r"Shrinking stopped at its limit") as caught:
        assert_linearizable(history, Register(0))
    assert not is_linearizable(caught.value.minimal, Register(0))


def test_a_result_without_an_explanation_found_is_named(
    history_of: HistoryOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simloop.check._shrink, "QUICK_EXPLANATION_STATES", 1)
    monkeypatch.setattr(simloop.check._shrink, "EXPLANATION_STATES", 1)
    history = history_of(
        *[(f"i{n}", "increment", (), None, 0, 1) for n in range(3)],
        ("r", "read", (), 2, 2, 3),
    )

    with pytest.raises(NotLinearizable) as caught:
        assert_linearizable(history, Counter())
    assert str(caught.value).splitlines()[1] == (
        "'r' got read() -> 2, and the checker found no order of the history's operations that "
        "returns it (within its limits)."
    )


def test_a_stale_read_in_a_long_history_shrinks_to_the_writes_it_missed() -> None:
    rng = random.Random(5)
    history = History(clock=iter(range(10_000)).__next__)
    value = 0
    stale = None
    latest = 0
    for step in range(150):
        client = f"c{rng.randrange(4)}"
        if step == 100:
            stale = history.invoke(client, "read")
            stale.complete(value - 2)  # the value from two writes ago
            latest = value
        elif rng.random() < 0.5:
            value += 1
            history.invoke(client, "write", value).complete(None)
        else:
            history.invoke(client, "read").complete(value)

    with pytest.raises(NotLinearizable) as caught:
        assert_linearizable(history, Register(0))

    assert stale is not None
    wrote_it, overwrote_it, read_it = caught.value.minimal
    assert read_it is stale
    assert (wrote_it.name, wrote_it.args) == ("write", (stale.result,))
    assert overwrote_it.name == "write"
    assert overwrote_it.args in [(latest - 1,), (latest,)]


def test_a_stale_cache_on_simloop_is_caught_and_its_fix_passes() -> None:
    def run(cache_reads: bool) -> History:
        history = History()
        stored = 0
        cached = 0

        async def writer() -> None:
            nonlocal stored
            for value in range(1, 4):
                with history.record("writer", "write", value):
                    await asyncio.sleep(0.01)
                    stored = value
                await asyncio.sleep(0.02)

        async def reader(name: str, delay: float) -> None:
            nonlocal cached
            await asyncio.sleep(delay)
            for _ in range(5):
                with history.record(name, "read") as op:
                    await asyncio.sleep(0.005)
                    if not cache_reads or delay > 0.04:  # the late reader refreshes the cache
                        cached = stored
                    op.complete(cached if cache_reads else stored)
                await asyncio.sleep(0.01)

        async def main() -> None:
            async with asyncio.TaskGroup() as group:
                group.create_task(writer())
                group.create_task(reader("fresh", 0.05))
                group.create_task(reader("cached", 0.0))

        simloop.run(main(), seed=3)
        return history

    assert is_linearizable(run(cache_reads=False), Register(0))
    with pytest.raises(NotLinearizable, match="cached"):
        assert_linearizable(run(cache_reads=True), Register(0))
