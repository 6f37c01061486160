"""A small HTTP client for the group permission tests, a server they share, and the reads
that show whether a refused call changed anything."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp

from heliograph.config import load_config
from heliograph.domain.errors import ErrorCode
from heliograph.server import Server
from tests.conftest import TEST_RATES, _reset_postgres, base_url

PASSWORD_SUFFIX = "-pass-word-1"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    display_name: str
    password: str
    token: str
    user_id: int


def assert_error(status: int, body: Any, code: str) -> dict[str, Any]:
    """Insist on a refusal with this code, answered with the status the code is documented
    with and a message; the error object."""
    assert isinstance(body, dict) and body.get("ok") is False, f"expected {code}, got {body}"
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, f"expected {code}, got {status} {error}"
    assert status == ErrorCode[code].status, f"{code} answered with HTTP {status}"
    assert isinstance(error.get("message"), str) and error["message"].strip(), error
    return error


class Api:
    """POST /api/<method> with a JSON body, as a given user."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def call(self, method: str, user: User | None = None, **params: Any) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {user.token}"} if user is not None else {}
        async with self.http.post(f"/api/{method}", json=params, headers=headers) as r:
            return r.status, await r.json()

    async def ok(self, method: str, user: User | None = None, **params: Any) -> Any:
        status, body = await self.call(method, user, **params)
        assert status == 200 and body["ok"], f"{method} {params} -> {status} {body}"
        return body["result"]

    async def error(self, code: str, method: str, user: User, **params: Any) -> dict[str, Any]:
        """Call, insist on the refusal `code`; the error object."""
        status, body = await self.call(method, user, **params)
        return assert_error(status, body, code)

    async def read(self, method: str, user: User, **params: Any) -> Any:
        """The result, or the refusal (status and code) for comparing before and after."""
        status, body = await self.call(method, user, **params)
        return body["result"] if status == 200 else (status, body["error"]["code"])

    async def make_user(self, name: str) -> User:
        password = name + PASSWORD_SUFFIX
        display = name.title()
        result = await self.ok("signUp", username=name, password=password, display_name=display)
        return User(name, display, password, result["token"], result["account"]["id"])

    async def chat_view(self, viewer: User, chat_id: int, *also: User) -> dict[str, Any]:
        """Everything `viewer` (an owner, who may read it all) sees of a chat: its history,
        the chat, its members, banned users and admin log, and the common box position of
        the viewer and of `also` (an update written anywhere moves it)."""
        reads = {
            "history": self.read("getHistory", viewer, chat_id=chat_id, limit=100),
            "chat": self.read("getChat", viewer, chat_id=chat_id),
            "members": self.read("getChatMembers", viewer, chat_id=chat_id, limit=200),
            "banned": self.read(
                "getChatMembers", viewer, chat_id=chat_id, filter="banned", limit=200
            ),
            "log": self.read("getAdminLog", viewer, chat_id=chat_id, limit=100),
        }
        for user in {u.user_id: u for u in (viewer, *also)}.values():
            reads[f"pts of {user.name}"] = self.read("getState", user)
        view = dict(zip(reads, await asyncio.gather(*reads.values()), strict=True))
        for key, value in view.items():
            if key.startswith("pts of") and isinstance(value, dict):
                value.pop("date", None)
        return view


@asynccontextmanager
async def running_server(
    store: str, data_dir: Path, postgres_url: str | None, **overrides: Any
) -> AsyncIterator[Api]:
    """A server on a fresh store (as the `server` fixture builds it, with the fast password
    hashing of the test session), and a client for it."""
    config = load_config(env={}, data_dir=str(data_dir), port=0, database_url=postgres_url)
    config = replace(config, rates=dict(TEST_RATES), shutdown_timeout=2.0, **overrides)
    if store == "postgres":
        await _reset_postgres(config.database_url)
    server = Server(config)
    await server.start()
    if store == "postgres":
        await _reset_postgres(config.database_url)
    try:
        async with aiohttp.ClientSession(base_url(server)) as http:
            yield Api(http)
    finally:
        await server.stop()
