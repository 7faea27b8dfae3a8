"""A small line-based request/reply server, the kind every asyncio service
tutorial starts with, shared by several corpus tests.

Commands, one per line: ``PING`` -> ``PONG``; ``ECHO text`` -> ``text``;
``ADD a b`` -> ``a+b``; ``WHO`` -> the connection's number; ``DUMP n`` -> n
lines then the server closes the connection; ``QUIT`` -> ``BYE`` then close.
"""

from __future__ import annotations

import asyncio
import contextlib


def answer(line: str, conn_id: int) -> str:
    cmd, _, arg = line.strip().partition(" ")
    if cmd == "PING":
        return "PONG"
    if cmd == "ECHO":
        return arg
    if cmd == "ADD":
        a, b = arg.split()
        return str(int(a) + int(b))
    if cmd == "WHO":
        return f"conn-{conn_id}"
    return f"ERR unknown command {cmd!r}"


class LineServer:
    """Tracks its handler tasks so that ``stop()`` can wait for them."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.handlers: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self.server = await asyncio.start_server(self.handle, host, port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        self.connections += 1
        conn_id = self.connections
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                text = line.decode()
                if text.startswith("QUIT"):
                    writer.write(b"BYE\n")
                    await writer.drain()
                    break
                if text.startswith("DUMP"):
                    for i in range(int(text.split()[1])):
                        writer.write(f"line {i}\n".encode())
                    await writer.drain()
                    break
                writer.write((answer(text, conn_id) + "\n").encode())
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self.handlers.discard(task)

    async def stop(self) -> None:
        """Stop accepting, then wait for every connection's handler to end
        (each ends when its client hangs up)."""
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()
        if self.handlers:
            await asyncio.wait(self.handlers)


async def request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: str, timeout: float = 1.0
) -> str:
    """One request, one reply line, under a deadline."""
    async with asyncio.timeout(timeout):
        writer.write(f"{line}\n".encode())
        await writer.drain()
        reply = await reader.readline()
    if not reply:
        raise ConnectionError("server closed the connection")
    return reply.decode().rstrip("\n")
