"""Hosts, names and the resolver; running code on a host.

Covers simloop/net/_network.py, _resolver.py.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

import simloop


def test_getaddrinfo_answers_for_localhost_as_the_real_resolver(run_on: Any) -> None:
    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        stream = await loop.getaddrinfo("localhost", 80, type=socket.SOCK_STREAM)
        every = await loop.getaddrinfo("127.0.0.1", "http")
        numeric = await loop.getaddrinfo("127.0.0.1", 80)
        assert [info[1] for info in numeric] == [1, 2, 3]  # stream, datagram, raw
        return [stream, [(info[1], info[2]) for info in every]]

    stream, every = run_on(main())
    assert stream == [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))]
    assert every == [(socket.SOCK_STREAM, 6)]  # "http" is a TCP service


def test_getnameinfo_names_the_loopback(run_on: Any) -> None:
    async def main() -> tuple[Any, Any]:
        loop = asyncio.get_running_loop()
        numeric = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
        return (
            await loop.getnameinfo(("127.0.0.1", 80)),
            await loop.getnameinfo(("127.0.0.1", 80), numeric),
        )

    assert run_on(main()) == (("localhost", "http"), ("127.0.0.1", "80"))


def test_added_hosts_resolve_both_ways() -> None:
    async def main() -> tuple[Any, ...]:
        loop = asyncio.get_running_loop()
        net = simloop.network()
        assert net is loop.network  # type: ignore[attr-defined]
        net.add_host("db", "10.0.0.2", "fd00::2")
        net.add_name("cache.internal", "10.0.0.3")
        infos = await loop.getaddrinfo("db", 6379, type=socket.SOCK_STREAM)
        only_v6 = await loop.getaddrinfo("DB.", 6379, family=socket.AF_INET6)
        alias = await loop.getaddrinfo("cache.internal", 1, type=socket.SOCK_DGRAM)
        name = await loop.getnameinfo(("10.0.0.2", 6379))
        return [info[4] for info in infos], only_v6[0][4], alias[0][4], name

    assert simloop.run(main(), seed=1) == (
        [("10.0.0.2", 6379), ("fd00::2", 6379, 0, 0)],
        ("fd00::2", 6379, 0, 0),
        ("10.0.0.3", 1),
        ("db", "redis"),
    )


def test_code_runs_on_the_host_it_is_put_on() -> None:
    async def main() -> tuple[Any, Any, Any]:
        net = simloop.network()
        net.add_host("db", "10.0.0.2")
        seen: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.set_result(writer.get_extra_info("peername"))
            writer.close()

        with net.on("db") as db:
            assert net.current_host() is db
            server = await asyncio.start_server(handler, port=6379)
        assert net.current_host() is net.default_host
        reader, writer = await asyncio.open_connection("db", 6379)
        client_address = writer.get_extra_info("sockname")
        peer = await seen
        await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()
        # db's loopback is db itself: nothing listens on main's 6379
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", 6379)
        return client_address[0], peer[0], [sock.getsockname() for sock in server.sockets]

    assert simloop.run(main(), strategy="fifo") == ("10.0.0.1", "10.0.0.1", [])


def test_tasks_started_on_a_host_stay_there() -> None:
    async def main() -> list[str]:
        net = simloop.network()
        net.add_host("worker", "10.0.0.5")

        async def where() -> str:
            await asyncio.sleep(0.1)
            return net.current_host().name

        with net.on("worker"):
            task = asyncio.create_task(where())
        return [await task, net.current_host().name]

    assert simloop.run(main()) == ["worker", "main"]


def test_a_server_handler_runs_on_the_server_host_and_connects_from_it() -> None:
    # A proxy on "front" forwards to "back": the forwarding connection comes
    # from front's address, and a partition between front and back stops it.
    async def main() -> list[Any]:
        net = simloop.network()
        net.add_host("front", "10.0.0.2")
        net.add_host("back", "10.0.0.3")
        seen: list[Any] = []

        async def back(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(writer.get_extra_info("peername")[0])
            writer.write(b"from back\n")
            writer.close()

        async def front(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(net.current_host().name)
            try:
                async with asyncio.timeout(1):
                    upstream, upstream_writer = await asyncio.open_connection("back", 80)
                    writer.write(await upstream.readline())
                    upstream_writer.close()
            except TimeoutError:
                writer.write(b"back is cut off\n")
            writer.close()

        with net.on("back"):
            back_server = await asyncio.start_server(back, port=80)
        with net.on("front"):
            front_server = await asyncio.start_server(front, port=80)
        answers = []
        for cut in (False, True):
            if cut:
                net.partition("front", "back")
            reader, writer = await asyncio.open_connection("front", 80)
            answers.append(await reader.readline())
            writer.close()
        for server in (back_server, front_server):
            server.close()
        return [*seen, *answers]

    assert simloop.run(main(), strategy="fifo") == [
        "front",
        "10.0.0.2",
        "front",
        b"from back\n",
        b"back is cut off\n",
    ]


def test_unknown_names_fail_as_the_real_resolver_fails(run_on: Any) -> None:
    async def main() -> tuple[int, ...]:
        loop = asyncio.get_running_loop()
        errors = []
        for call in (
            loop.getaddrinfo("no-such-host.invalid", 80),
            asyncio.open_connection("no-such-host.invalid", 80),
            loop.getaddrinfo("127.0.0.1", 80, family=socket.AF_INET6),
            loop.getaddrinfo("127.0.0.1", "no-such-service", type=socket.SOCK_STREAM),
        ):
            with pytest.raises(socket.gaierror) as caught:
                await call
            errors.append(caught.value.errno)
        return tuple(errors)

    assert run_on(main()) == (
        socket.EAI_NONAME,
        socket.EAI_NONAME,
        socket.EAI_ADDRFAMILY,
        socket.EAI_SERVICE,
    )


def test_add_host_rejects_bad_names_and_addresses() -> None:
    async def main() -> None:
        net = simloop.network()
        with pytest.raises(ValueError, match="there is already a host called 'main'"):
            net.add_host("main", "10.9.9.9")
        with pytest.raises(ValueError, match=r"'db\.example' is not a numeric IPv4 or IPv6"):
            net.add_host("db", "db.example")
        with pytest.raises(ValueError, match=r"address 10\.0\.0\.1 already belongs to host 'main'"):
            net.add_host("db", "10.0.0.1")
        with pytest.raises(ValueError, match="loopback or wildcard"):
            net.add_host("db", "127.0.0.2")
        with pytest.raises(ValueError, match="no host called 'nope'; hosts: main"):
            net.host("nope")

    simloop.run(main())


def test_network_needs_a_running_simulation() -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match=r"simloop.network\(\) needs a running SimLoop"):
            simloop.network()

    asyncio.run(main())


def test_dns_answers_take_virtual_time_drawn_by_the_seed() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await loop.getaddrinfo("localhost", 80)
        return loop.time() - start

    fifo = simloop.run(main(), strategy="fifo")
    assert fifo == pytest.approx(simloop.strategies.FIFO_LATENCY)
    delays = {simloop.run(main(), seed=seed) for seed in range(5)}
    assert len(delays) == 5


def test_connections_come_from_an_address_of_the_destination_family() -> None:
    async def main() -> tuple[Any, Any]:
        net = simloop.network()
        net.add_host("db", "10.0.0.2", "fd00::2")
        net.add_host("legacy", "10.0.0.3")

        async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        with net.on("db"):
            server = await asyncio.start_server(close, port=80)
        reader, writer = await asyncio.open_connection("fd00::2", 80)
        source = writer.get_extra_info("sockname")
        await reader.read()
        writer.close()
        with net.on("legacy"), pytest.raises(OSError) as caught:
            await asyncio.open_connection("fd00::2", 80)
        server.close()
        return source[0], (caught.value.errno, str(caught.value))

    assert simloop.run(main(), strategy="fifo") == (
        "fd00::1",
        (101, "[Errno 101] Connect call failed ('fd00::2', 80, 0, 0)"),
    )
