"""Media as clients see it: what a message, a profile or a sticker pack holds. Every file is
named by an id that cannot be guessed; its bytes come from `GET /api/files/<id>`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import orjson


class MediaType(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"
    VIDEO = "video"
    STICKER = "sticker"


@dataclass(slots=True)
class FileInfo:
    """A stored file: what `finishUpload` returns."""

    id: str
    size: int
    name: str
    mime_type: str
    sha256: str


@dataclass(slots=True)
class PhotoSize:
    """One rendition of a photo: `s` thumbnail (90 px), `m` 320, `x` 800, `y` 1280 px."""

    kind: str
    width: int
    height: int
    size: int
    file_id: str


@dataclass(slots=True)
class Photo:
    """A photo, without its metadata. `inline_preview` is a tiny JPEG (base64) to show,
    blurred, before the first size arrives."""

    width: int
    height: int
    sizes: list[PhotoSize]
    inline_preview: str = ""


@dataclass(slots=True)
class Document:
    file_id: str
    name: str
    mime_type: str
    size: int


@dataclass(slots=True)
class Voice:
    """An OGG/Opus voice note. `waveform`: 100 peaks of 0–31, when known."""

    file_id: str
    mime_type: str
    size: int
    duration: float
    waveform: list[int] | None = None


@dataclass(slots=True)
class Video:
    file_id: str
    name: str
    mime_type: str
    size: int
    duration: float
    width: int
    height: int
    thumbnail: PhotoSize | None = None


@dataclass(slots=True)
class Sticker:
    """A sticker of a pack. `format`: `static` (PNG/WebP) or `video` (WebM)."""

    file_id: str
    set_id: int
    set_name: str
    emoji: str
    format: str
    mime_type: str
    width: int
    height: int
    size: int


@dataclass(slots=True)
class Media:
    """What a media message holds: `type` names the one field that is set."""

    type: MediaType
    photo: Photo | None = None
    document: Document | None = None
    voice: Voice | None = None
    video: Video | None = None
    sticker: Sticker | None = None


@dataclass(slots=True)
class LinkPreview:
    """A preview of the first link of a message, fetched by the server."""

    url: str
    site_name: str | None = None
    title: str | None = None
    description: str | None = None
    photo: Photo | None = None


@dataclass(slots=True)
class ProfilePhoto:
    """A user's or chat's photo: a small (160 px) and a big (640 px) square."""

    small_file_id: str
    big_file_id: str
    date: int = 0

    @classmethod
    def from_json(cls, value: str | None) -> ProfilePhoto | None:
        return None if value is None else cls(**orjson.loads(value))


def file_ids(media: Media | None = None, preview: LinkPreview | None = None) -> list[str]:
    """Every file a message's media and preview refer to: who sees the message may fetch them."""
    found: list[str] = []
    photos = []
    if media is not None:
        photos.append(media.photo)
        for item in (media.document, media.voice, media.sticker):
            if item is not None:
                found.append(item.file_id)
        if media.video is not None:
            found.append(media.video.file_id)
            if media.video.thumbnail is not None:
                found.append(media.video.thumbnail.file_id)
    if preview is not None:
        photos.append(preview.photo)
    for photo in photos:
        if photo is not None:
            found.extend(size.file_id for size in photo.sizes)
    return found


@dataclass(slots=True)
class Upload:
    """An upload in progress. Send each part `0 … parts-1` with `PUT /api/upload/<id>/<part>`;
    every part is `part_size` bytes but the last. `received` lists the parts that arrived, so
    a client resumes by sending the others; `file` is set once the upload is finished."""

    upload_id: str
    size: int
    part_size: int
    parts: int
    received: list[int]
    expires_at: int
    file: FileInfo | None = None
