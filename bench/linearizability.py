"""How long the linearizability checker takes on histories of realistic size.

    .venv/bin/python bench/linearizability.py [--repeat 3] [--max-states 200000]
                                              [--workload counter]

Histories come from simulated clients that call one operation at a time on a
correct object, each operation taking effect at a random point inside its
interval, so every "correct" history is linearizable. A "broken" history is
the same with one result replaced by what another call of that kind got (a
stale read, an item delivered twice), which usually makes it not
linearizable; its time includes shrinking to a minimal failing part.

Two paces: "busy" clients issue the next call 0-3 time units after the last
one returned and calls last 1-10 (so nearly every call overlaps one from each
other client); "paced" clients wait 0-10 and calls last 1-5. 1% of calls
never return (timeouts). A last row checks a history recorded from asyncio
clients on simloop, in virtual time. Prints the median of --repeat runs (one
run when it takes over a second); asserts nothing about time. A search gives
up after --max-states states (the library's default is 1,000,000), and the
row says "undecided".
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from argparse import ArgumentParser, Namespace
from collections.abc import Callable
from dataclasses import dataclass

import simloop
from simloop.check import (
    Counter,
    FifoQueue,
    History,
    KeyValueMap,
    Model,
    NotLinearizable,
    Register,
    Undecided,
    assert_linearizable,
)

Call = tuple[str, tuple[object, ...]]


@dataclass(frozen=True)
class Pace:
    name: str
    duration: float  # calls last 1 to this many time units
    gap: float  # a client waits 0 to this many time units between calls


PACES = [Pace("busy", 10.0, 3.0), Pace("paced", 5.0, 10.0)]
PENDING = 0.01


@dataclass(frozen=True)
class Workload:
    name: str
    model: Callable[[], Model]
    call: Callable[[random.Random], Call]
    observes: frozenset[str]  # operations whose result a broken history changes


WORKLOADS = [
    Workload(
        "register",
        lambda: Register(0),
        lambda rng: rng.choice([("read", ()), ("write", (rng.randrange(5),))]),
        frozenset({"read"}),
    ),
    Workload(
        "register+cas",
        lambda: Register(0),
        lambda rng: rng.choice(
            [
                ("read", ()),
                ("write", (rng.randrange(5),)),
                ("cas", (rng.randrange(5), rng.randrange(5))),
            ]
        ),
        frozenset({"read"}),
    ),
    Workload(
        "key-value map (8 keys)",
        KeyValueMap,
        lambda rng: rng.choice(
            [
                ("get", (rng.randrange(8),)),
                ("put", (rng.randrange(8), rng.randrange(5))),
            ]
        ),
        frozenset({"get"}),
    ),
    Workload(
        "fifo queue",
        FifoQueue,
        # Unique items, as queue tests usually enqueue: equal items make the
        # order of concurrent enqueues ambiguous, and the search longer.
        lambda rng: ("enqueue", (rng.getrandbits(48),)) if rng.random() < 0.5 else ("dequeue", ()),
        frozenset({"dequeue"}),
    ),
    Workload(
        "counter",
        Counter,
        lambda rng: rng.choice([("increment", (1,)), ("read", ())]),
        frozenset({"read"}),
    ),
]


def simulated_history(
    workload: Workload, pace: Pace, operations: int, clients: int, seed: int, broken: bool
) -> History:
    """Clients call one operation at a time, each taking effect at a random
    point inside its interval; 1% of them never complete."""
    rng = random.Random(seed)
    obj = workload.model()
    calls: list[tuple[float, float, float, int, Call, bool]] = []
    free_at = [rng.uniform(0, 5) for _ in range(clients)]
    for _ in range(operations):
        client = min(range(clients), key=free_at.__getitem__)
        start = free_at[client]
        end = start + rng.uniform(1, pace.duration)
        pending = rng.random() < PENDING
        calls.append((start, rng.uniform(start, end), end, client, workload.call(rng), pending))
        free_at[client] = end + rng.uniform(0, pace.gap)
    results: dict[int, object] = {}
    for index in sorted(range(len(calls)), key=lambda i: calls[i][1]):
        name, args = calls[index][4]
        results[index] = getattr(obj, name)(*args)
    if broken:
        observed = [i for i, call in enumerate(calls) if call[4][0] in workload.observes]
        victim = rng.choice(observed[len(observed) // 2 :])
        # A plausible wrong answer: one that another call of that kind got.
        others = [results[i] for i in observed if results[i] != results[victim]]
        results[victim] = rng.choice(others)
    events = []
    for index, (start, _, end, _, _, pending) in enumerate(calls):
        events.append((start, 0, index))
        if not pending:
            events.append((end, 1, index))
    history = History()
    recorded = {}
    for moment, kind, index in sorted(events):
        start, _, _, client, (name, args), _ = calls[index]
        if kind == 0:
            recorded[index] = history.invoke(client, name, *args, at=moment)
        else:
            recorded[index].complete(results[index], at=moment)
    return history


def simloop_history(operations: int, clients: int, seed: int) -> History:
    """asyncio clients on simloop reading and writing a register that takes a
    random virtual time to answer."""
    history = History()
    value = 0

    async def client(name: str, rng: random.Random) -> None:
        nonlocal value
        for _ in range(operations // clients):
            if rng.random() < 0.5:
                with history.record(name, "read") as op:
                    await asyncio.sleep(rng.uniform(0, 0.01))
                    op.complete(value)
                    await asyncio.sleep(rng.uniform(0, 0.01))
            else:
                written = rng.randrange(5)
                with history.record(name, "write", written):
                    await asyncio.sleep(rng.uniform(0, 0.01))
                    value = written
                    await asyncio.sleep(rng.uniform(0, 0.01))

    async def main() -> None:
        rng = random.Random(seed)
        async with asyncio.TaskGroup() as group:
            for number in range(clients):
                group.create_task(client(f"c{number}", random.Random(rng.random())))

    simloop.run(main(), seed=seed)
    return history


def median_seconds(check: Callable[[], object], repeat: int) -> float:
    """The median time of `check` over `repeat` runs (one run if it took a second)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        check()
        times.append(time.perf_counter() - started)
        if times[-1] > 1.0:
            break
    return statistics.median(times)


def checked(history: History, model: Model, max_states: int) -> str:
    """The verdict, as printed: ok, the size of the minimal failing part, or undecided."""
    try:
        assert_linearizable(history, model, max_states=max_states)
    except NotLinearizable as violation:
        return f"violation, {len(violation.minimal)} ops shown"
    except Undecided:
        return "undecided"
    return "ok"


def row(history: History, model: Callable[[], Model], options: Namespace) -> str:
    verdict = checked(history, model(), options.max_states)
    seconds = median_seconds(lambda: checked(history, model(), options.max_states), options.repeat)
    return f"{seconds * 1000:>9.1f}ms {verdict:<24}"


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-states", type=int, default=200_000)
    parser.add_argument("--workload", help="only the workloads whose name contains this")
    options = parser.parse_args()
    print(
        f"{'workload':<24}{'pace':<7}{'ops':>5}{'clients':>8}"
        f"{'correct':>11} {'verdict':<24}{'broken':>11} verdict"
    )
    for workload in WORKLOADS:
        if options.workload and options.workload not in workload.name:
            continue
        for pace in PACES:
            for operations, clients in [(100, 3), (300, 3), (300, 5), (300, 10), (1000, 5)]:
                correct = simulated_history(workload, pace, operations, clients, 1, broken=False)
                broken = simulated_history(workload, pace, operations, clients, 1, broken=True)
                print(
                    f"{workload.name:<24}{pace.name:<7}{operations:>5}{clients:>8}"
                    f"{row(correct, workload.model, options)}"
                    f"{row(broken, workload.model, options)}",
                    flush=True,
                )
    recorded = simloop_history(300, 5, seed=3)
    print(
        f"{'register on simloop':<24}{'':<7}{len(recorded):>5}{5:>8}"
        f"{row(recorded, lambda: Register(0), options)}"
    )


if __name__ == "__main__":
    main()
