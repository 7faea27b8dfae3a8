"""A thousand seeds of the echo exchange, with faults on.

    python bench/echo_seeds.py [--seeds 1000] [--first 0] [--healthy]

Checks on every seed that no byte is lost, duplicated or reordered inside a
connection, that no protocol callback comes after connection_lost, and that
no transport is left open; prints how many connections completed, were cut
short by an injected fault, or were refused. Exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "net"))

from echo_scenario import run_seed

from simloop.strategies import Random


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--healthy", action="store_true", help="the default world: no faults")
    options = parser.parse_args()
    strategy = Random(faults=not options.healthy)
    started = time.perf_counter()
    complete = cut_short = refused = 0
    failures = 0
    for seed in range(options.first, options.first + options.seeds):
        outcome = run_seed(seed, strategy)
        complete += outcome.complete
        cut_short += outcome.cut_short
        refused += outcome.refused
        if outcome.violations or outcome.open_left:
            failures += 1
            print(f"seed {seed}: {outcome.violations} open: {outcome.open_left}")
    elapsed = time.perf_counter() - started
    print(
        f"{options.seeds} seeds in {elapsed:.1f} s: {failures} with a violation; "
        f"connections complete {complete}, cut short by a fault {cut_short}, refused {refused}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
