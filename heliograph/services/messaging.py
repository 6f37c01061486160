"""Sending, forwarding, editing and deleting messages. Each change is recorded as an update
for everyone in the chat in the same transaction (see `chats.fan_out`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from heliograph.domain.entities import (
    ChatKind,
    Discussion,
    ForwardOrigin,
    Message,
    MessageEntity,
)
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import Media, file_ids
from heliograph.domain.permissions import Role, check_can_send, require_admin_right
from heliograph.domain.text import hashtags, merge_entities, normalize_for_search, utf16_len
from heliograph.services import previews, send_batch
from heliograph.services.chats import ChatAccess, Position, fan_out, load_access, system_access
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.ordering import after_earlier_calls
from heliograph.store import chats, files, messages, users
from heliograph.store.db import Conn, RetryableError

LINK_ENTITIES = frozenset({"url", "text_link"})


@dataclass(frozen=True, slots=True)
class Sent:
    """The sent message and where its update landed for the sender: their common box, or
    (`box` set) a large chat's box. `pts` is None for a retried send that had already been
    stored: its update was delivered the first time."""

    message: Message
    pts: int | None
    pts_count: int
    box: int | None = None


@dataclass(frozen=True, slots=True)
class Changed:
    pts: int
    pts_count: int
    box: int | None = None


def changed(position: Position | None) -> Changed:
    assert position is not None, "the caller is a recipient of their own change"
    return Changed(position.pts, 1, position.box)


def check_caption(app: App, text: str, entities: list[MessageEntity]) -> list[MessageEntity]:
    """A media message's caption: may be empty, at most `caption_length` long."""
    if utf16_len(text) > app.limits.caption_length:
        raise HeliographError(
            ErrorCode.MESSAGE_TOO_LONG,
            f"a caption may have at most {app.limits.caption_length} characters",
        )
    if not text.strip():
        if entities:
            raise HeliographError(ErrorCode.ENTITIES_INVALID, "an empty caption has no entities")
        return []
    return merge_entities(text, entities, app.limits)


def check_text(app: App, text: str, entities: list[MessageEntity]) -> list[MessageEntity]:
    if not text.strip():
        raise HeliographError(ErrorCode.MESSAGE_EMPTY, "the message has no text")
    if utf16_len(text) > app.limits.message_length:
        raise HeliographError(
            ErrorCode.MESSAGE_TOO_LONG,
            f"a message may have at most {app.limits.message_length} characters",
        )
    return merge_entities(text, entities, app.limits)


async def visible_message(conn: Conn, caller: Caller, chat_id: int, message_id: int) -> Message:
    rows = await messages.get_rows(conn, chat_id, [message_id], caller.user_id)
    if not rows:
        raise HeliographError(ErrorCode.MESSAGE_NOT_FOUND, "message not found")
    return (await messages.hydrate(conn, chat_id, rows))[0]


async def _mentioned_members(
    tx: Conn,
    access: ChatAccess,
    caller: Caller,
    text: str,
    entities: list[MessageEntity],
    reply_to: int | None,
) -> list[int]:
    """Members a group message notifies: @mentions of members and the author replied to."""
    found: set[int] = set()
    for e in entities:
        if e.type == "text_mention" and e.user_id is not None:
            found.add(e.user_id)
        elif e.type == "mention":
            name = _utf16_slice(text, e.offset + 1, e.length - 1).lower()
            row = await users.get_by_username(tx, name)
            if row is not None:
                found.add(row["id"])
    if reply_to is not None:
        author = await messages.sender_of(tx, access.chat_id, reply_to)
        if author is not None:
            found.add(author)
    found.discard(caller.user_id)
    members = []
    for user_id in sorted(found):
        member = await chats.member_row(tx, access.chat_id, user_id)
        if member is not None and member["role"] not in (Role.LEFT, Role.BANNED):
            members.append(user_id)
    return members


def _utf16_slice(text: str, offset: int, length: int) -> str:
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


async def store_message(
    app: App,
    tx: Conn,
    outbox: Outbox,
    caller: Caller,
    access: ChatAccess,
    text: str,
    entities: list[MessageEntity],
    *,
    reply_to: int | None = None,
    forward: ForwardOrigin | None = None,
    random_id: int | None = None,
    service: dict[str, Any] | None = None,
    anonymous: bool = False,
    media: Media | None = None,
    grouped_id: int | None = None,
    no_link_preview: bool = False,
    reply_markup: dict[str, Any] | None = None,
    via_bot_id: int | None = None,
) -> Sent:
    """Write one message and its update; the caller has checked every right."""
    now = app.now()
    chat_id = access.chat_id
    signature = None
    if access.kind is ChatKind.CHANNEL and service is None:
        anonymous = True
        if access.row["signatures"]:
            author = await users.get(tx, caller.user_id)
            signature = author["display_name"] if author is not None else None
    # Sending is reading: the sender's read pointer moves to their own message.
    message_id = await messages.insert_next(
        tx,
        chat_id=chat_id,
        sender_id=caller.user_id,
        date=now,
        text=text,
        entities=entities,
        reply_to_id=reply_to,
        forward=forward,
        search_text=normalize_for_search(text),
        random_id=random_id,
        service=service,
        anonymous=anonymous,
        signature=signature,
        media=media,
        grouped_id=grouped_id,
        no_link_preview=no_link_preview,
        reply_markup=reply_markup,
        via_bot_id=via_bot_id,
    )
    if media is not None:
        await files.attach(tx, chat_id, message_id, file_ids(media))
    if reply_to is not None:
        await messages.count_reply(tx, chat_id, reply_to)
        if access.kind is ChatKind.GROUP:
            await _count_comment(tx, outbox, chat_id, reply_to, now)
    tags = hashtags(text)
    if tags:
        await messages.add_hashtags(tx, chat_id, message_id, tags, now)
    if access.has_draft:
        await chats.clear_draft(tx, caller.user_id, chat_id)
    message = Message(
        id=message_id,
        chat_id=chat_id,
        sender_id=None if anonymous else caller.user_id,
        date=now,
        text=text,
        entities=entities,
        reply_to_message_id=reply_to,
        forward_origin=forward,
        service=service,
        sender_chat_id=chat_id if anonymous else None,
        signature=signature,
        views=1 if access.kind is ChatKind.CHANNEL and service is None else None,
        media=media,
        grouped_id=grouped_id,
        reply_markup=reply_markup,
        via_bot_id=via_bot_id,
    )
    if message.views:
        await messages.count_view(tx, chat_id, message_id, caller.user_id)
    position = await fan_out(
        tx,
        outbox,
        access,
        caller.user_id,
        "new_message",
        {"message_id": message_id},
        {"message": message},
        now,
    )
    if access.kind is not ChatKind.PRIVATE and service is None:
        mentioned = await _mentioned_members(tx, access, caller, text, entities, reply_to)
        if mentioned:
            await messages.add_mentions(tx, chat_id, message_id, mentioned)
            if access.is_large:
                # Members of a large chat are told in their own box, so they hear of it
                # even without following the chat's box.
                data = {"message_id": message_id}
                await outbox.add(tx, mentioned, "mention", chat_id, data, data, now)
    if access.kind is ChatKind.CHANNEL and access.row["linked_chat_id"] and service is None:
        await _open_discussion(app, tx, outbox, caller, access, message)
    if position is None:
        raise HeliographError(ErrorCode.INTERNAL, "sender is not a recipient")
    return Sent(message, position.pts, 1, position.box)


async def _open_discussion(
    app: App, tx: Conn, outbox: Outbox, caller: Caller, access: ChatAccess, post: Message
) -> None:
    """Copy a channel post into the linked group, where comments are replies to the copy."""
    group_id = access.row["linked_chat_id"]
    group = await chats.get(tx, group_id)
    if group is None or group["deleted"]:
        return
    channel = await chats.get(tx, access.chat_id)
    origin = ForwardOrigin(
        sender_id=None,
        sender_name=channel["title"] if channel is not None else "",
        chat_id=access.chat_id,
        message_id=post.id,
        date=post.date,
    )
    group_access = await system_access(tx, group_id)
    copy = await store_message(
        app,
        tx,
        outbox,
        caller,
        group_access,
        post.text,
        post.entities,
        forward=origin,
        anonymous=True,
        media=post.media,
        grouped_id=post.grouped_id,
    )
    await messages.set_discussion(tx, access.chat_id, post.id, group_id, copy.message.id)
    # The live update and the sender's answer are encoded after this: they carry it too.
    post.discussion = Discussion(group_id, copy.message.id, 0)


async def _count_comment(tx: Conn, outbox: Outbox, group_id: int, copy_id: int, now: int) -> None:
    """A reply to a post's copy in the discussion group is a comment on the post: tell those
    following the channel its new count, with one update in the channel's box (the same
    cost whatever the number of subscribers)."""
    found = await messages.discussion_post(tx, group_id, copy_id)
    if found is None:
        return
    channel_id, post_id, count = found
    channel = await chats.get(tx, channel_id)
    if channel is None or channel["deleted"]:
        return
    data = {"message_id": post_id, "comment_count": count}
    if channel["is_large"]:
        await outbox.add_to_chat(tx, channel_id, "comment_count", data, data, now)
    else:
        access = await system_access(tx, channel_id)
        await fan_out(tx, outbox, access, None, "comment_count", data, data, now)


async def check_slow_mode(app: App, tx: Conn, caller: Caller, access: ChatAccess) -> None:
    seconds = access.row["slow_mode_seconds"]
    if not seconds or access.standing.is_admin() or access.kind is ChatKind.PRIVATE:
        return
    now = app.now()
    wait = access.row["last_sent_at"] + seconds - now
    if wait > 0:
        raise HeliographError(
            ErrorCode.SLOW_MODE_WAIT, f"slow mode: wait {wait} s", retry_after=wait
        )
    await chats.touch_last_sent(tx, access.chat_id, caller.user_id, now)


async def check_can_write(
    app: App,
    tx: Conn,
    caller: Caller,
    access: ChatAccess,
    entities: list[MessageEntity],
    media: str | None = None,
) -> None:
    if access.kind is ChatKind.PRIVATE:
        if access.member_deleted:
            raise HeliographError(ErrorCode.CHAT_WRITE_FORBIDDEN, "this account has been deleted")
        return
    has_links = any(e.type in LINK_ENTITIES for e in entities)
    check_can_send(access.standing, app.now(), has_links=has_links, media=media)
    await check_slow_mode(app, tx, caller, access)


async def send_message(
    app: App,
    caller: Caller,
    chat_id: int,
    text: str,
    entities: list[MessageEntity] | None = None,
    reply_to_message_id: int | None = None,
    random_id: int | None = None,
    anonymous: bool = False,
    *,
    media: Media | None = None,
    no_link_preview: bool = False,
    reply_markup: dict[str, Any] | None = None,
    via_bot_id: int | None = None,
) -> Sent:
    """Send a text message, or with `media` a media message whose text is its caption.
    `reply_markup` (a keyboard) is for bots; the caller has checked it."""
    check = check_text if media is None else check_caption
    checked = check(app, text, entities or [])
    if send_batch.takes(
        text, checked, media, reply_to_message_id, anonymous, reply_markup, via_bot_id
    ):
        batched = await send_batch.batcher_of(app).send(
            caller, chat_id, text, checked, random_id, no_link_preview
        )
        if batched is not None:
            if not no_link_preview:
                previews.schedule(app, caller, batched.message)
            return batched
    await after_earlier_calls()  # sends pipelined on a socket take effect in order
    outbox = Outbox()
    # A retry (the same random_id) is found by the unique index when the message is stored,
    # not looked up first: the common send makes one statement less.
    try:
        async with app.db.transaction() as tx:
            access = await load_access(tx, caller, chat_id)
            await check_sendable(
                app, tx, caller, access, checked, media, anonymous, reply_to_message_id
            )
            sent = await store_message(
                app,
                tx,
                outbox,
                caller,
                access,
                text,
                checked,
                reply_to=reply_to_message_id,
                random_id=random_id,
                anonymous=anonymous,
                media=media,
                no_link_preview=no_link_preview,
                reply_markup=reply_markup,
                via_bot_id=via_bot_id,
            )
    except messages.RandomIdTaken:
        assert random_id is not None
        earlier = await _sent_before(app, caller, random_id)
        if earlier is None:  # not committed yet (SQLite commits many sends at once)
            raise RetryableError("the first send with this random_id is committing") from None
        return earlier
    except HeliographError:
        # A retry may be refused where the first send was not (slow mode, since left the
        # chat): it still gets the message sent then.
        earlier = None if random_id is None else await _sent_before(app, caller, random_id)
        if earlier is None:
            raise
        return earlier
    outbox.publish(app.bus)
    if media is None and not no_link_preview:
        previews.schedule(app, caller, sent.message)
    return sent


async def _sent_before(app: App, caller: Caller, random_id: int) -> Sent | None:
    """The caller's committed message sent with this random_id, as a repeated send returns
    it."""
    async with app.db.read() as conn:
        earlier = await messages.by_random_id(conn, caller.user_id, random_id)
        if earlier is None:
            return None
        return Sent(await visible_message(conn, caller, *earlier), None, 0)


async def check_sendable(
    app: App,
    tx: Conn,
    caller: Caller,
    access: ChatAccess,
    entities: list[MessageEntity],
    media: Media | None,
    anonymous: bool,
    reply_to: int | None,
) -> None:
    await check_can_write(
        app, tx, caller, access, entities, None if media is None else media.type.value
    )
    if anonymous and not access.standing.admin().post_anonymously:
        raise HeliographError(
            ErrorCode.ADMIN_REQUIRED, "posting anonymously needs that administrator right"
        )
    if reply_to is not None:
        await visible_message(tx, caller, access.chat_id, reply_to)


def check_ids(app: App, ids: list[int]) -> None:
    if not ids:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "message_ids is empty")
    if len(ids) > app.limits.ids_per_request:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS,
            f"at most {app.limits.ids_per_request} message ids per request",
        )


async def forward_messages(
    app: App, caller: Caller, from_chat_id: int, message_ids: list[int], to_chat_id: int
) -> list[Sent]:
    check_ids(app, message_ids)
    outbox = Outbox()
    sent: list[Sent] = []
    async with app.db.transaction() as tx:
        await load_access(tx, caller, from_chat_id)
        target = await load_access(tx, caller, to_chat_id)
        rows = await messages.get_rows(tx, from_chat_id, sorted(set(message_ids)), caller.user_id)
        originals = [r for r in rows if r["service"] is None]
        if not originals:
            raise HeliographError(ErrorCode.MESSAGE_NOT_FOUND, "no message to forward")
        hydrated = await messages.hydrate(tx, from_chat_id, originals)
        kinds = [m.media.type.value for m in hydrated if m.media is not None]
        await check_can_write(
            app,
            tx,
            caller,
            target,
            [e for m in hydrated for e in m.entities],
            media=kinds[0] if kinds else None,
        )
        for original in hydrated:
            origin = original.forward_origin or await _origin_of(tx, original)
            sent.append(
                await store_message(
                    app,
                    tx,
                    outbox,
                    caller,
                    target,
                    original.text,
                    original.entities,
                    forward=origin,
                    media=original.media,
                )
            )
    outbox.publish(app.bus)
    return sent


async def _origin_of(conn: Conn, message: Message) -> ForwardOrigin:
    if message.sender_id is None:  # posted as the chat: the chat is the origin
        chat = await chats.get(conn, message.chat_id)
        name = chat["title"] if chat is not None else ""
    else:
        row = await users.get(conn, message.sender_id)
        name = row["display_name"] if row is not None and not row["deleted"] else "Deleted account"
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
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await load_access(tx, caller, chat_id)
        message = await visible_message(tx, caller, chat_id, message_id)
        check = check_caption if message.media is not None else check_text
        checked = check(app, text, entities or [])
        author = await messages.sender_of(tx, chat_id, message_id)
        may_edit = author == caller.user_id or (
            access.kind is ChatKind.CHANNEL and access.standing.admin().edit_messages
        )
        if not may_edit or message.service or message.forward_origin:
            raise HeliographError(
                ErrorCode.MESSAGE_EDIT_FORBIDDEN, "only the sender can edit their own message"
            )
        if message.text == text and message.entities == checked:
            raise HeliographError(ErrorCode.MESSAGE_NOT_MODIFIED, "the message is unchanged")
        now = app.now()
        await messages.edit(tx, chat_id, message_id, text, checked, normalize_for_search(text), now)
        await messages.replace_hashtags(tx, chat_id, message_id, hashtags(text), message.date)
        message.text, message.entities, message.edit_date = text, checked, now
        refresh_preview = message.media is None
        position = await fan_out(
            tx,
            outbox,
            access,
            caller.user_id,
            "edit_message",
            {"message_id": message_id},
            {"message": message},
            now,
        )
    outbox.publish(app.bus)
    if refresh_preview:
        previews.schedule(app, caller, message)
    return changed(position)


async def delete_messages(
    app: App, caller: Caller, chat_id: int, message_ids: list[int], for_everyone: bool
) -> Changed:
    check_ids(app, message_ids)
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await load_access(tx, caller, chat_id)
        rows = await messages.get_rows(tx, chat_id, sorted(set(message_ids)), caller.user_id)
        if not rows:
            raise HeliographError(ErrorCode.MESSAGE_NOT_FOUND, "message not found")
        ids = [r["id"] for r in rows]
        # Large chats and channels have one history for all: deleting is for everyone.
        if for_everyone or access.is_large or access.kind is ChatKind.CHANNEL:
            others = any(r["sender_id"] != caller.user_id for r in rows)
            # In a private chat either side may delete any message for both, as in Telegram.
            if others and access.kind is not ChatKind.PRIVATE:
                require_admin_right(access.standing, "delete_messages")
            position = await delete_for_everyone(app, tx, outbox, access, ids, caller.user_id)
        else:
            await messages.hide(tx, caller.user_id, chat_id, ids)
            data = {"message_ids": ids}
            pts = await outbox.add(
                tx, [caller.user_id], "delete_messages", chat_id, data, data, app.now()
            )
            position = Position(pts[caller.user_id])
    outbox.publish(app.bus)
    return changed(position)


async def delete_for_everyone(
    app: App, tx: Conn, outbox: Outbox, access: ChatAccess, ids: list[int], caller_id: int | None
) -> Position | None:
    """Delete messages from a chat and tell everyone in it. What they replied to counts them
    no more; a deleted comment on a channel post lowers the post's comment count."""
    now = app.now()
    replied = await messages.uncount_replies(tx, access.chat_id, ids)
    await messages.delete(tx, access.chat_id, ids)
    if access.kind is ChatKind.GROUP:
        for parent in replied:
            await _count_comment(tx, outbox, access.chat_id, parent, now)
    data = {"message_ids": ids}
    return await fan_out(tx, outbox, access, caller_id, "delete_messages", data, data, now)
