"""Sequential models: what a correct object does when calls come one at a time.

The contract the checker relies on:

- A model is an instance of a plain class. Its public methods are the
  operations: an operation recorded as ``history.invoke(client, "write", 3)``
  is checked by calling ``model.write(3)`` and comparing the return value with
  the recorded result using ``==``. Methods take positional arguments, may
  change the model's state, must be deterministic, and must accept any
  arguments in any state (return a value that says "empty" or "absent"
  rather than raising).
- ``copy.copy(model)`` returns an independent model in the same state: the
  checker copies before each call, so that it can try other orders from the
  state it left.
- ``==`` and ``hash`` compare states: two models are equal when every
  future call would return the same results. The checker remembers which
  (operations done, state) pairs it has explored, so equal states are
  explored once.
- Optionally, ``partition_key(name, args)`` returns the key an operation
  touches, when operations on different keys never affect one another (a
  key-value map). The checker then checks each key's operations alone, which
  is much faster and gives the same verdict (P-compositionality). Returning
  None for an operation means it may touch every key: no partitioning.

`Model` gives the copy, equality, hashing and repr from the instance's
attributes, so a subclass only writes its operations. Attributes should hold
immutable values, or dicts, lists, sets and deques of immutable values (they
are copied one level deep and compared by content); override ``__copy__``,
``__eq__`` and ``__hash__`` for anything else.
"""

from __future__ import annotations

import collections
from collections.abc import Hashable

_NOT_OPERATIONS = frozenset({"partition_key"})


def _freeze(value: object) -> Hashable:
    """`value` if it is hashable, else a hashable value with the same content."""
    try:
        hash(value)
    except TypeError:
        pass
    else:
        return value
    if isinstance(value, dict):
        return frozenset((key, _freeze(item)) for key, item in value.items())
    if isinstance(value, set):
        return frozenset(value)
    if isinstance(value, list | tuple | collections.deque):
        return tuple(_freeze(item) for item in value)
    raise TypeError(
        f"cannot compare model states holding {value!r}: attributes of a Model must be "
        "hashable, or dicts, lists, sets or deques of them (or override __eq__ and __hash__)"
    )


_CONTAINERS = (dict, list, set, collections.deque)


class Model:
    """Base for sequential models: copying, equality, hashing and repr from
    the instance's attributes (see this module's docstring for the contract)."""

    def __copy__(self) -> Model:
        clone = object.__new__(type(self))
        attributes = self.__dict__.copy()
        for name, value in attributes.items():
            if isinstance(value, _CONTAINERS):
                attributes[name] = value.copy()
        clone.__dict__ = attributes
        return clone

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        # Order-insensitive, like the dict comparison in __eq__.
        try:
            return hash(frozenset(self.__dict__.items()))
        except TypeError:
            return hash(frozenset((name, _freeze(value)) for name, value in self.__dict__.items()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__name__}({fields})"


def operations_of(model: object) -> list[str]:
    """The names of a model's operations: its public methods."""
    return sorted(
        name
        for name in dir(type(model))
        if not name.startswith("_")
        and name not in _NOT_OPERATIONS
        and callable(getattr(type(model), name))
    )


class Register(Model):
    """A single value: ``read()``, ``write(value)``, ``cas(expected, new)``.

    ``cas`` writes `new` only if the value is `expected`, and says whether it did.
    """

    def __init__(self, value: object = None) -> None:
        self.value = value

    def read(self) -> object:
        return self.value

    def write(self, value: object) -> None:
        self.value = value

    def cas(self, expected: object, new: object) -> bool:
        if self.value != expected:
            return False
        self.value = new
        return True


class KeyValueMap(Model):
    """A map: ``get(key)`` (None when absent), ``put(key, value)``, ``delete(key)``.

    Keys are independent, so the checker checks each key's operations alone.
    """

    def __init__(self, items: dict[Hashable, object] | None = None) -> None:
        self.items: dict[Hashable, object] = dict(items or {})

    def get(self, key: Hashable) -> object:
        return self.items.get(key)

    def put(self, key: Hashable, value: object) -> None:
        self.items[key] = value

    def delete(self, key: Hashable) -> None:
        self.items.pop(key, None)

    def partition_key(self, name: str, args: tuple[object, ...]) -> Hashable:
        return args[0] if args else None


class FifoQueue(Model):
    """A first-in, first-out queue: ``enqueue(item)``, ``dequeue()`` (None when empty)."""

    def __init__(self, items: tuple[object, ...] = ()) -> None:
        # A tuple: copying the model copies a reference, not the items.
        self.items = tuple(items)

    def enqueue(self, item: object) -> None:
        self.items = (*self.items, item)

    def dequeue(self) -> object:
        if not self.items:
            return None
        head, *rest = self.items
        self.items = tuple(rest)
        return head


class Counter(Model):
    """A number: ``increment(by=1)``, ``read()``."""

    def __init__(self, value: int = 0) -> None:
        self.value = value

    def increment(self, by: int = 1) -> None:
        self.value += by

    def read(self) -> int:
        return self.value
