"""Bots through the SDK against a real server (SQLite and PostgreSQL): a user makes a bot, a
small Bot API polling loop (raw aiohttp, as any bot library would do it) plays it, and
another user starts it by a deep link, gets its keyboards, presses a button, asks it inline
and reads its command menu."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from heliograph.sdk import ApiError, BotCommand, Client, Message, ReplyMarkup, Update
from heliograph.server import Server
from tests.conftest import base_url
from tests.sdk.helpers import Devices, take_until

KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Yes", "callback_data": "yes"}, {"text": "No", "callback_data": "no"}],
        [{"text": "Docs", "url": "https://example.com/docs"}],
        [{"text": "Share", "switch_inline_query": "cats"}],
    ]
}
COLOURS = {
    "keyboard": [["Red", {"text": "Blue"}], [{"text": "Where am I?", "request_location": True}]],
    "resize_keyboard": True,
    "one_time_keyboard": True,
    "input_field_placeholder": "Pick a colour",
}
ARTICLE = {
    "type": "article",
    "id": "a1",
    "title": "Cats",
    "description": "all about cats",
    "input_message_content": {"message_text": "Cats are great"},
    "reply_markup": {"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]},
}


class TinyBot:
    """A bot in a few lines: long-polls getUpdates and answers each kind of update."""

    def __init__(self, http: aiohttp.ClientSession, token: str) -> None:
        self.http = http
        self.token = token
        self.texts: asyncio.Queue[str] = asyncio.Queue()
        self.inline_queries: list[dict[str, Any]] = []

    async def call(self, method: str, **params: Any) -> Any:
        async with self.http.post(f"/bot{self.token}/{method}", json=params) as r:
            body = await r.json()
        assert body["ok"] is True, f"{method}: {body}"
        return body["result"]

    async def run(self) -> None:
        offset = 0
        while True:
            for update in await self.call("getUpdates", offset=offset, timeout=5):
                offset = update["update_id"] + 1
                await self.handle(update)

    async def handle(self, update: dict[str, Any]) -> None:
        if message := update.get("message"):
            await self.texts.put(message["text"])
            if message["text"].startswith("/start"):
                chat = message["chat"]["id"]
                await self.call("sendMessage", chat_id=chat, text="Pick", reply_markup=KEYBOARD)
        elif query := update.get("callback_query"):
            answer = f"You chose {query['data']}"
            await self.call("answerCallbackQuery", callback_query_id=query["id"], text=answer)
            if "message" in query:  # a message of its own, not one sent through it inline
                chat = query["message"]["chat"]["id"]
                await self.call("sendMessage", chat_id=chat, text="Colour?", reply_markup=COLOURS)
        elif inline := update.get("inline_query"):
            self.inline_queries.append(inline)
            results = [ARTICLE] if inline["query"] == "cats" else []
            await self.call("answerInlineQuery", inline_query_id=inline["id"], results=results)


@contextlib.asynccontextmanager
async def running(url: str, token: str) -> AsyncIterator[TinyBot]:
    async with aiohttp.ClientSession(url) as http:
        bot = TinyBot(http, token)
        task = asyncio.create_task(bot.run())
        try:
            yield bot
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task  # raises what broke the loop, if something did


async def from_bot(client: Client, bot_id: int, text: str) -> Message:
    """The next message with this text from the bot, as it arrives live."""

    def arrived(updates: list[Update]) -> bool:
        return any(
            u.message and u.message.sender_id == bot_id and u.message.text == text for u in updates
        )

    got = await take_until(client, arrived)
    return next(u.message for u in got if u.message and u.message.text == text)


async def test_a_bot_made_and_used_through_the_sdk(server: Server, devices: Devices) -> None:
    url = base_url(server)
    ann = await devices.sign_up(url, "ann")
    bob = await devices.sign_up(url, "bob")

    made = await ann.create_bot("Helper", "helper_bot")
    assert made.token and made.token.startswith(f"{made.id}:")
    assert (made.username, made.name, made.inline) == ("helper_bot", "Helper", False)
    edited = await ann.edit_bot(
        made.id,
        description="I help.",
        about="A helpful bot",
        inline=True,
        inline_placeholder="Search cats…",
        commands=[BotCommand("start", "Begin"), ("help", "What I can do")],
    )
    assert edited.token is None and edited.inline
    assert [b.id for b in await ann.get_my_bots()] == [made.id]

    # Bob sees the bot's card and menu
    info = await bob.get_bot_info(made.id)
    assert (info.description, info.about) == ("I help.", "A helpful bot")
    assert info.commands == [BotCommand("start", "Begin"), BotCommand("help", "What I can do")]
    assert info.inline_placeholder == "Search cats…"
    assert (await bob.resolve_username("helper_bot")).is_bot
    assert not (await bob.resolve_username("ann")).is_bot

    async with running(url, made.token) as bot:
        # a deep link: /start with a parameter
        started = await bob.start_bot(made.id, "ref")
        assert started.message.text == "/start ref"
        assert await asyncio.wait_for(bot.texts.get(), 5) == "/start ref"
        chat_id = started.message.chat_id

        # the bot's inline keyboard, parsed
        pick = await from_bot(bob, made.id, "Pick")
        assert pick.reply_markup is not None and pick.chat_id == chat_id
        assert [b.text for b in pick.buttons()] == ["Yes", "No", "Docs", "Share"]
        yes, no = pick.reply_markup.inline_keyboard[0]
        assert (yes.callback_data, no.callback_data, yes.url) == ("yes", "no", None)
        docs = pick.reply_markup.inline_keyboard[1][0]
        assert (docs.url, docs.callback_data) == ("https://example.com/docs", None)
        share = pick.button("Share")
        assert share is not None and share.switch_inline_query == "cats"
        assert pick.button("no") is no  # by its callback data

        # pressing: by label, by data, and the raw call; the bot's answer comes back
        assert (await bob.press(pick, "Yes")).text == "You chose yes"
        colours = await from_bot(bob, made.id, "Colour?")
        markup = colours.reply_markup
        assert markup is not None and not markup.inline_keyboard
        assert [[b.text for b in row] for row in markup.keyboard] == [
            ["Red", "Blue"],
            ["Where am I?"],
        ]
        assert markup.keyboard[1][0].request_location
        assert markup.resize_keyboard and markup.one_time_keyboard
        assert markup.input_field_placeholder == "Pick a colour"
        assert (await bob.press(pick, no)).text == "You chose no"
        answer = await bob.press_button(chat_id, pick.id, "yes")
        assert (answer.text, answer.show_alert, answer.url) == ("You chose yes", False, None)
        with pytest.raises(ValueError, match="no callback data"):
            await bob.press(pick, "Docs")
        with pytest.raises(ValueError, match="no button"):
            await bob.press(pick, "Maybe")
        with pytest.raises(ApiError) as refused:
            await bob.press_button(chat_id, pick.id, "maybe")
        assert refused.value.code == "BAD_REQUEST"

        # inline mode: Bob asks the bot in his chat with Ann and sends a result there
        with_ann = await bob.get_private_chat(ann.user_id or 0)
        found = await bob.get_inline_results(made.id, "cats", chat_id=with_ann.id)
        assert [(r.type, r.id, r.title) for r in found.results] == [("article", "a1", "Cats")]
        assert found.results[0].description == "all about cats" and found.next_offset == ""
        assert bot.inline_queries[-1]["query"] == "cats"
        assert bot.inline_queries[-1]["chat_type"] == "private"
        sent = await bob.send_inline_result(with_ann.id, found.query_id, "a1")
        assert sent.message.text == "Cats are great" and sent.message.via_bot_id == made.id
        seen = (await ann.get_history(with_ann.id))[-1]
        assert seen.id == sent.message.id and seen.via_bot_id == made.id
        assert [b.callback_data for b in seen.buttons()] == ["more"]
        # Ann presses the button of a message sent through the bot: the bot answers
        assert (await ann.press(seen, "More")).text == "You chose more"
        assert (await bob.get_inline_results(made.id, "dogs")).results == []

    # a new token: the old one stops working
    renewed = await ann.revoke_bot_token(made.id)
    assert renewed.token and renewed.token != made.token
    async with aiohttp.ClientSession(url) as http:
        async with http.get(f"/bot{made.token}/getMe") as r:
            assert r.status == 401
        async with http.get(f"/bot{renewed.token}/getMe") as r:
            assert (await r.json())["result"]["username"] == "helper_bot"
    await ann.delete_bot(made.id)
    assert await ann.get_my_bots() == []
    with pytest.raises(ApiError) as gone:
        await bob.get_bot_info(made.id)
    assert (gone.value.code, gone.value.status) == ("BOT_NOT_FOUND", 404)


def test_keyboards_are_read_tolerantly() -> None:
    """Kinds of buttons the SDK does not know stay in `raw`; what is not a button is
    skipped rather than failing the whole message."""
    chosen = {"text": "Pick a chat", "switch_inline_query_chosen_chat": {"query": "x"}}
    markup = ReplyMarkup.from_dict(
        {
            "inline_keyboard": [
                [chosen, "junk"],
                "not a row",
                [{"text": "Copy", "copy_text": {"text": "c"}}],
            ]
        }
    )
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["Pick a chat"], ["Copy"]]
    assert markup.inline_keyboard[0][0].raw == chosen
    assert markup.inline_keyboard[1][0].copy_text == "c"
    forced = Message.from_dict(
        {
            "id": 1,
            "chat_id": 2,
            "sender_id": 3,
            "text": "Your name?",
            "reply_markup": {"force_reply": True, "input_field_placeholder": "Name"},
            "via_bot_id": None,
            "something_new": 1,
        }
    )
    assert forced.reply_markup is not None and forced.reply_markup.force_reply
    assert forced.reply_markup.input_field_placeholder == "Name"
    assert list(forced.buttons()) == [] and forced.button("x") is None
