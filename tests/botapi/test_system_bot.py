"""The built-in @bots account: users make bots by chatting with it (/newbot, a name, a
username → a working token) and manage them (/mybots, /token, /revoke, /setcommands,
/setprivacy, /setinline, /setname, /deletebot, /cancel); it answers each message once, also
across a restart, and only the node holding its lease answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from heliograph.botapi.webhooks import claim_lease
from heliograph.server import Server
from tests.conftest import _reset_postgres, base_url
from tests.gateway.api import Api, User

Launch = Callable[..., Awaitable[Server]]


@pytest.fixture
async def launch(make_config, store: str) -> AsyncIterator[Launch]:  # type: ignore[no-untyped-def]
    """Start servers; `fresh=False` keeps the store of the one before. (The shared `server`
    fixture empties PostgreSQL after start, which would take the system bot away.)"""
    started: list[Server] = []

    async def start(fresh: bool = True) -> Server:
        config = make_config()
        if fresh and store == "postgres":
            await _reset_postgres(config.database_url)
        srv = Server(config)
        await srv.start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        await srv.stop()


@dataclass
class Chat:
    """A user's private chat with @bots."""

    api: Api
    user: User
    chat_id: int
    bots_id: int

    async def say(self, text: str, within: float = 5.0) -> dict[str, Any]:
        """Send `text`; the system bot's answer (the one message after it)."""
        sent = await self.api.ok("sendMessage", self.user.token, chat_id=self.chat_id, text=text)
        after = sent["message"]["id"]
        deadline = time.monotonic() + within
        while True:
            newer = await self.api.ok(
                "getHistory",
                self.user.token,
                chat_id=self.chat_id,
                offset_id=after,
                direction="newer",
            )
            if newer:
                assert len(newer) == 1 and newer[0]["sender_id"] == self.bots_id, newer
                message: dict[str, Any] = newer[0]
                return message
            assert time.monotonic() < deadline, f"no answer to {text!r}"
            await asyncio.sleep(0.03)

    async def text(self, text: str) -> str:
        answer: str = (await self.say(text))["text"]
        return answer


async def open_bots(api: Api, user: User) -> Chat:
    bots = await api.ok("resolveUsername", user.token, username="bots")
    chat = await api.ok("getPrivateChat", user.token, user_id=bots["id"])
    return Chat(api, user, chat["id"], bots["id"])


async def bot_call(url: str, token: str, method: str, /, **params: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/bot{token}/{method}", json=params) as r,
    ):
        return r.status, await r.json()


def token_of(message: dict[str, Any]) -> str:
    """The token in an answer: the text its code entity marks."""
    [code] = [e for e in message["entities"] if e["type"] == "code"]
    token: str = message["text"][code["offset"] : code["offset"] + code["length"]]
    return token


async def test_newbot_conversation_gives_a_working_token(launch: Launch) -> None:
    server = await launch()
    url = base_url(server)
    async with Api(url) as api:
        ann = await api.make_user("ann")
        bots = await api.ok("resolveUsername", ann.token, username="bots")
        assert bots["display_name"] == "Bots" and bots["username"] == "bots"
        info = await api.ok("getBotInfo", ann.token, bot_id=bots["id"])
        assert "newbot" in [c["command"] for c in info["commands"]]
        chat = await open_bots(api, ann)

        assert "/newbot" in await chat.text("/start")
        assert "choose a name" in await chat.text("/newbot")
        assert "username" in await chat.text("Weather Station")
        # a bad username is explained, and the question stands
        assert "must end in 'bot'" in await chat.text("weather")
        assert "invalid" in await chat.text("9lives_bot")
        await api.ok("createBot", ann.token, name="Taken", username="taken_bot")
        assert "already taken" in await chat.text("taken_bot")
        done = await chat.say("Weather_Bot")
        assert done["text"].startswith("Done!") and "@Weather_Bot" in done["text"]
        token = token_of(done)
        status, me = await bot_call(url, token, "getMe")
        assert status == 200, me
        assert me["result"]["username"] == "Weather_Bot"
        assert me["result"]["first_name"] == "Weather Station"

        listing = await chat.text("/mybots")
        assert "@Weather_Bot - Weather Station" in listing and "@taken_bot" in listing
        # the conversation is over: a plain message gets a hint
        assert "/newbot" in await chat.text("Weather_Bot")

        # /cancel in the middle forgets the half-made bot
        await chat.text("/newbot")
        assert "cancelled" in await chat.text("/cancel")
        assert "/newbot" in await chat.text("Forgotten")
        assert "No active command" in await chat.text("/cancel")
        assert "Unrecognized command" in await chat.text("/frobnicate")
        assert len(await api.ok("getMyBots", ann.token)) == 2


async def test_managing_a_bot_by_chat(launch: Launch) -> None:
    server = await launch()
    url = base_url(server)
    async with Api(url) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        bot = await api.ok("createBot", ann.token, name="Echo", username="echo_bot")
        other = await api.ok("createBot", bob.token, name="Bobs", username="bobs_bot")
        chat = await open_bots(api, ann)

        # without a bot named, buttons offer each of the user's bots
        ask = await chat.say("/setcommands")
        assert ask["text"] == "Choose a bot:"
        assert ask["reply_markup"]["keyboard"] == [[{"text": "@echo_bot"}]]
        assert "format" in await chat.text("@echo_bot")
        assert "can't use that list" in await chat.text("start the bot")
        assert "Success" in await chat.text("start - Start the bot\n/help - What it does")
        menu = [
            {"command": "start", "description": "Start the bot"},
            {"command": "help", "description": "What it does"},
        ]
        assert (await api.ok("getBotInfo", ann.token, bot_id=bot["id"]))["commands"] == menu
        assert await bot_call(url, bot["token"], "getMyCommands") == (
            200,
            {"ok": True, "result": menu},
        )

        # someone else's bot is not offered
        ask = await chat.say("/setname @bobs_bot")
        assert ask["reply_markup"]["keyboard"] == [[{"text": "@echo_bot"}]]
        await chat.text("/cancel")
        assert (await api.ok("getBotInfo", ann.token, bot_id=other["id"]))["name"] == "Bobs"

        assert "new name" in await chat.text("/setname @echo_bot")
        assert "Success" in await chat.text("Echo Chamber")
        await chat.text("/setdescription echo_bot")
        await chat.text("I repeat what you say.")
        await chat.text("/setabouttext @echo_bot")
        await chat.text("Repeats.")
        privacy = await chat.say("/setprivacy @echo_bot")
        assert "ENABLED" in privacy["text"]
        assert privacy["reply_markup"]["keyboard"] == [[{"text": "Enable"}, {"text": "Disable"}]]
        assert "DISABLED" in await chat.text("Disable")
        await chat.text("/setinline @echo_bot")
        await chat.text("Say something...")
        info = await api.ok("getBotInfo", ann.token, bot_id=bot["id"])
        assert info["name"] == "Echo Chamber"
        assert info["description"] == "I repeat what you say."
        assert info["about"] == "Repeats."
        assert info["inline_placeholder"] == "Say something..."
        await chat.text("/setinline @echo_bot")
        await chat.text("/empty")
        await chat.text("/setdescription @echo_bot")
        await chat.text("/empty")
        info = await api.ok("getBotInfo", ann.token, bot_id=bot["id"])
        assert info["inline_placeholder"] is None and info["description"] == ""
        [mine] = await api.ok("getMyBots", ann.token)
        assert mine["privacy"] is False

        # /token cannot show a token (only its hash is kept); /revoke makes a new one
        assert "/revoke @echo_bot" in await chat.text("/token @echo_bot")
        revoked = await chat.say("/revoke @echo_bot")
        fresh = token_of(revoked)
        assert (await bot_call(url, bot["token"], "getMe"))[0] == 401
        assert (await bot_call(url, fresh, "getMe"))[0] == 200

        # /deletebot asks for the username before it deletes
        assert "to confirm" in await chat.text("/deletebot @echo_bot")
        assert "send its username" in await chat.text("yes")
        assert "gone" in await chat.text("@echo_bot")
        assert (await bot_call(url, fresh, "getMe"))[0] == 401
        assert await api.ok("getMyBots", ann.token) == []
        assert "no bots yet" in await chat.text("/deletebot")
        # bob's bot is untouched
        assert (await bot_call(url, other["token"], "getMe"))[0] == 200


async def test_each_message_is_answered_once_across_a_restart(launch: Launch) -> None:
    server = await launch()
    async with Api(base_url(server)) as api:
        ann = await api.make_user("ann")
        chat = await open_bots(api, ann)
        await chat.text("/newbot")
        # only the node holding the lease answers
        assert not await claim_lease(server.app, chat.bots_id, "another-node")
    await server.stop()
    server = await launch(fresh=False)
    async with Api(base_url(server)) as api:
        chat.api = api
        # the conversation resumes where it was, and nothing was answered twice
        assert "username" in await chat.text("Resumed")
        history = await api.ok("getHistory", ann.token, chat_id=chat.chat_id)
        senders = [m["sender_id"] for m in history]
        assert senders == [ann.user_id, chat.bots_id] * 2
