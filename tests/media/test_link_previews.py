"""Link previews through the whole server: a message with a link gets the page's preview as
an edit; previews can be turned off; private addresses are never fetched."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from PIL import Image

from heliograph.server import Server
from tests.conftest import _reset_postgres, base_url
from tests.gateway.api import Api, User
from tests.media.files import download


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


class Site:
    """A small web site on 127.0.0.1 that counts its visitors."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.port = 0

    async def page(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        html = (
            "<html><head><title>Fallback</title>"
            '<meta property="og:title" content="Spring &amp; Rain">'
            '<meta property="og:description" content="A forecast for the week.">'
            '<meta property="og:site_name" content="Weather">'
            '<meta property="og:image" content="/cover.png">'
            "</head><body>hello</body></html>"
        )
        return web.Response(text=html, content_type="text/html")

    async def cover(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        return web.Response(body=_png(), content_type="image/png")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    s = Site()
    app = web.Application()
    app.add_routes([web.get("/page", s.page), web.get("/cover.png", s.cover)])
    runner = web.AppRunner(app)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    s.port = runner.addresses[0][1]
    yield s
    await runner.cleanup()


async def _server(make_config, store: str, **overrides: Any) -> Server:  # type: ignore[no-untyped-def]
    config = make_config(**overrides)
    if store == "postgres":
        await _reset_postgres(config.database_url)
    srv = Server(config)
    await srv.start()
    return srv


async def _wait_for(predicate: Any, within: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def _pair(api: Api) -> tuple[User, User, int]:
    ann = await api.make_user("ann")
    bob = await api.make_user("bob")
    chat = await api.ok("getPrivateChat", ann.token, user_id=bob.user_id)
    return ann, bob, chat["id"]


async def test_link_gets_a_preview_unless_turned_off(make_config, store: str, site: Site) -> None:  # type: ignore[no-untyped-def]
    srv = await _server(make_config, store, link_preview_allowlist="127.0.0.1")
    try:
        async with Api(base_url(srv)) as api:
            ann, bob, chat_id = await _pair(api)
            url = f"http://127.0.0.1:{site.port}/page"
            quiet = await api.ok(
                "sendMessage",
                ann.token,
                chat_id=chat_id,
                text=f"no preview {url}",
                no_link_preview=True,
            )
            socket = await api.ws_connect(bob.token)
            sent = await api.ok("sendMessage", ann.token, chat_id=chat_id, text=f"look {url}")
            frame = await socket.next(
                lambda f: (
                    f.get("type") == "update"
                    and f["update"]["type"] == "edit_message"
                    and f["update"]["message"]["id"] == sent["message"]["id"]
                ),
                within=10,
            )
            preview = frame["update"]["message"]["link_preview"]
            assert preview["title"] == "Spring & Rain"
            assert preview["description"] == "A forecast for the week."
            assert preview["site_name"] == "Weather"
            biggest = preview["photo"]["sizes"][-1]
            status, body, _ = await download(api, bob, biggest["file_id"])
            assert status == 200 and Image.open(io.BytesIO(body)).size == (400, 300)
            history = await api.ok("getHistory", bob.token, chat_id=chat_id)
            by_id = {m["id"]: m for m in history}
            assert by_id[sent["message"]["id"]]["link_preview"]["title"] == "Spring & Rain"
            assert by_id[quiet["message"]["id"]]["link_preview"] is None
            # the page was fetched once, for the message that wanted it
            assert site.hits.count("/page") == 1
            # a second message with the same link is served from the cache
            again = await api.ok("sendMessage", ann.token, chat_id=chat_id, text=url)

            async def previewed() -> bool:
                history = await api.ok("getHistory", bob.token, chat_id=chat_id)
                return any(m["id"] == again["message"]["id"] and m["link_preview"] for m in history)

            await _wait_for(previewed)
            assert site.hits.count("/page") == 1
    finally:
        await srv.stop()


async def test_private_addresses_are_never_fetched(make_config, store: str, site: Site) -> None:  # type: ignore[no-untyped-def]
    srv = await _server(make_config, store)  # no allowlist: loopback is refused
    try:
        async with Api(base_url(srv)) as api:
            ann, bob, chat_id = await _pair(api)
            url = f"http://127.0.0.1:{site.port}/page"
            await api.ok("sendMessage", ann.token, chat_id=chat_id, text=f"internal {url}")

            async def refused() -> bool:
                async with srv.db.read() as conn:
                    row = await conn.fetchrow("SELECT data FROM link_previews WHERE url = ?", url)
                return row is not None

            await _wait_for(refused)
            assert site.hits == []
            [message] = await api.ok("getHistory", bob.token, chat_id=chat_id)
            assert message["link_preview"] is None
    finally:
        await srv.stop()
