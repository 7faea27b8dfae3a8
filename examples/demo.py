"""The gallery, found and explained: what `make demo` runs.

For each of the fourteen bugs in `examples/gallery/` (twelve from asyncio's
history, a lease race found only by a loop stall, a client without retry
found only with faults on):

1. the buggy version on the stock asyncio loop, many times: it passes (the
   stock loop hides the bug) or fails (the bug's window is wide);
2. the buggy version as a simloop test under 1000 seeds: the seed that
   finds it, the simplest schedule that still fails, and the command that
   replays it;
3. the fixed twin under the same 1000 seeds: it must pass every one (and a
   bug that needs faults must pass 1000 seeds of the default world, which
   injects none).

Then the three property examples of `examples/properties/` (liveness after a
partition heals, cancellation safety under injected cancellation,
linearizability), found and replayed the same way.

Exits 0 when every bug is found and every fixed twin passes.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from examples.gallery import Bug, bugs  # noqa: E402

GALLERY_TESTS = "examples/gallery/test_gallery.py"
PROPERTY_TESTS = "examples/properties/test_properties.py"
#: (example, property it breaks, buggy test, fixed test)
PROPERTIES = [
    (
        "worker_pool.py",
        "liveness after a partition heals (simloop.converge)",
        "test_worker_pool_buggy",
        "test_worker_pool_fixed",
    ),
    (
        "cache_update.py",
        "an invariant under injected cancellation (InjectCancellation)",
        "test_cache_update_buggy",
        "test_cache_update_fixed",
    ),
    (
        "replicated_register.py",
        "linearizability under a partition (simloop.check)",
        "test_replicated_register_buggy",
        "test_replicated_register_fixed",
    ),
]
#: the demo's own pytest cache: emptied first, so every run finds the bugs
#: afresh (a normal run tries remembered failing seeds first), and the saved
#: schedules it prints stay there for replaying
CACHE = ".simloop-demo"


class Collector:
    """A pytest plugin object that keeps each call-phase report."""

    def __init__(self) -> None:
        self.reports: dict[str, pytest.TestReport] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.reports[report.nodeid] = report


def stock_failures(bug: Bug, runs: int) -> int:
    failures = 0
    for _ in range(runs):
        try:
            asyncio.run(bug.scenario(bug.buggy))
        except Exception:
            failures += 1
    return failures


def section(report: pytest.TestReport) -> list[str]:
    for title, text in report.sections:
        if title == "simloop":
            return text.splitlines()
    return []


def explain(lines: list[str]) -> list[str]:
    """The parts of a failure's simloop section the demo shows: the seed,
    the simplest schedule, and the replay commands."""
    shown: list[str] = []
    keep = False
    for line in lines:
        if line.startswith(("seed ", "what it depends on")):
            shown.append(line)
            keep = line.endswith(":")
        elif line.startswith(("simplest failing schedule", "replay it", "replay the simplest")):
            shown.append(line)
            keep = True
        elif line.startswith("  ") and keep:
            shown.append(line)
        else:
            keep = False
    return shown


def message(report: pytest.TestReport) -> str:
    """The failure's message, as its first line says it (without the replay command)."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(getattr(crash, "message", "") or "")
    if text.startswith("[pytest ") and "] " in text:
        text = text.partition("] ")[2]
    return text.splitlines()[0] if text else "(no message)"


def show_pair(buggy: pytest.TestReport | None, fixed: pytest.TestReport | None, seeds: int) -> bool:
    """How simloop found the buggy version and whether the fixed twin passed;
    True if the buggy one failed and the fixed one passed."""
    found = buggy is not None and buggy.failed
    if not found:
        print("  simloop: NOT FOUND")
    else:
        assert buggy is not None
        print(f"  the failure: {message(buggy)}")
        for line in explain(section(buggy)):
            print(f"  {line}")
    passed = fixed is not None and fixed.passed
    if passed:
        print(f"  fixed twin: passed all {seeds} seeds")
    else:
        print(f"  fixed twin: FAILED under some of {seeds} seeds")
    return found and passed


def show_properties(collector: Collector, seeds: int) -> bool:
    """The property examples' part of the demo; True if all went as expected."""
    ok = True
    print("Beyond asserts: three properties, each broken by a buggy program next to its fixed twin")
    print()
    plain = collector.reports.get(f"{PROPERTY_TESTS}::test_cache_update_buggy_passes_a_plain_sweep")
    for example, broken, buggy_test, fixed_test in PROPERTIES:
        buggy = collector.reports.get(f"{PROPERTY_TESTS}::{buggy_test}")
        fixed = collector.reports.get(f"{PROPERTY_TESTS}::{fixed_test}")
        print(f"{example}: {broken}")
        if example == "cache_update.py":
            # The point of this example: only injected cancellation finds it.
            passed = plain is not None and plain.passed
            print(f"  a plain sweep of {seeds} seeds: {'passes' if passed else 'FAILS'}")
            ok = ok and passed
        ok = show_pair(buggy, fixed, seeds) and ok
        print()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--stock-runs", type=int, default=100)
    options = parser.parse_args()

    gallery = bugs()
    print(
        f"{len(gallery)} asyncio bugs; the stock loop runs each buggy version "
        f"{options.stock_runs} times,"
    )
    print(f"then simloop explores {options.seeds} seeds of it and of its fixed twin.\n")
    stock = {}
    for bug in gallery:
        stock[bug.number] = stock_failures(bug, options.stock_runs)

    shutil.rmtree(ROOT / CACHE, ignore_errors=True)
    collector = Collector()
    started = time.perf_counter()
    pytest.main(
        [
            str(ROOT / GALLERY_TESTS),
            str(ROOT / PROPERTY_TESTS),
            f"--simloop-seeds={options.seeds}",
            "-q",
            "--no-header",
            "-p",
            "no:randomly",
            "--tb=no",
            "--rootdir",
            str(ROOT),
            "-o",
            f"cache_dir={CACHE}",
        ],
        plugins=[collector],
    )
    elapsed = time.perf_counter() - started
    print()

    ok = True
    for bug in gallery:
        label = bug.label.replace(" ", "_")
        buggy = collector.reports.get(f"{GALLERY_TESTS}::test_buggy[{label}]")
        fixed = collector.reports.get(f"{GALLERY_TESTS}::test_fixed[{label}]")
        hides = "hides it" if stock[bug.number] == 0 else "shows it too"
        print(f"bug {bug.label} (interleaving {bug.interleaving})")
        print(
            f"  stock asyncio: {stock[bug.number]}/{options.stock_runs} runs fail "
            f"(the stock loop {hides})"
        )
        if bug.faults:
            calm = collector.reports.get(
                f"{GALLERY_TESTS}::test_buggy_passes_without_faults[{label}]"
            )
            passed = calm is not None and calm.passed
            print(
                f"  without faults (the default world): "
                f"{f'passed all {options.seeds} seeds' if passed else 'FAILED'}; "
                "with faults=True:"
            )
            ok = ok and passed
        ok = show_pair(buggy, fixed, options.seeds) and ok
        print()
    ok = show_properties(collector, options.seeds) and ok
    verdict = "every bug found, every fixed twin passed" if ok else "SOMETHING WENT WRONG"
    print(f"{verdict} ({elapsed:.1f} s of simulation, shrinking included)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
