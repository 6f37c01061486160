"""Sending photos, documents, audio, videos, voice notes, animations, stickers and albums;
replacing a message's media; and getFile, for downloading what bots receive.

A file parameter is a file_id (of a file the bot can see: its own, or one a message it can
see holds), a file uploaded in the multipart request (under the parameter's own name, or
anywhere with "attach://<name>"), or an HTTP URL, which is refused: the server fetches no
arbitrary URLs for bots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import Field

from heliograph.botapi import objects
from heliograph.botapi.chats import resolve_chat
from heliograph.botapi.errors import bad_request
from heliograph.botapi.methods import BotContext, BotParams, bot_method
from heliograph.botapi.methods.messages import (
    EDIT_DIFFERENCES,
    SEND_DIFFERENCES,
    EditTarget,
    InEntity,
    LaxModel,
    SendOptions,
    check_member,
    edit_markup,
    edit_target,
    formatted,
    markup_of,
    reply_target,
    to_bot_message,
    to_bot_messages,
)
from heliograph.domain.media import MediaType
from heliograph.services import bot_edits, files
from heliograph.services import media as media_service
from heliograph.services.file_import import store_local_file

MEDIA_DIFFERENCES = (
    SEND_DIFFERENCES
    + ' Files are given by file_id or uploaded; HTTP URLs are refused ("wrong file '
    'identifier/HTTP URL specified"). `thumbnail`, `has_spoiler`, '
    "`show_caption_above_media` and the size and duration hints are ignored: the server "
    "reads the file itself."
)
_URL_REFUSED = "wrong file identifier/HTTP URL specified"
_ATTACH = "attach://"


@dataclass(slots=True)
class Files:
    """A request's files: what each parameter names, stored once however often named."""

    ctx: BotContext
    stored: dict[str, str] = field(default_factory=dict)

    async def file_id(self, name: str, value: str | None) -> tuple[str, bool]:
        """The file_id for parameter `name` given as `value`, and whether it was uploaded
        in this request."""
        if value and value.startswith(_ATTACH):
            return await self._uploaded(value[len(_ATTACH) :]), True
        if value:
            if "://" in value:
                raise bad_request(_URL_REFUSED)
            return value, False
        if name in self.ctx.files:
            return await self._uploaded(name), True
        raise bad_request(f"there is no {name} in the request")

    async def _uploaded(self, part: str) -> str:
        found = self.stored.get(part)
        if found is not None:
            return found
        upload = self.ctx.files.get(part)
        if upload is None:
            raise bad_request(f'can\'t find attached file "{part}"')
        info = await store_local_file(self.ctx.app, self.ctx.bot_id, upload.path, upload.filename)
        self.stored[part] = info.id
        return info.id

    async def mime_of(self, file_id: str) -> str:
        row = await files.readable_file(self.ctx.app, self.ctx.bot, file_id)
        return str(row["mime_type"])


# Bot API media kinds: how each is sent here
Kind = Literal["photo", "document", "audio", "video", "animation", "voice", "video_note"]


async def media_input(
    request_files: Files, name: str, value: str | None, kind: Kind | Literal["sticker"]
) -> media_service.MediaInput:
    file_id, uploaded = await request_files.file_id(name, value)
    if kind == "sticker":
        if uploaded:
            raise bad_request("stickers are sent by the file_id of a sticker of a sticker set")
        return media_service.MediaInput(MediaType.STICKER, file_id)
    if kind == "photo":
        return media_service.MediaInput(MediaType.PHOTO, file_id)
    if kind in ("video", "video_note"):
        return media_service.MediaInput(MediaType.VIDEO, file_id)
    if kind in ("document", "audio"):
        return media_service.MediaInput(MediaType.DOCUMENT, file_id)
    mime = await request_files.mime_of(file_id)
    if kind == "voice" and mime == "audio/ogg":
        return media_service.MediaInput(MediaType.VOICE, file_id)
    if kind == "animation" and mime.startswith("video/"):
        return media_service.MediaInput(MediaType.VIDEO, file_id)
    # MP3 or M4A voice, GIF animations: sent as the files they are
    return media_service.MediaInput(MediaType.DOCUMENT, file_id)


class SendMedia(SendOptions):
    caption: str | None = None
    parse_mode: str | None = None
    caption_entities: list[InEntity] | None = None
    # accepted and ignored: the server reads the file itself
    thumbnail: str | None = None
    has_spoiler: bool = False
    show_caption_above_media: bool = False
    duration: int | None = None
    width: int | None = None
    height: int | None = None


async def _send(
    ctx: BotContext, p: SendMedia, name: str, value: str | None, kind: Kind | Literal["sticker"]
) -> dict[str, Any]:
    chat_id = await resolve_chat(ctx, p.chat_id)
    caption, entities = formatted(p.caption or "", p.parse_mode, p.caption_entities)
    markup = markup_of(p)
    reply_to = await reply_target(ctx, chat_id, p)
    await check_member(ctx, chat_id)
    item = await media_input(Files(ctx), name, value, kind)
    sent = await media_service.send_media(
        ctx.app, ctx.bot, chat_id, item, caption, entities, reply_to, reply_markup=markup
    )
    return await to_bot_message(ctx, sent.message)


class SendPhoto(SendMedia):
    photo: str | None = None


@bot_method("sendPhoto", SendPhoto, differences=MEDIA_DIFFERENCES)
async def send_photo(ctx: BotContext, p: SendPhoto) -> dict[str, Any]:
    """Send a photo: stored in several sizes, its metadata removed. The sent Message."""
    return await _send(ctx, p, "photo", p.photo, "photo")


class SendDocument(SendMedia):
    document: str | None = None
    disable_content_type_detection: bool = False


@bot_method("sendDocument", SendDocument, differences=MEDIA_DIFFERENCES)
async def send_document(ctx: BotContext, p: SendDocument) -> dict[str, Any]:
    """Send a file as it is. The sent Message."""
    return await _send(ctx, p, "document", p.document, "document")


class SendAudio(SendMedia):
    audio: str | None = None
    performer: str | None = None
    title: str | None = None


@bot_method(
    "sendAudio",
    SendAudio,
    differences=MEDIA_DIFFERENCES
    + " Music is sent as a document of its audio type: the Message has `document`, not "
    "`audio`; `performer` and `title` are ignored.",
)
async def send_audio(ctx: BotContext, p: SendAudio) -> dict[str, Any]:
    """Send a music file. The sent Message."""
    return await _send(ctx, p, "audio", p.audio, "audio")


class SendVideo(SendMedia):
    video: str | None = None
    supports_streaming: bool = False
    cover: str | None = None
    start_timestamp: int | None = None


@bot_method(
    "sendVideo",
    SendVideo,
    differences=MEDIA_DIFFERENCES
    + " On a server without ffmpeg a video is sent as a document. `cover` and "
    "`start_timestamp` are ignored.",
)
async def send_video(ctx: BotContext, p: SendVideo) -> dict[str, Any]:
    """Send a video; its duration, size and thumbnail are read from it. The sent Message."""
    return await _send(ctx, p, "video", p.video, "video")


class SendAnimation(SendMedia):
    animation: str | None = None


@bot_method(
    "sendAnimation",
    SendAnimation,
    differences=MEDIA_DIFFERENCES
    + " An animation is sent as a video (MP4, WebM) or, for a GIF, as a document: the "
    "Message has `video` or `document`, not `animation`.",
)
async def send_animation(ctx: BotContext, p: SendAnimation) -> dict[str, Any]:
    """Send a silent looping clip or GIF. The sent Message."""
    return await _send(ctx, p, "animation", p.animation, "animation")


class SendVoice(SendMedia):
    voice: str | None = None


@bot_method(
    "sendVoice",
    SendVoice,
    differences=MEDIA_DIFFERENCES
    + " A voice note must be OGG/Opus; other audio (MP3, M4A) is sent as a document.",
)
async def send_voice(ctx: BotContext, p: SendVoice) -> dict[str, Any]:
    """Send a voice note; its duration and waveform are read from it. The sent Message."""
    return await _send(ctx, p, "voice", p.voice, "voice")


class SendVideoNote(SendMedia):
    video_note: str | None = None
    length: int | None = None


@bot_method(
    "sendVideoNote",
    SendVideoNote,
    differences=MEDIA_DIFFERENCES
    + " There are no round video notes here: it is sent as a video (`video`, not "
    "`video_note`, in the Message).",
)
async def send_video_note(ctx: BotContext, p: SendVideoNote) -> dict[str, Any]:
    """Send a short video message. The sent Message."""
    return await _send(ctx, p, "video_note", p.video_note, "video_note")


class SendSticker(SendMedia):
    sticker: str | None = None
    emoji: str | None = None


@bot_method(
    "sendSticker",
    SendSticker,
    differences=SEND_DIFFERENCES
    + " A sticker is given by the file_id of a sticker of a sticker set; uploading a file "
    "or giving a URL is refused. `emoji` is ignored.",
)
async def send_sticker(ctx: BotContext, p: SendSticker) -> dict[str, Any]:
    """Send a sticker. The sent Message."""
    if p.caption:
        raise bad_request("a sticker has no caption")
    return await _send(ctx, p, "sticker", p.sticker, "sticker")


# --- albums -----------------------------------------------------------------------------------


class InputMedia(LaxModel):
    type: Kind
    media: str
    caption: str | None = None
    parse_mode: str | None = None
    caption_entities: list[InEntity] | None = None


class SendMediaGroup(SendOptions):
    media: Annotated[list[InputMedia], Field(min_length=2, max_length=10)]


_ALBUM_KINDS = frozenset({"photo", "video"})


@bot_method(
    "sendMediaGroup",
    SendMediaGroup,
    differences=SEND_DIFFERENCES
    + " Albums hold photos and videos. A group of documents or audio files is sent as "
    "separate messages, one by one, not as an album.",
)
async def send_media_group(ctx: BotContext, p: SendMediaGroup) -> list[dict[str, Any]]:
    """Send 2 to 10 photos and videos as one album, all or none. The sent Messages."""
    chat_id = await resolve_chat(ctx, p.chat_id)
    reply_to = await reply_target(ctx, chat_id, p)
    await check_member(ctx, chat_id)
    request_files = Files(ctx)
    album = {i.type for i in p.media} <= _ALBUM_KINDS
    if not album and {i.type for i in p.media} & _ALBUM_KINDS:
        raise bad_request("documents and audio files can't be mixed with other media types")
    items = []
    for index, entry in enumerate(p.media):
        caption, entities = formatted(entry.caption or "", entry.parse_mode, entry.caption_entities)
        item = await media_input(request_files, f"media.{index}", entry.media, entry.type)
        items.append(media_service.AlbumItem(item, caption, entities))
    if album:
        sent = await media_service.send_album(ctx.app, ctx.bot, chat_id, items, reply_to)
    else:
        sent = [
            await media_service.send_media(
                ctx.app, ctx.bot, chat_id, i.media, i.caption, i.caption_entities, reply_to
            )
            for i in items
        ]
    return await to_bot_messages(ctx, [s.message for s in sent])


# --- editing media ----------------------------------------------------------------------------


class EditMessageMedia(EditTarget):
    media: InputMedia


@bot_method(
    "editMessageMedia",
    EditMessageMedia,
    differences=EDIT_DIFFERENCES
    + " The new media is given by file_id or uploaded; HTTP URLs are refused.",
)
async def edit_message_media(ctx: BotContext, p: EditMessageMedia) -> dict[str, Any]:
    """Replace the media of a message the bot sent, with its caption (none given: no
    caption) and inline keyboard. In an album, photos and videos only. The edited Message."""
    chat_id, message_id = await edit_target(ctx, p)
    markup = edit_markup(p)
    entry = p.media
    caption, entities = formatted(entry.caption or "", entry.parse_mode, entry.caption_entities)
    item = await media_input(Files(ctx), "media", entry.media, entry.type)
    prepared = await media_service.prepare(ctx.app, ctx.bot, item)
    edited = await bot_edits.edit_bot_message(
        ctx.app,
        ctx.bot,
        chat_id,
        message_id,
        "media",
        text=caption,
        entities=entities,
        media=prepared,
        reply_markup=markup,
    )
    return await to_bot_message(ctx, edited)


# --- downloads --------------------------------------------------------------------------------


class GetFile(BotParams):
    file_id: str


def _folder(mime_type: str) -> str:
    """Telegram's kind of folder in a file_path; the last segment is the file_id."""
    if mime_type == "audio/ogg":
        return "voice"
    for prefix, folder in (("image/", "photos"), ("video/", "videos"), ("audio/", "music")):
        if mime_type.startswith(prefix):
            return folder
    return "documents"


@bot_method(
    "getFile",
    GetFile,
    differences="Files of any size may be downloaded (Telegram's 20 MB limit does not "
    "apply), and a file_path does not expire.",
)
async def get_file(ctx: BotContext, p: GetFile) -> dict[str, Any]:
    """A File: download its bytes from `/file/bot<token>/<file_path>`."""
    row = await files.readable_file(ctx.app, ctx.bot, p.file_id)
    return {
        "file_id": row["id"],
        "file_unique_id": objects.file_unique_id(row["id"]),
        "file_size": row["size"],
        "file_path": f"{_folder(row['mime_type'])}/{row['id']}",
    }
