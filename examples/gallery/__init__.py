"""A gallery of real asyncio ordering bugs, each next to its fixed twin.

Twelve bugs from asyncio's history (CPython's `wait_for`, `Lock`,
`Semaphore`, `Condition`, `Queue`, stream `drain()` and `TaskGroup`,
async-timeout, and redis-py's CVE-2023-28858/28859), re-implemented in a few
lines each, in our own words, from the public reports; and two bugs of a
kind every service has: a lease checked a step before the write it guards
(found only by a loop stall), and a client that never retries (found only
with faults on). Every module has:

- a docstring: where the bug comes from, which versions it affects, the
  interleaving that triggers it, and the fix;
- ``BUGGY`` and ``FIXED``: the buggy implementation and its fixed twin, with
  the same interface;
- ``scenario(impl)``: a short program that raises AssertionError exactly when
  the bug shows;
- ``INTERLEAVING`` (T: a timer tie, S: task order within one iteration,
  D: a due timer firing late, N: network delivery time, W: a wide window
  the plain order hits, F: an injected fault), ``STOCK_HIDES`` (the stock
  loop never shows it), ``NEEDS_NETWORK``, and ``FAULTS`` where the bug
  needs faults on (``@pytest.mark.simloop(faults=True)``);
- where this machine's stdlib has the bug too, ``STDLIB`` (the real class or
  function) and ``STDLIB_HAS_BUG`` (on the running Python).

Run one with ``python -m examples.gallery.bug_06_condition_notify_lost``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from types import ModuleType
from typing import Any

MODULES = (
    "bug_01_waitfor_result_leak",
    "bug_02_waitfor_swallows_cancel",
    "bug_03_lock_cancel_deadlock",
    "bug_04_semaphore_wakeup_stuck",
    "bug_05_semaphore_fifo_barging",
    "bug_06_condition_notify_lost",
    "bug_07_condition_cancel_unlocked",
    "bug_08_queue_get_cancel_item_lost",
    "bug_09_stream_drain_concurrent",
    "bug_10_taskgroup_nested_swallow",
    "bug_11_async_timeout_cancel_race",
    "bug_12_redis_cancel_offby1",
    "bug_13_lease_check_then_act",
    "bug_14_client_without_retry",
)

Scenario = Callable[[Any], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Bug:
    """One gallery entry, read from its module."""

    number: int
    name: str
    module: ModuleType

    @property
    def scenario(self) -> Scenario:
        return self.module.scenario  # type: ignore[no-any-return]

    @property
    def buggy(self) -> object:
        return self.module.BUGGY

    @property
    def fixed(self) -> object:
        return self.module.FIXED

    @property
    def interleaving(self) -> str:
        return str(self.module.INTERLEAVING)

    @property
    def stock_hides(self) -> bool:
        return bool(self.module.STOCK_HIDES)

    @property
    def needs_network(self) -> bool:
        return bool(self.module.NEEDS_NETWORK)

    @property
    def faults(self) -> bool:
        """Whether the bug shows only with faults on (the default world has none)."""
        return bool(getattr(self.module, "FAULTS", False))

    @property
    def strategy(self) -> Any:
        """The strategy that finds it: the default, with faults on if it needs them."""
        from simloop.strategies import Random

        return Random(faults=True) if self.faults else "random"

    @property
    def stdlib(self) -> object | None:
        """The real stdlib class or function with the same bug, if any."""
        return getattr(self.module, "STDLIB", None)

    @property
    def stdlib_has_bug(self) -> bool:
        """Whether the running Python's stdlib still has the bug."""
        return bool(getattr(self.module, "STDLIB_HAS_BUG", False))

    @property
    def label(self) -> str:
        return f"{self.number:02d} {self.name}"


def bugs() -> list[Bug]:
    """Every bug of the gallery, in order."""
    found = []
    for module_name in MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        number, _, name = module_name.removeprefix("bug_").partition("_")
        found.append(Bug(int(number), name, module))
    return found
