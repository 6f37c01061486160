"""Shared by the tests that run real aiogram and python-telegram-bot bots against a server:
a user and a bot with their private chat, waiting for what the user sees, raw Bot API calls
for checks the libraries do not make, and small sample files."""

from __future__ import annotations

import asyncio
import io
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from PIL import Image

from heliograph.config import Config
from heliograph.server import Server
from tests.conftest import _reset_postgres, base_url
from tests.gateway.api import Api, User
from tests.media.files import upload

# every wait in these tests is bounded by this many seconds
TIMEOUT = 10.0
SECRET = "s3cret_Token-42"

T = TypeVar("T")


@dataclass
class Scene:
    """A user, a bot they made, and their private chat (`chat_id` as the user knows it;
    the bot knows it by the user's id)."""

    url: str
    api: Api
    user: User
    bot_id: int
    token: str
    chat_id: int
    # what the bot's handlers saw, for the tests to compare
    seen: list[Any] = field(default_factory=list)
    # exceptions the bot's handlers raised (the libraries only log them)
    errors: list[BaseException] = field(default_factory=list)


@asynccontextmanager
async def scene(srv: Server, username: str = "lib_bot") -> AsyncIterator[Scene]:
    url = base_url(srv)
    async with Api(url) as api:
        user = await api.make_user("ann")
        bot = await api.ok("createBot", user.token, name="Lib", username=username)
        chat = await api.ok("getPrivateChat", user.token, user_id=bot["id"])
        yield Scene(url, api, user, bot["id"], bot["token"], chat["id"])


@asynccontextmanager
async def running_server(
    make_config: Callable[..., Config], store: str, **overrides: Any
) -> AsyncIterator[Server]:
    """A server of this test's own, for settings the `server` fixture does not have."""
    config = make_config(**overrides)
    if store == "postgres":
        await _reset_postgres(config.database_url)
    srv = Server(config)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def say(s: Scene, text: str) -> dict[str, Any]:
    """The user sends text to the bot; the message as sent."""
    sent: dict[str, Any] = await s.api.ok(
        "sendMessage", s.user.token, chat_id=s.chat_id, text=text, random_id=_random_id()
    )
    return sent["message"]


def _random_id() -> int:
    return int.from_bytes(os.urandom(7), "big")


async def history(s: Scene) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await s.api.ok(
        "getHistory", s.user.token, chat_id=s.chat_id, limit=100
    )
    return found


async def from_bot(s: Scene) -> list[dict[str, Any]]:
    return [m for m in await history(s) if m["sender_id"] == s.bot_id]


async def eventually(
    check: Callable[[], Awaitable[T | None]], what: str, errors: list[BaseException] | None = None
) -> T:
    """Poll `check` until it returns something other than None (or False), within TIMEOUT;
    a handler's exception (in `errors`) ends the wait at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        found = await check()
        if found is not None and found is not False:
            return found
        if errors:
            raise AssertionError(f"a handler failed waiting for {what}: {errors!r}") from errors[0]
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def edited_to(s: Scene, message_id: int, text: str) -> None:
    """Wait until the user sees the message with this text."""

    async def edited() -> bool:
        return any(m["id"] == message_id and m["text"] == text for m in await history(s))

    await eventually(edited, f"message {message_id} edited to {text!r}", s.errors)


async def bot_texts(s: Scene, count: int) -> list[str]:
    """The texts of the bot's messages, once there are at least `count`."""

    async def enough() -> list[str] | None:
        texts = [m["text"] for m in await from_bot(s)]
        return texts if len(texts) >= count else None

    return await eventually(enough, f"{count} messages from the bot", s.errors)


async def bot_call(s: Scene, method: str, token: str | None = None, **params: Any) -> Any:
    """A raw Bot API call (for checks, not for the bots under test)."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{s.url}/bot{token or s.token}/{method}", json=params) as r,
    ):
        body = await r.json()
    assert body["ok"] is True, f"{method}: {body}"
    return body["result"]


async def pending(s: Scene) -> int:
    info = await bot_call(s, "getWebhookInfo")
    return int(info["pending_update_count"])


async def all_acknowledged(s: Scene) -> None:
    async def none_pending() -> bool:
        return await pending(s) == 0

    await eventually(none_pending, "the bot to acknowledge its updates", s.errors)


async def start_with(s: Scene, parameter: str) -> None:
    """The user starts the bot with a deep-link parameter, as a t.me/<bot>?start= link does
    (the client sends `/start <parameter>` in the private chat)."""
    sent = await s.api.ok("startBot", s.user.token, bot_id=s.bot_id, parameter=parameter)
    assert sent["message"]["text"] == f"/start {parameter}"


async def press(s: Scene, message_id: int, data: str) -> dict[str, Any]:
    """The user presses an inline button; the bot's answer."""
    status, body = await asyncio.wait_for(
        s.api.call(
            "pressButton", s.user.token, chat_id=s.chat_id, message_id=message_id, data=data
        ),
        TIMEOUT,
    )
    if s.errors:
        raise AssertionError(f"a handler failed: {s.errors!r}") from s.errors[0]
    assert status == 200, f"pressButton: {status} {body}"
    answer: dict[str, Any] = body["result"]
    return answer


async def keyboard_message(s: Scene) -> dict[str, Any]:
    """The bot's newest message carrying an inline keyboard, as the user sees it."""

    async def find() -> dict[str, Any] | None:
        marked = [m for m in await from_bot(s) if m.get("reply_markup")]
        return marked[-1] if marked else None

    return await eventually(find, "a message with an inline keyboard", s.errors)


async def send_document(s: Scene, data: bytes, name: str) -> None:
    file = await upload(s.api, s.user, data, name)
    await s.api.ok(
        "sendMedia",
        s.user.token,
        chat_id=s.chat_id,
        media={"type": "document", "file_id": file["id"]},
        random_id=_random_id(),
    )


async def photo_from_bot(s: Scene) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        photos = [m for m in await from_bot(s) if (m.get("media") or {}).get("type") == "photo"]
        return photos[-1] if photos else None

    return await eventually(find, "a photo from the bot", s.errors)


def sample_bytes(size: int = 150_000) -> bytes:
    return os.urandom(size)


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def post_update(url: str, secret: str | None, update_id: int = 1) -> int:
    """POST an update straight to a bot's webhook server; the status it answers."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    body = {"update_id": update_id}
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as r:
        return r.status
