"""Checking what concurrent clients saw: recorded operation histories."""

from __future__ import annotations

from ._history import History, Operation, Status

__all__ = ["History", "Operation", "Status"]
