"""Write docs/gallery.md from the gallery modules' docstrings and a
bugfinding table (the Markdown table `bench/bugfinding.py` prints).

    python bench/bugfinding.py > /tmp/bugfinding.txt
    python tools/gallery_page.py /tmp/bugfinding.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

from examples.gallery import bugs

INTRO = """\
# Gallery: twelve real asyncio bugs

Each entry is an ordering bug from asyncio's history, re-implemented in a few
lines in `examples/gallery/` next to its fixed twin, from the public reports
(CPython's `wait_for`, `Lock`, `Semaphore`, `Condition`, `Queue`, stream
`drain()` and `TaskGroup`, async-timeout, and redis-py's
CVE-2023-28858/28859). The stock loop hides most of them: it passes the buggy
versions every time. simloop finds every one.

    pytest examples/gallery --simloop-seeds=1000     # buggy versions fail, fixed twins pass
    make demo                                        # the same, explained bug by bug
    make bench-bugs                                  # seeds to the first failure, per strategy

Interleavings: **T** two timers due at the same instant must fire in the
non-FIFO order; **S** two task steps ready in one iteration must run in the
other order; **D** a due timer must fire late, after later steps (virtual CPU
time); **N** a network delivery must come late; **W** the window is wide and
plain FIFO order hits it.

![The HTML timeline of bug 3's simplest failing schedule](img/timeline.png)

*Bug 3 (`Lock` cancel deadlock) shrunk to its one deviation from FIFO, drawn
by `--simloop-trace` (open [the page](img/timeline.html) itself: every event is
clickable).*
"""


COMPARISON = """\
Reading the table: the default `random` strategy finds every bug from every
base seed, in a median of at most 9 seeds. `pct` orders tasks by random
priorities with two change points (depth 3) and shuffles timer ties, but
charges no CPU time and keeps the network's FIFO latency, so it cannot make a
timer fire late (bugs 6, 7) or a window update come late (bug 9); where it
applies it is as fast as `random`. `random` with `reorder_rate=0` never
reorders the tasks one iteration woke, and so only ever produces schedules the
stock loop can reach (timer ties, CPU time, network and executor timing): it
finds all twelve bugs as fast as the default. `fifo` is the stock loop's order
with an instant clock; it finds only the bugs whose window is wide (10, 12),
which the stock loop shows too. No fixed twin failed a single seed of any
strategy."""


def main() -> int:
    table = Path(sys.argv[1]).read_text() if len(sys.argv) > 1 else ""
    lines = [INTRO, "## How fast each bug is found", ""]
    if table:
        lines.append(table.strip())
        lines += ["", COMPARISON]
    else:
        lines.append("(run `make bench-bugs` for the table)")
    for bug in bugs():
        doc = (bug.module.__doc__ or "").strip()
        title, _, body = doc.partition("\n")
        lines += ["", f"## {title.strip()}", "", body.strip(), ""]
        lines.append(
            f"Code: `examples/gallery/{bug.module.__name__.rpartition('.')[2]}.py`; "
            f"interleaving: {bug.interleaving}; the stock loop "
            f"{'hides it' if bug.stock_hides else 'shows it too'}."
        )
    Path("docs/gallery.md").write_text("\n".join(lines) + "\n")
    print("wrote docs/gallery.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
