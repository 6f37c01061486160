"""Users talking to bots: pressing a callback button (the bot receives a callback_query and
its answer reaches the waiting user), inline mode (an inline_query, the bot's results, the
chosen one sent as the user's message via the bot, and chosen_inline_result), and deep
links (/start with a parameter)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import types as tg

from heliograph.server import Server
from heliograph.services import bot_queries
from tests.botapi.helpers import BotApi, World, description, make_bot, started
from tests.groups.helpers import assert_error

KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Yes", "callback_data": "yes"}, {"text": "Docs", "url": "https://example.com"}]
    ]
}


async def _query(bot: BotApi, kind: str) -> dict[str, Any]:
    """The next update of this kind, waiting for it."""
    for _ in range(10):
        for update in await bot.updates(2):
            if kind in update:
                found: dict[str, Any] = update[kind]
                return found
    raise AssertionError(f"no {kind} arrived")


async def _keyboard_message(w: World) -> int:
    await w.bot.ok("sendMessage", chat_id=w.ann.user_id, text="Pick", reply_markup=KEYBOARD)
    last = await w.last()
    assert last["reply_markup"] == KEYBOARD
    return int(last["id"])


async def test_pressing_a_callback_button(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        message_id = await _keyboard_message(w)
        press = asyncio.create_task(
            api.call("pressButton", ann.token, chat_id=w.chat_id, message_id=message_id, data="yes")
        )
        query = await _query(bot, "callback_query")
        tg.CallbackQuery.model_validate(query)
        assert query["from"]["id"] == ann.user_id and query["data"] == "yes"
        assert query["message"]["message_id"] == message_id
        assert query["message"]["chat"]["id"] == ann.user_id
        assert query["message"]["reply_markup"] == KEYBOARD
        assert isinstance(query["chat_instance"], str)
        assert not press.done()
        assert await bot.ok(
            "answerCallbackQuery", callback_query_id=query["id"], text="Done!", show_alert=True
        )
        status, body = await asyncio.wait_for(press, 5)
        assert status == 200, body
        assert body["result"] == {"text": "Done!", "show_alert": True, "url": None, "cache_time": 0}
        # a query is answered once
        status, body = await bot.call("answerCallbackQuery", callback_query_id=query["id"])
        assert status == 400 and "query is too old" in description(body)
        status, body = await bot.call("answerCallbackQuery", callback_query_id="12345")
        assert status == 400

        # a second press, answered without text
        press = asyncio.create_task(
            api.ok("pressButton", ann.token, chat_id=w.chat_id, message_id=message_id, data="yes")
        )
        query = await _query(bot, "callback_query")
        await bot.ok("answerCallbackQuery", callback_query_id=query["id"])
        assert (await asyncio.wait_for(press, 5))["text"] is None

        # only the data on the keyboard may be sent
        status, body = await api.call(
            "pressButton", ann.token, chat_id=w.chat_id, message_id=message_id, data="no"
        )
        assert_error(status, body, "BAD_REQUEST")
        status, body = await api.call(
            "pressButton",
            ann.token,
            chat_id=w.chat_id,
            message_id=message_id,
            data="https://example.com",
        )
        assert_error(status, body, "BAD_REQUEST")
        # someone outside the chat does not see the message
        eve = await api.make_user("eve")
        status, body = await api.call(
            "pressButton", eve.token, chat_id=w.chat_id, message_id=message_id, data="yes"
        )
        assert_error(status, body, "CHAT_NOT_FOUND")
        # another bot cannot answer the query
        other = await make_bot(api, ann, bot.http, "OtherBot")
        press = asyncio.create_task(
            api.call("pressButton", ann.token, chat_id=w.chat_id, message_id=message_id, data="yes")
        )
        query = await _query(bot, "callback_query")
        status, body = await other.call("answerCallbackQuery", callback_query_id=query["id"])
        assert status == 400
        await bot.ok(
            "answerCallbackQuery", callback_query_id=query["id"], url="https://example.org"
        )
        status, body = await asyncio.wait_for(press, 5)
        assert body["result"]["url"] == "https://example.org"


async def test_a_bot_that_does_not_answer(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot_queries, "ANSWER_WAIT_SECONDS", 0.5)
    async with started(server) as w:
        message_id = await _keyboard_message(w)
        status, body = await w.api.call(
            "pressButton", w.ann.token, chat_id=w.chat_id, message_id=message_id, data="yes"
        )
        assert_error(status, body, "BOT_RESPONSE_TIMEOUT")
        # the bot still got the query; answering late reaches no one but is not an error
        query = await _query(w.bot, "callback_query")
        assert await w.bot.ok("answerCallbackQuery", callback_query_id=query["id"], text="late")


async def test_inline_mode(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        bob = await api.make_user("bob")
        chat = (await api.ok("getPrivateChat", ann.token, user_id=bob.user_id))["id"]
        status, body = await api.call("getInlineResults", ann.token, bot_id=bot.bot_id, query="x")
        assert_error(status, body, "BOT_METHOD_FORBIDDEN")
        await api.ok("editBot", ann.token, bot_id=bot.bot_id, inline=True)
        assert (await bot.ok("getMe"))["supports_inline_queries"] is True

        asking = asyncio.create_task(
            api.ok("getInlineResults", ann.token, bot_id=bot.bot_id, query="cats", chat_id=chat)
        )
        inline = await _query(bot, "inline_query")
        tg.InlineQuery.model_validate(inline)
        assert inline["from"]["id"] == ann.user_id
        assert (inline["query"], inline["offset"], inline["chat_type"]) == ("cats", "", "private")
        # a photo the bot sent earlier, offered again by its file id
        jpeg = _jpeg()
        sent_photo = await bot.upload_ok(
            "sendPhoto", {"photo": ("cat.jpg", jpeg, "image/jpeg")}, chat_id=ann.user_id
        )
        photo_id = sent_photo["photo"][-1]["file_id"]
        results = [
            {
                "type": "article",
                "id": "a1",
                "title": "Cats",
                "description": "all about cats",
                "input_message_content": {
                    "message_text": "<b>Cats</b> are great",
                    "parse_mode": "HTML",
                },
                "reply_markup": {"inline_keyboard": [[{"text": "More", "callback_data": "more"}]]},
            },
            {"type": "photo", "id": "p1", "photo_file_id": photo_id, "caption": "a cat"},
        ]
        status, body = await bot.call(
            "answerInlineQuery", inline_query_id=inline["id"], results=[results[0], results[0]]
        )
        assert (status, description(body)) == (400, "Bad Request: RESULT_ID_DUPLICATE")
        await bot.ok(
            "answerInlineQuery", inline_query_id=inline["id"], results=results, next_offset="10"
        )
        answer = await asyncio.wait_for(asking, 5)
        assert [r["id"] for r in answer["results"]] == ["a1", "p1"]
        assert answer["results"][0]["title"] == "Cats"
        assert answer["next_offset"] == "10" and answer["query_id"] == inline["id"]

        # Bob cannot send Ann's results
        status, body = await api.call(
            "sendInlineResult", bob.token, chat_id=chat, query_id=inline["id"], result_id="a1"
        )
        assert_error(status, body, "QUERY_NOT_FOUND")
        status, body = await api.call(
            "sendInlineResult", ann.token, chat_id=chat, query_id=inline["id"], result_id="zz"
        )
        assert_error(status, body, "QUERY_NOT_FOUND")

        sent = await api.ok(
            "sendInlineResult", ann.token, chat_id=chat, query_id=inline["id"], result_id="a1"
        )
        message = sent["message"]
        assert message["text"] == "Cats are great" and message["via_bot_id"] == bot.bot_id
        bold = [(e["type"], e["offset"], e["length"]) for e in message["entities"]]
        assert bold == [("bold", 0, 4)]
        seen = (await api.ok("getHistory", bob.token, chat_id=chat))[-1]
        assert seen["id"] == message["id"] and seen["via_bot_id"] == bot.bot_id
        assert seen["reply_markup"] == results[0]["reply_markup"]
        chosen = await _query(bot, "chosen_inline_result")
        tg.ChosenInlineResult.model_validate(chosen)
        assert (chosen["result_id"], chosen["query"]) == ("a1", "cats")
        assert chosen["from"]["id"] == ann.user_id and chosen["inline_message_id"]

        # the keyboard of a message sent through the bot answers to the bot
        press = asyncio.create_task(
            api.ok("pressButton", bob.token, chat_id=chat, message_id=message["id"], data="more")
        )
        query = await _query(bot, "callback_query")
        assert query["inline_message_id"] == chosen["inline_message_id"]
        assert "message" not in query and query["from"]["id"] == bob.user_id
        await bot.ok("answerCallbackQuery", callback_query_id=query["id"], text="more soon")
        assert (await asyncio.wait_for(press, 5))["text"] == "more soon"

        photo = await api.ok(
            "sendInlineResult", ann.token, chat_id=chat, query_id=inline["id"], result_id="p1"
        )
        assert photo["message"]["media"]["type"] == "photo"
        assert photo["message"]["text"] == "a cat"

        # results by URL are refused, in Telegram's manner
        asking = asyncio.create_task(
            api.call("getInlineResults", ann.token, bot_id=bot.bot_id, query="dogs")
        )
        inline = await _query(bot, "inline_query")
        assert "chat_type" not in inline
        status, body = await bot.call(
            "answerInlineQuery",
            inline_query_id=inline["id"],
            results=[{"type": "photo", "id": "u", "photo_url": "https://example.com/a.jpg"}],
        )
        assert status == 400
        await bot.ok("answerInlineQuery", inline_query_id=inline["id"], results=[])
        status, body = await asyncio.wait_for(asking, 5)
        assert status == 200 and body["result"]["results"] == []


async def test_deep_link_start(server: Server) -> None:
    async with started(server) as w:
        api, bot = w.api, w.bot
        cara = await api.make_user("cara")
        sent = await api.ok("startBot", cara.token, bot_id=bot.bot_id, parameter="ref123")
        assert sent["message"]["text"] == "/start ref123"
        message = await bot.next_message()
        assert message["text"] == "/start ref123" and message["from"]["id"] == cara.user_id
        assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        await api.ok("startBot", cara.token, bot_id=bot.bot_id)
        assert (await bot.next_message())["text"] == "/start"
        status, body = await api.call("startBot", cara.token, bot_id=bot.bot_id, parameter="a b")
        assert_error(status, body, "INVALID_PARAMS")
        status, body = await api.call("startBot", cara.token, bot_id=cara.user_id)
        assert_error(status, body, "BOT_NOT_FOUND")


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()
