"""Imitates test code that imports its HTTP stack lazily, inside the test
function (to keep collection fast, or because aiohttp is an optional
dependency): an ``aiohttp.web`` app on ``AppRunner``/``TCPSite`` and a
``ClientSession`` talking to it, everything imported in the test body."""

from __future__ import annotations

import pytest


@pytest.mark.simloop
async def test_aiohttp_imported_inside_the_test():
    import aiohttp
    from aiohttp import web

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="pong")

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app = web.Application()
    app.router.add_get("/ping", ping)
    app.router.add_post("/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 8080)
    await site.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            async with session.get("http://127.0.0.1:8080/ping") as resp:
                assert resp.status == 200
                assert await resp.text() == "pong"
            async with session.post("http://127.0.0.1:8080/echo", data=b"x" * 5000) as resp:
                assert await resp.read() == b"x" * 5000
    finally:
        await runner.cleanup()


@pytest.mark.simloop
async def test_aiohttp_lazy_import_json_roundtrip():
    import aiohttp
    from aiohttp import web

    async def handler(request: web.Request) -> web.Response:
        data = await request.json()
        return web.json_response({"doubled": [2 * x for x in data]})

    app = web.Application()
    app.router.add_post("/double", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            for n in range(3):
                async with session.post(
                    f"http://127.0.0.1:{port}/double",
                    json=list(range(n + 1)),
                    timeout=aiohttp.ClientTimeout(total=2),
                ) as resp:
                    assert (await resp.json())["doubled"] == [2 * x for x in range(n + 1)]
    finally:
        await runner.cleanup()
