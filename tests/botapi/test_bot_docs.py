"""The Bot API's reference page: served self-contained at /api/bot-docs, every registered
method in it with its parameters and its differences from Telegram, and the differences
that hold for all methods."""

from __future__ import annotations

import html
import re

import aiohttp

from heliograph.botapi import docs
from heliograph.botapi.methods import BotMethod, BotParams, load_all
from heliograph.server import Server
from tests.conftest import base_url


def text_of(fragment: str) -> str:
    """What a reader sees of some HTML: tags dropped, entities decoded, spaces squeezed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def plain(markup: str) -> str:
    """A docstring or difference as the page shows it: `code` and **strong** marks gone."""
    return " ".join(markup.replace("`", " ").replace("**", "").split())


def seen(words: str) -> str:
    """Compare text regardless of spacing around code spans."""
    return re.sub(r"\s+", "", words)


def sections(page: str, kind: str) -> dict[str, str]:
    found = re.findall(rf'<section class="{kind}" id="{kind}-([^"]+)">(.*?)</section>', page)
    return {html.unescape(name): body for name, body in found}


async def test_page_is_served_self_contained(server: Server) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base_url(server)}/api/bot-docs") as r,
    ):
        assert r.status == 200 and r.content_type == "text/html"
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        page = await r.text()
    assert page == docs.page()
    assert "<script" not in page.lower() and " src=" not in page
    # links stay on the page, but for the client API's reference beside it
    assert set(re.findall(r'href="([^"#][^"]*)"', page)) <= {"docs"}
    targets = set(re.findall(r'id="([^"]+)"', page))
    assert {link[1:] for link in re.findall(r'href="(#[^"]+)"', page)} <= targets


def test_every_method_with_its_parameters_and_differences() -> None:
    methods = load_all()
    page = docs.page()
    shown = sections(page, "method")
    assert set(shown) == {m.name for m in methods.values()}
    for method in methods.values():
        body = shown[method.name]
        words = text_of(body)
        assert seen(plain(method.doc)) in seen(words), method.name
        for name in method.params.model_fields:
            assert f"<code>{html.escape(name)}</code>" in body, (method.name, name)
        if method.differences:
            assert "Differences from Telegram" in words, method.name
            assert seen(plain(method.differences)) in seen(words), method.name
        else:
            assert "As Telegram's." in words, method.name


def test_parameter_types_limits_and_defaults() -> None:
    page = docs.page()
    shown = {name: text_of(body) for name, body in sections(page, "method").items()}
    assert "limit Integer Optional at least 1; at most 100 100" in shown["getUpdates"]
    assert "allowed_updates Array of String Optional" in shown["getUpdates"]
    assert "url String Yes" in shown["setWebhook"]
    # the file a send method sends is required, whether uploaded or named by file_id
    assert "photo InputFile or String Yes" in shown["sendPhoto"]
    # object parameters are described under Types
    types = {name: text_of(body) for name, body in sections(page, "type").items()}
    assert "BotCommand" in types and "command String Yes" in types["BotCommand"]
    assert '<a href="#type-BotCommand">BotCommand</a>' in page


def test_general_differences() -> None:
    words = text_of(docs.page())
    for fact in (
        "a private chat is named by the other user's id",
        "a group by -<chat id>",
        "a channel by -(1000000000000 + <chat id>)",
        "update_id is the position of the update in the bot's own update box (its pts",
        "file_path from getFile is <kind>/<file_id>",
        "/file/bot<token>/<file_path>",
        "Webhooks must be https:// URLs",
        "bot_webhook_allowlist",
        "sending by HTTP URL is not offered",
        "X-Telegram-Bot-Api-Secret-Token",
        "429",
    ):
        assert fact in words, fact


class Hostile(BotParams):
    evil_field: str = "<b>"


def test_everything_is_escaped() -> None:
    async def handler(ctx: object, p: Hostile) -> None:
        return None

    method = BotMethod(
        "sendEvil<script>", Hostile, handler, "Does <script>alert(1)</script>", "Uses `<i>` & co"
    )
    page = docs.render({"sendevil": method})
    assert "<script" not in page and "<i>" not in page and "<b>" not in page
    assert "sendEvil&lt;script&gt;" in page and "&lt;i&gt;" in page
