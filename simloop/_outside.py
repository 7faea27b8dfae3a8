"""The real world is out of reach: what a simulated loop refuses, by name.

File descriptors, signals and subprocesses would reach the operating system
from inside a simulation (and make a seed irreproducible): the loop refuses
them with `simloop.RealIOError`, naming the call and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVarTuple, Unpack

from ._errors import RealIOError

_Ts = TypeVarTuple("_Ts")


class OutsideWorld:
    """The loop methods that would reach the operating system (a mixin of
    `simloop._core.CoreLoop`)."""

    seed: int

    if TYPE_CHECKING:  # provided by the loop

        def virtual_time(self) -> float: ...

    def _refuse(self, call: str, instead: str = "") -> RealIOError:
        text = f"{call} would use the real operating system inside a simulation"
        if instead:
            text += f"; {instead}"
        return RealIOError(text, seed=self.seed, virtual_time=self.virtual_time())

    def add_reader(self, fd: Any, callback: Callable[[Unpack[_Ts]], Any], *args: *_Ts) -> None:
        raise self._refuse(f"loop.add_reader({fd!r})", "simulated sockets do not have descriptors")

    def add_writer(self, fd: Any, callback: Callable[[Unpack[_Ts]], Any], *args: *_Ts) -> None:
        raise self._refuse(f"loop.add_writer({fd!r})", "simulated sockets do not have descriptors")

    def remove_reader(self, fd: Any) -> bool:
        return False

    def remove_writer(self, fd: Any) -> bool:
        return False

    def add_signal_handler(
        self, sig: int, callback: Callable[[Unpack[_Ts]], object], *args: *_Ts
    ) -> None:
        raise self._refuse(f"loop.add_signal_handler({sig!r})", "signals are process-wide")

    def remove_signal_handler(self, sig: int) -> bool:
        return False

    async def subprocess_exec(self, *args: Any, **kwargs: Any) -> Any:
        raise self._refuse("loop.subprocess_exec()", "subprocesses are not simulated")

    async def subprocess_shell(self, *args: Any, **kwargs: Any) -> Any:
        raise self._refuse("loop.subprocess_shell()", "subprocesses are not simulated")
