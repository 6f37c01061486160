"""Real python-telegram-bot 22 bots against a real server, pointed at it only by PTB's
documented custom-server settings (`base_url`, `base_file_url`): long polling through the
Application, commands and deep links, inline keyboards and callback queries, files both ways,
webhooks with a secret token, errors as PTB's own exceptions, and polling across a restart
of the bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from heliograph.gateway.ratelimit import Rate
from heliograph.server import Server
from tests.botapi import libs
from tests.botapi.libs import SECRET, TIMEOUT, Scene
from tests.conftest import TEST_RATES

Context = ContextTypes.DEFAULT_TYPE
App = Application[Any, Any, Any, Any, Any, Any]


def make_app(s: Scene, token: str | None = None) -> App:
    """An Application for this server, keeping its handlers' exceptions for the test."""
    app: App = (
        Application.builder()
        .token(token or s.token)
        .base_url(f"{s.url}/bot")
        .base_file_url(f"{s.url}/file/bot")
        .build()
    )

    async def on_error(update: object, context: Context) -> None:
        if context.error is not None:
            s.errors.append(context.error)

    app.add_error_handler(on_error)
    return app


@asynccontextmanager
async def polling(s: Scene, app: App) -> AsyncIterator[None]:
    """The application long-polling, stopped and shut down cleanly on leaving."""
    await asyncio.wait_for(app.initialize(), TIMEOUT)
    assert app.updater is not None
    try:
        await asyncio.wait_for(app.updater.start_polling(timeout=5), TIMEOUT)
        await app.start()
        yield
    finally:
        if app.updater.running:
            await asyncio.wait_for(app.updater.stop(), TIMEOUT)
        if app.running:
            await asyncio.wait_for(app.stop(), TIMEOUT)
        await asyncio.wait_for(app.shutdown(), TIMEOUT)
        if s.errors:
            raise AssertionError(f"a handler failed: {s.errors!r}") from s.errors[0]


def echo_handler(seen: list[Any]) -> MessageHandler[Any, Any]:
    async def echo(update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        seen.append(message.text)
        await message.reply_text(message.text)

    return MessageHandler(filters.TEXT & ~filters.COMMAND, echo)


async def test_echo(server: Server) -> None:
    async with libs.scene(server) as s:
        app = make_app(s)
        chats: list[tuple[int, str, int]] = []

        async def echo(update: Update, context: Context) -> None:
            message, user = update.effective_message, update.effective_user
            assert message is not None and message.text is not None and user is not None
            chats.append((message.chat.id, message.chat.type, user.id))
            await message.reply_text(message.text)

        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
        async with polling(s, app):
            await libs.say(s, "hello, PTB")
            assert await libs.bot_texts(s, 1) == ["hello, PTB"]
        assert chats == [(s.user.user_id, "private", s.user.user_id)]


async def test_commands_and_deep_link(server: Server) -> None:
    async with libs.scene(server) as s:
        app = make_app(s)

        async def start(update: Update, context: Context) -> None:
            assert update.effective_message is not None
            s.seen.append(context.args)
            ref = " ".join(context.args or [])
            await update.effective_message.reply_text(f"welcome, ref={ref}" if ref else "welcome")

        async def help_(update: Update, context: Context) -> None:
            assert update.effective_message is not None
            await update.effective_message.reply_text("commands: /start, /help")

        app.add_handler(CommandHandler("start", start))
        app.add_handler(CommandHandler("help", help_))
        async with polling(s, app):
            await libs.say(s, "/start")
            assert await libs.bot_texts(s, 1) == ["welcome"]
            await libs.say(s, "/help")
            assert (await libs.bot_texts(s, 2))[-1] == "commands: /start, /help"
            await libs.start_with(s, "ref42")
            assert (await libs.bot_texts(s, 3))[-1] == "welcome, ref=ref42"
        assert s.seen == [[], ["ref42"]]


async def test_inline_keyboard_and_callback_query(server: Server) -> None:
    async with libs.scene(server) as s:
        app = make_app(s)

        async def menu(update: Update, context: Context) -> None:
            assert update.effective_message is not None
            buttons = [
                InlineKeyboardButton("Yes", callback_data="yes"),
                InlineKeyboardButton("No", callback_data="no"),
            ]
            markup = InlineKeyboardMarkup([buttons])
            await update.effective_message.reply_text("Pick one", reply_markup=markup)

        async def chosen(update: Update, context: Context) -> None:
            query = update.callback_query
            assert query is not None and query.message is not None
            s.seen.append((query.data, query.from_user.id, query.message.message_id))
            await query.answer(f"you chose {query.data}")
            await query.edit_message_text(f"chosen: {query.data}")

        app.add_handler(CommandHandler("menu", menu))
        app.add_handler(CallbackQueryHandler(chosen, pattern="^(yes|no)$"))
        async with polling(s, app):
            await libs.say(s, "/menu")
            shown = await libs.keyboard_message(s)
            assert shown["text"] == "Pick one"
            rows = shown["reply_markup"]["inline_keyboard"]
            assert [[b["text"] for b in row] for row in rows] == [["Yes", "No"]]
            answer = await libs.press(s, shown["id"], "yes")
            assert answer["text"] == "you chose yes"
            await libs.edited_to(s, shown["id"], "chosen: yes")
        assert s.seen == [("yes", s.user.user_id, shown["id"])]


async def test_document_in_photo_out(server: Server) -> None:
    async with libs.scene(server) as s:
        app = make_app(s)
        data = libs.sample_bytes()

        async def on_document(update: Update, context: Context) -> None:
            message = update.effective_message
            assert message is not None and message.document is not None
            file = await message.document.get_file()
            out = io.BytesIO()
            await file.download_to_memory(out)
            s.seen.append((message.document.file_name, file.file_size, out.getvalue()))
            await message.reply_photo(photo=libs.png(), caption="got it")

        app.add_handler(MessageHandler(filters.Document.ALL, on_document))
        async with polling(s, app):
            await libs.send_document(s, data, "report.bin")
            photo = await libs.photo_from_bot(s)
        assert s.seen == [("report.bin", len(data), data)]
        assert photo["media"]["type"] == "photo" and photo["text"] == "got it"


async def test_webhook_with_secret_token(make_config: Any, store: str) -> None:
    pytest.importorskip("tornado", reason="python-telegram-bot[webhooks] is not installed")
    srv = libs.running_server(make_config, store, bot_webhook_allowlist="127.0.0.1")
    async with srv as server, libs.scene(server) as s:
        app = make_app(s)
        app.add_handler(echo_handler(s.seen))
        port = libs.free_port()
        hook = f"http://127.0.0.1:{port}/hook"
        await asyncio.wait_for(app.initialize(), TIMEOUT)
        assert app.updater is not None
        try:
            await app.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="hook",
                webhook_url=hook,
                secret_token=SECRET,
            )
            await app.start()
            assert (await app.bot.get_webhook_info()).url == hook
            await libs.say(s, "by webhook")
            assert await libs.bot_texts(s, 1) == ["by webhook"]
            # PTB's webhook server refuses a caller without the secret
            assert await libs.post_update(hook, "wrong-secret") == 403
            assert await libs.post_update(hook, None) == 403
            assert await app.bot.delete_webhook()
        finally:
            if app.updater.running:
                await asyncio.wait_for(app.updater.stop(), TIMEOUT)
            if app.running:
                await asyncio.wait_for(app.stop(), TIMEOUT)
            await asyncio.wait_for(app.shutdown(), TIMEOUT)
        assert s.seen == ["by webhook"]
        assert not s.errors, s.errors


async def test_errors_are_ptb_exceptions(server: Server) -> None:
    async with libs.scene(server) as s:
        app = make_app(s)
        await asyncio.wait_for(app.initialize(), TIMEOUT)
        try:
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await app.bot.send_message(chat_id=987_654_321, text="anyone?")
            await s.api.ok("revokeBotToken", s.user.token, bot_id=s.bot_id)
            with pytest.raises(InvalidToken):
                await app.bot.get_me()
        finally:
            await app.shutdown()


async def test_rate_limit_is_retry_after(
    make_config: Any, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB's opt-in to its coming timedelta type
    rates = {**TEST_RATES, "bot": Rate(0.5, 3)}
    async with libs.running_server(make_config, store, rates=rates) as srv, libs.scene(srv) as s:
        app = make_app(s)
        await asyncio.wait_for(app.initialize(), TIMEOUT)  # one getMe
        try:
            with pytest.raises(RetryAfter) as refused:
                for _ in range(10):
                    await app.bot.get_me()
            after = refused.value.retry_after
            assert isinstance(after, dtm.timedelta) and after.total_seconds() >= 1
        finally:
            await app.shutdown()


async def test_polling_across_a_restart(server: Server) -> None:
    async with libs.scene(server) as s:
        first: list[str] = []
        second: list[str] = []
        app = make_app(s)
        app.add_handler(echo_handler(first))
        async with polling(s, app):
            for text in ("one", "two"):
                await libs.say(s, text)
            await libs.bot_texts(s, 2)
        # Updater.stop acknowledged what the bot handled
        assert await libs.pending(s) == 0
        for text in ("three", "four"):
            await libs.say(s, text)
        assert await libs.pending(s) == 2
        # a new process: a new Application
        app = make_app(s)
        app.add_handler(echo_handler(second))
        async with polling(s, app):
            await libs.bot_texts(s, 4)
            await libs.all_acknowledged(s)
            await asyncio.sleep(0.3)
        assert (first, second) == (["one", "two"], ["three", "four"])
        assert await libs.bot_texts(s, 4) == ["one", "two", "three", "four"]
