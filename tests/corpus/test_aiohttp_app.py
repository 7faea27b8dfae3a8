"""Imitates how aiohttp services are tested without pytest-aiohttp: a small
``aiohttp.web`` application (JSON API, a slow endpoint, an error route) run
with ``web.AppRunner`` and ``web.TCPSite`` on 127.0.0.1, called through an
``aiohttp.ClientSession`` with a client timeout, concurrently from many
tasks; ``aiohttp`` is imported at module level here (see
``test_aiohttp_lazy_import.py`` for the lazy variant)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import web

HITS = web.AppKey("hits", dict[str, int])  # mutable: a started app is frozen


def make_app() -> web.Application:
    app = web.Application()
    app[HITS] = {"count": 0}
    routes = web.RouteTableDef()

    @routes.get("/hello/{name}")
    async def hello(request: web.Request) -> web.Response:
        request.app[HITS]["count"] += 1
        return web.json_response({"greeting": f"hello {request.match_info['name']}"})

    @routes.post("/sum")
    async def total(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"sum": sum(body["numbers"])})

    @routes.get("/slow")
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.2)
        return web.Response(text="finally")

    @routes.get("/missing")
    async def missing(request: web.Request) -> web.Response:
        raise web.HTTPNotFound(text="no such thing")

    app.add_routes(routes)
    return app


async def start_site(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


@pytest.mark.simloop
async def test_aiohttp_get_and_post():
    app = make_app()
    runner, port = await start_site(app)
    try:
        timeout = aiohttp.ClientTimeout(total=2.0)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", timeout=timeout) as session:
            async with session.get("/hello/world") as resp:
                assert resp.status == 200
                assert await resp.json() == {"greeting": "hello world"}
            async with session.post("/sum", json={"numbers": [1, 2, 3, 4]}) as resp:
                assert resp.status == 200
                assert (await resp.json())["sum"] == 10
            async with session.get("/missing") as resp:
                assert resp.status == 404
                assert await resp.text() == "no such thing"
    finally:
        await runner.cleanup()
    assert app[HITS]["count"] == 1


@pytest.mark.simloop
async def test_aiohttp_concurrent_requests_one_session():
    app = make_app()
    runner, port = await start_site(app)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2.0)) as session:

            async def greet(name: str) -> str:
                async with session.get(f"http://127.0.0.1:{port}/hello/{name}") as resp:
                    resp.raise_for_status()
                    return str((await resp.json())["greeting"])

            names = [f"n{i}" for i in range(10)]
            greetings = await asyncio.gather(*(greet(n) for n in names))
        assert greetings == [f"hello {n}" for n in names]
    finally:
        await runner.cleanup()
    assert app[HITS]["count"] == 10


@pytest.mark.simloop
async def test_aiohttp_slow_endpoint_within_timeout():
    runner, port = await start_site(make_app())
    try:
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(3.0):
                async with session.get(f"http://127.0.0.1:{port}/slow") as resp:
                    assert await resp.text() == "finally"
    finally:
        await runner.cleanup()
