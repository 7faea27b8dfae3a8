"""Showing a recorded run: text timeline, Chrome trace JSON, HTML page.

Covers simloop/_timeline.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import simloop
from simloop._run import run_on
from simloop._timeline import (
    DETAIL_LIMIT,
    chrome_trace,
    format_timeline,
    html_timeline,
    write_exports,
)
from simloop.strategies import Random

HOSTILE = "<script>alert('owned')</script>"


async def two_workers() -> None:
    async def worker(delay: float) -> str:
        await asyncio.sleep(delay)
        return HOSTILE * 1000  # a huge, hostile result preview

    async with asyncio.TaskGroup() as group:
        group.create_task(worker(0.01), name=HOSTILE)
        group.create_task(worker(0.01), name="plain")


def recorded(seed: int = 0, strategy: object = "random") -> simloop.SimLoop:
    loop = simloop.SimLoop(seed, strategy, record=True)  # type: ignore[arg-type]
    run_on(loop, two_workers())
    return loop


def test_text_timeline_marks_deviations_from_fifo() -> None:
    loop = next(
        loop
        for loop in (recorded(seed, Random(reorder_rate=1.0)) for seed in range(20))
        if loop.trace.deviation_count
    )
    events = loop.trace.events or []
    text = format_timeline(events, last=200)
    assert text.splitlines()[0].startswith(f"{len(events)} of {len(events)} events")
    assert any(line.startswith("*") for line in text.splitlines()[1:])
    assert any(line.startswith(" ") and " step " in line for line in text.splitlines()[1:])
    assert len(format_timeline(events, last=5).splitlines()) == 6


def test_chrome_trace_has_a_track_per_task_and_await_slices() -> None:
    document = chrome_trace(recorded().trace.events or [], title="two workers")
    json.dumps(document)  # serializable
    names = {
        record["args"]["name"]
        for record in document["traceEvents"]
        if record["ph"] == "M" and record["name"] == "thread_name"
    }
    assert {"main", "plain", HOSTILE[:80], "differs from FIFO"} <= names
    slices = [record for record in document["traceEvents"] if record["ph"] == "X"]
    assert any(record["name"].startswith("awaits sleep()") for record in slices)
    assert all(len(record.get("args", {}).get("detail", "")) <= DETAIL_LIMIT for record in slices)


def test_html_escapes_what_the_program_wrote_and_caps_it() -> None:
    page = html_timeline(recorded().trace.events or [], title=HOSTILE)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page  # the title, as text
    assert len(page) < 200_000  # 1000 copies of the payload were capped
    assert page.count("<script") == 2  # the data block and the drawing code, nothing else


def test_exports_are_written_side_by_side(tmp_path: Path) -> None:
    paths = write_exports(recorded().trace.events or [], str(tmp_path), "run", "title")
    assert [Path(path).name for path in paths] == ["run.trace.json", "run.html"]
    assert json.loads(Path(paths[0]).read_text())["traceEvents"]
