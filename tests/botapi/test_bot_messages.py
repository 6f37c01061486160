"""Bots sending and changing messages over the raw Bot API, on both stores: a user starts a
bot, the bot answers with formatting and keyboards (JSON, query string and form calls alike),
edits, deletes, forwards and copies, shows typing and reacts, and is refused as Telegram
refuses, in Telegram's words."""

from __future__ import annotations

from typing import Any

from heliograph.server import Server
from tests.botapi.helpers import description, started
from tests.gateway.api import is_update

KEYBOARD = {
    "inline_keyboard": [
        [{"text": "Yes", "callback_data": "vote:yes"}, {"text": "No", "callback_data": "vote:no"}],
        [{"text": "Docs", "url": "https://example.com/docs"}],
    ]
}


async def test_start_and_a_formatted_reply_with_a_keyboard(server: Server) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        start = w.start
        assert start["chat"]["id"] == ann.user_id and start["chat"]["type"] == "private"
        assert start["from"]["id"] == ann.user_id and start["from"]["first_name"] == "Ann"
        assert start["text"] == "/start"
        assert start["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

        sent = await bot.ok(
            "sendMessage",
            chat_id=ann.user_id,
            text="<b>Hello</b>, <i>Ann</i>! See https://example.com",
            parse_mode="HTML",
            reply_markup=KEYBOARD,
            reply_parameters={"message_id": start["message_id"]},
            disable_notification=True,
            link_preview_options={"is_disabled": True},
        )
        assert sent["from"]["id"] == bot.bot_id and sent["from"]["is_bot"] is True
        assert sent["chat"]["id"] == ann.user_id
        assert sent["text"] == "Hello, Ann! See https://example.com"
        assert sent["entities"] == [
            {"type": "bold", "offset": 0, "length": 5},
            {"type": "italic", "offset": 7, "length": 3},
            {"type": "url", "offset": 16, "length": 19},
        ]
        assert sent["reply_markup"] == KEYBOARD
        assert sent["reply_to_message"]["message_id"] == start["message_id"]
        assert sent["reply_to_message"]["text"] == "/start"

        seen = await w.last()
        assert seen["id"] == sent["message_id"] and seen["sender_id"] == bot.bot_id
        assert seen["text"] == sent["text"]
        assert [(e["type"], e["offset"], e["length"]) for e in seen["entities"]] == [
            ("bold", 0, 5),
            ("italic", 7, 3),
            ("url", 16, 19),
        ]
        assert seen["reply_markup"] == KEYBOARD
        assert seen["reply_to_message_id"] == start["message_id"]
        # the bot's own messages are not its updates
        assert await bot.updates() == []


async def test_query_string_form_and_reply_keyboards(server: Server) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        status, body = await bot.get(
            "sendMessage",
            chat_id=ann.user_id,
            text="*pick* one",
            parse_mode="MarkdownV2",
            reply_markup={"keyboard": [["Red", {"text": "Blue"}]], "resize_keyboard": True},
        )
        assert status == 200, body
        assert body["result"]["text"] == "pick one"
        assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
        # a reply keyboard is shown by users' clients; the Message has inline keyboards only
        assert "reply_markup" not in body["result"]
        seen = await w.last()
        assert seen["reply_markup"] == {
            "keyboard": [[{"text": "Red"}, {"text": "Blue"}]],
            "resize_keyboard": True,
        }

        status, body = await bot.form(
            "sendMessage",
            chat_id=str(ann.user_id),
            text="done",
            reply_markup={"remove_keyboard": True},
            reply_to_message_id=w.start["message_id"],
        )
        assert status == 200, body
        seen = await w.last()
        assert seen["text"] == "done" and seen["reply_markup"] == {"remove_keyboard": True}
        assert seen["reply_to_message_id"] == w.start["message_id"]

        status, body = await bot.form(
            "sendMessage",
            chat_id=ann.user_id,
            text="why?",
            reply_markup={"force_reply": True, "input_field_placeholder": "Because..."},
        )
        assert status == 200, body
        assert (await w.last())["reply_markup"] == {
            "force_reply": True,
            "input_field_placeholder": "Because...",
        }


async def test_groups_by_id_and_public_name(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        group = await api.ok("createGroup", ann.token, title="Team", user_ids=[bot.bot_id])
        sent = await bot.ok("sendMessage", chat_id=-group["id"], text="hello team")
        assert sent["chat"] == {"id": -group["id"], "type": "supergroup", "title": "Team"}
        await api.ok("setChatUsername", ann.token, chat_id=group["id"], username="teamchat")
        sent = await bot.ok("sendMessage", chat_id="@TeamChat", text="by name")
        assert sent["chat"]["id"] == -group["id"] and sent["chat"]["username"] == "teamchat"
        texts = [m["text"] for m in await w.history(chat_id=group["id"])]
        assert texts[-2:] == ["hello team", "by name"]
        # the group's id named as a channel's is not the group
        status, body = await bot.call(
            "sendMessage", chat_id=-(10**12 + group["id"]), text="wrong kind"
        )
        assert (status, description(body)) == (400, "Bad Request: chat not found")


async def test_refusals_in_telegrams_words(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        bob = await api.make_user("bob")

        async def refused(method: str, **params: Any) -> tuple[int, str]:
            status, body = await bot.call(method, **params)
            return status, description(body)

        for chat_id in (-999_999, 999_999_999, "@nobody_here", "not a chat", 0):
            assert await refused("sendMessage", chat_id=chat_id, text="hi") == (
                400,
                "Bad Request: chat not found",
            )
        assert await refused("sendMessage", chat_id=bob.user_id, text="hi") == (
            403,
            "Forbidden: bot can't initiate conversation with a user",
        )
        status, text = await refused(
            "sendMessage", chat_id=ann.user_id, text="<b>oops", parse_mode="HTML"
        )
        assert status == 400 and text.startswith("Bad Request: can't parse entities: ")
        assert await refused("sendMessage", chat_id=ann.user_id, text="  ") == (
            400,
            "Bad Request: message text is empty",
        )
        status, text = await refused("sendMessage", chat_id=ann.user_id)
        assert status == 400 and "text" in text
        assert await refused(
            "sendMessage",
            chat_id=ann.user_id,
            text="hi",
            reply_parameters={"message_id": 9999},
        ) == (400, "Bad Request: message to be replied not found")
        sent = await bot.ok(
            "sendMessage",
            chat_id=ann.user_id,
            text="hi anyway",
            reply_parameters={"message_id": 9999, "allow_sending_without_reply": True},
        )
        assert "reply_to_message" not in sent

        markups: list[tuple[Any, str]] = [
            ("nope", "Bad Request: can't parse reply keyboard markup JSON object"),
            ({"something": 1}, "Bad Request: can't parse reply keyboard markup JSON object"),
            (
                {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]},
                "Bad Request: BUTTON_DATA_INVALID",
            ),
            (
                {"inline_keyboard": [[{"text": "plain"}]]},
                "Bad Request: can't parse inline keyboard button: Text buttons are unallowed "
                "in the inline keyboard",
            ),
            (
                {"inline_keyboard": [[{"text": "x", "url": "javascript:alert(1)"}]]},
                "Bad Request: BUTTON_URL_INVALID",
            ),
            (
                {"inline_keyboard": [[{"text": "x", "callback_data": "a", "url": "https://a.b"}]]},
                "Bad Request: can't parse inline keyboard button: exactly one of the optional "
                "fields must be used",
            ),
            (
                {"inline_keyboard": [[{"text": "x", "pay": True}]]},
                "Bad Request: can't parse inline keyboard button: pay buttons are not supported",
            ),
            (
                {"inline_keyboard": [[{"text": str(i), "callback_data": "d"}] for i in range(101)]},
                "Bad Request: reply markup is too long",
            ),
            (
                {"inline_keyboard": "rows"},
                'Bad Request: field "inline_keyboard" must be an Array of Arrays',
            ),
        ]
        for markup, expected in markups:
            assert await refused(
                "sendMessage", chat_id=ann.user_id, text="k", reply_markup=markup
            ) == (400, expected), markup
        # 64 bytes of callback data are fine; login_url and web_app buttons become links
        sent = await bot.ok(
            "sendMessage",
            chat_id=ann.user_id,
            text="k",
            reply_markup={
                "inline_keyboard": [
                    [{"text": "x", "callback_data": "é" * 32}],
                    [{"text": "in", "login_url": {"url": "https://example.com/login"}}],
                    [{"text": "app", "web_app": {"url": "https://example.com/app"}}],
                    [],
                ]
            },
        )
        assert sent["reply_markup"]["inline_keyboard"][1:] == [
            [{"text": "in", "url": "https://example.com/login"}],
            [{"text": "app", "url": "https://example.com/app"}],
        ]

        status, body = await bot.call("sendMessage", chat_id=ann.user_id, text="x")
        assert status == 200
        wrong = type(bot)(bot.http, f"{bot.bot_id}:not-the-secret", bot.bot_id, bot.username)
        status, body = await wrong.call("sendMessage", chat_id=ann.user_id, text="x")
        assert (status, body) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )


async def test_editing_and_deleting(server: Server) -> None:
    async with started(server) as w:
        ann, bot = w.ann, w.bot
        sent = await bot.ok(
            "sendMessage", chat_id=ann.user_id, text="first draft", reply_markup=KEYBOARD
        )
        target = {"chat_id": ann.user_id, "message_id": sent["message_id"]}
        edited = await bot.ok(
            "editMessageText",
            **target,
            text="<u>final</u> text",
            parse_mode="HTML",
            reply_markup=KEYBOARD,
        )
        assert edited["text"] == "final text" and edited["edit_date"] >= sent["date"]
        assert edited["entities"] == [{"type": "underline", "offset": 0, "length": 5}]
        assert edited["reply_markup"] == KEYBOARD
        seen = await w.last()
        assert seen["text"] == "final text" and seen["edit_date"] is not None
        assert seen["reply_markup"] == KEYBOARD

        status, body = await bot.call(
            "editMessageText",
            **target,
            text="<u>final</u> text",
            parse_mode="HTML",
            reply_markup=KEYBOARD,
        )
        assert status == 400
        assert description(body).startswith("Bad Request: message is not modified")
        # an edit without reply_markup takes the keyboard away, as on Telegram
        edited = await bot.ok("editMessageText", **target, text="no buttons")
        assert "reply_markup" not in edited
        assert (await w.last())["reply_markup"] is None

        small = {"inline_keyboard": [[{"text": "Again", "callback_data": "again"}]]}
        ws = await w.api.ws_connect(ann.token)
        edited = await bot.ok("editMessageReplyMarkup", **target, reply_markup=small)
        assert edited["reply_markup"] == small and edited["text"] == "no buttons"
        assert (await w.last())["reply_markup"] == small
        # the user's clients hear of it at once
        frame = await ws.next(lambda f: is_update(f) and f["update"]["type"] == "edit_message")
        assert frame["update"]["message"]["reply_markup"] == small
        status, body = await bot.call(
            "editMessageReplyMarkup", **target, reply_markup={"keyboard": [["a"]]}
        )
        assert (status, description(body)) == (
            400,
            "Bad Request: reply markup must be an inline keyboard",
        )
        edited = await bot.ok("editMessageReplyMarkup", **target)
        assert "reply_markup" not in edited

        async def refused(method: str, **params: Any) -> tuple[int, str]:
            status, body = await bot.call(method, **params)
            return status, description(body)

        assert await refused("editMessageCaption", **target, caption="c") == (
            400,
            "Bad Request: there is no caption in the message to edit",
        )
        users_message = {"chat_id": ann.user_id, "message_id": w.start["message_id"]}
        assert await refused("editMessageText", **users_message, text="hijack") == (
            400,
            "Bad Request: message can't be edited",
        )
        assert await refused("editMessageText", inline_message_id="abc", text="x") == (
            400,
            "Bad Request: inline message editing is not supported",
        )
        assert await refused("editMessageText", **target | {"message_id": 999}, text="x") == (
            400,
            "Bad Request: message not found",
        )

        assert await bot.ok("deleteMessage", **target) is True
        assert sent["message_id"] not in [m["id"] for m in await w.history()]
        assert await refused("deleteMessage", **target) == (
            400,
            "Bad Request: message to delete not found",
        )
        # in a private chat the bot may delete the user's messages too; missing ones are skipped
        assert (
            await bot.ok(
                "deleteMessages",
                chat_id=ann.user_id,
                message_ids=[w.start["message_id"], 12345],
            )
            is True
        )
        assert await w.history() == []
        assert await bot.ok("deleteMessages", chat_id=ann.user_id, message_ids=[12345]) is True


async def test_forwarding_and_copying(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        more = await api.ok("sendMessage", ann.token, chat_id=w.chat_id, text="*second* one")
        second_id = more["message"]["id"]
        group = await api.ok("createGroup", ann.token, title="Team", user_ids=[bot.bot_id])

        forwarded = await bot.ok(
            "forwardMessage",
            chat_id=-group["id"],
            from_chat_id=ann.user_id,
            message_id=w.start["message_id"],
        )
        assert forwarded["chat"]["id"] == -group["id"] and forwarded["text"] == "/start"
        assert forwarded["forward_origin"] == {
            "type": "user",
            "date": w.start["date"],
            "sender_user": w.start["from"],
        }
        assert forwarded["forward_from"] == w.start["from"]
        many = await bot.ok(
            "forwardMessages",
            chat_id=-group["id"],
            from_chat_id=ann.user_id,
            message_ids=[second_id, w.start["message_id"], 999],
        )
        assert len(many) == 2 and all(set(m) == {"message_id"} for m in many)
        in_group = await w.history(chat_id=group["id"])
        by_id = {m["id"]: m for m in in_group}
        assert [by_id[m["message_id"]]["text"] for m in many] == ["/start", "*second* one"]
        assert by_id[forwarded["message_id"]]["forward_origin"]["sender_id"] == ann.user_id

        copied = await bot.ok(
            "copyMessage",
            chat_id=-group["id"],
            from_chat_id=ann.user_id,
            message_id=second_id,
            reply_markup=KEYBOARD,
        )
        assert set(copied) == {"message_id"}
        in_group = {m["id"]: m for m in await w.history(chat_id=group["id"])}
        copy = in_group[copied["message_id"]]
        assert copy["text"] == "*second* one" and copy["forward_origin"] is None
        assert copy["sender_id"] == bot.bot_id and copy["reply_markup"] == KEYBOARD

        copies = await bot.ok(
            "copyMessages",
            chat_id=ann.user_id,
            from_chat_id=-group["id"],
            message_ids=[copied["message_id"], forwarded["message_id"]],
        )
        assert len(copies) == 2
        mine = {m["id"]: m for m in await w.history()}
        assert [mine[c["message_id"]]["text"] for c in copies] == ["/start", "*second* one"]
        assert all(mine[c["message_id"]]["forward_origin"] is None for c in copies)

        status, body = await bot.call(
            "forwardMessage", chat_id=ann.user_id, from_chat_id=ann.user_id, message_id=999
        )
        assert (status, description(body)) == (400, "Bad Request: message to forward not found")
        status, body = await bot.call(
            "copyMessage", chat_id=ann.user_id, from_chat_id=ann.user_id, message_id=999
        )
        assert (status, description(body)) == (400, "Bad Request: message to copy not found")


async def test_chat_actions_and_reactions(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        ws = await api.ws_connect(ann.token)
        assert await bot.ok("sendChatAction", chat_id=ann.user_id, action="upload_photo") is True
        frame = await ws.next(lambda f: f.get("type") == "event")
        assert frame["event"] == {
            "type": "typing",
            "chat_id": w.chat_id,
            "user_id": bot.bot_id,
            "action": "uploading_photo",
        }
        status, body = await bot.call("sendChatAction", chat_id=ann.user_id, action="dancing")
        assert (status, description(body)) == (
            400,
            "Bad Request: wrong parameter action in request",
        )

        target = {"chat_id": ann.user_id, "message_id": w.start["message_id"]}
        reaction = [{"type": "emoji", "emoji": "👍"}]
        assert await bot.ok("setMessageReaction", **target, reaction=reaction) is True
        [seen] = await w.history()
        assert [(r["emoji"], r["count"]) for r in seen["reactions"]] == [("👍", 1)]
        assert seen["reactions"][0]["user_ids"] == [bot.bot_id]
        status, body = await bot.call(
            "setMessageReaction",
            **target,
            reaction=[{"type": "custom_emoji", "custom_emoji_id": "1"}],
        )
        assert (status, description(body)) == (400, "Bad Request: REACTION_INVALID")
        assert await bot.ok("setMessageReaction", **target, reaction=[]) is True
        [seen] = await w.history()
        assert seen["reactions"] == []
