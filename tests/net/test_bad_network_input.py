"""Bad input behaves as on the real network and the stock loop, side by side.

Covers simloop/net/_loop_api.py, _addresses.py.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest


def _outcome(error: BaseException) -> tuple[str, Any]:
    return type(error).__name__, getattr(error, "errno", None)


def test_an_unknown_host_name_is_a_gaierror(run_on: Any) -> None:
    async def main() -> tuple[str, Any]:
        with pytest.raises(socket.gaierror) as caught:
            await asyncio.open_connection("no-such-host.invalid", 80)
        return _outcome(caught.value)

    assert run_on(main()) == ("gaierror", socket.EAI_NONAME)


@pytest.mark.parametrize("port", [70000, -1])
def test_a_port_out_of_range_is_an_overflow_error(run_on: Any, port: int) -> None:
    async def main() -> list[str]:
        messages = []
        with pytest.raises(OverflowError) as caught:
            await asyncio.open_connection("127.0.0.1", port)
        messages.append(str(caught.value))
        with pytest.raises(OverflowError) as caught:
            await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
        messages.append(str(caught.value))
        return messages

    assert run_on(main()) == ["connect(): port must be 0-65535.", "bind(): port must be 0-65535."]


def test_a_port_out_of_range_through_the_resolver_wraps_as_glibc_does(run_on: Any) -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo("localhost", 70000, type=socket.SOCK_STREAM)
        return int(infos[0][4][1])

    assert run_on(main()) == 70000 - 65536


def test_writing_after_close_is_ignored_and_drain_says_the_connection_is_lost(
    run_on: Any,
) -> None:
    async def main() -> tuple[str, str, bool]:
        handled = asyncio.Event()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()
            writer.close()
            handled.set()

        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        _reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        writer.close()
        writer.write(b"after close")  # no error: asyncio drops it
        with pytest.raises(ConnectionResetError) as caught:
            await writer.drain()
        await writer.wait_closed()
        writer.write(b"after wait_closed")
        with pytest.raises(TypeError) as wrong_type:
            writer.write("text")  # type: ignore[arg-type]
        await handled.wait()
        server.close()
        await server.wait_closed()
        return str(caught.value), str(wrong_type.value), writer.is_closing()

    assert run_on(main()) == (
        "Connection lost",
        "data argument must be a bytes-like object, not 'str'",
        True,
    )


def test_connecting_to_a_closed_port_is_refused(run_on: Any) -> None:
    async def main() -> tuple[str, Any, str]:
        loop = asyncio.get_running_loop()
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        host, port = server.sockets[0].getsockname()
        server.close()
        await server.wait_closed()
        with pytest.raises(ConnectionRefusedError) as caught:
            await loop.create_connection(asyncio.Protocol, host, port)
        return (*_outcome(caught.value), str(caught.value))

    assert run_on(main())[:2] == ("ConnectionRefusedError", 111)


def test_host_port_and_sock_together_are_refused_as_asyncio_refuses_them(run_on: Any) -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        messages = []
        for call in (
            loop.create_connection(asyncio.Protocol),
            loop.create_connection(asyncio.Protocol, "127.0.0.1", 80, server_hostname="x"),
            loop.create_server(asyncio.Protocol),
        ):
            with pytest.raises(ValueError) as caught:
                await call
            messages.append(str(caught.value))
        return messages

    assert run_on(main()) == [
        "host and port was not specified and no sock specified",
        "server_hostname is only meaningful with ssl",
        "Neither host/port nor sock were specified",
    ]


def test_a_datagram_endpoint_needs_an_address_or_a_family(run_on: Any) -> None:
    async def main() -> str:
        loop = asyncio.get_running_loop()
        with pytest.raises(ValueError) as caught:
            await loop.create_datagram_endpoint(asyncio.DatagramProtocol)
        return str(caught.value)

    assert run_on(main()) == "unexpected address family"
