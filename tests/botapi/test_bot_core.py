"""Bot accounts and receiving: a bot made through the client API answers getMe with its
token, receives what users send it through getUpdates (long polling, acknowledged by
offset, kept across a server restart), and in groups sees only what privacy mode allows."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from heliograph.server import Server
from tests.conftest import _reset_postgres, base_url
from tests.gateway.api import Api, User
from tests.groups.helpers import assert_error


async def bot_call(url: str, token: str, method: str, **params: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/bot{token}/{method}", json=params) as r,
    ):
        return r.status, await r.json()


async def bot_ok(url: str, token: str, method: str, **params: Any) -> Any:
    status, body = await bot_call(url, token, method, **params)
    assert status == 200 and body["ok"] is True, f"{method} {params}: {status} {body}"
    return body["result"]


async def make_bot(api: Api, owner: User, username: str) -> dict[str, Any]:
    bot: dict[str, Any] = await api.ok("createBot", owner.token, name="Echo", username=username)
    return bot


async def test_bot_token_getme_and_management(server: Server) -> None:
    url = base_url(server)
    async with Api(url) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        status, body = await api.call("createBot", ann.token, name="X", username="helper")
        assert_error(status, body, "BOT_USERNAME_INVALID")
        bot = await make_bot(api, ann, "EchoBot")
        token = bot["token"]
        assert token.startswith(f"{bot['id']}:")
        me = await bot_ok(url, token, "getMe")
        assert me == {
            "id": bot["id"],
            "is_bot": True,
            "first_name": "Echo",
            "username": "EchoBot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        # GET with a query string, and method names in any case, as Telegram's
        async with aiohttp.ClientSession() as http, http.get(f"{url}/bot{token}/GETME") as r:
            assert r.status == 200 and (await r.json())["result"]["id"] == bot["id"]
        assert [b["username"] for b in await api.ok("getMyBots", ann.token)] == ["EchoBot"]
        assert all(b["token"] is None for b in await api.ok("getMyBots", ann.token))
        status, body = await api.call("revokeBotToken", bob.token, bot_id=bot["id"])
        assert_error(status, body, "BOT_NOT_FOUND")
        fresh = await api.ok("revokeBotToken", ann.token, bot_id=bot["id"])
        status, body = await bot_call(url, token, "getMe")
        assert (status, body) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
        await bot_ok(url, fresh["token"], "getMe")
        status, body = await bot_call(url, fresh["token"], "noSuchMethod")
        assert status == 404 and body["description"] == "Not Found"
        # a bot has no password: it cannot sign in as a user
        status, body = await api.call("signIn", username="EchoBot", password="", device_name="x")
        assert status != 200
        await api.ok("deleteBot", ann.token, bot_id=bot["id"])
        status, _ = await bot_call(url, fresh["token"], "getMe")
        assert status == 401


async def test_updates_are_acknowledged_by_offset_and_long_poll_wakes(server: Server) -> None:
    url = base_url(server)
    async with Api(url) as api:
        ann = await api.make_user("ann")
        bot = await make_bot(api, ann, "echo_bot")
        token = bot["token"]
        chat = await api.ok("getPrivateChat", ann.token, user_id=bot["id"])
        await api.ok("sendMessage", ann.token, chat_id=chat["id"], text="/start")
        await api.ok("sendMessage", ann.token, chat_id=chat["id"], text="hello bot")
        first = await bot_ok(url, token, "getUpdates")
        assert [u["message"]["text"] for u in first] == ["/start", "hello bot"]
        message = first[0]["message"]
        assert message["chat"] == {
            "id": ann.user_id,
            "type": "private",
            "first_name": "Ann",
            "username": "ann",
        }
        assert message["from"]["id"] == ann.user_id and message["from"]["is_bot"] is False
        assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        # not acknowledged: the same again
        again = await bot_ok(url, token, "getUpdates")
        assert [u["update_id"] for u in again] == [u["update_id"] for u in first]
        # offset acknowledges everything before it
        offset = first[-1]["update_id"] + 1
        assert await bot_ok(url, token, "getUpdates", offset=offset) == []
        # a long poll returns as soon as a message arrives
        poll = asyncio.create_task(bot_ok(url, token, "getUpdates", offset=offset, timeout=20))
        await asyncio.sleep(0.3)
        assert not poll.done()
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        await api.ok("sendMessage", ann.token, chat_id=chat["id"], text="are you there?")
        woke = await asyncio.wait_for(poll, 5)
        assert loop.time() - sent_at < 2
        assert [u["message"]["text"] for u in woke] == ["are you there?"]
        # the bot's own replies are not its updates
        await bot_ok(url, token, "sendMessage", chat_id=ann.user_id, text="yes")
        offset = woke[-1]["update_id"] + 1
        assert await bot_ok(url, token, "getUpdates", offset=offset, timeout=0) == []


async def test_unacknowledged_updates_survive_a_restart(make_config, store: str) -> None:  # type: ignore[no-untyped-def]
    config = make_config()
    if store == "postgres":
        await _reset_postgres(config.database_url)
    srv = Server(config)
    await srv.start()
    try:
        async with Api(base_url(srv)) as api:
            ann = await api.make_user("ann")
            bot = await make_bot(api, ann, "keeper_bot")
            chat = await api.ok("getPrivateChat", ann.token, user_id=bot["id"])
            for text in ("one", "two", "three"):
                await api.ok("sendMessage", ann.token, chat_id=chat["id"], text=text)
            seen = await bot_ok(base_url(srv), bot["token"], "getUpdates", limit=1)
            assert [u["message"]["text"] for u in seen] == ["one"]
            acked = seen[0]["update_id"] + 1
            await bot_ok(base_url(srv), bot["token"], "getUpdates", offset=acked, limit=1)
    finally:
        await srv.stop()
    srv = Server(config)
    await srv.start()
    try:
        rest = await bot_ok(base_url(srv), bot["token"], "getUpdates")
        assert [u["message"]["text"] for u in rest] == ["two", "three"]
    finally:
        await srv.stop()


async def test_privacy_mode_in_groups(server: Server) -> None:
    url = base_url(server)
    async with Api(url) as api:
        ann = await api.make_user("ann")
        bot = await make_bot(api, ann, "quiet_bot")
        token = bot["token"]
        group = await api.ok("createGroup", ann.token, title="Team", user_ids=[bot["id"]])
        for text in ("chatting among ourselves", "/help", "/help@other_bot", "hi @quiet_bot"):
            await api.ok("sendMessage", ann.token, chat_id=group["id"], text=text)
        updates = await bot_ok(url, token, "getUpdates", allowed_updates=["message"])
        texts = [u["message"].get("text") for u in updates if "message" in u]
        assert "chatting among ourselves" not in texts and "/help@other_bot" not in texts
        assert "/help" in texts and "hi @quiet_bot" in texts
        assert all(u["message"]["chat"]["id"] == -group["id"] for u in updates)
        reply = await bot_ok(url, token, "sendMessage", chat_id=-group["id"], text="I am here")
        offset = updates[-1]["update_id"] + 1
        await api.ok(
            "sendMessage",
            ann.token,
            chat_id=group["id"],
            text="thanks",
            reply_to_message_id=reply["message_id"],
        )
        await api.ok("editBot", ann.token, bot_id=bot["id"], privacy=False)
        await api.ok("sendMessage", ann.token, chat_id=group["id"], text="now you hear all")
        later = await bot_ok(url, token, "getUpdates", offset=offset)
        assert [u["message"]["text"] for u in later] == ["thanks", "now you hear all"]


async def test_an_admin_bot_hears_of_every_member_change(server: Server) -> None:
    url = base_url(server)
    async with Api(url) as api:
        ann = await api.make_user("ann")
        bob = await api.make_user("bob")
        bot = await make_bot(api, ann, "doorman_bot")
        token = bot["token"]
        group = await api.ok("createGroup", ann.token, title="Club", user_ids=[bot["id"]])
        await api.ok(
            "promoteChatMember",
            ann.token,
            chat_id=group["id"],
            user_id=bot["id"],
            rights={"ban_users": True, "invite_users": True},
        )
        first = await bot_ok(url, token, "getUpdates", allowed_updates=["chat_member"])
        offset = first[-1]["update_id"] + 1 if first else 0
        await api.ok("addChatMembers", ann.token, chat_id=group["id"], user_ids=[bob.user_id])
        await api.ok("leaveChat", bob.token, chat_id=group["id"])
        changes = [
            u["chat_member"]
            for u in await bot_ok(url, token, "getUpdates", offset=offset)
            if "chat_member" in u
        ]
        assert [
            (c["new_chat_member"]["user"]["id"], c["old_chat_member"]["status"],
             c["new_chat_member"]["status"])
            for c in changes
        ] == [(bob.user_id, "left", "member"), (bob.user_id, "member", "left")]  # fmt: skip
        assert changes[0]["from"]["id"] == ann.user_id
        assert changes[0]["chat"]["id"] == -group["id"]
        # by default (no allowed_updates naming it) bots are not sent chat_member
        await bot_ok(url, token, "getUpdates", offset=offset, allowed_updates=[])
        await api.ok("addChatMembers", ann.token, chat_id=group["id"], user_ids=[bob.user_id])
        later = await bot_ok(url, token, "getUpdates", offset=offset)
        assert not any("chat_member" in u for u in later)
