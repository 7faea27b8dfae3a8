"""`fifo`: exactly the stock loop's order, with an instant clock."""

from __future__ import annotations

from ._base import Schedule, Strategy, Streams


class Fifo(Strategy):
    """Every choice point answered the way the stock loop would.

    Timers due at the same instant run in the order they were scheduled (the
    stock loop leaves that order undefined); tasks take their steps in the
    order they were woken; executor jobs and CPU take no virtual time.
    """

    name = "fifo"

    def schedule(self, seed: int, streams: Streams) -> Schedule:
        return Schedule()
