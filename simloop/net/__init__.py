"""The simulated network: hosts, names, TCP, UDP and faults, all under the seed.

Inside a simulation, asyncio's network API (``asyncio.open_connection``,
``start_server``, ``loop.create_connection``, ``create_server``,
``create_datagram_endpoint``, ``getaddrinfo``, the ``loop.sock_*``
coroutines) talks to this network instead of the kernel. The program runs on
host ``main`` (127.0.0.1, ::1, 10.0.0.1, fd00::1, and the name ``localhost``)::

    async def main():
        net = simloop.network()
        net.add_host("db", "10.0.0.2")
        with net.on("db"):
            server = await asyncio.start_server(handle, port=6379)
        reader, writer = await asyncio.open_connection("db", 6379)

See docs/network.md.
"""

from __future__ import annotations

import asyncio

from ._network import Host, Link, Network
from ._server import SimServer
from ._socket import SimSocket
from ._tcp import CONNECT_TIMEOUT, RECEIVE_WINDOW
from ._transport import TcpTransport
from ._udp import UdpTransport


def network() -> Network:
    """The running simulation's network.

    Raises:
      RuntimeError: no loop is running, or the running loop is not a `SimLoop`.
    """
    loop = asyncio.get_running_loop()
    found = getattr(loop, "network", None)
    if not isinstance(found, Network):
        raise RuntimeError(
            f"simloop.network() needs a running SimLoop; the running loop is {loop!r}"
        )
    return found


__all__ = [
    "CONNECT_TIMEOUT",
    "RECEIVE_WINDOW",
    "Host",
    "Link",
    "Network",
    "SimServer",
    "SimSocket",
    "TcpTransport",
    "UdpTransport",
    "network",
]
