"""The HTML timeline, rendered by a real browser (headless Chromium).

Run by `make test-browser`, which installs Debian's chromium package when it
is missing; deselected from `make test` (marker `browser`).

Covers simloop/_timeline.py (the HTML page).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_timeline import HOSTILE, recorded

from simloop._timeline import html_timeline

pytestmark = pytest.mark.browser


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("no Chromium found: `make test-browser` installs Debian's chromium package")


def render(page: Path) -> str:
    completed = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout


def test_the_browser_draws_a_lane_per_task_and_runs_nothing_from_the_program(
    tmp_path: Path,
) -> None:
    loop = recorded()
    events = loop.trace.events or []
    page = tmp_path / "run.html"
    page.write_text(html_timeline(events, title="two workers"), encoding="utf-8")
    dom = render(page)
    actors = {event.actor for event in events}
    match = re.search(r'data-lanes="(\d+)"', dom)
    assert match is not None, "the drawing script did not run"
    assert int(match.group(1)) == len(actors)
    assert re.search(r'data-events="(\d+)"', dom).group(1) == str(len(events))  # type: ignore[union-attr]
    for name in ("main", "plain"):
        assert f'data-actor="{name}"' in dom
    # The hostile task name is drawn as text, and its script never ran.
    assert "&lt;script&gt;alert('owned')&lt;/script&gt;" in dom
    assert HOSTILE not in dom.split('<script id="events"')[0]
