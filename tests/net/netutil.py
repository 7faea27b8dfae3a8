"""Helpers shared by the network tests."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import simloop


def new_socket(family: int = socket.AF_INET, type: int = socket.SOCK_STREAM) -> Any:
    """A socket for the loop.sock_* API: a real one on the stock loop, a
    simulated one inside a simulation."""
    loop = asyncio.get_running_loop()
    network = getattr(loop, "network", None)
    sock = socket.socket(family, type) if network is None else network.socket(family, type)
    sock.setblocking(False)
    return sock


def on_simloop() -> bool:
    return isinstance(asyncio.get_running_loop(), simloop.SimLoop)
