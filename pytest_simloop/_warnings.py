"""Warnings for what a test left behind or let through, as pytest reports
unraisable exceptions: the test passes, the warnings summary says what
happened (and ``-W error`` or ``strict=True`` make it a failure)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest

#: lines of one seed's findings a warning shows
SHOWN = 5


class SimloopWarning(pytest.PytestWarning):
    """Base class of the warnings the simloop plugin emits."""


class SimloopLeftoversWarning(SimloopWarning):
    """A test returned with tasks still pending or transports still open:
    simloop cancelled and closed them, as `asyncio.run` does."""


class SimloopUnhandledErrorWarning(SimloopWarning):
    """An error reached the loop's exception handler during a test (a task
    exception never retrieved, an exception in a callback): simloop logged it
    to the ``asyncio`` logger, as the stock loop does."""


@dataclass
class Seen:
    """Across a sweep: in how many seeds each kind of finding showed, and the
    first seed's findings (plain data: it travels between xdist workers)."""

    counts: dict[str, int] = field(default_factory=dict)
    #: the lowest seed with findings, and its lines per kind
    example_seed: int | None = None
    example: dict[str, list[str]] = field(default_factory=dict)

    def add(self, seed: int, findings: Any) -> None:
        kinds = {
            "pending": findings.pending,
            "open transports": findings.open_transports,
            "unhandled": findings.unhandled,
        }
        found = {kind: lines for kind, lines in kinds.items() if lines}
        for kind in found:
            self.counts[kind] = self.counts.get(kind, 0) + 1
        if found and (self.example_seed is None or seed < self.example_seed):
            self.example_seed, self.example = seed, found

    def merge(self, other: Seen) -> None:
        for kind, count in other.counts.items():
            self.counts[kind] = self.counts.get(kind, 0) + count
        if other.example_seed is not None and (
            self.example_seed is None or other.example_seed < self.example_seed
        ):
            self.example_seed, self.example = other.example_seed, other.example

    def to_data(self) -> dict[str, Any]:
        return {"counts": self.counts, "seed": self.example_seed, "example": self.example}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Seen:
        return cls(dict(data["counts"]), data["seed"], dict(data["example"]))


def _listed(lines: list[str]) -> list[str]:
    shown = [f"  {line}" for line in lines[:SHOWN]]
    if len(lines) > SHOWN:
        shown.append(f"  ... and {len(lines) - SHOWN} more")
    return shown


def warn(test_id: str, seen: Seen, seeds: int, where: tuple[str, int, str] | None = None) -> None:
    """Emit the sweep's warnings: one for leftovers, one for handler errors.
    `where` is the test's (file, line, module), so the warning is the test's,
    as a user filters it (``filterwarnings = ignore::...:tests.test_x``)."""

    def emit(warning: Warning) -> None:
        if where is None:
            warnings.warn(warning, stacklevel=3)
        else:
            filename, lineno, module = where
            warnings.warn_explicit(warning, type(warning), filename, lineno, module)

    counts, example, seed = seen.counts, seen.example, seen.example_seed
    leftovers = [kind for kind in ("pending", "open transports") if counts.get(kind)]
    if leftovers:
        lines = []
        for kind in leftovers:
            what = (
                "tasks still pending (cancelled and awaited by simloop, as asyncio.run does)"
                if kind == "pending"
                else "transports, servers or sockets still open (closed by simloop)"
            )
            lines.append(f"in {counts[kind]} of {seeds} seeds the test returned with {what}")
        if example:
            lines.append(f"seed {seed}:")
            for kind in leftovers:
                lines.extend(_listed(example.get(kind, [])))
        lines.append(
            "Wait for them before the test returns to silence this; "
            "@pytest.mark.simloop(strict=True) makes it a failure."
        )
        emit(SimloopLeftoversWarning(f"{test_id}: " + "\n".join(lines)))
    if counts.get("unhandled"):
        lines = [
            f"in {counts['unhandled']} of {seeds} seeds an error reached the loop's exception "
            "handler (logged to the 'asyncio' logger, as the stock loop does)",
        ]
        if example.get("unhandled"):
            lines.append(f"seed {seed}:")
            lines.extend(_listed(example["unhandled"]))
        lines.append(
            "Handle the error where it happens (await the task, catch it in the callback) "
            "to silence this; @pytest.mark.simloop(strict=True) makes it a failure."
        )
        emit(SimloopUnhandledErrorWarning(f"{test_id}: " + "\n".join(lines)))
