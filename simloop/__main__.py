"""simloop's command line, for programs outside pytest.

    python -m simloop run  pkg.module:main --seeds 1000 [--strategy random] [--faults]
    python -m simloop explain pkg.module:main --seed 17 [--save schedule.json] [--strict]
    python -m simloop replay schedule.json [--html DIR] [--last 40]

`TARGET` names an async function taking no arguments (``module:function``),
imported from the current directory. `run` sweeps seeds and stops at the
first failure; `explain` shrinks a failing seed to its simplest schedule and
can save it; `replay` re-runs a saved schedule and prints its timeline (and
writes the Chrome trace and HTML timeline with ``--html``). As in pytest,
``--faults`` adds network faults, ``--network`` pins the latency profile and
``--strict`` fails a run on leftovers and on errors that reached the loop's
exception handler.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from ._explain import explain, replay_recorded
from ._run import run
from ._timeline import format_timeline, write_exports
from .strategies import NETWORK_KINDS, STRATEGIES, ChoiceLog, Random, Strategy

Main = Callable[[], Coroutine[Any, Any, Any]]


def load_target(target: str) -> Main:
    """The async function `module:function` names."""
    module_name, _, function_name = target.partition(":")
    if not module_name or not function_name:
        raise SystemExit(f"error: target {target!r} is not of the form module:function")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SystemExit(f"error: cannot import {module_name!r}: {error}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise SystemExit(f"error: {module_name!r} has no function {function_name!r}")
    return function  # type: ignore[no-any-return]


def world(options: argparse.Namespace) -> str | Strategy:
    """The strategy the options name, with faults and the network as asked."""
    if not options.faults and options.network is None:
        return str(options.strategy)
    if options.strategy != "random":
        raise SystemExit(
            f"error: --faults and --network need --strategy random, not {options.strategy!r}"
        )
    return Random(faults=options.faults, network=options.network)


def repeated(options: argparse.Namespace) -> str:
    """The options that choose the schedules, to repeat in a printed command."""
    flags = [f"--strategy {options.strategy}"] if options.strategy != "random" else []
    if options.faults:
        flags.append("--faults")
    if options.network is not None:
        flags.append(f"--network {options.network}")
    if options.strict:
        flags.append("--strict")
    return "".join(f" {flag}" for flag in flags)


def command_run(options: argparse.Namespace) -> int:
    main = load_target(options.target)
    strategy = world(options)
    started = time.perf_counter()
    for seed in range(options.first, options.first + options.seeds):
        try:
            run(main(), seed=seed, strategy=strategy, strict=options.strict)
        except Exception:
            traceback.print_exc()
            print(
                f"\nseed {seed} fails ({seed - options.first} seeds passed before it); "
                f"explain it with:\n  python -m simloop explain {options.target} --seed {seed}"
                + repeated(options)
            )
            return 1
    elapsed = time.perf_counter() - started
    print(f"{options.seeds} seeds passed ({options.seeds / elapsed:.0f} seeds/s)")
    return 0


def command_explain(options: argparse.Namespace) -> int:
    main = load_target(options.target)
    explanation = explain(
        main, options.seed, strategy=world(options), budget=options.budget, strict=options.strict
    )
    if explanation is None:
        print(f"seed {options.seed} passes: nothing to explain")
        return 0
    print(explanation)
    if options.save:
        text = explanation.schedule.to_json(
            target=options.target, seed=options.seed, strategy=options.strategy
        )
        Path(options.save).write_text(text, encoding="utf-8")
        print(f"saved; replay with:\n  python -m simloop replay {options.save}")
    return 1


def command_replay(options: argparse.Namespace) -> int:
    try:
        log, metadata = ChoiceLog.from_json(Path(options.schedule).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SystemExit(f"error: cannot read schedule {options.schedule!r}: {error}") from None
    target = metadata.get("target")
    test = metadata.get("test")
    if not isinstance(target, str) and isinstance(test, str):
        raise SystemExit(
            f"error: {options.schedule!r} is a schedule of the pytest test {test}; "
            f"replay it with pytest (from the test's rootdir):\n"
            f"  pytest '{test}' --simloop-replay={options.schedule}"
        )
    if not isinstance(target, str):
        raise SystemExit(
            f"error: {options.schedule!r} names no target (module:function); schedules "
            "saved by the pytest plugin replay with: pytest NODEID --simloop-replay=FILE"
        )
    seed = metadata.get("seed", 0)
    loop = replay_recorded(load_target(target), log, seed if isinstance(seed, int) else 0)
    events = loop.trace.events or []
    print(format_timeline(events, last=options.last))
    for deviation in loop.trace.deviations:
        print(
            f"  differs from FIFO: {deviation.kind} at t={deviation.virtual_time:.6f}s: "
            f"{deviation.detail}"
        )
    if options.html:
        for path in write_exports(events, options.html, Path(options.schedule).stem, target):
            print(f"wrote {path}")
    return 0


def add_world_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--faults",
        action="store_true",
        help="inject network faults too (refused connects, resets, loss, partitions)",
    )
    command.add_argument(
        "--network", choices=NETWORK_KINDS, help="pin the latency profile (default: per seed)"
    )
    command.add_argument(
        "--strict",
        action="store_true",
        help="fail on tasks left pending, transports left open and errors that reached "
        "the loop's exception handler (default: cleaned up and logged, as asyncio.run does)",
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m simloop", description=__doc__.split("\n\n")[0])
    commands = root.add_subparsers(dest="command", required=True)
    strategies = sorted(STRATEGIES)

    sweep = commands.add_parser("run", help="run a target under many seeds")
    sweep.add_argument("target", help="module:function, an async function taking no arguments")
    sweep.add_argument("--seeds", type=int, default=100, help="how many seeds (default 100)")
    sweep.add_argument("--first", type=int, default=0, help="the first seed (default 0)")
    sweep.add_argument("--strategy", default="random", choices=strategies)
    add_world_options(sweep)
    sweep.set_defaults(handler=command_run)

    why = commands.add_parser("explain", help="shrink a failing seed to its simplest schedule")
    why.add_argument("target")
    why.add_argument("--seed", type=int, required=True)
    why.add_argument("--strategy", default="random", choices=strategies)
    why.add_argument("--budget", type=int, default=300, help="most replays to spend")
    why.add_argument("--save", metavar="FILE", help="save the simplest schedule as JSON")
    add_world_options(why)
    why.set_defaults(handler=command_explain)

    again = commands.add_parser("replay", help="replay a saved schedule, print its timeline")
    again.add_argument("schedule", help="a schedule saved by `explain --save`")
    again.add_argument("--last", type=int, default=40, help="events shown (0: all)")
    again.add_argument("--html", metavar="DIR", help="also write a Chrome trace and an HTML page")
    again.set_defaults(handler=command_replay)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    options = parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = options.handler
    return handler(options)


if __name__ == "__main__":
    sys.exit(main())
