"""A tiny raw Bot API client for the bot tests, and the usual start: a user, a bot they made
through the client API (`createBot`), and the private chat in which the user sent /start.

Like tests/gateway/api.py it builds every request by hand (JSON, query string, form or
multipart) and returns what the server answered, so the tests check the wire itself."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api, User

# A file part: (file name, bytes, content type)
Part = tuple[str, bytes, str]


def _text(value: Any) -> str:
    """A parameter as form fields and query strings carry it: objects and numbers as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class BotApi:
    """Calls as one bot, over one HTTP session."""

    http: aiohttp.ClientSession
    token: str
    bot_id: int
    username: str
    offset: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)

    def _url(self, method: str) -> str:
        return f"/bot{self.token}/{method}"

    @staticmethod
    async def _decode(response: aiohttp.ClientResponse) -> tuple[int, Any]:
        return response.status, json.loads(await response.read())

    async def call(self, method: str, **params: Any) -> tuple[int, Any]:
        """POST with a JSON body."""
        async with self.http.post(self._url(method), json=params) as r:
            return await self._decode(r)

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self.call(method, **params)
        assert status == 200 and body["ok"] is True, f"{method} {params}: {status} {body}"
        return body["result"]

    async def get(self, method: str, **params: Any) -> tuple[int, Any]:
        """GET with the parameters in the query string."""
        query = {k: _text(v) for k, v in params.items()}
        async with self.http.get(self._url(method), params=query) as r:
            return await self._decode(r)

    async def form(self, method: str, **params: Any) -> tuple[int, Any]:
        """POST application/x-www-form-urlencoded."""
        fields = {k: _text(v) for k, v in params.items()}
        async with self.http.post(self._url(method), data=fields) as r:
            return await self._decode(r)

    async def upload(self, method: str, files: dict[str, Part], **params: Any) -> tuple[int, Any]:
        """POST multipart/form-data: the fields, then each file as a part of its own name."""
        form = aiohttp.FormData()
        for name, value in params.items():
            form.add_field(name, _text(value))
        for name, (filename, data, content_type) in files.items():
            form.add_field(name, data, filename=filename, content_type=content_type)
        async with self.http.post(self._url(method), data=form) as r:
            return await self._decode(r)

    async def upload_ok(self, method: str, files: dict[str, Part], **params: Any) -> Any:
        status, body = await self.upload(method, files, **params)
        assert status == 200 and body["ok"] is True, f"{method} {params}: {status} {body}"
        return body["result"]

    async def download(self, file_path: str) -> tuple[int, bytes]:
        async with self.http.get(f"/file/bot{self.token}/{file_path}") as r:
            return r.status, await r.read()

    async def updates(self, wait: int = 0) -> list[dict[str, Any]]:
        """New updates, acknowledging earlier ones (as a library's polling loop does)."""
        found: list[dict[str, Any]] = await self.ok("getUpdates", offset=self.offset, timeout=wait)
        if found:
            self.offset = found[-1]["update_id"] + 1
        self.seen.extend(found)
        return found

    async def next_message(self, wait: int = 5) -> dict[str, Any]:
        """The next `message` update's Message, waiting up to `wait` s for it."""
        for update in await self.updates(wait):
            if "message" in update:
                message: dict[str, Any] = update["message"]
                return message
        raise AssertionError("no message arrived for the bot")


async def make_bot(
    api: Api, owner: User, http: aiohttp.ClientSession, username: str = "HelperBot"
) -> BotApi:
    """A bot made by `owner` through the client API, with a client for its token."""
    made = await api.ok("createBot", owner.token, name="Helper", username=username)
    return BotApi(http, made["token"], made["id"], made["username"])


async def start(api: Api, user: User, bot: BotApi, text: str = "/start") -> int:
    """The user opens the private chat with the bot and writes to it; our chat id."""
    chat = await api.ok("getPrivateChat", user.token, user_id=bot.bot_id)
    await api.ok("sendMessage", user.token, chat_id=chat["id"], text=text)
    return int(chat["id"])


@dataclass
class World:
    api: Api
    ann: User
    bot: BotApi
    # Ann's private chat with the bot, as Ann's client knows it
    chat_id: int
    # the /start message, as the bot received it
    start: dict[str, Any]

    async def history(self, user: User | None = None, chat_id: int | None = None) -> Any:
        """The chat as a user's client shows it, oldest first."""
        who = user or self.ann
        return await self.api.ok(
            "getHistory", who.token, chat_id=chat_id or self.chat_id, limit=100
        )

    async def last(self) -> dict[str, Any]:
        messages = await self.history()
        last: dict[str, Any] = messages[-1]
        return last


@asynccontextmanager
async def started(server: Server, username: str = "HelperBot") -> AsyncIterator[World]:
    """Ann, her bot, and their private chat with /start received by the bot."""
    url = base_url(server)
    async with Api(url) as api, aiohttp.ClientSession(url) as http:
        ann = await api.make_user("ann")
        bot = await make_bot(api, ann, http, username)
        chat_id = await start(api, ann, bot)
        first = await bot.next_message()
        yield World(api, ann, bot, chat_id, first)


def description(body: Any) -> str:
    """A failed call's description, insisting on the Bot API's error shape."""
    assert body["ok"] is False and isinstance(body["error_code"], int), body
    text: str = body["description"]
    return text
