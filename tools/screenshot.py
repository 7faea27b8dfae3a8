"""Make the documentation's picture of the HTML timeline.

    python tools/screenshot.py [bug module] [output.png]

Finds the first failing seed of a gallery bug, shrinks it, replays the
simplest schedule with events recorded, writes the HTML timeline next to the
picture, and has headless Chromium (`make test-browser` installs it) take
the screenshot.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import simloop
from simloop._explain import replay_recorded
from simloop._timeline import html_timeline


def main() -> int:
    name = sys.argv[1] if len(sys.argv) > 1 else "bug_03_lock_cancel_deadlock"
    output = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/img/timeline.png")
    module = importlib.import_module(f"examples.gallery.{name}")

    def make_main():  # type: ignore[no-untyped-def]
        return module.scenario(module.BUGGY)

    for seed in range(1000):
        explanation = simloop.explain(make_main, seed)
        if explanation is not None:
            break
    else:
        print(f"{name}: no failing seed in 1000")
        return 1
    print(explanation)
    loop = replay_recorded(make_main, explanation.schedule, seed)
    page = output.with_suffix(".html")
    title = f"{name}, seed {seed}, simplest failing schedule"
    page.write_text(html_timeline(loop.trace.events or [], title=title), encoding="utf-8")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium: wrote the page only", page)
        return 1
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,520",
            f"--screenshot={output.resolve()}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    print("wrote", output, "and", page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
