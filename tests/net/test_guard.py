"""Nothing escapes: real sockets and real DNS are refused inside a simulation."""

from __future__ import annotations

import asyncio
import socket

import pytest

import simloop


def test_a_real_socket_inside_a_simulation_is_refused() -> None:
    async def main() -> None:
        with pytest.raises(simloop.RealIOError, match=r"socket\.socket\(\) would use the real"):
            socket.socket()
        with pytest.raises(simloop.RealIOError, match="would use the real network"):
            socket.create_connection(("127.0.0.1", 80))

    simloop.run(main())


def test_real_dns_inside_a_simulation_is_refused() -> None:
    async def main() -> None:
        with pytest.raises(simloop.RealIOError, match=r"socket\.getaddrinfo\('example\.com', 80\)"):
            socket.getaddrinfo("example.com", 80)
        with pytest.raises(simloop.RealIOError, match=r"socket\.gethostbyname\('example\.com'\)"):
            socket.gethostbyname("example.com")

    simloop.run(main())


def test_executor_jobs_cannot_reach_the_real_network_either() -> None:
    async def main() -> None:
        with pytest.raises(simloop.RealIOError, match=r"socket\.getaddrinfo"):
            await asyncio.to_thread(socket.getaddrinfo, "localhost", 80)

    simloop.run(main())


def test_a_real_socket_made_before_the_simulation_is_refused_by_the_loop() -> None:
    real = socket.socket()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with pytest.raises(simloop.RealIOError, match=r"loop\.sock_connect\(\) got a real socket"):
            await loop.sock_connect(real, ("127.0.0.1", 80))
        with pytest.raises(simloop.RealIOError, match=r"loop\.create_connection\(\) got a real"):
            await loop.create_connection(asyncio.Protocol, sock=real)

    try:
        simloop.run(main())
    finally:
        real.close()


def test_outside_a_simulation_the_real_network_is_untouched() -> None:
    async def main() -> None:
        pass

    simloop.run(main())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
    assert socket.getaddrinfo("127.0.0.1", 80, type=socket.SOCK_STREAM)


def test_unsimulated_tls_says_so() -> None:
    async def main() -> None:
        with pytest.raises(NotImplementedError, match="TLS is not simulated"):
            await asyncio.open_connection("127.0.0.1", 443, ssl=True)

    simloop.run(main())
