"""Nothing escapes: sockets made inside a simulation are simulated; real
descriptors and real DNS are refused; modules imported during a run leave it
as they found it.

Covers simloop/net/_guard.py, simloop/_imports.py.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import simloop


def test_a_socket_made_inside_a_simulation_is_simulated() -> None:
    async def main() -> bytes:
        listening = socket.socket()  # as pytest-aiohttp's test server makes its own
        assert isinstance(listening, simloop.net.SimSocket)
        listening.bind(("127.0.0.1", 0))
        listening.listen()

        async def greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"hello")
            writer.close()

        server = await asyncio.start_server(greet, sock=listening)
        reader, writer = await asyncio.open_connection(*listening.getsockname())
        greeting = await reader.read()
        writer.close()
        server.close()
        await server.wait_closed()
        return greeting

    assert simloop.run(main()) == b"hello"


def test_what_cannot_be_simulated_is_refused() -> None:
    async def main() -> None:
        with pytest.raises(simloop.RealIOError, match=r"socket\.socketpair\(\) would use the real"):
            socket.socketpair()
        with pytest.raises(simloop.RealIOError, match=r"only TCP and UDP over IPv4 and IPv6"):
            socket.socket(socket.AF_UNIX)
        with pytest.raises(simloop.RealIOError, match=r"socket\.socket\(fileno=\.\.\.\)"):
            socket.socket(fileno=0)
        with pytest.raises(simloop.RealIOError, match="would use the real network"):
            socket.create_connection(("127.0.0.1", 80))
        with pytest.raises(simloop.RealIOError, match=r"socket\.connect\(\) on a simulated socket"):
            socket.socket().connect(("127.0.0.1", 80))

    simloop.run(main())


def test_a_module_imported_during_a_run_leaves_its_randomness_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seed gives the same run whether or not an earlier seed imported the
    module: what the module's code draws is rewound."""
    (tmp_path / "draws_at_import.py").write_text(
        "import os, random\nDRAWN = random.random(), os.urandom(4)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    async def main() -> tuple[float, bytes]:
        import draws_at_import  # noqa: F401

        return random.random(), os.urandom(4)

    monkeypatch.delitem(sys.modules, "draws_at_import", raising=False)
    first = simloop.run(main(), seed=5)  # imports the module
    again = simloop.run(main(), seed=5)  # it is imported already
    assert first == again
    assert sys.modules["draws_at_import"].__loader__.__class__.__name__ == "SourceFileLoader"


def test_aiohttp_imported_inside_a_test_works_on_the_first_seed(tmp_path: Path) -> None:
    (tmp_path / "test_lazy.py").write_text(
        textwrap.dedent(
            """
            import asyncio
            import pytest

            @pytest.mark.simloop(seeds=3)
            async def test_get():
                import aiohttp
                from aiohttp import web

                async def hello(request):
                    return web.Response(text="hi")

                app = web.Application()
                app.router.add_get("/", hello)
                runner = web.AppRunner(app)
                await runner.setup()
                site = web.TCPSite(runner, "127.0.0.1", 8080)
                await site.start()
                async with aiohttp.ClientSession() as session:
                    async with session.get("http://localhost:8080/") as response:
                        assert await response.text() == "hi"
                await runner.cleanup()
            """
        )
    )
    # A fresh process: aiohttp (and aiohappyeyeballs) not imported before the test.
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_lazy.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


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
