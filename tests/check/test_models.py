"""The shipped models, against hand-written histories, and the Model base.

Covers simloop/check/_models.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable

import pytest

from simloop.check import (
    Counter,
    FifoQueue,
    History,
    KeyValueMap,
    Model,
    NotLinearizable,
    Register,
    assert_linearizable,
    is_linearizable,
)

HistoryOf = Callable[..., History]  # the conftest fixture

# Register


def test_register_read_after_write_sees_it(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "write", (1,), None, 0, 1),
        ("b", "read", (), 1, 2, 3),
    )
    assert is_linearizable(history, Register(0))


def test_register_read_during_a_write_may_see_either_value(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "write", (1,), None, 0, 10),
        ("b", "read", (), 0, 1, 2),
        ("c", "read", (), 1, 3, 4),
    )
    assert is_linearizable(history, Register(0))


def test_register_read_after_a_completed_write_cannot_see_the_old_value(
    history_of: HistoryOf,
) -> None:
    history = history_of(
        ("a", "write", (1,), None, 0, 1),
        ("b", "read", (), 0, 2, 3),
    )
    assert not is_linearizable(history, Register(0))


def test_register_reads_cannot_see_values_go_back(history_of: HistoryOf) -> None:
    # Both reads overlap the write, but once one saw 1 a later one cannot see 0.
    history = history_of(
        ("a", "write", (1,), None, 0, 10),
        ("b", "read", (), 1, 1, 2),
        ("c", "read", (), 0, 3, 4),
    )
    assert not is_linearizable(history, Register(0))


def test_register_cas_succeeds_only_on_the_expected_value(history_of: HistoryOf) -> None:
    good = history_of(
        ("a", "cas", (0, 1), True, 0, 1),
        ("b", "cas", (0, 2), False, 2, 3),
        ("b", "read", (), 1, 4, 5),
    )
    bad = history_of(
        ("a", "cas", (0, 1), True, 0, 1),
        ("b", "cas", (0, 2), True, 2, 3),
    )
    assert is_linearizable(good, Register(0))
    assert not is_linearizable(bad, Register(0))


# Key-value map


def test_map_keys_hold_their_own_values(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "put", ("x", 1), None, 0, 1),
        ("b", "put", ("y", 2), None, 0, 1),
        ("a", "get", ("x",), 1, 2, 3),
        ("b", "get", ("y",), 2, 2, 3),
        ("c", "get", ("z",), None, 2, 3),
    )
    assert is_linearizable(history, KeyValueMap())


def test_map_get_after_a_completed_delete_cannot_see_the_value(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "put", ("x", 1), None, 0, 1),
        ("a", "delete", ("x",), None, 2, 3),
        ("b", "get", ("x",), 1, 4, 5),
    )
    assert not is_linearizable(history, KeyValueMap())


def test_map_get_cannot_see_another_keys_value(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "put", ("x", 1), None, 0, 1),
        ("b", "get", ("y",), 1, 2, 3),
    )
    assert not is_linearizable(history, KeyValueMap())


def test_map_starts_from_the_given_items(history_of: HistoryOf) -> None:
    history = history_of(("a", "get", ("x",), 5, 0, 1))
    assert is_linearizable(history, KeyValueMap({"x": 5}))
    assert not is_linearizable(history, KeyValueMap())


def test_map_violation_on_one_key_is_shown_with_that_keys_operations_only(
    history_of: HistoryOf,
) -> None:
    noise = [("n", "put", ("x", i), None, 10 * i, 10 * i + 1) for i in range(20)]
    history = history_of(
        *noise,
        ("a", "put", ("y", 1), None, 0, 1),
        ("a", "put", ("y", 2), None, 2, 3),
        ("b", "get", ("y",), 1, 4, 5),
    )

    with pytest.raises(NotLinearizable) as caught:
        assert_linearizable(history, KeyValueMap())

    assert [(op.name, op.args) for op in caught.value.minimal] == [
        ("put", ("y", 1)),
        ("put", ("y", 2)),
        ("get", ("y",)),
    ]


class MapWithSize(KeyValueMap):
    """A map with an operation on every key: no partitioning."""

    def size(self) -> int:
        return len(self.items)

    def partition_key(self, name: str, args: tuple[object, ...]) -> Hashable:
        return None if name == "size" else super().partition_key(name, args)


def test_an_operation_on_every_key_turns_partitioning_off(history_of: HistoryOf) -> None:
    def puts_then_size(size: int) -> History:
        return history_of(
            ("a", "put", ("x", 1), None, 0, 1),
            ("b", "put", ("y", 1), None, 0, 1),
            ("c", "size", (), size, 2, 3),
        )

    # Checked apart from the puts, size() would have to return 0.
    assert is_linearizable(puts_then_size(2), MapWithSize())
    assert not is_linearizable(puts_then_size(1), MapWithSize())


# FIFO queue


def test_queue_concurrent_enqueues_come_out_in_either_order(history_of: HistoryOf) -> None:
    for first, second in [(1, 2), (2, 1)]:
        history = history_of(
            ("a", "enqueue", (1,), None, 0, 2),
            ("b", "enqueue", (2,), None, 1, 3),
            ("c", "dequeue", (), first, 4, 5),
            ("c", "dequeue", (), second, 6, 7),
        )
        assert is_linearizable(history, FifoQueue())


def test_queue_sequential_enqueues_come_out_in_order(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "enqueue", (1,), None, 0, 1),
        ("a", "enqueue", (2,), None, 2, 3),
        ("c", "dequeue", (), 2, 4, 5),
    )
    assert not is_linearizable(history, FifoQueue())


def test_queue_item_cannot_come_out_twice(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "enqueue", (1,), None, 0, 1),
        ("b", "dequeue", (), 1, 2, 3),
        ("c", "dequeue", (), 1, 2, 3),
    )
    assert not is_linearizable(history, FifoQueue())


def test_queue_is_not_empty_while_an_item_is_certainly_in_it(history_of: HistoryOf) -> None:
    empty_during_enqueue = history_of(
        ("a", "enqueue", (1,), None, 0, 2),
        ("b", "dequeue", (), None, 1, 3),
    )
    empty_after_enqueue = history_of(
        ("a", "enqueue", (1,), None, 0, 1),
        ("b", "dequeue", (), None, 2, 3),
    )
    assert is_linearizable(empty_during_enqueue, FifoQueue())
    assert not is_linearizable(empty_after_enqueue, FifoQueue())


# Counter


def test_counter_read_during_increments_sees_any_partial_sum(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "increment", (1,), None, 0, 10),
        ("b", "increment", (2,), None, 0, 10),
        ("c", "read", (), 2, 1, 2),
        ("c", "read", (), 3, 3, 4),
    )
    assert is_linearizable(history, Counter())


def test_counter_read_cannot_miss_a_completed_increment(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "increment", (), None, 0, 1),
        ("b", "increment", (), None, 0, 1),
        ("c", "read", (), 1, 2, 3),
    )
    assert not is_linearizable(history, Counter())


def test_counter_read_sees_only_sums_of_increments(history_of: HistoryOf) -> None:
    history = history_of(
        ("a", "increment", (2,), None, 0, 10),
        ("b", "read", (), 1, 1, 2),
    )
    assert not is_linearizable(history, Counter())


# The Model base


class Inventory(Model):
    def __init__(self) -> None:
        self.stock: dict[str, int] = {}
        self.log: list[str] = []

    def add(self, item: str) -> None:
        self.stock[item] = self.stock.get(item, 0) + 1
        self.log.append(item)


def test_model_copy_does_not_share_containers() -> None:
    original = Inventory()
    original.add("apple")

    clone = copy.copy(original)
    clone.add("pear")

    assert original.stock == {"apple": 1}
    assert original.log == ["apple"]
    assert clone.stock == {"apple": 1, "pear": 1}


def test_models_in_the_same_state_are_equal_and_hash_equal() -> None:
    first, second = Inventory(), Inventory()
    first.add("apple")
    first.add("pear")
    second.add("apple")
    second.add("pear")
    second.__dict__ = dict(reversed(second.__dict__.items()))  # attribute order does not matter

    assert first == second
    assert hash(first) == hash(second)
    second.add("fig")
    assert first != second


def test_model_repr_shows_its_attributes() -> None:
    assert repr(Register(3)) == "Register(value=3)"
    assert repr(FifoQueue((1, 2))) == "FifoQueue(items=(1, 2))"


def test_model_with_an_uncomparable_attribute_says_what_it_holds() -> None:
    class Holder(Model):
        def __init__(self) -> None:
            self.thing = [bytearray(b"x")]

    with pytest.raises(TypeError, match=r"holding bytearray\(b'x'\)"):
        hash(Holder())
