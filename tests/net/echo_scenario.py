"""An echo exchange that checks the network's promises, for many seeds.

Shared by tests/net/test_echo_seeds.py (a few dozen seeds) and
bench/echo_seeds.py (a thousand). With faults on, a seed may draw refused
connects, resets and a partition: a connection may then end early, but
never with a byte lost in the middle, duplicated or out of order, never
with a callback after ``connection_lost``, and never leaving a transport
open.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

import simloop
from simloop._run import run_on

CONNECTIONS = 3
WRITES = 40


class _Checked(asyncio.Protocol):
    """Records what arrives; notes any callback out of asyncio's order."""

    def __init__(self, violations: list[str], echo: bool) -> None:
        self.violations = violations
        self.echo = echo
        self.received = bytearray()
        self.transport: Any = None
        self.made = False
        self.eof = False
        self.lost: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()

    def _check(self, callback: str) -> None:
        if not self.made:
            self.violations.append(f"{callback} before connection_made")
        if self.lost.done():
            self.violations.append(f"{callback} after connection_lost")

    def connection_made(self, transport: Any) -> None:
        if self.made:
            self.violations.append("connection_made twice")
        self.made = True
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._check("data_received")
        if self.eof:
            self.violations.append("data_received after eof_received")
        self.received += data
        if self.echo:
            self.transport.write(data)

    def eof_received(self) -> bool:
        self._check("eof_received")
        self.eof = True
        return False  # close once the echo is flushed

    def connection_lost(self, exc: BaseException | None) -> None:
        self._check("connection_lost")
        if not self.lost.done():
            self.lost.set_result(exc)


@dataclass
class Outcome:
    violations: list[str] = field(default_factory=list)
    complete: int = 0
    cut_short: int = 0
    refused: int = 0
    open_left: list[str] = field(default_factory=list)


async def _client(address: Any, outcome: Outcome, rng: random.Random) -> None:
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.create_connection(
            lambda: _Checked(outcome.violations, echo=False), *address
        )
    except (ConnectionRefusedError, TimeoutError):
        outcome.refused += 1
        return
    assert isinstance(protocol, _Checked)
    sent = bytearray()
    for number in range(WRITES):
        chunk = bytes([number % 251]) * rng.randrange(1, 5000)
        sent += chunk
        if transport.is_closing():
            break
        transport.write(chunk)
        if rng.random() < 0.3:
            await asyncio.sleep(0)
    if not transport.is_closing():
        transport.write_eof()
    error = await protocol.lost
    received = bytes(protocol.received)
    if received != bytes(sent[: len(received)]):
        outcome.violations.append("bytes lost, duplicated or reordered")
    if received == bytes(sent):
        outcome.complete += 1
    elif error is None and not transport.is_closing():
        outcome.violations.append("stream cut short without an error")
    else:
        outcome.cut_short += 1


async def exchange(outcome: Outcome) -> None:
    loop = asyncio.get_running_loop()
    servers: list[_Checked] = []

    def serve() -> _Checked:
        protocol = _Checked(outcome.violations, echo=True)
        servers.append(protocol)
        return protocol

    server = await loop.create_server(serve, "127.0.0.1", 0)
    address = server.sockets[0].getsockname()
    rng = random.Random(7)  # the simulation seeds `random`; this one is per connection
    await asyncio.gather(
        *(_client(address, outcome, random.Random(rng.random())) for _ in range(CONNECTIONS))
    )
    server.close()
    await server.wait_closed()
    # Every accepted connection ends: its peer closed or reset it.
    await asyncio.gather(*(protocol.lost for protocol in servers))


def run_seed(seed: int, strategy: Any = "random") -> Outcome:
    """Run the exchange on `seed` and return what it saw."""
    outcome = Outcome()
    loop = simloop.SimLoop(seed=seed, strategy=strategy)
    run_on(loop, exchange(outcome))
    outcome.open_left = loop.open_transports()
    return outcome
