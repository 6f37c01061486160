"""Which chat a bot means by a Bot API `chat_id`: a user's id for the private chat with that
user, `-chat_id` for a group, `-(10**12 + chat_id)` for a channel, or "@username" for a
public group or channel. Membership is checked later, by the service that acts."""

from __future__ import annotations

from heliograph.botapi import objects
from heliograph.botapi.errors import BotApiError, bad_request, forbidden
from heliograph.botapi.methods import BotContext
from heliograph.domain.entities import ChatKind
from heliograph.domain.errors import HeliographError
from heliograph.domain.text import canonical_username
from heliograph.services.chats import private_key
from heliograph.store import chats, members, users
from heliograph.store.db import Conn


def chat_not_found() -> BotApiError:
    return bad_request("chat not found")


def _as_id(value: int | str) -> int | str:
    """Form fields and query strings give numbers as text; "@name" stays a name."""
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text.startswith("-") else text
        if digits.isdigit():
            return int(text)
        return text
    return value


async def resolve_chat(ctx: BotContext, chat_id: int | str) -> int:
    """Our chat id for a bot's `chat_id`."""
    value = _as_id(chat_id)
    async with ctx.app.db.read() as conn:
        if isinstance(value, str):
            return await _by_username(ctx, conn, value)
        try:
            kind, ident = objects.parse_bot_chat_id(value)
        except HeliographError:
            raise chat_not_found() from None
        if kind == "user":
            return await _private(ctx, conn, ident)
        row = await chats.get(conn, ident)
        wanted = ChatKind.GROUP if kind == "group" else ChatKind.CHANNEL
        if row is None or row["deleted"] or row["kind"] != wanted.value:
            raise chat_not_found()
        return ident


async def _private(ctx: BotContext, conn: Conn, user_id: int) -> int:
    if user_id == ctx.bot_id:
        raise chat_not_found()
    found = await chats.private_by_key(conn, private_key(ctx.bot_id, user_id))
    if found is not None:
        return found
    user = await users.get(conn, user_id)
    if user is None or user["deleted"]:
        raise chat_not_found()
    # As on Telegram, a bot speaks only to users who wrote to it first.
    if user["is_bot"]:
        raise forbidden("bot can't send messages to bots")
    raise forbidden("bot can't initiate conversation with a user")


async def _by_username(ctx: BotContext, conn: Conn, name: str) -> int:
    """Only public groups and channels are named by username, as on Telegram."""
    if not name.startswith("@"):
        raise chat_not_found()
    try:
        key = canonical_username(name, ctx.app.limits)
    except HeliographError:
        raise chat_not_found() from None
    found = await members.chat_by_username(conn, key)
    if found is None:
        raise chat_not_found()
    return found
