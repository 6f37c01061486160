"""Files and media: uploads, media messages, albums and profile photos."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from heliograph.domain.media import FileInfo, MediaType, ProfilePhoto, Upload
from heliograph.gateway.methods import Context, Params, method
from heliograph.gateway.methods.account import Ok
from heliograph.gateway.methods.chats import Entities, Id, SentMessage, _sent
from heliograph.services import files, media

FileId = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Caption = Annotated[str, Field(max_length=16384)]
RandomId = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class StartUpload(Params):
    size: Annotated[int, Field(ge=1)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")]
    name: Annotated[str, Field(max_length=1024)] = ""


@method("startUpload", StartUpload, Upload, group="Files")
async def start_upload(ctx: Context, p: StartUpload) -> Upload:
    """Begin uploading a file of `size` bytes whose SHA-256 is `sha256`.

    Then send its parts with `PUT /api/upload/<upload_id>/<part>` (the raw bytes, in any
    order, several at once if you like; a part sent again replaces itself), and call
    `finishUpload`. Starting again with the same size and SHA-256 resumes your unfinished
    upload: `received` lists the parts the server already has. Uploads not finished within
    a day are removed. Files may be up to 2 GiB (the server's `file_size` limit)."""
    return await files.start_upload(ctx.app, ctx.user, p.size, p.sha256, p.name)


class UploadRef(Params):
    upload_id: FileId


@method("getUpload", UploadRef, Upload, group="Files")
async def get_upload(ctx: Context, p: UploadRef) -> Upload:
    """The state of one of your uploads: which parts have arrived."""
    return await files.get_upload(ctx.app, ctx.user, p.upload_id)


@method("finishUpload", UploadRef, FileInfo, group="Files")
async def finish_upload(ctx: Context, p: UploadRef) -> FileInfo:
    """Check the whole file against its SHA-256 and store it; returns the file.

    Fails with `UPLOAD_INCOMPLETE` (listing the `missing` parts) or
    `FILE_CHECKSUM_MISMATCH` (send the parts again). Finishing twice returns the same file.
    The file can then be sent with `sendMedia` or set as a photo."""
    return await files.finish_upload(ctx.app, ctx.user, p.upload_id)


class FileRef(Params):
    file_id: FileId


@method("getFile", FileRef, FileInfo, group="Files")
async def get_file(ctx: Context, p: FileRef) -> FileInfo:
    """A file's name, size, type and SHA-256, if you may see it.

    Its bytes come from `GET /api/files/<file_id>` (with `Authorization`), which supports
    `Range`, `If-None-Match` and `If-Range`. You may fetch a file you uploaded, a file held
    by a message you can see, and profile photos and stickers."""
    row = await files.readable_file(ctx.app, ctx.user, p.file_id)
    return files.to_file_info(row)


class InputMedia(Params):
    type: MediaType
    file_id: FileId
    # a voice note's waveform (up to 100 values 0–31), used if the server computes none
    waveform: Annotated[list[Annotated[int, Field(ge=0, le=31)]], Field(max_length=100)] | None = (
        None
    )

    def to_input(self) -> media.MediaInput:
        return media.MediaInput(self.type, self.file_id, list(self.waveform or []) or None)


class SendMedia(Params):
    chat_id: Id
    media: InputMedia
    caption: Caption = ""
    caption_entities: Entities | None = None
    reply_to_message_id: Id | None = None
    random_id: RandomId | None = None
    anonymous: bool = False


@method("sendMedia", SendMedia, SentMessage, group="Messages", rate="send")
async def send_media(ctx: Context, p: SendMedia) -> SentMessage:
    """Send a photo, document, voice note, video or sticker, with a caption of up to 1,024
    characters.

    `media.file_id` is a file you uploaded (or one you can see, to send it again); for a
    sticker, the sticker's `file_id`. Photos are checked to be images, their metadata
    (EXIF, GPS) removed, and stored in sizes of 90, 320, 800 and 1280 px with a tiny inline
    preview. Voice notes must be OGG/Opus; the server reads their duration and computes a
    waveform. Videos get their duration, dimensions and a thumbnail; on a server without
    ffmpeg a video is sent as a document. Documents keep their name and detected type."""
    sent = await media.send_media(
        ctx.app,
        ctx.user,
        p.chat_id,
        p.media.to_input(),
        p.caption,
        p.caption_entities,
        p.reply_to_message_id,
        p.random_id,
        p.anonymous,
    )
    return _sent(sent)


class AlbumEntry(Params):
    media: InputMedia
    caption: Caption = ""
    caption_entities: Entities | None = None


class SendAlbum(Params):
    chat_id: Id
    items: Annotated[list[AlbumEntry], Field(min_length=2, max_length=10)]
    reply_to_message_id: Id | None = None
    random_id: RandomId | None = None
    anonymous: bool = False


@method("sendAlbum", SendAlbum, list[SentMessage], group="Messages", rate="send")
async def send_album(ctx: Context, p: SendAlbum) -> list[SentMessage]:
    """Send 2 to 10 photos and videos as one album: messages sharing a `grouped_id`, sent
    all together or not at all."""
    items = [media.AlbumItem(e.media.to_input(), e.caption, e.caption_entities) for e in p.items]
    sent = await media.send_album(
        ctx.app, ctx.user, p.chat_id, items, p.reply_to_message_id, p.random_id, p.anonymous
    )
    return [_sent(s) for s in sent]


class SetProfilePhoto(Params):
    file_id: FileId | None


@method("setProfilePhoto", SetProfilePhoto, ProfilePhoto | None, group="Account")
async def set_profile_photo(ctx: Context, p: SetProfilePhoto) -> ProfilePhoto | None:
    """Set your photo from an uploaded image (cropped to a square, 160 and 640 px), or
    remove it with `file_id` null. Everyone who can see you sees it."""
    return await media.set_profile_photo(ctx.app, ctx.user, p.file_id)


class SetChatPhoto(Params):
    chat_id: Id
    file_id: FileId | None


@method("setChatPhoto", SetChatPhoto, Ok, group="Groups and channels")
async def set_chat_photo(ctx: Context, p: SetChatPhoto) -> Ok:
    """Set or remove a group's or channel's photo (needs the `change_info` right). Members
    get a `chat_info` update with `photo`, and groups a `photo_changed` service message."""
    await media.set_chat_photo(ctx.app, ctx.user, p.chat_id, p.file_id)
    return Ok()
