"""Showing a recorded run: a text timeline, Chrome trace JSON, an HTML page.

All three read the `Event`s of a run recorded with ``SimLoop(record=True)``.
Everything an event says comes from the program under test (task names,
payload previews, exception text), so the exports escape it and cap it:
a `<script>` payload shows as text, and a 100 MB transfer does not make a
100 MB trace.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ._trace import Event

#: Longest detail kept per event in exports (characters).
DETAIL_LIMIT = 300
#: Most events written to one export (the last ones are kept).
EVENT_LIMIT = 200_000


def _cap(text: str, limit: int = DETAIL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_timeline(events: Sequence[Event], *, last: int = 30) -> str:
    """The last `last` events as aligned text lines; ``*`` marks where the
    schedule differed from FIFO."""
    shown = list(events[-last:]) if last else list(events)
    if not shown:
        return "(no events recorded)"
    width = min(max(len(event.actor) for event in shown), 24)
    lines = [f"{len(shown)} of {len(events)} events (t = virtual seconds; * = differs from FIFO):"]
    for event in shown:
        mark = "*" if event.deviates else " "
        lines.append(
            f"{mark} t={event.virtual_time:<12.6f} {_cap(event.actor, width):<{width}} "
            f"{event.kind:<8} {_cap(event.detail, 160)}"
        )
    return "\n".join(lines)


def _tracks(events: Sequence[Event]) -> dict[str, int]:
    tracks: dict[str, int] = {}
    for event in events:
        if event.actor not in tracks:
            tracks[event.actor] = len(tracks) + 1
    return tracks


def chrome_trace(events: Sequence[Event], *, title: str = "simloop run") -> dict[str, Any]:
    """The run as a Chrome Trace Event document (open in Perfetto or
    chrome://tracing): one track per task and per network endpoint, the time
    a task spends awaiting as a slice named for what it awaits, every other
    event as an instant, deviations from FIFO on their own track."""
    events = list(events[-EVENT_LIMIT:])
    tracks = _tracks(events)
    deviations_track = len(tracks) + 1
    records: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "pid": 1, "args": {"name": _cap(title)}},
        {
            "ph": "M",
            "name": "thread_name",
            "pid": 1,
            "tid": deviations_track,
            "args": {"name": "differs from FIFO"},
        },
    ]
    records += [
        {"ph": "M", "name": "thread_name", "pid": 1, "tid": tid, "args": {"name": _cap(actor, 80)}}
        for actor, tid in tracks.items()
    ]
    awaiting: dict[str, tuple[float, str]] = {}
    for event in events:
        micros = event.virtual_time * 1e6
        tid = tracks[event.actor]
        started = awaiting.pop(event.actor, None)
        if started is not None:
            records.append(
                {
                    "ph": "X",
                    "name": started[1],
                    "cat": "await",
                    "pid": 1,
                    "tid": tid,
                    "ts": started[0],
                    "dur": max(micros - started[0], 0.001),
                }
            )
        if event.kind == "step":
            awaiting[event.actor] = (micros, _cap(event.detail, 120))
        records.append(
            {
                "ph": "i",
                "s": "t",
                "name": f"{event.kind}: {_cap(event.detail, 120)}",
                "cat": event.kind,
                "pid": 1,
                "tid": deviations_track if event.deviates else tid,
                "ts": micros,
                "args": {"step": event.step, "detail": _cap(event.detail)},
            }
        )
    return {"traceEvents": records, "displayTimeUnit": "ms", "otherData": {"title": _cap(title)}}


def _script_safe(data: object) -> str:
    """JSON that can sit inside a <script> element: no '<', '>' or '&' in it
    can end the element or start markup."""
    text = json.dumps(data, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def html_timeline(events: Sequence[Event], *, title: str = "simloop run") -> str:
    """A self-contained HTML page (no network access needed) drawing one lane
    per task and endpoint over virtual time."""
    events = list(events[-EVENT_LIMIT:])
    data = [
        {
            "t": event.virtual_time,
            "step": event.step,
            "kind": event.kind,
            "actor": _cap(event.actor, 80),
            "detail": _cap(event.detail),
            "deviates": event.deviates,
        }
        for event in events
    ]
    return _PAGE.replace("@@TITLE@@", html.escape(_cap(title, 200))).replace(
        "@@DATA@@", _script_safe(data)
    )


def write_exports(events: Iterable[Event], directory: str, name: str, title: str) -> list[str]:
    """Write ``name.trace.json`` and ``name.html`` into `directory`; return the paths."""
    import os

    recorded = list(events)
    os.makedirs(directory, exist_ok=True)
    paths = [os.path.join(directory, f"{name}.trace.json"), os.path.join(directory, f"{name}.html")]
    with open(paths[0], "w", encoding="utf-8") as stream:
        json.dump(chrome_trace(recorded, title=title), stream)
    with open(paths[1], "w", encoding="utf-8") as stream:
        stream.write(html_timeline(recorded, title=title))
    return paths


# The page draws with DOM calls and textContent only: nothing from the data
# is ever parsed as HTML.
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>@@TITLE@@</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 16px; margin: 0 0 8px; }
#legend span { margin-right: 14px; }
#lanes { position: relative; margin-top: 10px; }
.lane { position: relative; height: 26px; border-bottom: 1px solid #eee; }
.label { position: absolute; left: 0; width: 170px; top: 5px; overflow: hidden;
  white-space: nowrap; text-overflow: ellipsis; font-weight: 600; }
.track { position: absolute; left: 180px; right: 10px; top: 0; bottom: 0; }
.mark { position: absolute; top: 6px; width: 4px; height: 14px; border-radius: 2px; }
.await { position: absolute; top: 10px; height: 6px; background: #cfe0f7; }
.deviates { outline: 2px solid #d33; }
#detail { margin-top: 12px; white-space: pre-wrap; font-family: monospace; min-height: 3em; }
.ruler { height: 20px; color: #666; font-size: 11px; }
.tick { position: absolute; top: 3px; border-left: 1px solid #bbb; padding-left: 2px;
  white-space: nowrap; }
#list { margin-top: 10px; font: 12px monospace; white-space: pre; max-height: 40em;
  overflow: auto; border-top: 1px solid #ddd; padding-top: 6px; }
.deviates-row { color: #c22; font-weight: 600; }
</style></head>
<body>
<h1>@@TITLE@@</h1>
<div id="legend"></div>
<div id="lanes"></div>
<div id="detail">Click an event to see it. Lanes follow the order of events;
the ruler shows the virtual time.</div>
<div id="list"></div>
<script id="events" type="application/json">@@DATA@@</script>
<script>
"use strict";
const events = JSON.parse(document.getElementById("events").textContent);
const colours = {create: "#6a6", step: "#36c", done: "#393", call: "#999", timer: "#c90",
  choice: "#d33", cancel: "#d33"};
const legend = document.getElementById("legend");
for (const [kind, colour] of Object.entries(colours)) {
  const item = document.createElement("span");
  item.style.color = colour;
  item.textContent = "\\u25A0 " + kind;
  legend.appendChild(item);
}
const actors = [];
for (const e of events) if (!actors.includes(e.actor)) actors.push(e.actor);
// The x axis is the order of events, not virtual time: a run spends most of
// its virtual time idle, and what matters happens in bursts at one instant.
const last = Math.max(events.length - 1, 1);
const x = index => 100 * index / last;
const lanes = document.getElementById("lanes");
const detail = document.getElementById("detail");
const laneOf = {};
function addLane(name, label) {
  const lane = document.createElement("div");
  lane.className = "lane";
  lane.dataset.actor = name;
  const title = document.createElement("div");
  title.className = "label";
  title.textContent = label;
  title.title = label;
  const track = document.createElement("div");
  track.className = "track";
  lane.appendChild(title);
  lane.appendChild(track);
  lanes.appendChild(lane);
  return track;
}
const ruler = addLane("", "virtual time");
ruler.parentNode.className = "lane ruler";
let shownTime = null;
events.forEach((e, index) => {
  if (e.t !== shownTime) {
    shownTime = e.t;
    const tick = document.createElement("div");
    tick.className = "tick";
    tick.style.left = x(index) + "%";
    tick.textContent = "t=" + (Math.round(e.t * 1e6) / 1e6);
    ruler.appendChild(tick);
  }
});
for (const actor of actors) laneOf[actor] = addLane(actor, actor);
const open = {};
events.forEach((e, index) => {
  const track = laneOf[e.actor];
  const left = x(index);
  if (open[e.actor] !== undefined) {
    const bar = document.createElement("div");
    bar.className = "await";
    bar.style.left = open[e.actor] + "%";
    bar.style.width = Math.max(left - open[e.actor], 0.2) + "%";
    track.appendChild(bar);
    delete open[e.actor];
  }
  if (e.kind === "step") open[e.actor] = left;
  const mark = document.createElement("div");
  mark.className = "mark" + (e.deviates ? " deviates" : "");
  mark.dataset.kind = e.kind;
  mark.style.left = "calc(" + left + "% - 2px)";
  mark.style.background = colours[e.kind] || "#555";
  mark.title = "t=" + e.t.toFixed(6) + " " + e.kind + ": " + e.detail;
  mark.addEventListener("click", () => {
    detail.textContent = "t=" + e.t.toFixed(6) + "  #" + e.step + "  " + e.actor + "  " +
      e.kind + (e.deviates ? "  (differs from FIFO)" : "") + "\\n" + e.detail;
  });
  track.appendChild(mark);
});
const list = document.getElementById("list");
for (const e of events) {
  const row = document.createElement("div");
  row.className = e.deviates ? "row deviates-row" : "row";
  row.textContent = (e.deviates ? "* " : "  ") + "t=" + e.t.toFixed(6) + "  " +
    e.actor.padEnd(14) + " " + e.kind.padEnd(7) + " " + e.detail;
  list.appendChild(row);
}
document.body.dataset.lanes = String(actors.length);
document.body.dataset.events = String(events.length);
</script>
</body></html>
"""
