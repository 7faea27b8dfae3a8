"""The tutorial's commands, run as written, do what the page says.

docs/tutorial.md is read top to bottom in an empty directory: each code
block announced by ``<!-- file: NAME -->`` is written to NAME, each ``$``
command of a console block is run, and the lines shown after it must appear
in its output, in order (``…`` stands for anything). Run by ``make
test-docs`` (marker ``docs``): the 100,000-seed sweep takes a minute.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.docs

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
NOT_RUN = "not run by the doc test"


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)


@dataclass
class File:
    name: str
    text: str


def steps(markdown: str) -> list[Command | File]:
    found: list[Command | File] = []
    lines = markdown.splitlines()
    index = 0
    pending_file: str | None = None
    while index < len(lines):
        line = lines[index]
        announced = re.fullmatch(r"<!-- file: (\S+) -->", line.strip())
        if announced:
            pending_file = announced.group(1)
        elif line.startswith("```"):
            language = line[3:].strip()
            end = lines.index("```", index + 1)
            body = lines[index + 1 : end]
            if pending_file is not None:
                found.append(File(pending_file, "\n".join(body) + "\n"))
                pending_file = None
            elif language == "console":
                for text in body:
                    if text.startswith("$ "):
                        found.append(Command(text[2:]))
                    elif found and isinstance(found[-1], Command):
                        found[-1].expected.append(text)
            index = end
        index += 1
    return found


def pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in expected.split("…")))


def run(command: str, directory: Path) -> str:
    words = shlex.split(command.split("  #")[0])
    assert words[0] == "pytest", f"the tutorial runs only pytest, not {words[0]!r}"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *words[1:]],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return completed.stdout + completed.stderr


def test_the_tutorial_does_what_it_says(tmp_path: Path) -> None:
    ran = 0
    for step in steps(TUTORIAL.read_text()):
        if isinstance(step, File):
            (tmp_path / step.name).write_text(step.text)
            continue
        if NOT_RUN in step.line:
            continue
        output = run(step.line, tmp_path)
        ran += 1
        position = 0
        lines = output.splitlines()
        for expected in step.expected:
            match = pattern(expected)
            for index in range(position, len(lines)):
                if match.search(lines[index]):
                    position = index + 1
                    break
            else:
                raise AssertionError(
                    f"`{step.line}` did not print {expected!r} (in order); it printed:\n{output}"
                )
    assert ran >= 7
