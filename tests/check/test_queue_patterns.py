"""A FIFO queue's violations that need no search, and when they do not apply.

Covers simloop/check/_patterns.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from simloop.check import FifoQueue, History, NotLinearizable, assert_linearizable, is_linearizable

HistoryOf = Callable[..., History]  # the conftest fixture

# Six concurrent enqueues whose order only the dequeues reveal: more than a
# search allowed 100 states can decide (tests/check/test_linearizability.py).
HARD = [
    *[(f"p{i}", "enqueue", (i,), None, 0, 1) for i in range(6)],
    *[("c", "dequeue", (), 5 - i, 2 + i, 2.5 + i) for i in range(6)],
]


def minimal_calls(history: History) -> list[str]:
    with pytest.raises(NotLinearizable) as caught:
        assert_linearizable(history, FifoQueue(), max_states=100)
    return [f"{op.call_text()} {op.outcome_text()}" for op in caught.value.minimal]


def test_an_item_overtaken_by_a_later_one_is_found_without_a_search(
    history_of: HistoryOf,
) -> None:
    history = history_of(
        *HARD,
        ("a", "enqueue", ("x",), None, 10, 11),
        ("a", "enqueue", ("y",), None, 12, 13),
        ("b", "dequeue", (), "y", 14, 15),
        ("b", "dequeue", (), "x", 16, 17),
    )
    # (Shrunk: without the dequeue of x, x is left behind for good.)
    assert minimal_calls(history) == [
        "enqueue('x') -> None",
        "enqueue('y') -> None",
        "dequeue() -> 'y'",
    ]


def test_an_empty_dequeue_while_an_item_surely_waited_is_found(history_of: HistoryOf) -> None:
    history = history_of(
        *HARD,
        ("a", "enqueue", ("x",), None, 10, 11),
        ("b", "dequeue", (), None, 12, 13),
        ("b", "dequeue", (), "x", 14, 15),
    )
    assert minimal_calls(history) == ["enqueue('x') -> None", "dequeue() -> None"]


def test_an_item_dequeued_twice_is_found(history_of: HistoryOf) -> None:
    history = history_of(
        *HARD,
        ("a", "enqueue", ("x",), None, 10, 11),
        ("b", "dequeue", (), "x", 12, 13),
        ("c", "dequeue", (), "x", 14, 15),
    )
    assert not is_linearizable(history, FifoQueue(), max_states=100)


def test_an_item_left_behind_for_good_is_found(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "enqueue", ("x",), None, 0, 1),
        ("a", "enqueue", ("y",), None, 2, 3),
        ("b", "dequeue", (), "y", 4, 5),
    )
    assert not is_linearizable(history, FifoQueue())


def test_a_pending_dequeue_may_have_taken_the_item_left_behind(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "enqueue", ("x",), None, 0, 1),
        ("a", "enqueue", ("y",), None, 2, 3),
        ("c", "dequeue", (), None, 3.5, None),
        ("b", "dequeue", (), "y", 4, 5),
    )
    assert is_linearizable(history, FifoQueue())


def test_equal_items_are_left_to_the_search(history_of: HistoryOf) -> None:
    # With two enqueues of 1, "dequeued twice" is no violation.
    history = history_of(
        ("a", "enqueue", (1,), None, 0, 1),
        ("b", "enqueue", (1,), None, 0, 1),
        ("a", "dequeue", (), 1, 2, 3),
        ("b", "dequeue", (), 1, 2, 3),
    )
    assert is_linearizable(history, FifoQueue())
