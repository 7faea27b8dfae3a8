"""Seeds done and seeds per second of a long sweep, written past pytest's capture."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any

import pytest

#: progress: first shown after this many seconds of one sweep, then refreshed
PROGRESS_AFTER = 2.0
PROGRESS_EVERY = 0.25
#: without a terminal (CI logs), a progress line this often
PROGRESS_LOG_EVERY = 30.0

_real_clock = time.perf_counter


class Progress:
    """Seeds done and seeds per second of a long sweep, written past pytest's capture.

    On a terminal the status is drawn after the cursor and erased when the
    sweep ends, so pytest's own line is left as it was; in a log, a line
    every `PROGRESS_LOG_EVERY` seconds.
    """

    def __init__(self, config: pytest.Config, label: str) -> None:
        self._reporter: Any = config.pluginmanager.get_plugin("terminalreporter")
        self._capture: Any = config.pluginmanager.get_plugin("capturemanager")
        self._label = label
        self._started = _real_clock()
        self._next = self._started + PROGRESS_AFTER
        self._drawn = False
        self._tty = bool(getattr(self._reporter, "isatty", False)) and bool(
            getattr(self._reporter, "hasmarkup", False)
        )

    def update(self, done: int, total: int) -> None:
        now = _real_clock()
        if now < self._next or self._reporter is None:
            return
        elapsed = now - self._started
        self.status(f"{done}/{total} seeds, {done / elapsed:.0f} seeds/s", now)

    def status(self, text: str, now: float | None = None) -> None:
        """Show `text` as this sweep's status (at most every `PROGRESS_EVERY` seconds)."""
        now = _real_clock() if now is None else now
        if now < self._next or self._reporter is None:
            return
        self._next = now + (PROGRESS_EVERY if self._tty else PROGRESS_LOG_EVERY)
        status = f"simloop: {self._label}: {text}"
        with self._uncaptured():
            if self._tty:
                sys.stdout.write(f"\x1b7 [{status}]\x1b[K\x1b8")
                sys.stdout.flush()
                self._drawn = True
            else:
                self._reporter.write_line(status)

    def finish(self) -> None:
        if self._drawn:
            with self._uncaptured():
                sys.stdout.write("\x1b[K")
                sys.stdout.flush()

    def _uncaptured(self) -> Any:
        if self._capture is None:
            return contextlib.nullcontext()
        return self._capture.global_and_fixture_disabled()
