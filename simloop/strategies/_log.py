"""A run's answers to its choice points, kept to replay, shrink and save it.

A `ChoiceLog` holds, per choice point (`simloop.strategies._points`), every
answer in the order the run asked, so a `Replay` of it takes the same
schedule. Each choice point declares its FIFO answer: shrinking a failing
schedule means putting FIFO answers back wherever the failure does not need
a deviation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ._points import POINTS, ChoicePoint, register_point

#: Format version of saved schedules; a replay refuses other versions.
LOG_VERSION = 1


#: The table of choice points (`simloop.strategies._points`), by name: a
#: kind of answer a log keeps.
KINDS = POINTS
#: What a choice point was called when it was only a kind of logged answer.
ChoiceKind = ChoicePoint
register_kind = register_point


#: Where one answer sits in a log: (kind, call index) or, for per-entry
#: kinds, (kind, call index, entry index).
Position = tuple[Any, ...]


class ChoiceLog:
    """Every answer of a run, per kind, in the order asked."""

    def __init__(self, entries: dict[str, list[Any]] | None = None) -> None:
        self.entries: dict[str, list[Any]] = entries if entries is not None else {}

    def append(self, kind: str, value: Any) -> None:
        self.entries.setdefault(kind, []).append(value)

    def copy(self) -> ChoiceLog:
        return ChoiceLog({kind: list(values) for kind, values in self.entries.items()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ChoiceLog) and self.entries == other.entries

    def __repr__(self) -> str:
        counts = ", ".join(f"{kind}: {len(values)}" for kind, values in self.entries.items())
        return f"<ChoiceLog {counts}; {len(self.deviations())} deviations from FIFO>"

    # -- deviations ----------------------------------------------------------

    def deviations(self) -> list[Position]:
        """Every answer that differs from FIFO, in a stable order."""
        return list(self._deviations())

    def _deviations(self) -> Iterator[Position]:
        for kind, values in self.entries.items():
            spec = KINDS.get(kind)
            fifo = spec.fifo if spec is not None else None
            for index, value in enumerate(values):
                if spec is not None and spec.per_entry:
                    for entry, item in enumerate(value):
                        if item != fifo:
                            yield (kind, index, entry)
                elif value != fifo:
                    yield (kind, index)

    def value_at(self, position: Position) -> Any:
        value = self.entries[position[0]][position[1]]
        return value[position[2]] if len(position) == 3 else value

    def with_values(self, changes: dict[Position, Any]) -> ChoiceLog:
        """A copy with the answers at `changes`' positions replaced."""
        log = self.copy()
        for position, value in changes.items():
            kind, index = position[0], position[1]
            if len(position) == 3:
                block = list(log.entries[kind][index])
                block[position[2]] = value
                log.entries[kind][index] = tuple(block)
            else:
                log.entries[kind][index] = value
        return log

    def with_fifo(self, positions: list[Position]) -> ChoiceLog:
        """A copy with FIFO answers at `positions`."""
        return self.with_values({position: fifo_value(position) for position in positions})

    # -- files ---------------------------------------------------------------

    def to_json(self, **metadata: Any) -> str:
        """The log as JSON, with `metadata` (seed, strategy, test id...) alongside."""
        return json.dumps(
            {"simloop_schedule": LOG_VERSION, **metadata, "choices": self.entries},
            indent=1,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> tuple[ChoiceLog, dict[str, Any]]:
        """A log and its metadata back from `to_json`'s text."""
        data = json.loads(text)
        version = data.pop("simloop_schedule", None) if isinstance(data, dict) else None
        if version != LOG_VERSION:
            raise ValueError(
                f"not a simloop schedule of version {LOG_VERSION} (found version {version!r})"
            )
        entries: dict[str, list[Any]] = {}
        for kind, values in data.pop("choices").items():
            entries[kind] = [_from_json_value(value) for value in values]
        return cls(entries), data


def _from_json_value(value: Any) -> Any:
    # JSON has lists where the log had tuples (orders, cost blocks, partitions).
    return tuple(value) if isinstance(value, list) else value


def fifo_value(position: Position) -> Any:
    spec = KINDS.get(position[0])
    return spec.fifo if spec is not None else None
