"""The low-level loop.sock_* API, with real sockets on the stock loop and
simulated ones on simloop.

Covers simloop/net/_socket.py.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from netutil import new_socket

import simloop


def test_sock_api_connects_accepts_sends_and_receives(run_on: Any) -> None:
    async def main() -> tuple[bytes, bytes, bool]:
        loop = asyncio.get_running_loop()
        listener = new_socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        address = listener.getsockname()
        client = new_socket()
        accepting = asyncio.ensure_future(loop.sock_accept(listener))
        await loop.sock_connect(client, address)
        served, peer = await accepting
        served.setblocking(False)
        await loop.sock_sendall(client, b"x" * 100_000)
        received = b""
        while len(received) < 100_000:
            received += await loop.sock_recv(served, 65536)
        await loop.sock_sendall(served, b"bye")
        buffer = bytearray(10)
        size = await loop.sock_recv_into(client, buffer)
        served.close()
        eof = await loop.sock_recv(client, 10)
        same_peer = peer == client.getsockname()
        for sock in (client, listener):
            sock.close()
        return received[:3] + b"%d" % len(received), bytes(buffer[:size]) + eof, same_peer

    assert run_on(main()) == (b"xxx100000", b"bye", True)


def test_sock_connect_to_a_closed_port_is_refused(run_on: Any) -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        probe = new_socket()
        probe.bind(("127.0.0.1", 0))
        address = probe.getsockname()
        probe.close()
        client = new_socket()
        with pytest.raises(ConnectionRefusedError) as caught:
            await loop.sock_connect(client, address)
        client.close()
        return str(caught.value)

    assert run_on(main()).startswith("[Errno 111] Connect call failed ('127.0.0.1', ")


def test_sock_datagrams(run_on: Any) -> None:
    async def main() -> tuple[bytes, bool]:
        loop = asyncio.get_running_loop()
        receiver = new_socket(type=socket.SOCK_DGRAM)
        receiver.bind(("127.0.0.1", 0))
        sender = new_socket(type=socket.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        await loop.sock_sendto(sender, b"datagram", receiver.getsockname())
        data, address = await loop.sock_recvfrom(receiver, 100)
        from_sender = address == sender.getsockname()
        sender.close()
        receiver.close()
        return data, from_sender

    assert run_on(main()) == (b"datagram", True)


def test_a_stream_made_from_a_connected_socket() -> None:
    async def main() -> bytes:
        loop = asyncio.get_running_loop()

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(await reader.readline())
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        sock = loop.network.socket()  # type: ignore[attr-defined]
        await loop.sock_connect(sock, ("localhost", server.sockets[0].getsockname()[1]))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(b"line\n")
        line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return line

    assert simloop.run(main()) == b"line\n"


def test_blocking_calls_on_a_simulated_socket_name_the_coroutine_to_use() -> None:
    async def main() -> None:
        sock = simloop.network().socket()
        with pytest.raises(simloop.RealIOError, match=r"loop\.sock_connect\(sock, address\)"):
            sock.connect(("127.0.0.1", 80))
        sock.close()
        assert sock.fileno() == -1

    simloop.run(main())
