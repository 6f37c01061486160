"""Sending, forwarding, editing and deleting messages; pins, reactions, read marks, typing
and drafts. Each change appends an update to every member's box in the same transaction."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from heliograph.domain.entities import (
    ChatKind,
    Draft,
    ForwardOrigin,
    Message,
    MessageEntity,
)
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.text import merge_entities, normalize_for_search, utf16_len
from heliograph.services.chats import Membership, require_member
from heliograph.services.context import App, Caller, Outbox
from heliograph.store import chats, messages, users
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


@dataclass(frozen=True, slots=True)
class Sent:
    """The sent message and the caller's position in their box after it (None for a retried
    send that had already been stored: the original update already carries it)."""

    message: Message
    pts: int | None
    pts_count: int


@dataclass(frozen=True, slots=True)
class Changed:
    pts: int
    pts_count: int


def check_text(app: App, text: str, entities: list[MessageEntity]) -> list[MessageEntity]:
    if not text.strip():
        raise HeliographError(ErrorCode.MESSAGE_EMPTY, "the message has no text")
    if utf16_len(text) > app.limits.message_length:
        raise HeliographError(
            ErrorCode.MESSAGE_TOO_LONG,
            f"a message may have at most {app.limits.message_length} characters",
        )
    return merge_entities(text, entities, app.limits)


async def _fan_out(
    tx: Conn,
    outbox: Outbox,
    members: Membership,
    kind: str,
    stored: dict[str, Any],
    body: dict[str, Any],
    now: int,
) -> dict[int, int]:
    """Write one update for every member of a small chat (bounded fan-out on write)."""
    return await outbox.add(tx, members.member_ids, kind, members.chat_id, stored, body, now)


async def _visible_message(conn: Conn, caller: Caller, chat_id: int, message_id: int) -> Message:
    rows = await messages.get_rows(conn, chat_id, [message_id], caller.user_id)
    if not rows:
        raise HeliographError(ErrorCode.MESSAGE_NOT_FOUND, "message not found")
    return (await messages.hydrate(conn, chat_id, rows))[0]


async def _store_message(
    app: App,
    tx: Conn,
    outbox: Outbox,
    caller: Caller,
    members: Membership,
    text: str,
    entities: list[MessageEntity],
    reply_to: int | None,
    forward: ForwardOrigin | None,
    random_id: int | None,
) -> Sent:
    now = app.now()
    message_id = await chats.next_message_id(tx, members.chat_id, now)
    await messages.insert(
        tx,
        chat_id=members.chat_id,
        message_id=message_id,
        sender_id=caller.user_id,
        date=now,
        text=text,
        entities=entities,
        reply_to_id=reply_to,
        forward=forward,
        search_text=normalize_for_search(text),
        random_id=random_id,
    )
    # Sending is reading: the sender has seen everything up to their own message.
    await chats.raise_read_pointer(tx, members.chat_id, caller.user_id, message_id)
    await chats.clear_draft(tx, caller.user_id, members.chat_id)
    message = Message(
        id=message_id,
        chat_id=members.chat_id,
        sender_id=caller.user_id,
        date=now,
        text=text,
        entities=entities,
        reply_to_message_id=reply_to,
        forward_origin=forward,
    )
    pts = await _fan_out(
        tx, outbox, members, "new_message", {"message_id": message_id}, {"message": message}, now
    )
    return Sent(message, pts[caller.user_id], 1)


async def send_message(
    app: App,
    caller: Caller,
    chat_id: int,
    text: str,
    entities: list[MessageEntity] | None = None,
    reply_to_message_id: int | None = None,
    random_id: int | None = None,
) -> Sent:
    checked = check_text(app, text, entities or [])
    outbox = Outbox()
    async with app.db.transaction() as tx:
        if random_id is not None:
            earlier = await messages.by_random_id(tx, caller.user_id, random_id)
            if earlier is not None:
                return Sent(await _visible_message(tx, caller, *earlier), None, 0)
        members = await require_member(tx, caller, chat_id)
        await _check_can_write(tx, caller, members)
        if reply_to_message_id is not None:
            await _visible_message(tx, caller, chat_id, reply_to_message_id)
        sent = await _store_message(
            app, tx, outbox, caller, members, text, checked, reply_to_message_id, None, random_id
        )
    outbox.publish(app.bus)
    return sent


async def _check_can_write(conn: Conn, caller: Caller, members: Membership) -> None:
    if members.kind is ChatKind.PRIVATE:
        for member_id in members.member_ids:
            row = await users.get(conn, member_id)
            if row is not None and row["deleted"]:
                raise HeliographError(
                    ErrorCode.CHAT_WRITE_FORBIDDEN, "this account has been deleted"
                )


async def forward_messages(
    app: App, caller: Caller, from_chat_id: int, message_ids: list[int], to_chat_id: int
) -> list[Sent]:
    _check_ids(app, message_ids)
    outbox = Outbox()
    sent: list[Sent] = []
    async with app.db.transaction() as tx:
        await require_member(tx, caller, from_chat_id)
        target = await require_member(tx, caller, to_chat_id)
        await _check_can_write(tx, caller, target)
        rows = await messages.get_rows(tx, from_chat_id, sorted(set(message_ids)), caller.user_id)
        originals = [r for r in rows if r["service"] is None]
        if not originals:
            raise HeliographError(ErrorCode.MESSAGE_NOT_FOUND, "no message to forward")
        for original in await messages.hydrate(tx, from_chat_id, originals):
            origin = original.forward_origin or await _origin_of(tx, original)
            sent.append(
                await _store_message(
                    app,
                    tx,
                    outbox,
                    caller,
                    target,
                    original.text,
                    original.entities,
                    None,
                    origin,
                    None,
                )
            )
    outbox.publish(app.bus)
    return sent


async def _origin_of(conn: Conn, message: Message) -> ForwardOrigin:
    name = "Deleted account"
    if message.sender_id is not None:
        row = await users.get(conn, message.sender_id)
        if row is not None and not row["deleted"]:
            name = row["display_name"]
    return ForwardOrigin(
        sender_id=message.sender_id,
        sender_name=name,
        chat_id=message.chat_id,
        message_id=message.id,
        date=message.date,
    )


async def edit_message(
    app: App,
    caller: Caller,
    chat_id: int,
    message_id: int,
    text: str,
    entities: list[MessageEntity] | None = None,
) -> Changed:
    checked = check_text(app, text, entities or [])
    outbox = Outbox()
    async with app.db.transaction() as tx:
        members = await require_member(tx, caller, chat_id)
        message = await _visible_message(tx, caller, chat_id, message_id)
        if message.sender_id != caller.user_id or message.service or message.forward_origin:
            raise HeliographError(
                ErrorCode.MESSAGE_EDIT_FORBIDDEN, "only the sender can edit their own message"
            )
        if message.text == text and message.entities == checked:
            raise HeliographError(ErrorCode.MESSAGE_NOT_MODIFIED, "the message is unchanged")
        now = app.now()
        await messages.edit(tx, chat_id, message_id, text, checked, normalize_for_search(text), now)
        message.text, message.entities, message.edit_date = text, checked, now
        pts = await _fan_out(
            tx,
            outbox,
            members,
            "edit_message",
            {"message_id": message_id},
            {"message": message},
            now,
        )
    outbox.publish(app.bus)
    return Changed(pts[caller.user_id], 1)


def _check_ids(app: App, ids: list[int]) -> None:
    if not ids:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "message_ids is empty")
    if len(ids) > app.limits.ids_per_request:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS,
            f"at most {app.limits.ids_per_request} message ids per request",
        )


async def delete_messages(
    app: App, caller: Caller, chat_id: int, message_ids: list[int], for_everyone: bool
) -> Changed:
    _check_ids(app, message_ids)
    outbox = Outbox()
    async with app.db.transaction() as tx:
        members = await require_member(tx, caller, chat_id)
        rows = await messages.get_rows(tx, chat_id, sorted(set(message_ids)), caller.user_id)
        if not rows:
            raise HeliographError(ErrorCode.MESSAGE_NOT_FOUND, "message not found")
        ids = [r["id"] for r in rows]
        if for_everyone:
            # In a private chat either side may delete any message for both, as in Telegram.
            if members.kind is not ChatKind.PRIVATE and any(
                r["sender_id"] != caller.user_id for r in rows
            ):
                raise HeliographError(ErrorCode.MESSAGE_DELETE_FORBIDDEN, "only your own messages")
            pts = await delete_for_everyone(app, tx, outbox, chat_id, ids)
        else:
            await messages.hide(tx, caller.user_id, chat_id, ids)
            pts = await outbox.add(
                tx,
                [caller.user_id],
                "delete_messages",
                chat_id,
                {"message_ids": ids},
                {"message_ids": ids},
                app.now(),
            )
    outbox.publish(app.bus)
    return Changed(pts[caller.user_id], 1)


async def delete_for_everyone(
    app: App, tx: Conn, outbox: Outbox, chat_id: int, ids: list[int], skip: int | None = None
) -> dict[int, int]:
    """Delete messages from a chat and tell every member (but `skip`, who is leaving)."""
    await messages.delete(tx, chat_id, ids)
    member_ids = [m for m in await chats.member_ids(tx, chat_id) if m != skip]
    data = {"message_ids": ids}
    return await outbox.add(tx, member_ids, "delete_messages", chat_id, data, data, app.now())


async def set_pinned(
    app: App, caller: Caller, chat_id: int, message_id: int, pinned: bool
) -> Changed | None:
    """Pin or unpin for every member; None when it already was so."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        members = await require_member(tx, caller, chat_id)
        await _visible_message(tx, caller, chat_id, message_id)
        changed = await (messages.pin if pinned else messages.unpin)(tx, chat_id, message_id)
        if not changed:
            return None
        data = {"message_ids": [message_id], "pinned": pinned}
        pts = await _fan_out(tx, outbox, members, "pinned_messages", data, data, app.now())
    outbox.publish(app.bus)
    return Changed(pts[caller.user_id], 1)


def check_reaction(app: App, emoji: str) -> None:
    if not emoji or len(emoji) > app.limits.reaction_max:
        raise HeliographError(ErrorCode.REACTION_INVALID, "a reaction is one emoji")
    for char in emoji:
        category = unicodedata.category(char)
        if category[0] in "LNPZC" and char not in "\u200d\ufe0f\u20e3":
            raise HeliographError(ErrorCode.REACTION_INVALID, "a reaction is one emoji")


async def set_reaction(
    app: App, caller: Caller, chat_id: int, message_id: int, emoji: str | None
) -> Changed:
    if emoji is not None:
        check_reaction(app, emoji)
    outbox = Outbox()
    async with app.db.transaction() as tx:
        members = await require_member(tx, caller, chat_id)
        message = await _visible_message(tx, caller, chat_id, message_id)
        if message.service:
            raise HeliographError(ErrorCode.REACTION_INVALID, "service messages take no reactions")
        if emoji is None:
            await messages.remove_reaction(tx, chat_id, message_id, caller.user_id)
        else:
            await messages.set_reaction(tx, chat_id, message_id, caller.user_id, emoji)
        reactions = (await messages.reactions_for(tx, chat_id, [message_id])).get(message_id, [])
        pts = await _fan_out(
            tx,
            outbox,
            members,
            "message_reactions",
            {"message_id": message_id},
            {"message_id": message_id, "reactions": reactions},
            app.now(),
        )
    outbox.publish(app.bus)
    return Changed(pts[caller.user_id], 1)


async def read_history(app: App, caller: Caller, chat_id: int, max_id: int) -> Changed | None:
    """Mark everything up to max_id read: the caller's other devices clear the unread count
    and the other members see their messages read. None when nothing new was read."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        members = await require_member(tx, caller, chat_id)
        max_id = min(max_id, members.last_message_id)
        if max_id <= 0 or not await chats.raise_read_pointer(tx, chat_id, caller.user_id, max_id):
            return None
        now = app.now()
        unread = await chats.unread_count(tx, chat_id, caller.user_id, max_id)
        data = {"max_id": max_id}
        pts = await outbox.add(
            tx,
            [caller.user_id],
            "read_inbox",
            chat_id,
            data,
            {"max_id": max_id, "unread_count": unread},
            now,
        )
        others = [m for m in members.member_ids if m != caller.user_id]
        await outbox.add(tx, others, "read_outbox", chat_id, data, data, now)
    outbox.publish(app.bus)
    return Changed(pts[caller.user_id], 1)


async def set_typing(app: App, caller: Caller, chat_id: int, action: str) -> None:
    if action not in TYPING_ACTIONS:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"action must be one of {', '.join(sorted(TYPING_ACTIONS))}"
        )
    async with app.db.read() as conn:
        members = await require_member(conn, caller, chat_id)
    outbox = Outbox()
    others = [m for m in members.member_ids if m != caller.user_id]
    outbox.event(
        {"type": "typing", "chat_id": chat_id, "user_id": caller.user_id, "action": action}, others
    )
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
        await require_member(tx, caller, chat_id)
        now = app.now()
        draft: Draft | None = None
        if text:
            draft = Draft(text, checked, reply_to_message_id, now)
            await chats.save_draft(
                tx,
                caller.user_id,
                chat_id,
                text,
                _entities_json(checked),
                reply_to_message_id,
                now,
            )
        else:
            await chats.clear_draft(tx, caller.user_id, chat_id)
        pts = await outbox.add(tx, [caller.user_id], "draft", chat_id, {}, {"draft": draft}, now)
    outbox.publish(app.bus)
    return Changed(pts[caller.user_id], 1)


def _entities_json(entities: list[MessageEntity]) -> str:
    import orjson

    return orjson.dumps(entities).decode()
