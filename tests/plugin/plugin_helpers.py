"""Helpers for the plugin's tests: generated projects and reading their output."""

from __future__ import annotations

import re

import pytest

#: an ini for generated projects: strict like ours, and pytest-asyncio quiet.
#: (They run in this process, under our own "error" filter: simloop's warnings
#: are shown, as in a project without one.)
INI = """\
[pytest]
addopts = --strict-markers --strict-config
asyncio_default_fixture_loop_scope = function
filterwarnings = default::pytest_simloop.SimloopWarning
{extra}
"""


def ini(pytester: pytest.Pytester, extra: str) -> None:
    pytester.makeini(INI.format(extra=extra))


def section(result: pytest.RunResult, name: str = "simloop") -> list[str]:
    """The lines of the first report section called `name` (a failure's simloop section)."""
    lines = result.outlines
    for index, line in enumerate(lines):
        if re.fullmatch(rf"-+ {name} -+", line):
            end = index + 1
            while end < len(lines) and not re.match(r"^(=+|_+|-+) ", lines[end]):
                end += 1
            return lines[index + 1 : end]
    raise AssertionError(f"no {name!r} section in:\n" + "\n".join(lines))


def summary(result: pytest.RunResult) -> list[str]:
    """The lines of the simloop summary at the end of the run."""
    lines = result.outlines
    for index, line in enumerate(lines):
        if re.fullmatch(r"=+ simloop =+", line):
            end = index + 1
            while end < len(lines) and not lines[end].startswith("="):
                end += 1
            return lines[index + 1 : end]
    raise AssertionError("no simloop summary in:\n" + "\n".join(lines))


def failing_seed(result: pytest.RunResult) -> int:
    match = re.search(r"--simloop-seed=(\d+)", result.stdout.str())
    assert match is not None, result.stdout.str()
    return int(match.group(1))


def line_after(lines: list[str], pattern: str) -> str:
    """The line after the first line that matches `pattern` (a regular expression)."""
    for index, line in enumerate(lines[:-1]):
        if re.fullmatch(pattern, line):
            return lines[index + 1]
    raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(lines))
