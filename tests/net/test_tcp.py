"""TCP through asyncio's streams and protocols, on the stock loop and on simloop.

Covers simloop/net/_tcp.py, _transport.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from netutil import on_simloop

import simloop
from simloop.strategies import FIFO_LATENCY


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1000):
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


_handlers: dict[asyncio.AbstractServer, list[asyncio.Task[Any]]] = {}


async def _serve(handler: Any = _echo) -> tuple[asyncio.AbstractServer, tuple[str, int]]:
    """A server on an ephemeral port whose handler tasks `_stop` waits for
    (Python 3.11's wait_closed() does not wait for connections)."""
    tasks: list[asyncio.Task[Any]] = []

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.append(task)
        await handler(reader, writer)

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    _handlers[server] = tasks
    return server, server.sockets[0].getsockname()


async def _stop(server: asyncio.AbstractServer) -> None:
    server.close()
    await server.wait_closed()
    await asyncio.gather(*_handlers.pop(server))


def test_echo_keeps_every_byte_in_order(run_on: Any) -> None:
    async def main() -> bytes:
        server, address = await _serve()
        reader, writer = await asyncio.open_connection(*address)
        sent = b"".join(b"%05d," % i for i in range(2000))
        for start in range(0, len(sent), 777):
            writer.write(sent[start : start + 777])
        await writer.drain()
        writer.write_eof()
        echoed = await reader.read()
        writer.close()
        await writer.wait_closed()
        await _stop(server)
        assert echoed == sent
        return echoed[:12]

    assert run_on(main()) == b"00000,00001,"


def test_port_zero_picks_a_port_that_getsockname_reports(run_on: Any) -> None:
    async def main() -> tuple[str, bool]:
        server, (host, port) = await _serve()
        _reader, writer = await asyncio.open_connection(host, port)
        peer = writer.get_extra_info("peername")
        writer.close()
        await writer.wait_closed()
        await _stop(server)
        return host, peer == (host, port) and 0 < port < 65536

    assert run_on(main()) == ("127.0.0.1", True)


def test_extra_info_names_both_ends_of_the_connection(run_on: Any) -> None:
    async def main() -> None:
        accepted: asyncio.Future[tuple[Any, Any, Any]] = asyncio.get_running_loop().create_future()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.set_result(
                (
                    writer.get_extra_info("peername"),
                    writer.get_extra_info("sockname"),
                    writer.get_extra_info("socket"),
                )
            )
            await reader.read()
            writer.close()

        server, address = await _serve(handler)
        _reader, writer = await asyncio.open_connection(*address)
        server_peer, server_name, server_socket = await accepted
        assert server_name == address
        assert server_peer == writer.get_extra_info("sockname")
        client_socket = writer.get_extra_info("socket")
        assert client_socket.getpeername() == address
        assert server_socket.getsockname() == address
        assert writer.get_extra_info("no such thing", "default") == "default"
        writer.close()
        await writer.wait_closed()
        await _stop(server)

    run_on(main())


def test_half_close_lets_the_peer_answer_after_eof(run_on: Any) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.read()  # until the client's EOF
        writer.write(b"got " + request)
        await writer.drain()
        writer.close()

    async def main() -> bytes:
        server, address = await _serve(handler)
        reader, writer = await asyncio.open_connection(*address)
        assert writer.can_write_eof()
        writer.write(b"question")
        writer.write_eof()
        with pytest.raises(RuntimeError, match=r"Cannot call write\(\) after write_eof\(\)"):
            writer.write(b"more")
        answer = await reader.read()
        writer.close()
        await writer.wait_closed()
        await _stop(server)
        return answer

    assert run_on(main()) == b"got question"


def test_connect_to_a_port_nobody_listens_on_is_refused(run_on: Any) -> None:
    async def main() -> str:
        server, (host, port) = await _serve()
        await _stop(server)
        with pytest.raises(ConnectionRefusedError) as caught:
            await asyncio.open_connection(host, port)
        return str(caught.value)

    message = run_on(main())
    assert message.startswith("[Errno 111] Connect call failed ('127.0.0.1', ")


def test_closing_with_unread_data_resets_the_peer(run_on: Any) -> None:
    class NeverReads(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            transport.pause_reading()  # what arrives stays unread
            asyncio.get_running_loop().call_later(0.05, transport.close)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(NeverReads, "127.0.0.1", 0)
        reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname())
        writer.write(b"never read")
        # The server closes with unread data: the kernel resets the connection.
        with pytest.raises(ConnectionResetError):
            await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()

    run_on(main())


def test_drain_waits_while_the_peer_does_not_read(run_on: Any) -> None:
    async def main() -> int:
        release = asyncio.Event()
        received = 0

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal received
            await release.wait()
            while data := await reader.read(1 << 16):
                received += len(data)
            writer.close()

        server, address = await _serve(handler)
        reader, writer = await asyncio.open_connection(*address)
        transport = writer.transport
        chunk = b"x" * (1 << 16)
        sent = 0
        # Fill the peer's buffers until the transport has to keep data itself.
        while transport.get_write_buffer_size() == 0 and sent < (256 << 20):
            writer.write(chunk)
            sent += len(chunk)
            await asyncio.sleep(0)
        writer.write(chunk)
        sent += len(chunk)
        assert transport.get_write_buffer_size() > 0
        drain = asyncio.ensure_future(writer.drain())
        for _ in range(10):
            await asyncio.sleep(0)
        assert not drain.done()  # back-pressure: the peer reads nothing
        release.set()
        await drain
        writer.write_eof()
        await reader.read()
        writer.close()
        await writer.wait_closed()
        await _stop(server)
        assert received == sent
        return transport.get_write_buffer_size()

    assert run_on(main()) == 0


def test_write_buffer_limits_are_checked_as_asyncio_checks_them(run_on: Any) -> None:
    async def main() -> tuple[int, int]:
        server, address = await _serve()
        _reader, writer = await asyncio.open_connection(*address)
        transport = writer.transport
        with pytest.raises(ValueError, match=r"high \(1\) must be >= low \(2\) must be >= 0"):
            transport.set_write_buffer_limits(high=1, low=2)
        transport.set_write_buffer_limits(high=4096)
        limits = transport.get_write_buffer_limits()
        writer.close()
        await writer.wait_closed()
        await _stop(server)
        return limits

    assert run_on(main()) == (1024, 4096)


class _Recorder(asyncio.Protocol):
    """Records every callback, to check their order."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.data = b""
        self.lost = asyncio.get_running_loop().create_future()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        assert not self.events
        self.events.append("made")
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        assert self.events[-1] in ("made", "data"), self.events
        self.events.append("data")
        self.data += data

    def eof_received(self) -> bool:
        assert "lost" not in self.events
        self.events.append("eof")
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        assert "lost" not in self.events
        self.events.append("lost")
        self.lost.set_result(exc)


def test_protocol_callbacks_come_in_order_and_end_with_connection_lost(run_on: Any) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello")
        writer.write(b" world")
        await writer.drain()
        writer.close()

    async def main() -> tuple[bytes, str, object]:
        server, address = await _serve(handler)
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(_Recorder, *address)
        assert isinstance(protocol, _Recorder)
        exc = await protocol.lost
        assert transport.is_closing()
        await _stop(server)
        squeezed = "-".join(dict.fromkeys(protocol.events))
        return protocol.data, squeezed, exc

    assert run_on(main()) == (b"hello world", "made-data-eof-lost", None)


def test_close_flushes_the_buffer_and_abort_drops_it(run_on: Any) -> None:
    async def main() -> tuple[int, bool]:
        received: dict[Any, int] = {}  # by the client's address
        release = asyncio.Event()
        done = asyncio.Event()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await release.wait()
            total = 0
            try:
                while data := await reader.read(1 << 16):
                    total += len(data)
            except ConnectionResetError:
                pass
            received[writer.get_extra_info("peername")] = total
            writer.close()
            if len(received) == 2:
                done.set()

        server, address = await _serve(handler)
        sent: dict[str, tuple[Any, int]] = {}
        for how in ("close", "abort"):
            _reader, writer = await asyncio.open_connection(*address)
            transport = writer.transport
            count = 0
            while transport.get_write_buffer_size() == 0 and count < (256 << 20):
                writer.write(b"y" * (1 << 16))
                count += 1 << 16
                await asyncio.sleep(0)
            sent[how] = (writer.get_extra_info("sockname"), count)
            if how == "close":
                writer.close()
            else:
                transport.abort()
        release.set()
        await done.wait()
        await _stop(server)
        closed, aborted = sent["close"], sent["abort"]
        return received[closed[0]] - closed[1], received[aborted[0]] < aborted[1]

    assert run_on(main()) == (0, True)


def test_open_transports_lists_what_was_left_open() -> None:

    async def main() -> tuple[list[str], list[str]]:
        loop = asyncio.get_running_loop()
        assert on_simloop()
        server, address = await _serve()
        _reader, writer = await asyncio.open_connection(*address)
        left = loop.open_transports()  # type: ignore[attr-defined]
        writer.close()
        await writer.wait_closed()
        await _stop(server)
        await asyncio.sleep(0.01)
        return left, loop.open_transports()  # type: ignore[attr-defined]

    left, after = simloop.run(main(), strategy="fifo")
    assert any("SimServer" in item for item in left)
    assert sum("TCP transport" in item for item in left) == 2
    assert after == []


def test_pause_reading_holds_data_until_resume_reading(run_on: Any) -> None:
    async def main() -> tuple[bytes, bytes]:
        loop = asyncio.get_running_loop()
        server, address = await _serve(_answer_twice)
        transport, protocol = await loop.create_connection(_Recorder, *address)
        assert isinstance(protocol, _Recorder)
        transport.pause_reading()
        assert not transport.is_reading()
        transport.write(b"go")
        await asyncio.sleep(0.05)
        held = protocol.data
        transport.resume_reading()
        await protocol.lost
        await _stop(server)
        return held, protocol.data

    assert run_on(main()) == (b"", b"onetwo")


async def _answer_twice(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readexactly(2)
    writer.write(b"one")
    writer.write(b"two")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


def test_close_clients_and_abort_clients_end_the_server_connections() -> None:

    async def main() -> list[str]:
        handlers = 0
        release = asyncio.Event()

        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal handlers
            handlers += 1
            await release.wait()

        server = await asyncio.start_server(hold, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        ends = []
        outcomes = []
        for how in ("close_clients", "abort_clients"):
            reader, writer = await asyncio.open_connection(*address)
            ends.append(writer)
            while handlers < len(ends):
                await asyncio.sleep(0.001)
            getattr(server, how)()
            try:
                outcomes.append(f"{how}: {await reader.read()!r}")
            except ConnectionResetError:
                outcomes.append(f"{how}: reset")
        release.set()
        for writer in ends:
            writer.close()
        server.close()
        await server.wait_closed()
        return outcomes

    assert simloop.run(main(), strategy="fifo") == ["close_clients: b''", "abort_clients: b''"]


def test_a_connect_given_up_half_way_leaves_nothing_open() -> None:

    async def main() -> tuple[str, list[str]]:
        loop = asyncio.get_running_loop()
        seen: asyncio.Future[str] = loop.create_future()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                seen.set_result(f"eof {await reader.read()!r}")
            except ConnectionResetError:
                seen.set_result("reset")
            writer.close()

        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        # The SYN arrives after one latency, the SYN-ACK after two: give up between.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.5 * FIFO_LATENCY):
                await asyncio.open_connection(*address)
        outcome = await seen
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.01)
        return outcome, loop.open_transports()  # type: ignore[attr-defined]

    assert simloop.run(main(), strategy="fifo") == ("reset", [])


class _LastScheduledFirst(simloop.strategies.Strategy):
    """FIFO, except that timers due at the same instant run newest first."""

    name = "last-first"

    def schedule(self, seed: int, streams: Any) -> Any:
        class Reversed(simloop.strategies.Schedule):
            def order_timers(self, count: int) -> list[int]:
                return list(reversed(range(count)))

        return Reversed()


def test_a_connect_cancelled_just_after_it_completed_closes_the_connection() -> None:

    async def main() -> tuple[str, list[str]]:
        loop = asyncio.get_running_loop()
        seen: asyncio.Future[str] = loop.create_future()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.set_result(f"eof {await reader.read()!r}")
            writer.close()

        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        address = server.sockets[0].getsockname()
        # The SYN-ACK and the timeout are due together; the SYN-ACK runs first,
        # then the timeout cancels the task before it resumes.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(2 * FIFO_LATENCY):
                await asyncio.open_connection(*address)
        outcome = await seen
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.01)
        return outcome, loop.open_transports()  # type: ignore[attr-defined]

    assert simloop.run(main(), strategy=_LastScheduledFirst()) == ("eof b''", [])
