"""Words and numbers as a report shows them."""

from __future__ import annotations

_UNITS = ((1e-6, "µs"), (1e-3, "ms"), (1.0, "s"))


def format_duration(seconds: float) -> str:
    """`seconds` as a person writes it: 3 significant digits in µs, ms or s
    (``format_duration(0.0123) == '12.3 ms'``)."""
    if seconds == 0:
        return "0 s"
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return f"{seconds} s"
    size = abs(seconds)
    for scale, unit in _UNITS:
        text = f"{seconds / scale:.3g}"
        if "e" not in text and (size < scale * 1000 or unit == "s"):
            return f"{text} {unit}"
    return f"{seconds:,.0f} s"
