"""Bad input gets an error that names the value and what is accepted.

Covers simloop/_core.py, simloop/_run.py, simloop/_validate.py.
"""

from __future__ import annotations

import asyncio

import pytest

import simloop


async def nothing() -> None:
    pass


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (-1, ValueError, "seed must be a non-negative integer, not -1"),
        (1.5, TypeError, "seed must be a non-negative integer, not float 1.5"),
        ("7", TypeError, "seed must be a non-negative integer, not str '7'"),
        (True, TypeError, "seed must be a non-negative integer, not bool True"),
    ],
)
def test_bad_seed(seed: object, error: type[Exception], message: str) -> None:
    coro = nothing()
    with pytest.raises(error, match=f"^{message}$"):
        simloop.run(coro, seed=seed)  # type: ignore[arg-type]
    assert coro.cr_frame is None  # closed, so it never warns "never awaited"


def test_unknown_strategy_lists_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"^unknown strategy 'dfs'; expected one of: fifo, pct, random$"
    ):
        simloop.SimLoop(strategy="dfs")
    with pytest.raises(TypeError, match=r"strategy must be a name \(fifo, pct, random\)"):
        simloop.SimLoop(strategy=3)  # type: ignore[arg-type]


def test_run_needs_a_coroutine() -> None:
    with pytest.raises(
        TypeError, match=r"needs a coroutine object.*got function .* \(did you mean"
    ):
        simloop.run(nothing)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got int 3"):
        simloop.run(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("limit", [0, -1, "1", float("nan"), True])
def test_bad_limits(limit: object) -> None:
    with pytest.raises(
        ValueError, match=r"time_limit=.* is not allowed; expected a positive number"
    ):
        simloop.SimLoop(time_limit=limit)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"step_limit=.* is not allowed; expected an integer >= 1"):
        simloop.SimLoop(step_limit=limit)  # type: ignore[arg-type]


def test_random_strategy_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match=r"reorder_rate=2 is out of range; expected 0.0 to 1.0"):
        simloop.strategies.Random(reorder_rate=2)


def test_loop_refuses_real_file_descriptors_and_subprocesses() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        with pytest.raises(simloop.RealIOError, match=r"loop\.add_reader\(3\) would use the real"):
            loop.add_reader(3, print)
        with pytest.raises(simloop.RealIOError, match="subprocess"):
            await asyncio.create_subprocess_exec("true")

    simloop.run(main())
