"""Heliograph's entities as Telegram Bot API objects: plain JSON dicts, with optional fields
left out when empty, as Telegram leaves them out. Pure functions of what they are given (no
database), so services and the Bot API layer can call them anywhere.

Chat ids follow Telegram's conventions, which the bot libraries rely on: a private chat is
named by the other user's id (positive), a group by `-chat_id`, a channel by
`-(1_000_000_000_000 + chat_id)` (Telegram's "-100..." ids). Groups are typed "supergroup":
ours have admins, rights, usernames and permanent history like Telegram's supergroups, and
libraries offer every group method for that type."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any, Literal

from heliograph.domain.entities import ChatKind, ForwardOrigin, Message, MessageEntity, User
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import (
    Document,
    Media,
    Photo,
    PhotoSize,
    ProfilePhoto,
    Sticker,
    Video,
    Voice,
)

Json = dict[str, Any]
BotChatKind = Literal["user", "group", "channel"]

CHANNEL_ID_SHIFT = 1_000_000_000_000
# What Telegram calls users it can't show; also stands in for users missing from a lookup.
DELETED_NAME = "Deleted Account"
# Profile photos come in two squares (see ProfilePhoto).
_PROFILE_SMALL = 160
_PROFILE_BIG = 640
_NO_USERS: Mapping[int, Json] = MappingProxyType({})
_CHAT_TYPES = {
    ChatKind.PRIVATE: "private",
    ChatKind.GROUP: "supergroup",
    ChatKind.CHANNEL: "channel",
}
_JOINS = frozenset(
    {"members_added", "member_joined", "member_joined_by_link", "member_joined_by_request"}
)
_LEAVES = frozenset({"member_left", "member_removed"})


# ---------------------------------------------------------------------------------------------
# Ids


def bot_chat_id(kind: ChatKind, chat_id: int, peer_user_id: int | None) -> int:
    """The id a bot knows a chat by. A private chat needs the other member's id."""
    if kind is ChatKind.PRIVATE:
        if peer_user_id is None or peer_user_id <= 0:
            raise ValueError("a private chat is named by its peer's user id")
        return peer_user_id
    if not 0 < chat_id < CHANNEL_ID_SHIFT:
        raise ValueError(f"chat id {chat_id} is outside the range bots can address")
    return -chat_id if kind is ChatKind.GROUP else -(CHANNEL_ID_SHIFT + chat_id)


def parse_bot_chat_id(value: int) -> tuple[BotChatKind, int]:
    """What a bot's chat id names: ("user", user_id) for a private chat with that user,
    ("group", chat_id) or ("channel", chat_id). Raises CHAT_NOT_FOUND for ids that name
    nothing (0, or the bare channel shift)."""
    if value > 0:
        return "user", value
    if -CHANNEL_ID_SHIFT < value < 0:
        return "group", -value
    if value < -CHANNEL_ID_SHIFT:
        return "channel", -value - CHANNEL_ID_SHIFT
    raise HeliographError(ErrorCode.CHAT_NOT_FOUND, "chat not found")


def file_unique_id(file_id: str) -> str:
    """Telegram's file_unique_id: the same for every bot and over time, but not usable to
    download. Ours: the first 16 characters of the URL-safe base64 SHA-256 of the file id."""
    digest = hashlib.sha256(file_id.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:16]


# ---------------------------------------------------------------------------------------------
# Users and chats


def tg_user(
    user_id: int,
    first_name: str,
    username: str | None,
    is_bot: bool,
    *,
    last_name: str | None = None,
    language_code: str | None = None,
) -> Json:
    """A User. Telegram requires a non-empty first_name; ours is the display name whole."""
    user: Json = {"id": user_id, "is_bot": is_bot, "first_name": first_name or DELETED_NAME}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def tg_user_from(user: User) -> Json:
    """A User from our User; deleted accounts show as Telegram shows them."""
    if user.deleted:
        return tg_user(user.id, DELETED_NAME, None, user.is_bot)
    return tg_user(user.id, user.display_name, user.username, user.is_bot)


def tg_chat(
    kind: ChatKind,
    bot_chat_id: int,
    *,
    title: str | None = None,
    username: str | None = None,
    first_name: str | None = None,
) -> Json:
    """A Chat: "private" (named by first_name), "supergroup" or "channel" (by title)."""
    chat: Json = {"id": bot_chat_id, "type": _CHAT_TYPES[kind]}
    if kind is ChatKind.PRIVATE:
        chat["first_name"] = first_name or title or DELETED_NAME
    else:
        chat["title"] = title or ""
    if username:
        chat["username"] = username
    return chat


def tg_chat_photo(photo: ProfilePhoto) -> Json:
    """A ChatPhoto (what getChat gives for a user's or chat's photo)."""
    return {
        "small_file_id": photo.small_file_id,
        "small_file_unique_id": file_unique_id(photo.small_file_id),
        "big_file_id": photo.big_file_id,
        "big_file_unique_id": file_unique_id(photo.big_file_id),
    }


def _user(users: Mapping[int, Json], user_id: int) -> Json:
    # Telegram always sends a User object; a caller that forgot one gets a stand-in.
    found = users.get(user_id)
    return found if found is not None else tg_user(user_id, DELETED_NAME, None, False)


# ---------------------------------------------------------------------------------------------
# Entities and media


def tg_entities(
    entities: Iterable[MessageEntity], users: Mapping[int, Json] = _NO_USERS
) -> list[Json]:
    """MessageEntity objects; a text_mention carries the User from `users`."""
    result: list[Json] = []
    for e in entities:
        entity: Json = {"type": e.type, "offset": e.offset, "length": e.length}
        if e.type == "text_link" and e.url:
            entity["url"] = e.url
        elif e.type == "pre" and e.language:
            entity["language"] = e.language
        elif e.type == "text_mention" and e.user_id is not None:
            entity["user"] = _user(users, e.user_id)
        result.append(entity)
    return result


def tg_photo_size(size: PhotoSize) -> Json:
    return {
        "file_id": size.file_id,
        "file_unique_id": file_unique_id(size.file_id),
        "width": size.width,
        "height": size.height,
        "file_size": size.size,
    }


def tg_photo(photo: Photo) -> list[Json]:
    """A photo as Telegram sends it: its sizes, smallest first."""
    sizes = sorted(photo.sizes, key=lambda s: (s.width * s.height, s.size))
    return [tg_photo_size(s) for s in sizes]


def tg_profile_photo(photo: ProfilePhoto | Mapping[str, Any]) -> list[Json]:
    """A chat or profile photo as PhotoSizes (new_chat_photo, getUserProfilePhotos).
    Accepts the stored JSON form too, as service messages hold it."""
    if isinstance(photo, ProfilePhoto):
        small, big = photo.small_file_id, photo.big_file_id
    else:
        small, big = str(photo["small_file_id"]), str(photo["big_file_id"])
    return [
        {
            "file_id": file_id,
            "file_unique_id": file_unique_id(file_id),
            "width": side,
            "height": side,
        }
        for file_id, side in ((small, _PROFILE_SMALL), (big, _PROFILE_BIG))
    ]


def _seconds(duration: float) -> int:
    return int(duration + 0.5)  # Telegram counts whole seconds


def _file(file_id: str) -> Json:
    return {"file_id": file_id, "file_unique_id": file_unique_id(file_id)}


def tg_document(document: Document) -> Json:
    result = _file(document.file_id)
    if document.name:
        result["file_name"] = document.name
    result["mime_type"] = document.mime_type
    result["file_size"] = document.size
    return result


def tg_voice(voice: Voice) -> Json:
    result = _file(voice.file_id)
    result["duration"] = _seconds(voice.duration)
    result["mime_type"] = voice.mime_type
    result["file_size"] = voice.size
    return result


def tg_video(video: Video) -> Json:
    result = _file(video.file_id)
    result.update(width=video.width, height=video.height, duration=_seconds(video.duration))
    if video.thumbnail is not None:
        result["thumbnail"] = tg_photo_size(video.thumbnail)
    if video.name:
        result["file_name"] = video.name
    result["mime_type"] = video.mime_type
    result["file_size"] = video.size
    return result


def tg_sticker(sticker: Sticker) -> Json:
    result = _file(sticker.file_id)
    result.update(
        type="regular",
        width=sticker.width,
        height=sticker.height,
        is_animated=False,  # no Lottie stickers here
        is_video=sticker.format == "video",
    )
    if sticker.emoji:
        result["emoji"] = sticker.emoji
    if sticker.set_name:
        result["set_name"] = sticker.set_name
    result["file_size"] = sticker.size
    return result


def _media_fields(media: Media) -> Json:
    if media.photo is not None:
        return {"photo": tg_photo(media.photo)}
    if media.document is not None:
        return {"document": tg_document(media.document)}
    if media.voice is not None:
        return {"voice": tg_voice(media.voice)}
    if media.video is not None:
        return {"video": tg_video(media.video)}
    if media.sticker is not None:
        return {"sticker": tg_sticker(media.sticker)}
    return {}


# ---------------------------------------------------------------------------------------------
# Forwards and service messages


def tg_forward_origin(
    origin: ForwardOrigin, *, users: Mapping[int, Json] = _NO_USERS, chat: Json | None = None
) -> Json:
    """A MessageOrigin (Bot API 7.0). A user's message is "user" when `users` has them,
    else "hidden_user" by name; a post made as a chat is "channel" or "chat" when its chat
    object is given (the origin chat, as the bot sees it), else "hidden_user" by name."""
    if origin.sender_id is not None and origin.sender_id in users:
        return {"type": "user", "date": origin.date, "sender_user": users[origin.sender_id]}
    if origin.sender_id is None and chat is not None:
        if chat.get("type") == "channel":
            return {
                "type": "channel",
                "date": origin.date,
                "chat": chat,
                "message_id": origin.message_id,
            }
        return {"type": "chat", "date": origin.date, "sender_chat": chat}
    return {
        "type": "hidden_user",
        "date": origin.date,
        "sender_user_name": origin.sender_name or DELETED_NAME,
    }


def _legacy_forward(origin: Json) -> Json:
    """The forward_* fields Bot API 7.0 replaced, which older bot code still reads."""
    fields: Json = {}
    kind = origin["type"]
    if kind == "user":
        fields["forward_from"] = origin["sender_user"]
    elif kind == "hidden_user":
        fields["forward_sender_name"] = origin["sender_user_name"]
    elif kind == "chat":
        fields["forward_from_chat"] = origin["sender_chat"]
    else:
        fields["forward_from_chat"] = origin["chat"]
        fields["forward_from_message_id"] = origin["message_id"]
    if origin.get("author_signature"):
        fields["forward_signature"] = origin["author_signature"]
    fields["forward_date"] = origin["date"]
    return fields


def _service_fields(
    service: Mapping[str, Any],
    *,
    chat: Json,
    users: Mapping[int, Json],
    pinned_message: Json | None,
) -> Json:
    """Telegram's service-message fields for our `service` actions (see services.groups,
    services.membership and services.interactions for what each holds)."""
    action = service.get("action")
    if action == "chat_created":
        key = "channel_chat_created" if chat.get("type") == "channel" else "group_chat_created"
        return {key: True}
    if action in _JOINS:
        return {"new_chat_members": [_user(users, u) for u in service.get("user_ids", [])]}
    if action in _LEAVES and service.get("user_id") is not None:
        return {"left_chat_member": _user(users, int(service["user_id"]))}
    if action == "title_changed":
        return {"new_chat_title": service.get("title") or ""}
    if action == "photo_changed" and service.get("photo"):
        return {"new_chat_photo": tg_profile_photo(service["photo"])}
    if action == "photo_removed":
        return {"delete_chat_photo": True}
    if action == "pinned" and service.get("message_id") is not None:
        # Without the message itself: Telegram's InaccessibleMessage (date 0)
        pinned = pinned_message or {"chat": chat, "message_id": service["message_id"], "date": 0}
        return {"pinned_message": pinned}
    return {}  # an action bots have no field for


def referenced_user_ids(message: Message) -> set[int]:
    """Every user `tg_message` looks up in `users` for this message: text mentions, the
    members a service message names, the original sender of a forward, the inline bot."""
    found = {e.user_id for e in message.entities if e.type == "text_mention" and e.user_id}
    service = message.service or {}
    if service.get("action") in _JOINS:
        found.update(int(u) for u in service.get("user_ids", []))
    if service.get("action") in _LEAVES and service.get("user_id") is not None:
        found.add(int(service["user_id"]))
    if message.forward_origin is not None and message.forward_origin.sender_id is not None:
        found.add(message.forward_origin.sender_id)
    if message.via_bot_id is not None:
        found.add(message.via_bot_id)
    return found


# ---------------------------------------------------------------------------------------------
# Messages


def tg_message(
    message: Message,
    *,
    chat: Json,
    sender: Json | None,
    sender_chat: Json | None,
    reply_to: Json | None = None,
    users: Mapping[int, Json] = _NO_USERS,
    via_bot: Json | None = None,
    reply_markup: Json | None = None,
    forward_chat: Json | None = None,
    pinned_message: Json | None = None,
) -> Json:
    """A Message. `chat`, `sender` (the "from" User) and `sender_chat` (the chat a post was
    made as) come ready-made; `users` maps user ids to User objects for everything
    `referenced_user_ids` names. `forward_chat` is the origin chat of a forwarded post,
    `pinned_message` the pinned message of a pin notice (else a stub with its id).
    `via_bot` defaults to `users[message.via_bot_id]`; `reply_markup` to the message's own.
    Only inline keyboards are sent: a Message carries no other markup."""
    result: Json = {"message_id": message.id}
    if sender is not None:
        result["from"] = sender
    if sender_chat is not None:
        result["sender_chat"] = sender_chat
    result["chat"] = chat
    result["date"] = message.date
    if message.forward_origin is not None:
        origin = tg_forward_origin(message.forward_origin, users=users, chat=forward_chat)
        result["forward_origin"] = origin
        result.update(_legacy_forward(origin))
    if reply_to is not None:
        result["reply_to_message"] = reply_to
    if via_bot is None and message.via_bot_id is not None:
        via_bot = users.get(message.via_bot_id)
    if via_bot is not None:
        result["via_bot"] = via_bot
    if message.edit_date:
        result["edit_date"] = message.edit_date
    if message.grouped_id is not None:
        result["media_group_id"] = str(message.grouped_id)
    if message.signature:
        result["author_signature"] = message.signature
    entities = tg_entities(message.entities, users)
    if message.media is not None:
        result.update(_media_fields(message.media))
        if message.text:
            result["caption"] = message.text
            if entities:
                result["caption_entities"] = entities
    elif message.text:
        result["text"] = message.text
        if entities:
            result["entities"] = entities
    if message.service is not None:
        result.update(
            _service_fields(message.service, chat=chat, users=users, pinned_message=pinned_message)
        )
    markup = reply_markup if reply_markup is not None else message.reply_markup
    if markup and "inline_keyboard" in markup:
        result["reply_markup"] = markup
    return result
