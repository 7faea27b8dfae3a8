"""The loop: virtual time, asyncio semantics, what a schedule may vary.

Covers simloop/_core.py, simloop/_batches.py, simloop/_loop.py.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import weakref
from typing import Any

import pytest

import simloop
from simloop._run import run_on
from simloop.strategies import Fifo, Random


async def _sleep_and_report(delay: float) -> float:
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.sleep(delay)
    return loop.time() - start


def test_an_hour_of_sleep_takes_no_real_time() -> None:
    started = time.monotonic()
    assert simloop.run(_sleep_and_report(3600)) == 3600
    assert time.monotonic() - started < 1


def test_virtual_time_jumps_only_when_nothing_can_run() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        seen = []
        for _ in range(3):
            await asyncio.sleep(0)
            seen.append(loop.time())
        await asyncio.sleep(2.5)
        seen.append(loop.time())
        return seen

    assert simloop.run(main(), strategy="fifo") == [0.0, 0.0, 0.0, 2.5]


def test_timeout_fires_at_its_deadline(run_on: Any) -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.005):
                await asyncio.sleep(10)
        return loop.time() - start

    elapsed = run_on(main())
    if run_on.__name__ == "run_stock":
        assert 0.005 <= elapsed < 1
    else:
        assert elapsed == pytest.approx(0.005, abs=0.001)


def test_taskgroup_and_gather_behave_as_on_the_stock_loop(run_on: Any) -> None:
    async def child(index: int) -> int:
        await asyncio.sleep(0.001 * (index % 3))
        if index == 4:
            raise ValueError("four")
        return index

    async def main() -> tuple[list[Any], str]:
        gathered = await asyncio.gather(*(child(i) for i in range(6)), return_exceptions=True)
        try:
            async with asyncio.TaskGroup() as group:
                for index in range(6):
                    group.create_task(child(index))
        except ExceptionGroup as error:
            return [repr(x) for x in gathered], repr(error.exceptions)
        return [], ""

    assert run_on(main()) == (
        ["0", "1", "2", "3", "ValueError('four')", "5"],
        "(ValueError('four'),)",
    )


def test_repr_shows_seed_strategy_and_virtual_time() -> None:
    loop = simloop.SimLoop(seed=42, strategy="fifo")
    try:
        loop.run_until_complete(asyncio.sleep(1.5))
        assert repr(loop) == "<SimLoop seed=42 strategy=fifo t=1.500000 running=False closed=False>"
    finally:
        loop.close()


def test_run_returns_the_result_and_raises_the_exception() -> None:
    async def fails() -> None:
        await asyncio.sleep(1)
        raise KeyError("boom")

    async def answer() -> int:
        return 42

    assert simloop.run(answer()) == 42
    with pytest.raises(KeyError, match="boom"):
        simloop.run(fails())


def test_pending_tasks_are_cancelled_when_main_returns() -> None:
    cancelled = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        asyncio.get_running_loop().create_task(forever())
        await asyncio.sleep(1)

    simloop.run(main())
    assert cancelled == [True]


def test_tasks_get_names_from_their_loop_not_a_process_wide_counter() -> None:
    async def main() -> list[str]:
        tasks = [asyncio.create_task(asyncio.sleep(0)) for _ in range(3)]
        await asyncio.gather(*tasks)
        named = asyncio.create_task(asyncio.sleep(0), name="worker")
        await named
        return [task.get_name() for task in [*tasks, named]]

    first = simloop.run(main())
    asyncio.run(asyncio.sleep(0))  # the stock loop advances asyncio's counter
    assert simloop.run(main()) == first == ["Task-2", "Task-3", "Task-4", "worker"]


# -- what a schedule may vary --------------------------------------------


def _callback_order(strategy: Any, seed: int) -> list[str]:
    """Plain callbacks queued in one iteration, mixed with task wake-ups."""

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        order: list[str] = []

        async def task(name: str) -> None:
            await asyncio.sleep(0)
            order.append(name)

        tasks = [asyncio.create_task(task(f"t{i}")) for i in range(4)]
        await asyncio.sleep(0)  # every task is now parked on sleep(0)
        for index in range(4):
            loop.call_soon(order.append, f"c{index}")
        await asyncio.gather(*tasks)
        return order

    return simloop.run(main(), seed=seed, strategy=strategy)  # type: ignore[no-any-return]


def test_plain_callbacks_keep_fifo_order_under_every_seed() -> None:
    for seed in range(50):
        order = _callback_order("random", seed)
        callbacks = [name for name in order if name.startswith("c")]
        assert callbacks == ["c0", "c1", "c2", "c3"], (seed, order)


def test_random_varies_the_order_of_tasks_woken_together() -> None:
    orders = {tuple(_callback_order(Random(reorder_rate=1.0), seed)) for seed in range(40)}
    task_orders = {tuple(name for name in order if name.startswith("t")) for order in orders}
    assert len(task_orders) > 5
    fifo = _callback_order("fifo", 0)
    assert [name for name in fifo if name.startswith("t")] == ["t0", "t1", "t2", "t3"]


def test_a_tasks_own_steps_never_change_order() -> None:
    async def main() -> list[tuple[str, int]]:
        steps: list[tuple[str, int]] = []

        async def task(name: str) -> None:
            for index in range(20):
                steps.append((name, index))
                await asyncio.sleep(0)

        await asyncio.gather(*(task(f"t{i}") for i in range(5)))
        return steps

    for seed in range(20):
        steps = simloop.run(main(), seed=seed)
        for name in {name for name, _ in steps}:
            assert [index for who, index in steps if who == name] == list(range(20))


def _timer_order(strategy: Any, seed: int) -> list[int]:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        fired: list[int] = []
        for index in range(6):
            loop.call_at(loop.time() + 1, fired.append, index)
        await asyncio.sleep(2)
        return fired

    return simloop.run(main(), seed=seed, strategy=strategy)  # type: ignore[no-any-return]


def test_fifo_fires_timers_due_together_in_scheduling_order() -> None:
    assert _timer_order("fifo", 0) == [0, 1, 2, 3, 4, 5]


def test_random_fires_timers_due_together_in_seeded_orders() -> None:
    orders = {tuple(_timer_order("random", seed)) for seed in range(30)}
    assert len(orders) > 10
    assert all(sorted(order) == [0, 1, 2, 3, 4, 5] for order in orders)
    assert _timer_order("random", 3) == _timer_order("random", 3)


def test_cpu_cost_makes_a_due_timer_fire_late_as_on_a_busy_loop() -> None:
    """asyncio looks for due timers once per iteration. When callbacks take CPU
    time, a timer can come due during an iteration and then run after the
    callbacks that iteration queued, although they were queued after its
    deadline. Virtual CPU cost reproduces exactly that, and nothing else."""

    async def main() -> tuple[float, list[tuple[str, float]]]:
        loop = asyncio.get_running_loop()
        events: list[tuple[str, float]] = []
        deadline = loop.time() + 0.0005
        loop.call_at(deadline, lambda: events.append(("timer", loop.time())))

        def busy() -> None:
            events.append(("busy", loop.time()))
            loop.call_soon(lambda: events.append(("queued by busy", loop.time())))

        loop.call_soon(busy)
        await asyncio.sleep(0.01)
        return deadline, events

    deadline, events = simloop.run(main(), strategy="fifo")
    assert [name for name, _ in events] == ["busy", "queued by busy", "timer"]
    assert events[-1][1] == deadline  # an idle loop fires a timer on time

    late = Random(cpu_max_cost=0.001, cpu_rate=1.0, reorder_rate=0.0)
    fired_late = 0
    for seed in range(40):
        deadline, events = simloop.run(main(), seed=seed, strategy=late)
        names = [name for name, _ in events]
        assert names.index("busy") < names.index("queued by busy")  # FIFO holds
        timer_at = dict(events)["timer"]
        assert timer_at >= deadline  # never early
        if names[-1] == "timer" and timer_at > deadline:
            fired_late += 1
    assert fired_late > 0


def test_time_advances_with_cpu_cost_only_under_strategies_that_charge_it() -> None:
    async def spin() -> float:
        loop = asyncio.get_running_loop()
        for _ in range(100):
            await asyncio.sleep(0)
        return loop.time()

    assert simloop.run(spin(), strategy="fifo") == 0.0
    busy = Random(cpu_max_cost=0.001, cpu_rate=1.0)
    assert 0.0 < simloop.run(spin(), strategy=busy) < 0.2


@pytest.mark.skipif(sys.version_info < (3, 12), reason="eager task factories are new in 3.12")
def test_eager_task_factory_runs_the_first_step_at_creation() -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(asyncio.eager_task_factory)  # type: ignore[attr-defined]
        events: list[str] = []

        async def child() -> None:
            events.append("child starts")
            await asyncio.sleep(0)
            events.append("child resumes")

        task = asyncio.create_task(child())
        events.append("after create_task")
        await task
        assert isinstance(task, simloop._tasks.SimTask)
        return events

    expected = ["child starts", "after create_task", "child resumes"]
    for seed in range(5):
        assert simloop.run(main(), seed=seed) == expected


def test_strategies_are_objects_behind_one_interface() -> None:
    fifo = simloop.SimLoop(strategy="fifo")
    assert isinstance(fifo.strategy, Fifo)
    fifo.close()
    custom = Random(reorder_rate=0.25)
    loop = simloop.SimLoop(strategy=custom)
    assert loop.strategy is custom
    assert "25%" in loop.choices.describe()
    loop.close()


def test_a_finished_run_is_freed_without_the_garbage_collector() -> None:
    """100,000 seeds in one process must not pile up loops, tasks or frames
    waiting for a collection: a finished run is freed by reference counting."""
    tasks: list[weakref.ref[asyncio.Task[Any]]] = []

    async def main() -> None:
        async with asyncio.TaskGroup() as group:
            tasks.extend(weakref.ref(group.create_task(asyncio.sleep(0.1))) for _ in range(3))
        current = asyncio.current_task()
        assert current is not None
        tasks.append(weakref.ref(current))

    loop = simloop.SimLoop(seed=1)
    loop_ref = weakref.ref(loop)
    gc.disable()
    try:
        run_on(loop, main())
        del loop
        assert loop_ref() is None
        assert len(tasks) == 4
        assert [task() for task in tasks] == [None] * 4
    finally:
        gc.enable()


def test_a_tasks_bound_method_scheduled_as_a_callback_keeps_its_place() -> None:
    """call_soon(task.set_name, ...) is a plain callback, not a step of that
    task: it must never be reordered."""

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        seen: list[str] = []
        other = asyncio.create_task(asyncio.sleep(3600), name="before")
        loop.call_soon(other.set_name, "after")
        loop.call_soon(lambda: seen.append(other.get_name()))
        await asyncio.sleep(0)
        other.cancel()
        return seen

    for seed in range(30):
        assert simloop.run(main(), seed=seed, strategy=Random(reorder_rate=1.0)) == ["after"]


async def _first_steps() -> list[str]:
    started: list[str] = []

    async def task(name: str) -> None:
        started.append(name)
        await asyncio.sleep(0)

    await asyncio.gather(*(task(f"t{i}") for i in range(5)))
    return started


def test_tasks_one_callback_created_start_in_creation_order_under_every_seed() -> None:
    """One step created them all: asyncio runs their first steps first in,
    first out, so no schedule a real program meets starts them otherwise."""
    for seed in range(40):
        assert simloop.run(_first_steps(), seed=seed) == ["t0", "t1", "t2", "t3", "t4"]


def test_tasks_woken_by_different_events_in_one_iteration_may_swap() -> None:
    async def woken_by_timers() -> list[str]:
        loop = asyncio.get_running_loop()
        order: list[str] = []

        async def waiter(name: str, event: asyncio.Event) -> None:
            await event.wait()
            order.append(name)

        events = [asyncio.Event() for _ in range(4)]
        tasks = [asyncio.create_task(waiter(f"w{i}", e)) for i, e in enumerate(events)]
        await asyncio.sleep(0)
        for event in events:  # four independent timers, due together
            loop.call_later(1, event.set)
        await asyncio.gather(*tasks)
        return order

    orders = {tuple(simloop.run(woken_by_timers(), seed=seed)) for seed in range(40)}
    assert len(orders) > 5


def test_reorder_siblings_widens_the_search_to_orders_asyncio_never_runs() -> None:
    wide = Random(reorder_rate=1.0, reorder_siblings=True)
    orders = {tuple(simloop.run(_first_steps(), seed=seed, strategy=wide)) for seed in range(20)}
    assert len(orders) > 5
