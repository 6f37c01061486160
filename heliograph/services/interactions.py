"""Pins, reactions, read marks, views, typing and drafts."""

from __future__ import annotations

import orjson

from heliograph.domain.emoji import is_single_emoji
from heliograph.domain.entities import ChatKind, Draft, MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.permissions import require_member_right
from heliograph.domain.text import merge_entities, utf16_len
from heliograph.services.chats import Position, fan_out, load_access
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.messaging import Changed, changed, check_ids, store_message
from heliograph.services.messaging import visible_message as _visible
from heliograph.store import chats, messages
from heliograph.store.db import Conn

TYPING_ACTIONS = frozenset(
    {
        "typing",
        "cancel",
        "recording_voice",
        "uploading_photo",
        "uploading_document",
        "choosing_sticker",
    }
)


async def set_pinned(
    app: App, caller: Caller, chat_id: int, message_id: int, pinned: bool
) -> Changed | None:
    """Pin or unpin for everyone; None when it already was so. In groups this needs the pin
    right and leaves a service message."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await load_access(tx, caller, chat_id)
        if access.kind is not ChatKind.PRIVATE:
            require_member_right(access.standing, "pin_messages", app.now())
        await _visible(tx, caller, chat_id, message_id)
        done = await (messages.pin if pinned else messages.unpin)(tx, chat_id, message_id)
        if not done:
            return None
        data = {"message_ids": [message_id], "pinned": pinned}
        position = await fan_out(
            tx, outbox, access, caller.user_id, "pinned_messages", data, data, app.now()
        )
        if pinned and access.kind is not ChatKind.PRIVATE:
            await store_message(
                app,
                tx,
                outbox,
                caller,
                access,
                "",
                [],
                service={"action": "pinned", "message_id": message_id},
            )
    outbox.publish(app.bus)
    return changed(position)


def check_reaction(app: App, emoji: str) -> None:
    if len(emoji) > app.limits.reaction_max or not is_single_emoji(emoji):
        raise HeliographError(ErrorCode.REACTION_INVALID, "a reaction is one emoji")


async def set_reaction(
    app: App, caller: Caller, chat_id: int, message_id: int, emoji: str | None
) -> Changed:
    if emoji is not None:
        check_reaction(app, emoji)
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await load_access(tx, caller, chat_id)
        message = await _visible(tx, caller, chat_id, message_id)
        if message.service:
            raise HeliographError(ErrorCode.REACTION_INVALID, "service messages take no reactions")
        old = await _reaction_of(tx, chat_id, message_id, caller.user_id)
        if emoji is None:
            await messages.remove_reaction(tx, chat_id, message_id, caller.user_id)
        else:
            await messages.set_reaction(tx, chat_id, message_id, caller.user_id, emoji)
        reactions = (await messages.reactions_for(tx, chat_id, [message_id])).get(message_id, [])
        # who changed what: bots read it as message_reaction
        stored = {
            "message_id": message_id,
            "user_id": caller.user_id,
            "old": [old] if old else [],
            "new": [emoji] if emoji else [],
        }
        position = await fan_out(
            tx,
            outbox,
            access,
            caller.user_id,
            "message_reactions",
            stored,
            {"message_id": message_id, "reactions": reactions},
            app.now(),
        )
    outbox.publish(app.bus)
    return changed(position)


async def _reaction_of(tx: Conn, chat_id: int, message_id: int, user_id: int) -> str | None:
    """One user's reaction to a message (a lookup store.messages could own)."""
    emoji = await tx.fetchval(
        "SELECT emoji FROM reactions WHERE chat_id = ? AND message_id = ? AND user_id = ?",
        chat_id,
        message_id,
        user_id,
    )
    return None if emoji is None else str(emoji)


async def read_history(app: App, caller: Caller, chat_id: int, max_id: int) -> Changed | None:
    """Mark everything up to max_id read: the caller's other devices clear the unread count
    and the senders see their messages read. None when nothing new was read."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await load_access(tx, caller, chat_id)
        max_id = min(max_id, access.last_message_id)
        if max_id <= 0 or not await chats.raise_read_pointer(tx, chat_id, caller.user_id, max_id):
            return None
        now = app.now()
        unread = await chats.unread_count(tx, chat_id, caller.user_id, max_id)
        data = {"max_id": max_id}
        inbox = {"max_id": max_id, "unread_count": unread}
        pts: dict[int, int] = {}
        if access.is_large:
            pts = await outbox.add(tx, [caller.user_id], "read_inbox", chat_id, data, inbox, now)
            # One shared "read up to" mark per chat, moved only forward: O(1) per read.
            if await chats.raise_max_read(tx, chat_id, max_id):
                await fan_out(tx, outbox, access, None, "read_outbox", data, data, now)
        else:
            # Boxes advance in user id order, as everywhere, so that concurrent
            # transactions lock the same rows in the same order.
            for user_id in sorted(access.member_ids):
                if user_id == caller.user_id:
                    pts |= await outbox.add(tx, [user_id], "read_inbox", chat_id, data, inbox, now)
                else:
                    await outbox.add(tx, [user_id], "read_outbox", chat_id, data, data, now)
    outbox.publish(app.bus)
    return Changed(pts[caller.user_id], 1)


async def view_messages(
    app: App, caller: Caller, chat_id: int, message_ids: list[int]
) -> list[int]:
    """Count the caller's view of channel posts, once per user; returns the view counts."""
    check_ids(app, message_ids)
    async with app.db.transaction() as tx:
        await load_access(tx, caller, chat_id)
        rows = await messages.get_rows(tx, chat_id, sorted(set(message_ids)), caller.user_id)
        for row in rows:
            if row["anonymous"] and row["service"] is None:
                await messages.count_view(tx, chat_id, row["id"], caller.user_id)
        counted = await messages.get_rows(tx, chat_id, [r["id"] for r in rows], caller.user_id)
    views = {r["id"]: r["views"] for r in counted}
    return [views.get(i, 0) for i in message_ids]


async def set_typing(app: App, caller: Caller, chat_id: int, action: str) -> None:
    if action not in TYPING_ACTIONS:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"action must be one of {', '.join(sorted(TYPING_ACTIONS))}"
        )
    async with app.db.read() as conn:
        access = await load_access(conn, caller, chat_id)
        if access.kind is ChatKind.CHANNEL and not access.standing.is_admin():
            raise HeliographError(ErrorCode.CHAT_WRITE_FORBIDDEN, "subscribers do not type")
    outbox = Outbox()
    event = {"type": "typing", "chat_id": chat_id, "user_id": caller.user_id, "action": action}
    if access.is_large:
        outbox.chat_event(chat_id, event)
    else:
        outbox.event(event, [m for m in access.member_ids if m != caller.user_id])
    outbox.publish(app.bus)


async def save_draft(
    app: App,
    caller: Caller,
    chat_id: int,
    text: str,
    entities: list[MessageEntity] | None = None,
    reply_to_message_id: int | None = None,
) -> Changed:
    """Save (or with empty text, clear) the caller's draft; their other devices follow."""
    if utf16_len(text) > app.limits.draft_length:
        raise HeliographError(ErrorCode.MESSAGE_TOO_LONG, "the draft is too long")
    checked = merge_entities(text, entities or [], app.limits) if text else []
    outbox = Outbox()
    async with app.db.transaction() as tx:
        await load_access(tx, caller, chat_id)
        if text and reply_to_message_id is not None:
            await _visible(tx, caller, chat_id, reply_to_message_id)
        now = app.now()
        draft: Draft | None = None
        if text:
            draft = Draft(text, checked, reply_to_message_id, now)
            await chats.save_draft(
                tx,
                caller.user_id,
                chat_id,
                text,
                orjson.dumps(checked).decode(),
                reply_to_message_id,
                now,
            )
        else:
            await chats.clear_draft(tx, caller.user_id, chat_id)
        pts = await outbox.add(tx, [caller.user_id], "draft", chat_id, {}, {"draft": draft}, now)
    outbox.publish(app.bus)
    return changed(Position(pts[caller.user_id]))
