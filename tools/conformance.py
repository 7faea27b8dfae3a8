"""Run CPython's own asyncio tests with every loop made by SimLoop.

    python tools/conformance.py [--strategy fifo|random] [--seed N] [--seeds K]
                                [-k NAME] [--reorder-rate R] [--json FILE] [module ...]

Each test module runs in its own interpreter with `simloop.EventLoopPolicy`
installed (some modules reset the policy when they finish). The n-th loop a
module creates gets seed ``seed + n``. Prints one line per module and a
summary; with ``--verbose``, every failing test and why. Exit status 0 when
every test passes.

``--seeds K`` runs the whole list K times, with seeds N .. N+K-1, and ends
with a table of every test that failed under any of them and how often. Each
failure names the seed of the loop the test ran on: that test run alone
(``-k NAME`` keeps the tests whose id ends with ``.NAME``) with ``--seed`` set
to that loop seed gets the same loop, so ``--strategy random --seed 45
-k LockTests.test_acquire test_locks`` replays one failure. ``--reorder-rate
R`` pins how often the random strategy reorders tasks (0: never). ``--json
FILE`` writes every outcome. docs/conformance.md has the results.

Tests that build CPython's own `test_utils.TestLoop` instead of asking the
policy for a loop would not exercise simloop. Where such a test does not
script time (``new_test_loop()`` without a generator, a loop whose clock never
moves) the runner gives it a SimLoop from the policy instead (turn that off
with ``--keep-test-loop``). The report counts, per module, how many tests ran
on a SimLoop.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

MODULES = (
    "test_taskgroups",
    "test_timeouts",
    "test_waitfor",
    "test_locks",
    "test_queues",
    "test_futures",
    "test_tasks",
)

_CHILD = r"""
import asyncio, json, sys, unittest, importlib, warnings
import simloop

strategy, seed, module_name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
swap_test_loop = sys.argv[4] == "swap"
if sys.argv[5] != "-":
    strategy = simloop.strategies.Random(reorder_rate=float(sys.argv[5]))
patterns = sys.argv[6:]
made = []

class CountingPolicy(simloop.EventLoopPolicy):
    def new_event_loop(self):
        loop = super().new_event_loop()
        made.append(loop.seed)
        return loop

policy = CountingPolicy(seed=seed, strategy=strategy)
asyncio.set_event_loop_policy(policy)
module = importlib.import_module("test.test_asyncio." + module_name)
if swap_test_loop:
    # CPython's TestLoop without a time-scripting generator is just a loop
    # with a frozen clock: give those tests a SimLoop from the policy instead.
    from test.test_asyncio import utils as test_utils
    scripted = test_utils.TestCase.new_test_loop
    def new_test_loop(self, gen=None):
        if gen is not None:
            return scripted(self, gen)
        loop = policy.new_event_loop()
        self.set_event_loop(loop)
        return loop
    test_utils.TestCase.new_test_loop = new_test_loop
suite = unittest.defaultTestLoader.loadTestsFromModule(module)

def selected(suite):
    kept = unittest.TestSuite()
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            kept.addTest(selected(test))
        elif any(test.id().endswith("." + pattern) for pattern in patterns):
            kept.addTest(test)
    return kept

if patterns:
    suite = selected(suite)

class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.outcomes = []
        self._loops_before = 0
    def startTest(self, test):
        super().startTest(test)
        self._loops_before = len(made)
    def _record(self, test, outcome, detail=""):
        self.outcomes.append({
            "test": test.id(), "outcome": outcome, "detail": detail[-3000:],
            "simloop": len(made) > self._loops_before,
            "loop_seeds": made[self._loops_before:],
        })
    def addSuccess(self, test):
        super().addSuccess(test); self._record(test, "pass")
    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "fail", self._exc_info_to_string(err, test))
    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test))
    def addSkip(self, test, reason):
        super().addSkip(test, reason); self._record(test, "skip", reason)
    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err); self._record(test, "pass", "expected failure")
    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test); self._record(test, "fail", "unexpected success")
    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "fail" if issubclass(err[0], test.failureException) else "error"
            self._record(subtest, kind, self._exc_info_to_string(err, test))

result = Result()

# A deadlock in a test's tear-down (where the stock loop would hang forever)
# escapes unittest's own error handling; count it against that test, keeping
# the test's own failure (a failed test often leaves the tasks that then hang).
def guarded_call(self, result_=None, *args, **kwargs):
    try:
        return unguarded_call(self, result_, *args, **kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException:
        earlier = [o for o in result.outcomes if o["test"] == self.id()]
        result.outcomes = [o for o in result.outcomes if o["test"] != self.id()]
        result.addError(self, sys.exc_info())
        if earlier and earlier[0]["outcome"] != "pass":
            # keep why the test itself failed: its leftovers are what hung
            last = result.outcomes[-1]
            last["detail"] = (
                earlier[0]["detail"][-1500:] + "\nthen, in tear-down:\n" + last["detail"][-1500:]
            )

unguarded_call = unittest.TestCase.__call__
unittest.TestCase.__call__ = guarded_call
# module-level fixtures (setUpModule/tearDownModule) run through a TestSuite
unittest.TestSuite([suite]).run(result)
print("@@RESULT@@" + json.dumps({"outcomes": result.outcomes, "loops": len(made)}))
"""


def run_module(module: str, seed: int, options: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    timeout = options.timeout
    reorder_rate = "-" if options.reorder_rate is None else str(options.reorder_rate)
    command = [sys.executable, "-c", _CHILD, options.strategy, str(seed), module]
    command += ["keep" if options.keep_test_loop else "swap", reorder_rate, *options.k]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"module": module, "error": f"timed out after {timeout:g} s", "outcomes": []}
    for line in completed.stdout.splitlines():
        if line.startswith("@@RESULT@@"):
            data: dict[str, Any] = json.loads(line[len("@@RESULT@@") :])
            data["module"] = module
            data["seconds"] = time.monotonic() - started
            return data
    return {
        "module": module,
        "error": f"no result (exit {completed.returncode}):\n{completed.stderr[-3000:]}",
        "outcomes": [],
    }


def run_seed(options: argparse.Namespace, seed: int) -> list[dict[str, Any]]:
    """Run every module once with `seed`; print the per-module lines and summary."""
    strategy = options.strategy
    if options.reorder_rate is not None:
        strategy += f" (reorder rate {options.reorder_rate:g})"
    print(
        f"CPython {sys.version.split()[0]} asyncio tests on SimLoop, "
        f"strategy {strategy}, seed {seed}"
    )
    totals = {"pass": 0, "fail": 0, "error": 0, "skip": 0}
    on_simloop = 0
    results = []
    for module in options.modules:
        data = run_module(module, seed, options)
        data["seed"] = seed
        results.append(data)
        if "error" in data:
            print(f"  {module:<18} BROKEN: {data['error']}")
            totals["error"] += 1
            continue
        outcomes = data["outcomes"]
        counts = {kind: sum(1 for o in outcomes if o["outcome"] == kind) for kind in totals}
        for kind, count in counts.items():
            totals[kind] += count
        ran_here = sum(1 for o in outcomes if o["simloop"] and o["outcome"] != "skip")
        on_simloop += ran_here
        print(
            f"  {module:<18} {counts['pass']:>4} passed {counts['fail'] + counts['error']:>3} "
            f"failed {counts['skip']:>3} skipped  ({ran_here} on a SimLoop, "
            f"{data['loops']} loops, {data['seconds']:.1f} s)"
        )
    ran = totals["pass"] + totals["fail"] + totals["error"]
    rate = 100.0 * totals["pass"] / ran if ran else 0.0
    print(
        f"total: {totals['pass']}/{ran} passed ({rate:.1f}%), {totals['skip']} skipped; "
        f"{on_simloop} of the tests that ran asked the policy for a SimLoop"
    )
    for data in results:
        for failure in data["outcomes"]:
            if failure["outcome"] not in ("fail", "error"):
                continue
            print(f"  FAILED {failure['test']}  (loop seed {_seeds(failure['loop_seeds'])})")
            if options.verbose:
                print("    " + str(failure["detail"]).replace("\n", "\n    "))
    return results


def _seeds(seeds: list[int]) -> str:
    return ",".join(map(str, seeds)) or "none"


def print_aggregate(runs: list[list[dict[str, Any]]]) -> None:
    """Every test that failed under any seed: how often, and the loop seeds to replay it."""
    failed: dict[str, list[str]] = {}
    broken = 0
    for results in runs:
        for data in results:
            broken += "error" in data
            for outcome in data["outcomes"]:
                if outcome["outcome"] in ("fail", "error"):
                    replay = _seeds(outcome["loop_seeds"])
                    failed.setdefault(outcome["test"], []).append(replay)
    print(
        f"\nover {len(runs)} seeds: {len(failed)} distinct tests failed at least once, "
        f"{broken} module runs broken"
    )
    prefix = "test.test_asyncio."
    for test, replays in sorted(failed.items()):
        name = test.removeprefix(prefix)
        print(f"  {len(replays):>3}/{len(runs)}  {name}  (loop seeds {' '.join(replays)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES))
    parser.add_argument("--strategy", default="fifo", choices=("fifo", "random"))
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--seeds", type=int, default=1, help="how many seeds, from --seed on")
    parser.add_argument(
        "-k",
        action="append",
        default=[],
        metavar="NAME",
        help="only tests whose id ends with .NAME, e.g. LockTests.test_acquire",
    )
    parser.add_argument(
        "--reorder-rate",
        type=float,
        metavar="R",
        help="random only: pin the share of iterations whose tasks are reordered (0: never)",
    )
    parser.add_argument("--json", metavar="FILE", help="write every outcome to FILE")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument(
        "--keep-test-loop",
        action="store_true",
        help="leave CPython's TestLoop in tests that ask for one without a time script",
    )
    options = parser.parse_args()
    if options.reorder_rate is not None and options.strategy != "random":
        parser.error("--reorder-rate needs --strategy random")
    runs = [run_seed(options, seed) for seed in range(options.seed, options.seed + options.seeds)]
    if options.seeds > 1:
        print_aggregate(runs)
    if options.json:
        with open(options.json, "w") as file:
            json.dump(
                {"python": sys.version.split()[0], "strategy": options.strategy, "runs": runs},
                file,
                indent=1,
            )
    clean = all(
        "error" not in data and all(o["outcome"] in ("pass", "skip") for o in data["outcomes"])
        for results in runs
        for data in results
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
