"""python -m simloop: run, explain and replay outside pytest.

Covers simloop/__main__.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROGRAM = """
import asyncio

async def client():
    loop = asyncio.get_running_loop()
    for _ in range(3):
        reply = loop.create_future()
        loop.call_later(0.05, reply.set_result, "pong")  # never checks reply.done()
        try:
            async with asyncio.timeout(0.05):
                await reply
        except TimeoutError:
            pass

async def fine():
    await asyncio.sleep(1)
"""


def simloop_cli(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "program.py").write_text(PROGRAM)
    return subprocess.run(
        [sys.executable, "-m", "simloop", *arguments],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_run_stops_at_the_first_failing_seed_and_says_how_to_explain_it(tmp_path: Path) -> None:
    result = simloop_cli(tmp_path, "run", "program:client", "--seeds", "200")
    assert result.returncode == 0  # as asyncio.run: the error in the callback is only logged
    assert "InvalidStateError" in result.stderr
    result = simloop_cli(tmp_path, "run", "program:client", "--seeds", "200", "--strict")
    assert result.returncode == 1
    assert "InvalidStateError" in result.stderr
    assert "python -m simloop explain program:client --seed " in result.stdout
    assert result.stdout.rstrip().endswith(" --strict")
    passing = simloop_cli(tmp_path, "run", "program:fine", "--seeds", "20")
    assert passing.returncode == 0
    assert passing.stdout.startswith("20 seeds passed")


def test_explain_saves_the_simplest_schedule_and_replay_shows_its_timeline(
    tmp_path: Path,
) -> None:
    swept = simloop_cli(tmp_path, "run", "program:client", "--seeds", "200", "--strict")
    seed = swept.stdout.rsplit("--seed ", 1)[1].split()[0]
    explained = simloop_cli(
        tmp_path, "explain", "program:client", "--seed", seed, "--save", "failure.json", "--strict"
    )
    assert explained.returncode == 1
    assert "1 deviation(s) from FIFO" in explained.stdout
    assert "Timeout._on_timeout then Future.set_result" in explained.stdout
    saved = json.loads((tmp_path / "failure.json").read_text())
    assert saved["target"] == "program:client"
    assert saved["seed"] == int(seed)

    replayed = simloop_cli(tmp_path, "replay", "failure.json", "--html", "out")
    assert replayed.returncode == 0
    assert "differs from FIFO: timer tie" in replayed.stdout
    assert "* t=" in replayed.stdout
    assert (tmp_path / "out" / "failure.html").exists()
    assert (tmp_path / "out" / "failure.trace.json").exists()


def test_bad_targets_and_files_are_clear_errors(tmp_path: Path) -> None:
    result = simloop_cli(tmp_path, "run", "program")
    assert "target 'program' is not of the form module:function" in result.stderr
    result = simloop_cli(tmp_path, "run", "program:nothing")
    assert "'program' has no function 'nothing'" in result.stderr
    (tmp_path / "bad.json").write_text("{}")
    result = simloop_cli(tmp_path, "replay", "bad.json")
    assert "cannot read schedule 'bad.json': not a simloop schedule of version 1" in result.stderr


def test_a_schedule_saved_by_pytest_says_how_to_replay_it_with_pytest(tmp_path: Path) -> None:
    (tmp_path / "race.schedule.json").write_text(
        json.dumps(
            {"simloop_schedule": 1, "test": "test_race.py::test_a", "seed": 3, "choices": {}}
        )
    )
    result = simloop_cli(tmp_path, "replay", "race.schedule.json")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: 'race.schedule.json' is a schedule of the pytest test test_race.py::test_a; "
        "replay it with pytest (from the test's rootdir):",
        "  pytest 'test_race.py::test_a' --simloop-replay=race.schedule.json",
    ]
