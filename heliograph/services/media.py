"""Media messages: an uploaded file becomes a photo, document, voice note, video or sticker
(processed once per file), sent alone or as an album; and profile photos."""

from __future__ import annotations

import asyncio
import base64
import io
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import PIL.Image
from pydantic import TypeAdapter

from heliograph.domain.entities import MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import (
    Document,
    Media,
    MediaType,
    Photo,
    PhotoSize,
    ProfilePhoto,
    Video,
    Voice,
)
from heliograph.domain.permissions import require_member_right
from heliograph.media import images, probe
from heliograph.services import files, groups, messaging, stickers
from heliograph.services.chats import load_access
from heliograph.services.context import App, Caller, Outbox
from heliograph.store import files as file_store
from heliograph.store import messages, users
from heliograph.store.db import Conn, Row

_MEDIA = TypeAdapter(Media)
ALBUM_TYPES = frozenset({MediaType.PHOTO, MediaType.VIDEO})
_PHOTO_BYTES = 20 * 1024 * 1024  # bigger photos are sent as documents
_PROBED_BYTES = 1024**3  # voice notes and videos probed up to this size


@dataclass(frozen=True, slots=True)
class MediaInput:
    """What a client sends: the kind, and an uploaded (or already seen) file's id. A client
    may give a voice note's waveform, used when the server cannot compute one."""

    type: MediaType
    file_id: str
    waveform: list[int] | None = None


@dataclass(frozen=True, slots=True)
class AlbumItem:
    media: MediaInput
    caption: str = ""
    caption_entities: list[MessageEntity] | None = None


async def scratch_file(app: App, data: bytes) -> Path:
    """Write bytes to a private temporary file in the upload directory."""
    path = files.storage(app).upload_dir / f"scratch-{secrets.token_hex(12)}"
    await asyncio.to_thread(_write_private, path, data)
    return path


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("xb") as f:
        f.write(data)


async def store_photo(app: App, owner_id: int | None, processed: images.ProcessedPhoto) -> Photo:
    sizes = []
    for size in processed.sizes:
        info = await files.store_bytes(
            app, owner_id, size.data, f"photo_{size.kind}.jpg", "image/jpeg"
        )
        sizes.append(PhotoSize(size.kind, size.width, size.height, info.size, info.id))
    preview = base64.b64encode(processed.inline_preview).decode()
    return Photo(processed.width, processed.height, sizes, preview)


async def prepare(app: App, caller: Caller, item: MediaInput) -> Media:
    """Turn an input into the media a message holds. Processing is done once per file."""
    if item.type is MediaType.STICKER:
        return Media(
            MediaType.STICKER, sticker=await stickers.sticker_for_sending(app, item.file_id)
        )
    row = await files.readable_file(app, caller, item.file_id)
    async with app.db.read() as conn:
        cached = await file_store.cached_media(conn, item.file_id, item.type.value)
    if cached is not None:
        media = _MEDIA.validate_json(cached)
    else:
        media = await _process(app, caller, item, row)
        async with app.db.transaction() as tx:
            await file_store.cache_media(
                tx, item.file_id, item.type.value, orjson.dumps(media).decode()
            )
    if media.voice is not None and media.voice.waveform is None and item.waveform is not None:
        media.voice.waveform = _check_waveform(app, item.waveform)
    return media


def _check_waveform(app: App, waveform: list[int]) -> list[int]:
    if len(waveform) > app.limits.waveform_samples or any(not 0 <= v <= 31 for v in waveform):
        raise HeliographError(
            ErrorCode.MEDIA_INVALID,
            f"a waveform has at most {app.limits.waveform_samples} values of 0 to 31",
        )
    return waveform


def _dimensions(jpeg: bytes) -> tuple[int, int]:
    with PIL.Image.open(io.BytesIO(jpeg)) as image:  # reads the header only
        return image.size


def _document(row: Row) -> Media:
    return Media(
        MediaType.DOCUMENT,
        document=Document(row["id"], row["name"], row["mime_type"], row["size"]),
    )


async def _process(app: App, caller: Caller, item: MediaInput, row: Row) -> Media:
    if item.type is MediaType.DOCUMENT:
        return _document(row)
    if item.type is MediaType.PHOTO and row["size"] > _PHOTO_BYTES:
        raise HeliographError(
            ErrorCode.PHOTO_INVALID,
            f"photos may be at most {_PHOTO_BYTES // 2**20} MiB; send it as a document",
        )
    if row["size"] > _PROBED_BYTES:
        raise HeliographError(
            ErrorCode.MEDIA_INVALID, "this file is too large for that kind; send it as a document"
        )
    path = await files.local_copy(app, row)
    try:
        if item.type is MediaType.PHOTO:
            processed = await asyncio.to_thread(images.process_photo, path, app.limits)
            return Media(MediaType.PHOTO, photo=await store_photo(app, caller.user_id, processed))
        if item.type is MediaType.VOICE:
            audio = await asyncio.to_thread(probe.probe_voice, path, app.limits)
            voice = Voice(row["id"], audio.mime_type, row["size"], audio.duration, audio.waveform)
            return Media(MediaType.VOICE, voice=voice)
        video = await asyncio.to_thread(probe.probe_video, path, app.limits)
        if video is None:  # no ffmpeg here: it goes as the file it is
            return _document(row)
        thumbnail = None
        if video.thumbnail is not None:
            info = await files.store_bytes(
                app, caller.user_id, video.thumbnail, "thumbnail.jpg", "image/jpeg"
            )
            width, height = _dimensions(video.thumbnail)
            thumbnail = PhotoSize("m", width, height, info.size, info.id)
        return Media(
            MediaType.VIDEO,
            video=Video(
                row["id"],
                row["name"],
                row["mime_type"],
                row["size"],
                video.duration,
                video.width,
                video.height,
                thumbnail,
            ),
        )
    finally:
        await asyncio.to_thread(path.unlink, True)


async def _check_member(app: App, caller: Caller, chat_id: int) -> None:
    """Refuse a chat the caller is not in before any file is processed for it."""
    async with app.db.read() as conn:
        await load_access(conn, caller, chat_id)


async def send_media(
    app: App,
    caller: Caller,
    chat_id: int,
    item: MediaInput,
    caption: str = "",
    caption_entities: list[MessageEntity] | None = None,
    reply_to_message_id: int | None = None,
    random_id: int | None = None,
    anonymous: bool = False,
    reply_markup: dict[str, Any] | None = None,
) -> messaging.Sent:
    if item.type is MediaType.STICKER and caption:
        raise HeliographError(ErrorCode.MEDIA_INVALID, "a sticker has no caption")
    messaging.check_caption(app, caption, caption_entities or [])
    await _check_member(app, caller, chat_id)
    media = await prepare(app, caller, item)
    return await messaging.send_message(
        app,
        caller,
        chat_id,
        caption,
        caption_entities,
        reply_to_message_id,
        random_id,
        anonymous,
        media=media,
        reply_markup=reply_markup,
    )


async def send_album(
    app: App,
    caller: Caller,
    chat_id: int,
    items: list[AlbumItem],
    reply_to_message_id: int | None = None,
    random_id: int | None = None,
    anonymous: bool = False,
) -> list[messaging.Sent]:
    """Send 2 to 10 photos and videos as one group of messages, atomically."""
    if not 2 <= len(items) <= app.limits.album_max:
        raise HeliographError(
            ErrorCode.ALBUM_INVALID, f"an album has 2 to {app.limits.album_max} items"
        )
    if any(i.media.type not in ALBUM_TYPES for i in items):
        raise HeliographError(ErrorCode.ALBUM_INVALID, "an album holds photos and videos")
    captions = [messaging.check_caption(app, i.caption, i.caption_entities or []) for i in items]
    await _check_member(app, caller, chat_id)
    prepared = [await prepare(app, caller, i.media) for i in items]
    grouped_id = secrets.randbits(62) + 1
    outbox = Outbox()
    sent: list[messaging.Sent] = []
    async with app.db.transaction() as tx:
        if random_id is not None:
            earlier = await messages.by_random_id(tx, caller.user_id, random_id)
            if earlier is not None:
                return await _album_again(tx, caller, *earlier)
        access = await load_access(tx, caller, chat_id)
        await messaging.check_sendable(
            app,
            tx,
            caller,
            access,
            [e for c in captions for e in c],
            prepared[0],
            anonymous,
            reply_to_message_id,
        )
        for index, (item, media, entities) in enumerate(
            zip(items, prepared, captions, strict=True)
        ):
            sent.append(
                await messaging.store_message(
                    app,
                    tx,
                    outbox,
                    caller,
                    access,
                    item.caption,
                    entities,
                    reply_to=reply_to_message_id,
                    random_id=random_id if index == 0 else None,
                    anonymous=anonymous,
                    media=media,
                    grouped_id=grouped_id,
                )
            )
    outbox.publish(app.bus)
    return sent


async def _album_again(
    tx: Conn, caller: Caller, chat_id: int, first_id: int
) -> list[messaging.Sent]:
    first = await messaging.visible_message(tx, caller, chat_id, first_id)
    ids = (
        [first_id]
        if first.grouped_id is None
        else await messages.ids_in_group(tx, chat_id, first.grouped_id)
    )
    rows = await messages.get_rows(tx, chat_id, ids, caller.user_id)
    return [messaging.Sent(m, None, 0) for m in await messages.hydrate(tx, chat_id, rows)]


# --- profile photos -------------------------------------------------------------------------


async def _profile_photo(app: App, caller: Caller, file_id: str) -> ProfilePhoto:
    row = await files.readable_file(app, caller, file_id)
    if row["size"] > _PHOTO_BYTES:
        raise HeliographError(ErrorCode.PHOTO_INVALID, "the photo is too large")
    path = await files.local_copy(app, row)
    try:
        small, big = await asyncio.to_thread(_squares, path)
    finally:
        await asyncio.to_thread(path.unlink, True)
    small_info = await files.store_bytes(
        app, caller.user_id, small, "small.jpg", "image/jpeg", public=True
    )
    big_info = await files.store_bytes(
        app, caller.user_id, big, "big.jpg", "image/jpeg", public=True
    )
    return ProfilePhoto(small_info.id, big_info.id, app.now())


def _squares(path: Path) -> tuple[bytes, bytes]:
    return images.resize_square_jpeg(path, 160), images.resize_square_jpeg(path, 640)


async def set_profile_photo(app: App, caller: Caller, file_id: str | None) -> ProfilePhoto | None:
    """Set (or with None, remove) the caller's photo; their contacts and chats see it."""
    photo = None if file_id is None else await _profile_photo(app, caller, file_id)
    async with app.db.transaction() as tx:
        await users.update_fields(
            tx, caller.user_id, photo=None if photo is None else orjson.dumps(photo).decode()
        )
    return photo


async def set_chat_photo(app: App, caller: Caller, chat_id: int, file_id: str | None) -> None:
    """Set or remove a group's or channel's photo."""
    async with app.db.read() as conn:
        access = await groups.group_access(conn, caller, chat_id)
    require_member_right(access.standing, "change_info", app.now())
    photo = None if file_id is None else await _profile_photo(app, caller, file_id)
    await groups.set_photo(app, caller, chat_id, photo)
