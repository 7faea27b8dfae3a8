"""Bug 12: a cancelled request leaves its reply on a pooled connection (redis-py).

Source: redis/redis-py#2624, #2665 and #2579; CVE-2023-28858 (fix PR #2641)
and CVE-2023-28859 (PR #2666, then #2695). The handler that misses
cancellation came in with PR #2104 (see #2103 and #2511). This is the bug
behind the ChatGPT incident of March 2023, where users saw other users' data.
Affected: redis-py's asyncio client 4.4.0-4.4.3 and 4.5.0-4.5.3 on Python 3.8+
(NVD: CVE-2023-28858 before 4.5.3/4.4.3/4.3.6; CVE-2023-28859 before 4.4.4
and 4.5.x before 4.5.4).

What goes wrong: a command writes its request, then reads the reply. If
anything goes wrong in between, the connection is out of step with the
server and must be closed; the client does so in an `except Exception`
handler. But since Python 3.8 CancelledError is not an Exception: a request
cancelled after it was sent and before its reply was read puts the
connection back in the pool with the reply still on its way. The next
command on that connection reads the previous command's reply.

Interleaving: the cancel lands after the request is sent and before the
reply is read. The window is as wide as the server's response time, so the
stock loop shows it every time; on simloop it is a matter of network
delivery times against the caller's deadline.

Fix (PRs #2641, #2666, in our own form): any interruption between sending a
request and reading its whole reply, cancellation included, closes the
connection instead of returning it to the pool.

Needs a network: the server is a toy line protocol ("GET key" answered with
the value) on asyncio streams, on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any

from examples.gallery._support import show

INTERLEAVING = "N (wide)"
STOCK_HIDES = False
NEEDS_NETWORK = True

#: How long the toy server thinks before answering, in seconds.
SERVER_THINK_TIME = 0.005


class ToyServer:
    """A toy key-value server: each line "GET key" is answered with the value."""

    def __init__(self, store: dict[str, str]) -> None:
        self._store = store
        self._sessions: list[asyncio.Task[None]] = []

    async def start(self) -> tuple[str, int]:
        """Listen on 127.0.0.1; the address to connect to."""
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = asyncio.current_task()
        assert session is not None
        self._sessions.append(session)
        try:
            while line := await reader.readline():
                _, _, key = line.decode().strip().partition(" ")
                await asyncio.sleep(SERVER_THINK_TIME)
                writer.write(f"{self._store.get(key, '')}\n".encode())
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def stop(self) -> None:
        """Stop listening, and wait until every client has hung up."""
        self._server.close()
        await self._server.wait_closed()
        await asyncio.gather(*self._sessions)


class Connection:
    """One connection to the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, request: str) -> None:
        self.writer.write(f"{request}\n".encode())
        await self.writer.drain()

    async def read_reply(self) -> str:
        line = await self.reader.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        return line.decode().rstrip("\n")

    def hang_up(self) -> None:
        self.writer.close()

    async def closed(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


class _Client:
    """A client with a pool of idle connections, opened on demand."""

    def __init__(self, host: str, port: int) -> None:
        self._address = host, port
        self._idle: list[Connection] = []
        self._hung_up: list[Connection] = []

    async def _take(self) -> Connection:
        if self._idle:
            return self._idle.pop()
        return Connection(*await asyncio.open_connection(*self._address))

    def _give_back(self, connection: Connection) -> None:
        if connection not in self._hung_up:
            self._idle.append(connection)

    def _hang_up(self, connection: Connection) -> None:
        connection.hang_up()
        self._hung_up.append(connection)

    async def get(self, key: str) -> str:
        raise NotImplementedError

    async def close(self) -> None:
        for connection in self._idle + self._hung_up:
            await connection.closed()
        self._idle.clear()
        self._hung_up.clear()


class ClientMissingCancellation(_Client):
    """The client of redis-py 4.4/4.5: only an Exception closes the connection."""

    async def get(self, key: str) -> str:
        connection = await self._take()
        try:
            await connection.send(f"GET {key}")
            return await connection.read_reply()
        except Exception:  # the bug: CancelledError is a BaseException
            self._hang_up(connection)
            raise
        finally:
            self._give_back(connection)


class ClientClosingOnCancellation(_Client):
    """The client after the CVE fixes."""

    async def get(self, key: str) -> str:
        connection = await self._take()
        try:
            await connection.send(f"GET {key}")
            return await connection.read_reply()
        except BaseException:  # any interruption leaves the connection out of step
            self._hang_up(connection)
            raise
        finally:
            self._give_back(connection)


BUGGY = ClientMissingCancellation
FIXED = ClientClosingOnCancellation


async def scenario(client_type: Any) -> None:
    """A caller gives up on GET a; the next caller's GET b must get b's value."""
    server = ToyServer({"a": "value of a", "b": "value of b"})
    client = client_type(*await server.start())
    try:
        assert await client.get("b") == "value of b"  # the pool now has a connection
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SERVER_THINK_TIME / 5):
                await client.get("a")  # the caller gives up before the reply comes
        value = await client.get("b")
        assert value == "value of b", f"GET b returned {value!r}: the reply to the abandoned GET a"
    except ConnectionError:
        pass  # a refused or reset connection (faults simloop may inject): not this bug
    finally:
        await client.close()
        await server.stop()


if __name__ == "__main__":
    raise SystemExit(show(sys.modules[__name__]))
