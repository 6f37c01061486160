"""Edits as bots make them: text, caption, media and keyboard of a message changed together
and told to the chat as one `edit_message` update (see messaging.edit_message, whose rules
for who may edit these follow).

As on Telegram, an edit carries the message's inline keyboard anew: an edit without one
removes it."""

from __future__ import annotations

from typing import Any, Literal

from heliograph.domain.entities import ChatKind, Message, MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import Media, MediaType, file_ids
from heliograph.domain.text import hashtags, normalize_for_search
from heliograph.services import previews
from heliograph.services.chats import ChatAccess, fan_out, load_access
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.messaging import check_caption, check_text, visible_message
from heliograph.store import files, messages
from heliograph.store.db import Conn

Part = Literal["text", "caption", "media", "markup"]
_ALBUM_TYPES = frozenset({MediaType.PHOTO, MediaType.VIDEO})


def _refuse(text: str) -> HeliographError:
    return HeliographError(ErrorCode.INVALID_PARAMS, text)


async def _check_may_edit(tx: Conn, caller: Caller, access: ChatAccess, message: Message) -> None:
    author = await messages.sender_of(tx, access.chat_id, message.id)
    may_edit = author == caller.user_id or (
        access.kind is ChatKind.CHANNEL and access.standing.admin().edit_messages
    )
    if not may_edit or message.service or message.forward_origin:
        raise HeliographError(
            ErrorCode.MESSAGE_EDIT_FORBIDDEN, "only the sender can edit their own message"
        )


def _check_part(part: Part, message: Message, media: Media | None) -> None:
    if part == "text" and message.media is not None:
        raise _refuse("there is no text in the message to edit")
    if part == "caption" and message.media is None:
        raise _refuse("there is no caption in the message to edit")
    if part == "media":
        if message.media is None or media is None:
            raise _refuse("there is no media in the message to edit")
        if message.grouped_id is not None and media.type not in _ALBUM_TYPES:
            raise HeliographError(ErrorCode.ALBUM_INVALID, "an album holds photos and videos")
        if message.media.type is MediaType.STICKER or media.type is MediaType.STICKER:
            raise _refuse("a sticker can't be edited")


async def edit_bot_message(
    app: App,
    caller: Caller,
    chat_id: int,
    message_id: int,
    part: Part,
    *,
    text: str | None = None,
    entities: list[MessageEntity] | None = None,
    media: Media | None = None,
    reply_markup: dict[str, Any] | None = None,
    no_link_preview: bool = False,
) -> Message:
    """Change what `part` names (with "media", the caption too), and set the keyboard to
    `reply_markup` (None removes it). `media` is prepared already (services.media.prepare).
    Returns the message as it now is."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await load_access(tx, caller, chat_id)
        message = await visible_message(tx, caller, chat_id, message_id)
        await _check_may_edit(tx, caller, access, message)
        _check_part(part, message, media)
        new_media = media if media is not None else message.media
        new_text, checked = message.text, message.entities
        if text is not None:
            check = check_caption if new_media is not None else check_text
            new_text, checked = text, check(app, text, entities or [])
        if (
            new_text == message.text
            and checked == message.entities
            and new_media == message.media
            and reply_markup == message.reply_markup
        ):
            raise HeliographError(ErrorCode.MESSAGE_NOT_MODIFIED, "the message is unchanged")
        now = app.now()
        if part != "markup":
            await messages.edit(
                tx, chat_id, message_id, new_text, checked, normalize_for_search(new_text), now
            )
            await messages.replace_hashtags(
                tx, chat_id, message_id, hashtags(new_text), message.date
            )
            message.edit_date = now
        # A keyboard change alone is not shown as an edit (Telegram's edit_hide).
        if new_media is not message.media and new_media is not None:
            await _replace_media(tx, chat_id, message_id, new_media)
        await messages.set_reply_markup(tx, chat_id, message_id, reply_markup)
        message.text, message.entities = new_text, checked
        message.media, message.reply_markup = new_media, reply_markup
        await fan_out(
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
    if part == "text" and not no_link_preview:
        previews.schedule(app, caller, message)
    return message


async def _replace_media(tx: Conn, chat_id: int, message_id: int, media: Media) -> None:
    await messages.set_media(tx, chat_id, message_id, media)
    await files.detach(tx, chat_id, [message_id])
    await files.attach(tx, chat_id, message_id, file_ids(media))
