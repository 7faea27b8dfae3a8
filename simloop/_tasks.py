"""Tasks with deterministic identity, and where a task is stuck.

asyncio iterates sets of tasks (a TaskGroup cancelling its children,
`asyncio.wait`, `all_tasks`). A plain Task hashes by memory address, so those
orders change with the heap layout from one process to another. `SimTask`
hashes by a per-loop serial number instead, and names itself ``Task-<serial>``
instead of drawing on asyncio's process-wide counter, so the same seed gives
the same schedule in any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import types
from collections.abc import Coroutine, Sequence
from typing import Any

_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep
_SIMLOOP_DIR = os.path.dirname(__file__) + os.sep


class SimTask(asyncio.Task):  # type: ignore[type-arg]
    """An asyncio Task whose hash and default name come from its serial number."""

    _simloop_serial: int

    def __hash__(self) -> int:
        return self._simloop_serial


# Logged and shown as the stock loop shows its tasks ("Task exception was never
# retrieved", "<Task pending name=...>"): what programs and their tests match.
SimTask.__name__ = SimTask.__qualname__ = "Task"


def serial_of(task: asyncio.Future[Any], loop: Any) -> int:
    """The task's serial number, given one on first use if it was not made by
    `SimLoop.create_task` (for instance by a custom task factory)."""
    serial = getattr(task, "_simloop_serial", None)
    if serial is None:
        serial = loop._next_task_serial()
        with contextlib.suppress(AttributeError):  # a task type without a __dict__
            task._simloop_serial = serial  # type: ignore[attr-defined]
    return int(serial)


def _frame_of(awaitable: object) -> types.FrameType | None:
    for attribute in ("cr_frame", "gi_frame", "ag_frame"):
        frame = getattr(awaitable, attribute, None)
        if frame is not None:
            return frame  # type: ignore[no-any-return]
    return None


def _awaited_by(awaitable: object) -> object:
    for attribute in ("cr_await", "gi_yieldfrom", "ag_await"):
        inner = getattr(awaitable, attribute, None)
        if inner is not None:
            return inner
    return None


def _is_library_frame(frame: types.FrameType) -> bool:
    filename = frame.f_code.co_filename
    return filename.startswith((_ASYNCIO_DIR, _SIMLOOP_DIR))


def _describe_future(future: object) -> str:
    if isinstance(future, asyncio.Task):
        return f"task {future.get_name()!r}"
    text = repr(future)
    return text if len(text) <= 120 else text[:117] + "..."


def _started(task: asyncio.Future[Any]) -> bool:
    """Whether `task`'s coroutine has taken its first step."""
    get_coro = getattr(task, "get_coro", None)
    coro = get_coro() if get_coro is not None else None
    if inspect.iscoroutine(coro):
        return inspect.getcoroutinestate(coro) != inspect.CORO_CREATED
    return False  # not a plain coroutine: its state is not visible


def where_suspended(task: asyncio.Future[Any]) -> tuple[str, str]:
    """``(location, awaiting)`` for a pending task.

    `location` is the innermost frame of the program under test (not asyncio's
    or simloop's) as ``file:line in function``; `awaiting` names what the task
    waits for: the asyncio primitive (``Event.wait()``), another task, or the
    future at the bottom of the await chain.
    """
    get_coro = getattr(task, "get_coro", None)
    awaitable: object = get_coro() if get_coro is not None else None
    user_frame: types.FrameType | None = None
    library_call: str | None = None
    while awaitable is not None:
        frame = _frame_of(awaitable)
        if frame is None:
            break
        if _is_library_frame(frame):
            if library_call is None:
                library_call = f"{frame.f_code.co_qualname}()"
        else:
            user_frame = frame
            library_call = None
        awaitable = _awaited_by(awaitable)
    if user_frame is not None:
        code = user_frame.f_code
        location = f"{_short_path(code.co_filename)}:{user_frame.f_lineno} in {code.co_qualname}"
    elif task.done():
        location = "finished"
    elif _started(task):
        location = "in library code"  # a task made straight from ev.wait(), sleep()...
    else:
        location = "not started yet"
    waiter = getattr(task, "_fut_waiter", None)
    if library_call is not None:
        awaiting = library_call
        if isinstance(waiter, asyncio.Task):
            awaiting += f" on {_describe_future(waiter)}"
    elif waiter is not None:
        awaiting = _describe_future(waiter)
    elif awaitable is not None:
        awaiting = _describe_future(awaitable)
    else:
        awaiting = "its next step (ready to run)"
    return location, awaiting


def _short_path(filename: str) -> str:
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive on Windows
        return filename
    return filename if relative.startswith(".." + os.sep + "..") else relative


#: Locations that are states rather than places in the program.
_NOT_A_PLACE = ("not started yet", "in library code", "finished")


def at(location: str) -> str:
    """`location` after a verb: "at app.py:3 in f", "not started yet"."""
    return location if location in _NOT_A_PLACE else f"at {location}"


def describe_pending(tasks: Sequence[asyncio.Future[Any]]) -> list[str]:
    """One line per task: name, where it is suspended and what it awaits."""
    lines = []
    for task in tasks:
        location, awaiting = where_suspended(task)
        name = task.get_name() if isinstance(task, asyncio.Task) else repr(task)
        coro = task.get_coro() if isinstance(task, asyncio.Task) else None
        qualname = getattr(coro, "__qualname__", "?")
        lines.append(f"{name} ({qualname}) {at(location)}, awaiting {awaiting}")
    return lines


def is_coroutine_like(obj: object) -> bool:
    """What `simloop.run` accepts: a coroutine object (as `asyncio.run` does)."""
    return isinstance(obj, Coroutine) or (
        isinstance(obj, types.GeneratorType) and bool(obj.gi_code.co_flags & 0x100)
    )
