"""The states of a one-way link between two hosts, as `Network.route` answers
them (a module of their own: the transports read them, below the network)."""

from __future__ import annotations

OPEN, CLOGGED, PARTITIONED = 0, 1, 2
