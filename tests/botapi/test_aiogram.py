"""Real aiogram 3 bots against a real server, pointed at it only by aiogram's documented
custom-server setting (`TelegramAPIServer.from_base`): long polling through the
dispatcher, commands and deep links, inline keyboards and callback queries, files both ways,
webhooks with a secret token, errors as aiogram's own exceptions, and polling across a
restart of the bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ErrorEvent,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from heliograph.gateway.ratelimit import Rate
from heliograph.server import Server
from tests.botapi import libs
from tests.botapi.libs import SECRET, TIMEOUT, Scene
from tests.conftest import TEST_RATES


def make_bot(s: Scene, token: str | None = None) -> Bot:
    server = TelegramAPIServer.from_base(s.url)
    return Bot(token or s.token, session=AiohttpSession(api=server))


def dispatcher(s: Scene) -> Dispatcher:
    """A dispatcher that keeps its handlers' exceptions for the test to report."""
    dp = Dispatcher()

    async def on_error(event: ErrorEvent) -> bool:
        s.errors.append(event.exception)
        return True

    dp.errors.register(on_error)
    return dp


@asynccontextmanager
async def polling(s: Scene, dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    """The dispatcher long-polling in a task, stopped cleanly on leaving (which closes the
    bot's session); a handler's exception fails the test."""
    started = asyncio.Event()

    async def on_startup() -> None:
        started.set()

    dp.startup.register(on_startup)
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        waiter = asyncio.create_task(started.wait())
        done, _ = await asyncio.wait(
            {task, waiter}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        if task in done:
            task.result()  # polling died at startup: raise its error
        assert started.is_set(), "the dispatcher did not start"
        yield
    finally:
        if not task.done():
            await asyncio.wait_for(dp.stop_polling(), TIMEOUT)
        await asyncio.wait_for(task, TIMEOUT)
        if s.errors:
            raise AssertionError(f"a handler failed: {s.errors!r}") from s.errors[0]


async def test_echo(server: Server) -> None:
    async with libs.scene(server) as s:
        dp = dispatcher(s)

        @dp.message(F.text)
        async def echo(message: Message) -> None:
            assert message.text is not None and message.from_user is not None
            s.seen.append((message.chat.id, message.chat.type, message.from_user.id))
            await message.answer(message.text)

        async with polling(s, dp, make_bot(s)):
            await libs.say(s, "hello, aiogram")
            assert await libs.bot_texts(s, 1) == ["hello, aiogram"]
        assert s.seen == [(s.user.user_id, "private", s.user.user_id)]


async def test_commands_and_deep_link(server: Server) -> None:
    async with libs.scene(server) as s:
        dp = dispatcher(s)

        @dp.message(CommandStart())
        async def start(message: Message, command: CommandObject) -> None:
            s.seen.append(command.args)
            await message.answer(f"welcome, ref={command.args}" if command.args else "welcome")

        @dp.message(Command("help"))
        async def help_(message: Message) -> None:
            await message.answer("commands: /start, /help")

        async with polling(s, dp, make_bot(s)):
            await libs.say(s, "/start")
            assert await libs.bot_texts(s, 1) == ["welcome"]
            await libs.say(s, "/help")
            assert (await libs.bot_texts(s, 2))[-1] == "commands: /start, /help"
            await libs.start_with(s, "ref42")
            assert (await libs.bot_texts(s, 3))[-1] == "welcome, ref=ref42"
        assert s.seen == [None, "ref42"]


async def test_inline_keyboard_and_callback_query(server: Server) -> None:
    async with libs.scene(server) as s:
        dp = dispatcher(s)

        @dp.message(Command("menu"))
        async def menu(message: Message) -> None:
            buttons = [
                InlineKeyboardButton(text="Yes", callback_data="yes"),
                InlineKeyboardButton(text="No", callback_data="no"),
            ]
            markup = InlineKeyboardMarkup(inline_keyboard=[buttons])
            await message.answer("Pick one", reply_markup=markup)

        @dp.callback_query(F.data.in_({"yes", "no"}))
        async def chosen(query: CallbackQuery) -> None:
            assert isinstance(query.message, Message)
            s.seen.append((query.data, query.from_user.id, query.message.message_id))
            await query.answer(f"you chose {query.data}")
            await query.message.edit_text(f"chosen: {query.data}")

        async with polling(s, dp, make_bot(s)):
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
        dp = dispatcher(s)
        data = libs.sample_bytes()

        @dp.message(F.document)
        async def on_document(message: Message, bot: Bot) -> None:
            assert message.document is not None
            file = await bot.get_file(message.document.file_id)
            downloaded = await bot.download(message.document)
            assert downloaded is not None
            s.seen.append((message.document.file_name, file.file_size, downloaded.read()))
            picture = BufferedInputFile(libs.png(), filename="back.png")
            await message.answer_photo(picture, caption="got it")

        async with polling(s, dp, make_bot(s)):
            await libs.send_document(s, data, "report.bin")
            photo = await libs.photo_from_bot(s)
        assert s.seen == [("report.bin", len(data), data)]
        assert photo["media"]["type"] == "photo" and photo["text"] == "got it"


async def test_webhook_with_secret_token(make_config: Any, store: str) -> None:
    srv = libs.running_server(make_config, store, bot_webhook_allowlist="127.0.0.1")
    async with srv as server, libs.scene(server) as s:
        dp = dispatcher(s)

        @dp.message(F.text)
        async def echo(message: Message) -> None:
            assert message.text is not None
            s.seen.append(message.text)
            await message.answer(message.text)

        bot = make_bot(s)
        app = web.Application()
        SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=SECRET).register(app, "/hook")
        setup_application(app, dp, bot=bot)
        runner = web.AppRunner(app)
        await runner.setup()
        port = libs.free_port()
        hook = f"http://127.0.0.1:{port}/hook"
        try:
            await web.TCPSite(runner, "127.0.0.1", port).start()
            assert await bot.set_webhook(hook, secret_token=SECRET)
            assert (await bot.get_webhook_info()).url == hook
            await libs.say(s, "by webhook")
            assert await libs.bot_texts(s, 1) == ["by webhook"]
            # aiogram's handler refuses a caller without the secret
            assert await libs.post_update(hook, "wrong-secret") == 401
            assert await libs.post_update(hook, None) == 401
            assert await bot.delete_webhook()
        finally:
            await runner.cleanup()
            await bot.session.close()
        assert s.seen == ["by webhook"]
        assert not s.errors, s.errors


async def test_errors_are_aiogram_exceptions(server: Server) -> None:
    async with libs.scene(server) as s:
        bot = make_bot(s)
        try:
            with pytest.raises(TelegramBadRequest, match="chat not found"):
                await bot.send_message(chat_id=987_654_321, text="anyone?")
            await s.api.ok("revokeBotToken", s.user.token, bot_id=s.bot_id)
            with pytest.raises(TelegramUnauthorizedError):
                await bot.get_me()
        finally:
            await bot.session.close()


async def test_rate_limit_is_retry_after(make_config: Any, store: str) -> None:
    rates = {**TEST_RATES, "bot": Rate(0.5, 3)}
    async with libs.running_server(make_config, store, rates=rates) as srv, libs.scene(srv) as s:
        bot = make_bot(s)
        try:
            with pytest.raises(TelegramRetryAfter) as refused:
                for _ in range(10):
                    await bot.get_me()
            assert refused.value.retry_after >= 1
        finally:
            await bot.session.close()


async def test_polling_across_a_restart(server: Server) -> None:
    async with libs.scene(server) as s:
        first: list[str] = []
        second: list[str] = []

        def echo_dispatcher(seen: list[str]) -> Dispatcher:
            dp = dispatcher(s)

            @dp.message(F.text)
            async def echo(message: Message) -> None:
                assert message.text is not None
                seen.append(message.text)
                await message.answer(message.text)

            return dp

        async with polling(s, echo_dispatcher(first), make_bot(s)):
            for text in ("one", "two"):
                await libs.say(s, text)
            await libs.bot_texts(s, 2)
            # aiogram acknowledges a batch with its next getUpdates
            await libs.all_acknowledged(s)
        assert await libs.pending(s) == 0
        # the bot is down
        for text in ("three", "four"):
            await libs.say(s, text)
        assert await libs.pending(s) == 2
        # a new process: a new Bot and Dispatcher
        async with polling(s, echo_dispatcher(second), make_bot(s)):
            await libs.bot_texts(s, 4)
            await libs.all_acknowledged(s)
            await asyncio.sleep(0.3)
        assert (first, second) == (["one", "two"], ["three", "four"])
        # aiogram runs handlers as concurrent tasks: their replies may swap places
        assert sorted(await libs.bot_texts(s, 4)) == ["four", "one", "three", "two"]
