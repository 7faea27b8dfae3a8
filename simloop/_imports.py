"""A module imported during a simulation leaves the run as it found it.

A module imported in the middle of a run (``import aiohttp`` inside a test)
runs its top-level code there, on the simulated clock and randomness. What it
draws would come out of the run's seeded streams, so a seed's outcome would
depend on whether an earlier seed had already imported the module (then
nothing is drawn), and a seed would replay differently alone than in a
sweep. So while a simulation runs, every module's execution is wrapped: the
run's random streams (the `random` module's and the one behind
`os.urandom`) are rewound when the module's code has run.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any


def _never() -> bool:
    return False


def _no_stream() -> random.Random | None:
    return None


#: set by `install`: whether the running code is the simulation's, and the
#: run's entropy stream
_in_simulation: Callable[[], bool] = _never
_entropy: Callable[[], random.Random | None] = _no_stream


@contextlib.contextmanager
def _rewound() -> Iterator[None]:
    saved = random.getstate()
    entropy = _entropy()
    saved_entropy = None if entropy is None else entropy.getstate()
    try:
        yield
    finally:
        random.setstate(saved)
        if entropy is not None and saved_entropy is not None:
            entropy.setstate(saved_entropy)


class _RewindingLoader:
    """A module's loader, whose execution of the module is rewound."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        loader = self._loader
        # Code that looks at a module's loader sees the real one.
        module.__loader__ = loader
        if module.__spec__ is not None:
            module.__spec__.loader = loader
        with _rewound():
            loader.exec_module(module)


class RewindingFinder(importlib.abc.MetaPathFinder):
    """First on `sys.meta_path` while a simulation runs: asks the other
    finders, and wraps what they find in a `_RewindingLoader`."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not _in_simulation():
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec: importlib.machinery.ModuleSpec | None = find(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _RewindingLoader(spec.loader)  # type: ignore[assignment]
                return spec
        return None


FINDER = RewindingFinder()


def install(in_simulation: Callable[[], bool], entropy: Callable[[], random.Random | None]) -> None:
    """Wrap imports on the simulation's threads (`in_simulation`), rewinding
    `random` and the stream `entropy()` gives after each."""
    global _in_simulation, _entropy
    _in_simulation, _entropy = in_simulation, entropy
    if sys.meta_path[0] is not FINDER:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(FINDER)
        sys.meta_path.insert(0, FINDER)


def remove() -> None:
    """Stop wrapping imports (the finder stays installed, asking nothing of
    anyone until the next simulation: cheaper than taking it out)."""
    global _in_simulation, _entropy
    _in_simulation, _entropy = _never, _no_stream
