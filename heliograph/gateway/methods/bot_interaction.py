"""Talking to bots: pressing their buttons, inline mode, and deep links."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from heliograph.gateway.methods import Context, Params, method
from heliograph.gateway.methods.chats import SentMessage
from heliograph.services import bot_queries, messaging
from heliograph.services.bot_queries import CallbackAnswer, InlineResults

Id = Annotated[int, Field(ge=1, le=2**53)]
QueryId = Annotated[str, Field(min_length=1, max_length=64)]
BOTS = "Bots"


def _sent(sent: messaging.Sent) -> SentMessage:
    return SentMessage(sent.message, sent.pts, sent.pts_count, sent.box)


class PressButton(Params):
    chat_id: Id
    message_id: Id
    data: Annotated[str, Field(min_length=1, max_length=64)]


@method("pressButton", PressButton, CallbackAnswer, group=BOTS)
async def press_button(ctx: Context, p: PressButton) -> CallbackAnswer:
    """Press a button of a bot's inline keyboard that carries `callback_data` (give it as
    `data`); the answer is the bot's.

    The bot that sent the message (or that it was sent through, `via_bot_id`) receives the
    press and answers within 10 seconds, else `BOT_RESPONSE_TIMEOUT`. Show `text` briefly,
    or with `show_alert` in a dialog; open `url` if set. A message without such a button
    is refused (`BAD_REQUEST`). Buttons with a `url` are links: open them, don't press."""
    return await bot_queries.press_button(ctx.app, ctx.user, p.chat_id, p.message_id, p.data)


class GetInlineResults(Params):
    bot_id: Id
    query: Annotated[str, Field(max_length=256)] = ""
    chat_id: Id | None = None
    offset: Annotated[str, Field(max_length=64)] = ""


@method("getInlineResults", GetInlineResults, InlineResults, group=BOTS)
async def get_inline_results(ctx: Context, p: GetInlineResults) -> InlineResults:
    """Ask a bot in inline mode (`inline_placeholder` set in getBotInfo) for results for
    what the user typed after `@botname`.

    Give the chat the result will be sent to as `chat_id` (the bot learns its type). The
    bot answers within 10 seconds, else `BOT_RESPONSE_TIMEOUT`; a bot without inline mode
    is refused (`BOT_METHOD_FORBIDDEN`). The results are Bot API InlineQueryResult objects:
    show `title`, `description` and `thumbnail_url`; send the chosen one with
    sendInlineResult. For more, ask again with `offset` set to `next_offset`."""
    return await bot_queries.get_inline_results(
        ctx.app, ctx.user, p.bot_id, p.query, p.chat_id, p.offset
    )


class SendInlineResult(Params):
    chat_id: Id
    query_id: QueryId
    result_id: QueryId
    reply_to_message_id: Id | None = None


@method("sendInlineResult", SendInlineResult, SentMessage, group=BOTS, rate="send")
async def send_inline_result(ctx: Context, p: SendInlineResult) -> SentMessage:
    """Send one of a bot's inline results (from getInlineResults, within an hour) as your
    message; it shows `via_bot_id`, and the bot is told which result was chosen.

    An unknown query or result, or one older than an hour, is `QUERY_NOT_FOUND`."""
    sent = await bot_queries.send_inline_result(
        ctx.app, ctx.user, p.chat_id, p.query_id, p.result_id, p.reply_to_message_id
    )
    return _sent(sent)


class StartBot(Params):
    bot_id: Id
    parameter: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] = ""


@method("startBot", StartBot, SentMessage, group=BOTS, rate="send")
async def start_bot(ctx: Context, p: StartBot) -> SentMessage:
    """Start a bot, optionally with a deep-link parameter, as a `t.me/<bot>?start=<x>` link
    does: opens the private chat with the bot and sends `/start <parameter>` there.

    The parameter is up to 64 letters, digits, `_` and `-`."""
    sent = await bot_queries.start_bot(ctx.app, ctx.user, p.bot_id, p.parameter)
    return _sent(sent)
