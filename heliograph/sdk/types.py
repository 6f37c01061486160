"""Typed results: dataclasses mirroring the API's JSON.

Each has a `from_dict` that reads the fields it knows and ignores the rest, so a newer server
that adds fields does not break an older SDK. Enumerations (chat kinds, privacy settings,
update types) are kept as plain strings for the same reason."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Self, TypeVar

# Update types of the common box. Unknown types still arrive as `Update` with `raw` filled.
NEW_MESSAGE = "new_message"
EDIT_MESSAGE = "edit_message"
DELETE_MESSAGES = "delete_messages"
PINNED_MESSAGES = "pinned_messages"
MESSAGE_REACTIONS = "message_reactions"
READ_INBOX = "read_inbox"
READ_OUTBOX = "read_outbox"
DRAFT = "draft"
# Your chat list's arrangement changed on some device: `chat_ids` (pinned, in order), or
# `archived` for `chat_id`.
PINNED_CHATS = "pinned_chats"
CHAT_ARCHIVED = "chat_archived"
# Your place in a chat changed; for a large chat, `box_pts` is where to follow its box from.
CHAT_MEMBERSHIP = "chat_membership"
CHAT_BECAME_LARGE = "chat_became_large"
# A group or channel changed (only the changed fields, in `raw`: title, linked_chat_id, ...).
CHAT_INFO = "chat_info"
# A channel post got a comment: `message_id` now has `comment_count` comments.
COMMENT_COUNT = "comment_count"
# Made by the SDK, not the server: the gap was too large to replay. Reload chats and history.
TOO_LONG = "too_long"


B = TypeVar("B")


def _ints(value: Any) -> list[int]:
    return [int(v) for v in value or []]


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(slots=True)
class MessageEntity:
    """A formatting span; `offset` and `length` count UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    user_id: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            type=d["type"],
            offset=d["offset"],
            length=d["length"],
            url=d.get("url"),
            language=d.get("language"),
            user_id=d.get("user_id"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        for key in ("url", "language", "user_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def _entities(value: Any) -> list[MessageEntity]:
    return [MessageEntity.from_dict(e) for e in value or []]


@dataclass(slots=True)
class ForwardOrigin:
    """Where a forwarded message first came from."""

    sender_id: int | None
    sender_name: str
    chat_id: int
    message_id: int
    date: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            sender_id=d.get("sender_id"),
            sender_name=d.get("sender_name", ""),
            chat_id=d["chat_id"],
            message_id=d["message_id"],
            date=d.get("date", 0),
        )


@dataclass(slots=True)
class Reaction:
    emoji: str
    count: int
    user_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(emoji=d["emoji"], count=d.get("count", 0), user_ids=_ints(d.get("user_ids")))


@dataclass(slots=True)
class Discussion:
    """Where the comments of a channel post live: a message in the linked group."""

    chat_id: int
    message_id: int
    comment_count: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            chat_id=d["chat_id"],
            message_id=d["message_id"],
            comment_count=d.get("comment_count", 0),
        )


# --- files and media ---------------------------------------------------------------------


@dataclass(slots=True)
class FileInfo:
    """A stored file: its bytes come from `Client.download_file(id, ...)`."""

    id: str
    size: int
    name: str = ""
    mime_type: str = "application/octet-stream"
    sha256: str = ""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            id=d["id"],
            size=d.get("size", 0),
            name=d.get("name") or "",
            mime_type=d.get("mime_type") or "application/octet-stream",
            sha256=d.get("sha256") or "",
        )


@dataclass(slots=True)
class Upload:
    """An upload in progress: parts `0 … parts-1`, each `part_size` bytes but the last.
    `received` lists the parts the server has; `file` is set once it is finished."""

    upload_id: str
    size: int
    part_size: int
    parts: int
    received: list[int] = field(default_factory=list)
    expires_at: int = 0
    file: FileInfo | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        file = d.get("file")
        return cls(
            upload_id=d["upload_id"],
            size=d["size"],
            part_size=d["part_size"],
            parts=d["parts"],
            received=_ints(d.get("received")),
            expires_at=d.get("expires_at", 0),
            file=FileInfo.from_dict(file) if file else None,
        )

    def part_length(self, part: int) -> int:
        return max(0, min(self.part_size, self.size - part * self.part_size))


@dataclass(slots=True)
class PhotoSize:
    """One rendition of a photo: `s` thumbnail (90 px), `m` 320, `x` 800, `y` 1280 px."""

    kind: str
    width: int
    height: int
    size: int
    file_id: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            kind=d.get("kind", ""),
            width=d.get("width", 0),
            height=d.get("height", 0),
            size=d.get("size", 0),
            file_id=d["file_id"],
        )


def _size(value: Any) -> PhotoSize | None:
    return PhotoSize.from_dict(value) if value else None


@dataclass(slots=True)
class Photo:
    """A photo in several sizes, smallest first. `inline_preview` is a tiny JPEG (base64) to
    show, blurred, before a size arrives."""

    width: int
    height: int
    sizes: list[PhotoSize] = field(default_factory=list)
    inline_preview: str = field(default="", repr=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        sizes = [PhotoSize.from_dict(s) for s in d.get("sizes") or []]
        return cls(
            width=d.get("width", 0),
            height=d.get("height", 0),
            sizes=sorted(sizes, key=lambda s: s.width * s.height),
            inline_preview=d.get("inline_preview") or "",
        )

    def largest(self) -> PhotoSize | None:
        return self.sizes[-1] if self.sizes else None


@dataclass(slots=True)
class Document:
    file_id: str
    name: str
    mime_type: str
    size: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            file_id=d["file_id"],
            name=d.get("name") or "",
            mime_type=d.get("mime_type") or "application/octet-stream",
            size=d.get("size", 0),
        )


@dataclass(slots=True)
class Voice:
    """An OGG/Opus voice note; `waveform`: 100 peaks of 0–31, when known."""

    file_id: str
    mime_type: str
    size: int
    duration: float = 0.0
    waveform: list[int] | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        waveform = d.get("waveform")
        return cls(
            file_id=d["file_id"],
            mime_type=d.get("mime_type") or "audio/ogg",
            size=d.get("size", 0),
            duration=float(d.get("duration") or 0),
            waveform=_ints(waveform) if waveform is not None else None,
        )


@dataclass(slots=True)
class Video:
    file_id: str
    name: str
    mime_type: str
    size: int
    duration: float = 0.0
    width: int = 0
    height: int = 0
    thumbnail: PhotoSize | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            file_id=d["file_id"],
            name=d.get("name") or "",
            mime_type=d.get("mime_type") or "video/mp4",
            size=d.get("size", 0),
            duration=float(d.get("duration") or 0),
            width=d.get("width", 0),
            height=d.get("height", 0),
            thumbnail=_size(d.get("thumbnail")),
        )


@dataclass(slots=True)
class Sticker:
    """A sticker of a pack; `format`: `static` (PNG/WebP) or `video` (WebM)."""

    file_id: str
    set_id: int
    set_name: str
    emoji: str
    format: str = "static"
    mime_type: str = "image/webp"
    width: int = 0
    height: int = 0
    size: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            file_id=d["file_id"],
            set_id=d.get("set_id", 0),
            set_name=d.get("set_name") or "",
            emoji=d.get("emoji") or "",
            format=d.get("format") or "static",
            mime_type=d.get("mime_type") or "image/webp",
            width=d.get("width", 0),
            height=d.get("height", 0),
            size=d.get("size", 0),
        )


@dataclass(slots=True)
class Media:
    """What a media message holds: `type` (photo, document, voice, video, sticker) names the
    one field that is set. A type this SDK does not know has none set."""

    type: str
    photo: Photo | None = None
    document: Document | None = None
    voice: Voice | None = None
    video: Video | None = None
    sticker: Sticker | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        def part(key: str, kind: Any) -> Any:
            value = d.get(key)
            return kind.from_dict(value) if value else None

        return cls(
            type=d.get("type", ""),
            photo=part("photo", Photo),
            document=part("document", Document),
            voice=part("voice", Voice),
            video=part("video", Video),
            sticker=part("sticker", Sticker),
        )

    @property
    def file_id(self) -> str | None:
        """The file to download: the largest size of a photo, else the file itself."""
        if self.photo is not None:
            largest = self.photo.largest()
            return largest.file_id if largest is not None else None
        for item in (self.document, self.voice, self.video, self.sticker):
            if item is not None:
                return item.file_id
        return None


@dataclass(slots=True)
class InputMedia:
    """Media to send: an uploaded file (or one you can see, or a sticker's file) as `type`.
    `waveform` (100 values 0–31) is used for a voice note the server cannot analyse."""

    type: str  # photo, document, voice, video, sticker
    file_id: str
    waveform: list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "file_id": self.file_id}
        if self.waveform is not None:
            out["waveform"] = list(self.waveform)
        return out


@dataclass(slots=True)
class AlbumItem:
    """One photo or video of an album, with its own caption."""

    media: InputMedia
    caption: str = ""
    caption_entities: list[MessageEntity] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"media": self.media.to_dict(), "caption": self.caption}
        if self.caption_entities is not None:
            out["caption_entities"] = [e.to_dict() for e in self.caption_entities]
        return out


@dataclass(slots=True)
class LinkPreview:
    """A preview of the first link of a message, fetched by the server."""

    url: str
    site_name: str | None = None
    title: str | None = None
    description: str | None = None
    photo: Photo | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        photo = d.get("photo")
        return cls(
            url=d.get("url", ""),
            site_name=d.get("site_name"),
            title=d.get("title"),
            description=d.get("description"),
            photo=Photo.from_dict(photo) if photo else None,
        )


@dataclass(slots=True)
class ProfilePhoto:
    """A user's or chat's photo: a small (160 px) and a big (640 px) square."""

    small_file_id: str
    big_file_id: str
    date: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            small_file_id=d["small_file_id"],
            big_file_id=d["big_file_id"],
            date=d.get("date", 0),
        )


def _profile_photo(value: Any) -> ProfilePhoto | None:
    return ProfilePhoto.from_dict(value) if value else None


# --- keyboards of bots --------------------------------------------------------------------


@dataclass(slots=True)
class InlineButton:
    """A button under a bot's message. It does one thing, named by the field that is set:
    `callback_data` (press it: `Client.press`), `url` (open it), `switch_inline_query` (pick
    a chat and type `@bot <query>` there), `switch_inline_query_current_chat` (type it
    here) or `copy_text` (copy it). `raw` holds the button as received, kinds this SDK does
    not know included."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    switch_inline_query: str | None = None
    switch_inline_query_current_chat: str | None = None
    copy_text: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        copied = d.get("copy_text")
        return cls(
            text=str(d.get("text", "")),
            callback_data=d.get("callback_data"),
            url=d.get("url"),
            switch_inline_query=d.get("switch_inline_query"),
            switch_inline_query_current_chat=d.get("switch_inline_query_current_chat"),
            copy_text=copied.get("text") if isinstance(copied, Mapping) else None,
            raw=dict(d),
        )


@dataclass(slots=True)
class KeyboardButton:
    """A button of a reply keyboard: pressing it sends its `text` (or, with a request
    flag, your contact or location) to the chat."""

    text: str
    request_contact: bool = False
    request_location: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | str) -> Self:
        if isinstance(d, str):  # the Bot API's short form of a text button
            return cls(text=d)
        return cls(
            text=str(d.get("text", "")),
            request_contact=bool(d.get("request_contact", False)),
            request_location=bool(d.get("request_location", False)),
        )


def _button_rows(value: Any, parse: Callable[[Any], B | None]) -> list[list[B]]:
    """Rows of buttons, skipping what is not a row or a button (a tolerant reader)."""
    if not isinstance(value, list):
        return []
    rows = [[parse(b) for b in row] for row in value if isinstance(row, list)]
    return [[b for b in row if b is not None] for row in rows]


def _inline_button(value: Any) -> InlineButton | None:
    return InlineButton.from_dict(value) if isinstance(value, Mapping) else None


def _keyboard_button(value: Any) -> KeyboardButton | None:
    return KeyboardButton.from_dict(value) if isinstance(value, Mapping | str) else None


@dataclass(slots=True)
class ReplyMarkup:
    """What a bot attached to a message, in the Bot API's terms; one of:

    - `inline_keyboard`: rows of buttons under the message;
    - `keyboard`: rows of buttons replacing the phone keyboard, with `resize_keyboard`,
      `one_time_keyboard` (hide after a press), `is_persistent` and
      `input_field_placeholder`;
    - `remove_keyboard`: hide the bot's reply keyboard;
    - `force_reply`: open a reply to this message, with `input_field_placeholder`.

    `selective`: meant for the users the message mentions or replies to. `raw` holds the
    markup as received."""

    inline_keyboard: list[list[InlineButton]] = field(default_factory=list)
    keyboard: list[list[KeyboardButton]] = field(default_factory=list)
    remove_keyboard: bool = False
    force_reply: bool = False
    input_field_placeholder: str | None = None
    resize_keyboard: bool = False
    one_time_keyboard: bool = False
    is_persistent: bool = False
    selective: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            inline_keyboard=_button_rows(d.get("inline_keyboard"), _inline_button),
            keyboard=_button_rows(d.get("keyboard"), _keyboard_button),
            remove_keyboard=d.get("remove_keyboard") is True,
            force_reply=d.get("force_reply") is True,
            input_field_placeholder=d.get("input_field_placeholder"),
            resize_keyboard=d.get("resize_keyboard") is True,
            one_time_keyboard=d.get("one_time_keyboard") is True,
            is_persistent=d.get("is_persistent") is True,
            selective=d.get("selective") is True,
            raw=dict(d),
        )

    def buttons(self) -> Iterator[InlineButton]:
        """The inline buttons, row by row."""
        for row in self.inline_keyboard:
            yield from row


@dataclass(slots=True)
class Message:
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
    # Set on service messages (joins, title changes, pins): what happened, with its `type`.
    service: dict[str, Any] | None = None
    # Posts made as the chat (channels, anonymous administrators) have no sender_id.
    sender_chat_id: int | None = None
    signature: str | None = None
    views: int | None = None
    reply_count: int = 0
    # A channel post with a linked discussion group: where its comments live.
    discussion: Discussion | None = None
    # A photo, document, ...; `text` is then its caption.
    media: Media | None = None
    grouped_id: int | None = None  # messages of one album share it
    link_preview: LinkPreview | None = None
    # A bot's keyboard or keyboard request (see ReplyMarkup).
    reply_markup: ReplyMarkup | None = None
    # Sent by a user through a bot in inline mode: the bot.
    via_bot_id: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        origin = d.get("forward_origin")
        service = d.get("service")
        discussion = d.get("discussion")
        media = d.get("media")
        preview = d.get("link_preview")
        markup = d.get("reply_markup")
        if isinstance(service, str):  # older servers name the kind only
            service = {"type": service}
        return cls(
            id=d["id"],
            chat_id=d["chat_id"],
            sender_id=d.get("sender_id"),
            date=d.get("date", 0),
            text=d.get("text", ""),
            entities=_entities(d.get("entities")),
            reply_to_message_id=d.get("reply_to_message_id"),
            forward_origin=ForwardOrigin.from_dict(origin) if origin else None,
            edit_date=d.get("edit_date"),
            pinned=bool(d.get("pinned", False)),
            reactions=[Reaction.from_dict(r) for r in d.get("reactions") or []],
            service=service if isinstance(service, dict) else None,
            sender_chat_id=d.get("sender_chat_id"),
            signature=d.get("signature"),
            views=d.get("views"),
            reply_count=d.get("reply_count", 0),
            discussion=Discussion.from_dict(discussion) if discussion else None,
            media=Media.from_dict(media) if media else None,
            grouped_id=_opt_int(d.get("grouped_id")),
            link_preview=LinkPreview.from_dict(preview) if preview else None,
            reply_markup=ReplyMarkup.from_dict(markup) if isinstance(markup, Mapping) else None,
            via_bot_id=_opt_int(d.get("via_bot_id")),
        )

    def buttons(self) -> Iterator[InlineButton]:
        """The buttons of the bot's inline keyboard under this message, row by row."""
        if self.reply_markup is not None:
            yield from self.reply_markup.buttons()

    def button(self, text_or_data: str) -> InlineButton | None:
        """The inline button with this label, else the one carrying this callback data."""
        buttons = list(self.buttons())
        for button in buttons:
            if button.text == text_or_data:
                return button
        for button in buttons:
            if button.callback_data == text_or_data:
                return button
        return None


@dataclass(slots=True)
class User:
    """Another user as you see them; `online` and `last_seen` are None where hidden."""

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

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            id=d["id"],
            username=d.get("username"),
            display_name=d.get("display_name", ""),
            bio=d.get("bio") or "",
            is_contact=bool(d.get("is_contact", False)),
            online=d.get("online"),
            last_seen=d.get("last_seen"),
            deleted=bool(d.get("deleted", False)),
            photo=_profile_photo(d.get("photo")),
            is_bot=bool(d.get("is_bot", False)),
        )


@dataclass(slots=True)
class PrivacySettings:
    last_seen: str = "everybody"  # everybody, contacts, nobody
    private_chats: str = "everybody"  # everybody, contacts

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            last_seen=d.get("last_seen", "everybody"),
            private_chats=d.get("private_chats", "everybody"),
        )


@dataclass(slots=True)
class Account:
    """The signed-in user's own profile and settings."""

    id: int
    username: str | None
    display_name: str
    bio: str = ""
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    created_at: int = 0
    photo: ProfilePhoto | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            id=d["id"],
            username=d.get("username"),
            display_name=d.get("display_name", ""),
            bio=d.get("bio") or "",
            privacy=PrivacySettings.from_dict(d.get("privacy") or {}),
            created_at=d.get("created_at", 0),
            photo=_profile_photo(d.get("photo")),
        )


@dataclass(slots=True)
class Session:
    """One signed-in device of the account."""

    id: int
    device_name: str
    client: str
    ip: str
    created_at: int
    last_active_at: int
    current: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            id=d["id"],
            device_name=d.get("device_name", ""),
            client=d.get("client", ""),
            ip=d.get("ip", ""),
            created_at=d.get("created_at", 0),
            last_active_at=d.get("last_active_at", 0),
            current=bool(d.get("current", False)),
        )


@dataclass(slots=True)
class Draft:
    text: str
    entities: list[MessageEntity] = field(default_factory=list)
    reply_to_message_id: int | None = None
    date: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            text=d.get("text", ""),
            entities=_entities(d.get("entities")),
            reply_to_message_id=d.get("reply_to_message_id"),
            date=d.get("date", 0),
        )


@dataclass(slots=True)
class Chat:
    """A chat as it appears in your chat list."""

    id: int
    kind: str  # private, group, channel
    title: str
    peer_user_id: int | None = None
    unread_count: int = 0
    read_inbox_max_id: int = 0
    read_outbox_max_id: int = 0
    last_message: Message | None = None
    last_activity: int = 0
    pinned_message_ids: list[int] = field(default_factory=list)
    draft: Draft | None = None
    about: str = ""
    username: str | None = None
    member_count: int = 0
    role: str = "member"  # owner, admin, member, restricted, banned, left
    # Large chats (channels, big groups) have an update box of their own, at this pts.
    pts: int | None = None
    unread_mentions_count: int = 0
    slow_mode_seconds: int = 0  # groups: seconds between a member's messages
    linked_chat_id: int | None = None  # a channel's discussion group, or a group's channel
    signatures: bool = False  # channels: posts carry their author's name
    photo: ProfilePhoto | None = None
    pinned: bool = False  # pinned to the top of your list (get_pinned_chats gives the order)
    archived: bool = False  # in your archive
    # What you may do here now (your role, the chat's defaults and any restriction of yours
    # together); in a channel the send_* rights say whether you may post. None from a server
    # too old to say.
    my_rights: MemberRights | None = None
    restricted_until: int = 0  # restricted: when it ends (0: until lifted, or not restricted)

    @property
    def can_send(self) -> bool:
        """Whether you may send messages here (unknown rights: assume so)."""
        return self.my_rights is None or self.my_rights.send_messages

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        last = d.get("last_message")
        draft = d.get("draft")
        rights = d.get("my_rights")
        return cls(
            id=d["id"],
            kind=d.get("kind", "private"),
            title=d.get("title", ""),
            peer_user_id=d.get("peer_user_id"),
            unread_count=d.get("unread_count", 0),
            read_inbox_max_id=d.get("read_inbox_max_id", 0),
            read_outbox_max_id=d.get("read_outbox_max_id", 0),
            last_message=Message.from_dict(last) if last else None,
            last_activity=d.get("last_activity", 0),
            pinned_message_ids=_ints(d.get("pinned_message_ids")),
            draft=Draft.from_dict(draft) if draft else None,
            about=d.get("about") or "",
            username=d.get("username"),
            member_count=d.get("member_count", 0),
            role=d.get("role", "member"),
            pts=d.get("pts"),
            unread_mentions_count=d.get("unread_mentions_count", 0),
            slow_mode_seconds=d.get("slow_mode_seconds", 0),
            linked_chat_id=d.get("linked_chat_id"),
            signatures=bool(d.get("signatures", False)),
            photo=_profile_photo(d.get("photo")),
            pinned=bool(d.get("pinned", False)),
            archived=bool(d.get("archived", False)),
            my_rights=MemberRights.from_dict(rights) if isinstance(rights, Mapping) else None,
            restricted_until=d.get("restricted_until") or 0,
        )


@dataclass(slots=True)
class State:
    """A position in the account's common update box."""

    pts: int
    date: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(pts=d["pts"], date=d.get("date", 0))


@dataclass(slots=True)
class Update:
    """One change from the common box, in `pts` order. Which fields are set depends on `type`:

    - new_message, edit_message: `message` (None when it was deleted since)
    - delete_messages: `message_ids`
    - pinned_messages: `message_ids`, `pinned`
    - message_reactions: `message_id`, `reactions`
    - read_inbox: `max_id`, `unread_count` (you read on another device)
    - read_outbox: `max_id` (the other side read your messages)
    - draft: `draft` (None: cleared)
    - pinned_chats: `chat_ids`, your pinned chats in order (no `chat_id`)
    - chat_archived: `archived`
    - chat_membership: `role` (owner, admin, member, restricted, banned, left), `box_pts`
    - chat_became_large: `box_pts` (the chat's updates come in its own box from now on)
    - chat_info: what changed of a group or channel (`raw`: title, about, linked_chat_id, ...)
    - comment_count: the channel post `message_id` now has `comment_count` comments
    - too_long (made by the SDK): the gap could not be replayed; reload chats and history.

    `box` is None for the account's common box, or the id of the large chat whose own box
    the update belongs to; each box has its own pts sequence.
    `raw` holds the update as received, including fields of kinds this SDK does not know."""

    type: str
    pts: int
    pts_count: int = 1
    chat_id: int | None = None
    box: int | None = None
    message: Message | None = None
    message_id: int | None = None
    message_ids: list[int] = field(default_factory=list)
    pinned: bool | None = None
    reactions: list[Reaction] = field(default_factory=list)
    max_id: int | None = None
    unread_count: int | None = None
    draft: Draft | None = None
    role: str | None = None
    box_pts: int | None = None
    chat_ids: list[int] = field(default_factory=list)
    archived: bool | None = None
    comment_count: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        message = d.get("message")
        draft = d.get("draft")
        return cls(
            type=d.get("type", ""),
            pts=d["pts"],
            pts_count=d.get("pts_count", 1),
            chat_id=d.get("chat_id"),
            box=_opt_int(d.get("box")),
            message=Message.from_dict(message) if message else None,
            message_id=_opt_int(d.get("message_id")),
            message_ids=_ints(d.get("message_ids")),
            pinned=d.get("pinned"),
            reactions=[Reaction.from_dict(r) for r in d.get("reactions") or []],
            max_id=_opt_int(d.get("max_id")),
            unread_count=_opt_int(d.get("unread_count")),
            draft=Draft.from_dict(draft) if draft else None,
            role=d.get("role"),
            box_pts=_opt_int(d.get("box_pts")),
            chat_ids=_ints(d.get("chat_ids")),
            archived=d.get("archived"),
            comment_count=_opt_int(d.get("comment_count")),
            raw=dict(d),
        )


def box_change(update: Update) -> tuple[int, int | None] | None:
    """Whether an update of the common box starts or stops the following of a large chat's
    own box: (chat id, the pts to follow it from), or (chat id, None) to stop. None when the
    update is about something else."""
    if update.box is not None or update.chat_id is None:
        return None
    if update.type == CHAT_MEMBERSHIP and update.role in ("left", "banned"):
        return update.chat_id, None
    if update.type in (CHAT_MEMBERSHIP, CHAT_BECAME_LARGE) and update.box_pts is not None:
        return update.chat_id, update.box_pts
    return None


@dataclass(slots=True)
class Event:
    """An ephemeral event: not sequenced, not replayed after a disconnect.

    - typing: `chat_id`, `user_id`, `action` ("typing", "cancel", ...)
    - user_status: `user_id`, `online`, `last_seen`"""

    type: str
    chat_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    online: bool | None = None
    last_seen: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            type=d.get("type", ""),
            chat_id=d.get("chat_id"),
            user_id=d.get("user_id"),
            action=d.get("action"),
            online=d.get("online"),
            last_seen=d.get("last_seen"),
            raw=dict(d),
        )


@dataclass(slots=True)
class Difference:
    """A page of getDifference: with `more`, ask again from `state.pts`."""

    updates: list[Update]
    state: State
    more: bool = False
    too_long: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            updates=[Update.from_dict(u) for u in d.get("updates") or []],
            state=State.from_dict(d["state"]),
            more=bool(d.get("more", False)),
            too_long=bool(d.get("too_long", False)),
        )


@dataclass(slots=True)
class SentMessage:
    """A stored message; `pts` is None when a retried send had already been stored. `box`
    is the large chat whose own box the pts belongs to (None: the common box)."""

    message: Message
    pts: int | None = None
    pts_count: int = 0
    box: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            message=Message.from_dict(d["message"]),
            pts=d.get("pts"),
            pts_count=d.get("pts_count", 0),
            box=_opt_int(d.get("box")),
        )


@dataclass(slots=True)
class PtsChange:
    """Your new position after a change; `changed` False when nothing needed doing. `box` is
    the large chat whose own box the pts belongs to (None: the common box)."""

    changed: bool = True
    pts: int | None = None
    pts_count: int = 0
    box: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            changed=bool(d.get("changed", True)),
            pts=d.get("pts"),
            pts_count=d.get("pts_count", 0),
            box=_opt_int(d.get("box")),
        )


@dataclass(slots=True)
class Authorization:
    token: str
    session_id: int
    account: Account

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            token=d["token"],
            session_id=d["session_id"],
            account=Account.from_dict(d["account"]),
        )


@dataclass(slots=True)
class LoginCode:
    """Show `code` (or the QR code of `url`) on the new device; keep `secret` on it."""

    code: str
    secret: str
    url: str
    qr_svg: str = field(repr=False)
    expires_at: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            code=d["code"],
            secret=d["secret"],
            url=d.get("url", ""),
            qr_svg=d.get("qr_svg", ""),
            expires_at=d.get("expires_at", 0),
        )


@dataclass(slots=True)
class ApprovedDevice:
    """The device a login code belonged to, now signed in."""

    device_name: str
    client: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(device_name=d.get("device_name", ""), client=d.get("client", ""))


# --- groups and channels -----------------------------------------------------------------


def _flags(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass(slots=True)
class AdminRights:
    """What an administrator may do beyond a member (all false: not an administrator).
    `post_messages` and `edit_messages` are for channels."""

    change_info: bool = False
    delete_messages: bool = False
    ban_users: bool = False
    invite_users: bool = False
    pin_messages: bool = False
    manage_admins: bool = False
    post_anonymously: bool = False
    post_messages: bool = False
    edit_messages: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(**{f.name: bool(d.get(f.name, False)) for f in fields(cls)})

    def to_dict(self) -> dict[str, Any]:
        return _flags(self)


@dataclass(slots=True)
class MemberRights:
    """What a member may do: a chat's defaults, or what a restricted member keeps."""

    send_messages: bool = True
    send_media: bool = True
    send_stickers: bool = True
    send_links: bool = True
    send_polls: bool = True
    invite_users: bool = True
    pin_messages: bool = False
    change_info: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        base = cls()
        return cls(**{f.name: bool(d.get(f.name, getattr(base, f.name))) for f in fields(cls)})

    def to_dict(self) -> dict[str, Any]:
        return _flags(self)


@dataclass(slots=True)
class Member:
    """A member of a group or channel. `admin_rights` is set for administrators,
    `restrictions` (until `restricted_until`, 0: until lifted) for restricted members."""

    user_id: int
    display_name: str
    username: str | None
    role: str  # owner, admin, member, restricted, banned
    joined_at: int = 0
    admin_rights: AdminRights | None = None
    admin_title: str = ""
    restrictions: MemberRights | None = None
    restricted_until: int = 0
    invited_by: int | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        admin = d.get("admin_rights")
        restrictions = d.get("restrictions")
        return cls(
            user_id=d["user_id"],
            display_name=d.get("display_name", ""),
            username=d.get("username"),
            role=d.get("role", "member"),
            joined_at=d.get("joined_at", 0),
            admin_rights=AdminRights.from_dict(admin) if admin is not None else None,
            admin_title=d.get("admin_title") or "",
            restrictions=MemberRights.from_dict(restrictions) if restrictions is not None else None,
            restricted_until=d.get("restricted_until", 0),
            invited_by=d.get("invited_by"),
        )


@dataclass(slots=True)
class AdminLogEntry:
    """One administrative action; `actor_id` None for the system. What `data` holds depends
    on `action`."""

    id: int
    actor_id: int | None
    action: str
    data: dict[str, Any] = field(default_factory=dict)
    date: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        data = d.get("data")
        return cls(
            id=d["id"],
            actor_id=d.get("actor_id"),
            action=d.get("action", ""),
            data=dict(data) if isinstance(data, Mapping) else {},
            date=d.get("date", 0),
        )


@dataclass(slots=True)
class Views:
    """View counts of channel posts, in the order asked."""

    views: list[int] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(views=_ints(d.get("views")))


# --- invite links and discovery ----------------------------------------------------------


@dataclass(slots=True)
class InviteLink:
    """An invite link; share `code`. `expires_at` and `usage_limit` are None when the link
    has none; `is_primary`: the chat's main link. `pending_requests`: join requests through
    it waiting for an answer."""

    code: str
    chat_id: int
    creator_id: int
    title: str = ""
    created_at: int = 0
    expires_at: int | None = None
    usage_limit: int | None = None
    usage_count: int = 0
    requires_approval: bool = False
    revoked: bool = False
    is_primary: bool = False
    pending_requests: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            code=d["code"],
            chat_id=d["chat_id"],
            creator_id=d.get("creator_id", 0),
            title=d.get("title") or "",
            created_at=d.get("created_at", 0),
            expires_at=d.get("expires_at"),
            usage_limit=d.get("usage_limit"),
            usage_count=d.get("usage_count", 0),
            requires_approval=bool(d.get("requires_approval", False)),
            revoked=bool(d.get("revoked", False)),
            is_primary=bool(d.get("is_primary", False)),
            pending_requests=d.get("pending_requests", 0),
        )


@dataclass(slots=True)
class JoinRequest:
    """Someone asking to join, and the code of the link they used."""

    user_id: int
    display_name: str
    username: str | None = None
    date: int = 0
    invite_code: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            user_id=d["user_id"],
            display_name=d.get("display_name", ""),
            username=d.get("username"),
            date=d.get("date", 0),
            invite_code=d.get("invite_code"),
        )


@dataclass(slots=True)
class LinkJoiner:
    """Someone who joined through a link; `role` is their place in the chat now."""

    user_id: int
    display_name: str
    username: str | None = None
    joined_at: int = 0
    role: str = "member"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            user_id=d["user_id"],
            display_name=d.get("display_name", ""),
            username=d.get("username"),
            joined_at=d.get("joined_at", 0),
            role=d.get("role", "member"),
        )


@dataclass(slots=True)
class ChatPreview:
    """A group or channel as someone outside it may see it (never its messages or members),
    from previewInvite, searchPublicChats and resolveChat. `requires_approval`: joining
    through this link sends a request; `request_pending`: you sent one not yet answered."""

    chat_id: int
    kind: str  # group, channel
    title: str
    about: str = ""
    username: str | None = None
    member_count: int = 0
    requires_approval: bool = False
    is_member: bool = False
    request_pending: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            chat_id=d["chat_id"],
            kind=d.get("kind", "group"),
            title=d.get("title", ""),
            about=d.get("about") or "",
            username=d.get("username"),
            member_count=d.get("member_count", 0),
            requires_approval=bool(d.get("requires_approval", False)),
            is_member=bool(d.get("is_member", False)),
            request_pending=bool(d.get("request_pending", False)),
        )


# --- bots --------------------------------------------------------------------------------


@dataclass(slots=True)
class BotCommand:
    """An entry of a bot's command menu: `command` without the slash."""

    command: str
    description: str

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(command=d.get("command", ""), description=d.get("description", ""))

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "description": self.description}


def _commands(value: Any) -> list[BotCommand]:
    return [BotCommand.from_dict(c) for c in value or []]


@dataclass(slots=True)
class Bot:
    """A bot, as its owner manages it. `token` is set only when it was just made (by
    createBot and revokeBotToken): point a Telegram bot library at the server with it.
    `privacy`: in groups the bot sees only commands, replies to it and mentions of it.
    `inline_placeholder` set: the bot answers inline queries."""

    id: int
    username: str
    name: str
    description: str = ""
    about: str = ""
    privacy: bool = True
    inline_placeholder: str | None = None
    commands: list[BotCommand] = field(default_factory=list)
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            id=d["id"],
            username=d.get("username", ""),
            name=d.get("name", ""),
            description=d.get("description") or "",
            about=d.get("about") or "",
            privacy=bool(d.get("privacy", True)),
            inline_placeholder=d.get("inline_placeholder"),
            commands=_commands(d.get("commands")),
            token=d.get("token"),
        )

    @property
    def inline(self) -> bool:
        return self.inline_placeholder is not None


@dataclass(slots=True)
class BotInfo:
    """What a user sees of a bot: its description (shown before a chat starts), about
    text, command menu, and `inline_placeholder` when it answers inline queries."""

    id: int
    username: str
    name: str
    description: str = ""
    about: str = ""
    commands: list[BotCommand] = field(default_factory=list)
    inline_placeholder: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            id=d["id"],
            username=d.get("username", ""),
            name=d.get("name", ""),
            description=d.get("description") or "",
            about=d.get("about") or "",
            commands=_commands(d.get("commands")),
            inline_placeholder=d.get("inline_placeholder"),
        )

    @property
    def inline(self) -> bool:
        return self.inline_placeholder is not None


@dataclass(slots=True)
class CallbackAnswer:
    """A bot's answer to a pressed button: show `text` briefly (with `show_alert`, in a
    dialog), or open `url`; both may be absent (the press was acknowledged). The same
    button's answer may be reused for `cache_time` seconds."""

    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int = 0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            text=d.get("text"),
            show_alert=bool(d.get("show_alert", False)),
            url=d.get("url"),
            cache_time=d.get("cache_time") or 0,
        )


@dataclass(slots=True)
class InlineResult:
    """One of a bot's inline results (a Bot API InlineQueryResult): show `title`,
    `description` and `thumbnail_url`; send it by its `id`. `raw` holds all of it (a photo
    result's `photo_file_id`, the `reply_markup` it is sent with, ...)."""

    type: str
    id: str
    title: str | None = None
    description: str | None = None
    thumbnail_url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            type=d.get("type", ""),
            id=str(d.get("id", "")),
            title=d.get("title"),
            description=d.get("description"),
            thumbnail_url=d.get("thumbnail_url"),
            raw=dict(d),
        )


@dataclass(slots=True)
class InlineResultsButton:
    """Offered above inline results: open the bot's private chat (`Client.start_bot`)
    with `start_parameter`."""

    text: str
    start_parameter: str = ""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(text=d.get("text", ""), start_parameter=d.get("start_parameter") or "")


@dataclass(slots=True)
class InlineResults:
    """A bot's answer to an inline query. Send a result with
    `send_inline_result(chat_id, query_id, result.id)` (within an hour); for more, ask again
    with `next_offset` as the offset (empty: there are no more)."""

    query_id: str
    results: list[InlineResult] = field(default_factory=list)
    next_offset: str = ""
    cache_time: int = 300
    is_personal: bool = False
    button: InlineResultsButton | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        button = d.get("button")
        return cls(
            query_id=str(d["query_id"]),
            results=[InlineResult.from_dict(r) for r in d.get("results") or []],
            next_offset=d.get("next_offset") or "",
            cache_time=d.get("cache_time", 300),
            is_personal=bool(d.get("is_personal", False)),
            button=InlineResultsButton.from_dict(button) if button else None,
        )


# --- sticker sets ------------------------------------------------------------------------


@dataclass(slots=True)
class InputSticker:
    """A sticker to put in a set: an uploaded file and the 1 to 20 emoji it stands for."""

    file_id: str
    emoji: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "emoji": list(self.emoji)}


@dataclass(slots=True)
class SetSticker:
    """A sticker in its set: `sticker` as messages hold it (its `emoji` is the first one)
    and every emoji it stands for."""

    sticker: Sticker
    emoji: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(sticker=Sticker.from_dict(d["sticker"]), emoji=list(d.get("emoji") or []))


@dataclass(slots=True)
class StickerSetInfo:
    """A sticker set in a list (installed, found): `cover` is its first sticker. `version`
    grows with every change: fetch the set again when it differs from your copy.
    `is_creator`: you made it and may change it."""

    id: int
    short_name: str
    title: str
    version: int = 0
    count: int = 0
    install_count: int = 0
    installed: bool = False
    is_creator: bool = False
    cover: Sticker | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        cover = d.get("cover")
        return cls(
            id=d["id"],
            short_name=d.get("short_name", ""),
            title=d.get("title", ""),
            version=d.get("version", 0),
            count=d.get("count", 0),
            install_count=d.get("install_count", 0),
            installed=bool(d.get("installed", False)),
            is_creator=bool(d.get("is_creator", False)),
            cover=Sticker.from_dict(cover) if cover else None,
        )


@dataclass(slots=True)
class StickerSet:
    """A whole sticker set, its stickers in order. Its link is
    `<server>/addstickers/<short_name>`; send a sticker with `send_sticker` and its
    `sticker.file_id`."""

    id: int
    short_name: str
    title: str
    version: int = 0
    install_count: int = 0
    installed: bool = False
    is_creator: bool = False
    stickers: list[SetSticker] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        return cls(
            id=d["id"],
            short_name=d.get("short_name", ""),
            title=d.get("title", ""),
            version=d.get("version", 0),
            install_count=d.get("install_count", 0),
            installed=bool(d.get("installed", False)),
            is_creator=bool(d.get("is_creator", False)),
            stickers=[SetSticker.from_dict(s) for s in d.get("stickers") or []],
        )

    @property
    def file_ids(self) -> list[str]:
        """The stickers' file ids, in the set's order."""
        return [s.sticker.file_id for s in self.stickers]
