"""The entities clients see. Plain dataclasses: the gateway encodes them as JSON as they are,
and the API schema is generated from these same definitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from heliograph.domain.kinds import ChatKind as ChatKind  # also importable from here
from heliograph.domain.media import LinkPreview, Media, ProfilePhoto
from heliograph.domain.permissions import MemberRights


class Visibility(StrEnum):
    """Who may see something of a user (last-seen time)."""

    EVERYBODY = "everybody"
    CONTACTS = "contacts"
    NOBODY = "nobody"


class Reachability(StrEnum):
    """Who may start a private chat with a user."""

    EVERYBODY = "everybody"
    CONTACTS = "contacts"


@dataclass(slots=True)
class MessageEntity:
    """A formatting span. `offset` and `length` count UTF-16 code units, as in Telegram."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    user_id: int | None = None


@dataclass(slots=True)
class ForwardOrigin:
    """Where a forwarded message first came from."""

    sender_id: int | None
    sender_name: str
    chat_id: int
    message_id: int
    date: int


@dataclass(slots=True)
class Reaction:
    """One emoji on a message: how many chose it, and (up to a few) who."""

    emoji: str
    count: int
    user_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Discussion:
    """Where the comments of a channel post live: a message in the linked group."""

    chat_id: int
    message_id: int
    comment_count: int = 0


@dataclass(slots=True)
class Message:
    """A message. `sender_id` is null for posts made as the chat (channel posts, anonymous
    administrators); then `sender_chat_id` is the chat and `signature` may name the author.
    Service messages (joins, title changes, pins) have empty text and a `service` object."""

    id: int
    chat_id: int
    sender_id: int | None
    date: int
    text: str
    entities: list[MessageEntity] = field(default_factory=list)
    reply_to_message_id: int | None = None
    forward_origin: ForwardOrigin | None = None
    edit_date: int | None = None
    pinned: bool = False
    reactions: list[Reaction] = field(default_factory=list)
    service: dict[str, Any] | None = None
    sender_chat_id: int | None = None
    signature: str | None = None
    views: int | None = None
    reply_count: int = 0
    discussion: Discussion | None = None
    media: Media | None = None
    # messages of one album share it
    grouped_id: int | None = None
    link_preview: LinkPreview | None = None
    # a bot's keyboard, in the Bot API's JSON form (inline_keyboard, keyboard, ...)
    reply_markup: dict[str, Any] | None = None
    # the bot a message was sent through, in inline mode
    via_bot_id: int | None = None


@dataclass(slots=True)
class User:
    """A user as others see them: private fields are left out by the privacy rules."""

    id: int
    username: str | None
    display_name: str
    bio: str = ""
    is_contact: bool = False
    online: bool | None = None
    last_seen: int | None = None
    deleted: bool = False
    photo: ProfilePhoto | None = None
    is_bot: bool = False


@dataclass(slots=True)
class PrivacySettings:
    last_seen: Visibility = Visibility.EVERYBODY
    private_chats: Reachability = Reachability.EVERYBODY


@dataclass(slots=True)
class Account:
    """The signed-in user's own view of themself."""

    id: int
    username: str | None
    display_name: str
    bio: str
    privacy: PrivacySettings
    created_at: int
    photo: ProfilePhoto | None = None


@dataclass(slots=True)
class Session:
    id: int
    device_name: str
    client: str
    ip: str
    created_at: int
    last_active_at: int
    current: bool = False


@dataclass(slots=True)
class Draft:
    text: str
    entities: list[MessageEntity] = field(default_factory=list)
    reply_to_message_id: int | None = None
    date: int = 0


@dataclass(slots=True)
class Chat:
    """A chat as one member sees it in the chat list. A large chat (`pts` not null) has an
    update box of its own: follow it with getChannelDifference from `pts`."""

    id: int
    kind: ChatKind
    title: str
    peer_user_id: int | None
    unread_count: int
    read_inbox_max_id: int
    read_outbox_max_id: int
    last_message: Message | None
    last_activity: int
    pinned_message_ids: list[int] = field(default_factory=list)
    draft: Draft | None = None
    about: str = ""
    username: str | None = None
    member_count: int = 0
    role: str = "member"
    pts: int | None = None
    unread_mentions_count: int = 0
    slow_mode_seconds: int = 0
    linked_chat_id: int | None = None
    signatures: bool = False
    photo: ProfilePhoto | None = None
    # the member's own arrangement of their chat list (getPinnedChats gives the pin order)
    pinned: bool = False
    archived: bool = False
    # what the caller may do here now (a restricted member: what they keep), and for a
    # restricted member when the restriction ends (0: until lifted, or not restricted)
    # What the caller may do here now: their role, the chat's default rights and their own
    # restriction taken together (what sendMessage and the other methods check). In a channel
    # the `send_*` rights say whether the caller may post.
    my_rights: MemberRights = field(default_factory=MemberRights)
    restricted_until: int = 0


@dataclass(slots=True)
class State:
    """A position in the user's common box."""

    pts: int
    date: int
