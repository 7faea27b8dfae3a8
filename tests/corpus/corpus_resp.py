"""A tiny Redis-protocol (RESP2/RESP3) server with asyncio streams, enough for
redis-py's asyncio client: HELLO, PING, SET, GET, DEL, INCR/INCRBY, CLIENT SETINFO
and SELECT 0. The kind of fake people write to test a cache layer without a
real Redis."""

from __future__ import annotations

import asyncio
import contextlib


def bulk(value: bytes | None, resp3: bool) -> bytes:
    if value is None:
        return b"_\r\n" if resp3 else b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(value), value)


async def read_command(reader: asyncio.StreamReader) -> list[bytes] | None:
    header = await reader.readline()
    if not header:
        return None
    if not header.startswith(b"*"):  # inline command
        return header.split()
    args = []
    for _ in range(int(header[1:])):
        length = int((await reader.readline())[1:])
        args.append((await reader.readexactly(length + 2))[:-2])
    return args


class RespServer:
    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.handlers: set[asyncio.Task[None]] = set()
        self.commands: list[bytes] = []

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self.server = await asyncio.start_server(self.handle, host, port)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()
        if self.handlers:
            await asyncio.wait(self.handlers)

    def execute(self, args: list[bytes], state: dict[str, bool]) -> bytes:
        cmd = args[0].upper()
        self.commands.append(cmd)
        resp3 = state["resp3"]
        if cmd == b"HELLO":
            proto = int(args[1]) if len(args) > 1 else 2
            state["resp3"] = proto == 3
            fields = [(b"server", b"fake-redis"), (b"version", b"7.2.0")]
            if proto == 3:
                out = b"%%%d\r\n" % (len(fields) + 1)
                for k, v in fields:
                    out += bulk(k, True) + bulk(v, True)
                return out + bulk(b"proto", True) + b":3\r\n"
            out = b"*%d\r\n" % (2 * len(fields) + 2)
            for k, v in fields:
                out += bulk(k, False) + bulk(v, False)
            return out + bulk(b"proto", False) + b":2\r\n"
        if cmd == b"PING":
            return b"+PONG\r\n" if len(args) == 1 else bulk(args[1], resp3)
        if cmd == b"SET":
            self.data[args[1]] = args[2]
            return b"+OK\r\n"
        if cmd == b"GET":
            return bulk(self.data.get(args[1]), resp3)
        if cmd == b"DEL":
            removed = sum(self.data.pop(k, None) is not None for k in args[1:])
            return b":%d\r\n" % removed
        if cmd in (b"INCR", b"INCRBY"):
            value = int(self.data.get(args[1], b"0")) + (int(args[2]) if len(args) > 2 else 1)
            self.data[args[1]] = str(value).encode()
            return b":%d\r\n" % value
        if cmd in (b"CLIENT", b"SELECT"):
            return b"+OK\r\n"
        return b"-ERR unknown command '%s'\r\n" % cmd

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        state = {"resp3": False}
        try:
            while (args := await read_command(reader)) is not None:
                if args:
                    writer.write(self.execute(args, state))
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
            self.handlers.discard(task)
