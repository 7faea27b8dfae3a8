"""How many seeds each strategy needs to find each gallery bug.

For every bug of examples/gallery and every strategy (``fifo``, ``random``,
and any named on the command line), the buggy scenario is run from 20 base
seeds: base b tries seeds b*100000, b*100000+1, ... until the first failure
or the budget (1,000 seeds). The table gives the median and the worst count
of seeds tried up to and including the first failure, and how many bases
found it at all. Then each buggy scenario runs 1,000 times on the stock
asyncio loop (failures counted), and each fixed twin runs 10,000 seeds under
every strategy (any failure there is a false alarm).

Where this Python's stdlib still has a gallery bug, the stdlib class is
measured too, as an extra row.

    python bench/bugfinding.py                 # the full measurement (minutes)
    python bench/bugfinding.py --quick         # a smaller one (seconds)
    python bench/bugfinding.py random:cpu_max_cost=0.002,cpu_rate=1.0
    python bench/bugfinding.py --only-given --no-stock random:cpu_max_cost=0

A strategy is a name from simloop.strategies.STRATEGIES, optionally with
keyword arguments: ``name:key=value,key=value`` (numbers are floats).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import simloop
from examples.gallery import Bug, bugs
from simloop.strategies import STRATEGIES, Random, Strategy

BASE_STRIDE = 100_000


@dataclass(frozen=True)
class Settings:
    bases: int
    budget: int
    stock_runs: int
    fixed_seeds: int


FULL = Settings(bases=20, budget=1000, stock_runs=1000, fixed_seeds=10_000)
QUICK = Settings(bases=5, budget=200, stock_runs=100, fixed_seeds=1000)


@dataclass(frozen=True)
class Subject:
    """One row: a bug's scenario with one implementation."""

    bug_number: int
    label: str
    interleaving: str
    stock_hides: bool
    uses_stdlib: bool

    def bug(self) -> Bug:
        return next(bug for bug in bugs() if bug.number == self.bug_number)

    def implementation(self, twin: str) -> object:
        bug = self.bug()
        if twin == "fixed":
            return bug.fixed
        return bug.stdlib if self.uses_stdlib else bug.buggy


def subjects() -> list[Subject]:
    rows = []
    for bug in bugs():
        rows.append(Subject(bug.number, bug.label, bug.interleaving, bug.stock_hides, False))
        if bug.stdlib is not None and bug.stdlib_has_bug:
            name = getattr(bug.stdlib, "__qualname__", "stdlib")
            label = (
                f"{bug.label} (stdlib {name}, Python {sys.version_info[0]}.{sys.version_info[1]})"
            )
            rows.append(Subject(bug.number, label, bug.interleaving, bug.stock_hides, True))
    return rows


def parse_strategy(spec: str) -> Strategy:
    """``name`` or ``name:key=value,...`` as a Strategy instance."""
    name, _, arguments = spec.partition(":")
    if name not in STRATEGIES:
        raise SystemExit(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")
    options: dict[str, Any] = {}
    for item in filter(None, arguments.split(",")):
        key, _, value = item.partition("=")
        if value.lower() in ("true", "false"):
            options[key] = value.lower() == "true"
        elif key == "network":
            options[key] = value
        else:
            options[key] = float(value)
    return STRATEGIES[name](**options)


def for_bug(strategy: Strategy, bug: Bug) -> Strategy:
    """`strategy`, with faults on for a bug that needs them (as its test asks)."""
    if bug.faults and isinstance(strategy, Random):
        return strategy.with_world(faults=True)
    return strategy


#: Full garbage collections every this many runs: each finished SimLoop sits
#: in a reference cycle in the oldest generation, which automatic collection
#: (paused during runs) hardly ever reaches; without this a worker process
#: grows by about 80 KB per run (see the engine note in the gallery report).
COLLECT_EVERY = 500


def fails(scenario: Any, implementation: object, seed: int, strategy: Strategy) -> bool:
    if seed % COLLECT_EVERY == 0:
        gc.collect()
    try:
        simloop.run(scenario(implementation), seed=seed, strategy=strategy)
    except (AssertionError, simloop.SimulationError):
        return True
    return False


def seeds_to_failure(job: tuple[Subject, str, int, int]) -> int | None:
    """Seeds tried from base `base` up to the first failure, or None."""
    subject, spec, base, budget = job
    strategy = for_bug(parse_strategy(spec), subject.bug())
    scenario, buggy = subject.bug().scenario, subject.implementation("buggy")
    for offset in range(budget):
        if fails(scenario, buggy, base * BASE_STRIDE + offset, strategy):
            return offset + 1
    return None


def fixed_failures(job: tuple[Subject, str, int, int]) -> int:
    """Failures of the fixed twin on seeds start, start + step, ... below `stop`."""
    subject, spec, start, stop = job
    strategy = for_bug(parse_strategy(spec), subject.bug())
    scenario, fixed = subject.bug().scenario, subject.implementation("fixed")
    return sum(fails(scenario, fixed, seed, strategy) for seed in range(start, stop))


def stock_failures(subject: Subject, runs: int) -> int:
    scenario = subject.bug().scenario
    implementation = subject.implementation("buggy")
    failures = 0
    for _ in range(runs):
        try:
            asyncio.run(scenario(implementation))
        except AssertionError:
            failures += 1
    return failures


def summarize(counts: list[int | None], budget: int) -> str:
    found = [count for count in counts if count is not None]
    if not found:
        return "not found"
    # A base that never found it counts as "more than the budget" for the median.
    ranked = sorted(count if count is not None else budget + 1 for count in counts)
    median = statistics.median_low(ranked)
    median_text = f">{budget}" if median > budget else str(median)
    worst = "not found" if len(found) < len(counts) else str(max(found))
    return f"{median_text} / {worst} ({len(found)}/{len(counts)})"


def table(
    rows: Iterable[Subject],
    specs: list[str],
    found: dict[tuple[str, str], str],
    stock: dict[str, str],
    fixed: dict[tuple[str, str], str],
) -> str:
    header = ["bug", "needs", *[f"`{spec}`" for spec in specs], "stock asyncio", "fixed twin"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row.label, row.interleaving]
        cells += [found[row.label, spec] for spec in specs]
        cells.append(stock[row.label])
        cells.append(", ".join(fixed[row.label, spec] for spec in specs))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("strategies", nargs="*", help="more strategies: name[:key=value,...]")
    parser.add_argument("--quick", action="store_true", help="fewer bases, seeds and runs")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--bugs", help="comma-separated bug numbers (default: all)")
    parser.add_argument("--no-stock", action="store_true", help="skip the stock-loop runs")
    parser.add_argument(
        "--only-given",
        action="store_true",
        help="measure only the strategies named on the command line (not fifo and random)",
    )
    options = parser.parse_args(argv)
    settings = QUICK if options.quick else FULL
    specs = [*([] if options.only_given else ["fifo", "random"]), *options.strategies]
    if not specs:
        parser.error("--only-given needs at least one strategy")
    for spec in specs:
        parse_strategy(spec)
    rows = subjects()
    if options.bugs:
        wanted = {int(number) for number in options.bugs.split(",")}
        rows = [row for row in rows if row.bug_number in wanted]
    started = time.perf_counter()

    found: dict[tuple[str, str], str] = {}
    fixed: dict[tuple[str, str], str] = {}
    with ProcessPoolExecutor(options.jobs) as pool:
        for row in rows:
            for spec in specs:
                jobs = [(row, spec, base, settings.budget) for base in range(settings.bases)]
                counts = list(pool.map(seeds_to_failure, jobs))
                found[row.label, spec] = summarize(counts, settings.budget)
                print(f"  {row.label} {spec}: {found[row.label, spec]}", file=sys.stderr)
            shard = max(1, settings.fixed_seeds // (options.jobs * 4))
            for spec in specs:
                jobs = [
                    (row, spec, start, min(start + shard, settings.fixed_seeds))
                    for start in range(0, settings.fixed_seeds, shard)
                ]
                failures = sum(pool.map(fixed_failures, jobs))
                fixed[row.label, spec] = f"{failures}/{settings.fixed_seeds}"
    stock: dict[str, str] = {}
    for row in rows:
        if options.no_stock:
            stock[row.label] = "-"
            continue
        failures = stock_failures(row, settings.stock_runs)
        stock[row.label] = f"{failures}/{settings.stock_runs}"
        print(f"  {row.label} stock: {stock[row.label]}", file=sys.stderr)

    elapsed = time.perf_counter() - started
    python = ".".join(map(str, sys.version_info[:3]))
    print(
        f"Seeds to the first failure, median / worst (bases that found it), over "
        f"{settings.bases} base seeds with a budget of {settings.budget} seeds each; "
        f"stock asyncio: failures in {settings.stock_runs} runs of the buggy scenario; "
        f"fixed twin: failures in {settings.fixed_seeds} seeds per strategy "
        f"({', '.join(specs)}). Python {python}, {elapsed:.0f} s.\n"
    )
    print(table(rows, specs, found, stock, fixed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
