"""Uploading and downloading files, both resumable, and sending them as media.

Uploads: the file is hashed (in a thread, streamed), `startUpload` is called (it resumes an
unfinished upload of the same size and SHA-256, so a second try after a crash sends only the
parts that never arrived), the missing parts are PUT to `/api/upload/<id>/<part>`, several
at once, each read from disk when its turn comes, and `finishUpload` checks the whole.

Downloads stream `GET /api/files/<id>` into `<dest>.part`; an existing `.part` is continued
with `Range` and `If-Range` (the file's SHA-256 is its ETag), the result is checked against
the SHA-256 and renamed into place."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import aiohttp

from heliograph.sdk.errors import (
    ApiError,
    ConnectionLost,
    FloodWait,
    SessionEnded,
    TransferError,
)
from heliograph.sdk.http import Interrupted, NotDelivered, answer_of, http_put
from heliograph.sdk.live import backoff_delay
from heliograph.sdk.methods import (
    EntitiesArg,
    Methods,
    SetRef,
    emoji_list,
    new_random_id,
    set_ref,
)
from heliograph.sdk.types import (
    AlbumItem,
    FileInfo,
    InputMedia,
    InputSticker,
    MessageEntity,
    ProfilePhoto,
    SentMessage,
    StickerSet,
    Upload,
)

# `progress(done_bytes, total_bytes)`, called as bytes are confirmed (sent or written).
Progress = Callable[[int, int], None]
StrPath = str | os.PathLike[str]
# A sticker for a set: an image or video (a path to upload, or a file uploaded already) and
# its emoji (one, or a list), or an InputSticker of an uploaded file.
StickerArg = InputSticker | tuple[StrPath | FileInfo, str | Sequence[str]]

# Attempts at one part, or at one stretch of a download, before giving up on the network.
ATTEMPTS = 5
_HASH_CHUNK = 1024 * 1024
_WRITE_CHUNK = 1024 * 1024  # downloaded bytes are written (and hashed) this many at once
_READ_CHUNK = 64 * 1024

_PHOTO = frozenset({".jpg", ".jpeg", ".png", ".webp"})
_VOICE = frozenset({".ogg", ".opus", ".oga"})
_VIDEO = frozenset({".mp4", ".webm", ".mov", ".m4v"})


def media_type_for(path: StrPath) -> str:
    """How a file is sent by default, by its extension: photo (JPEG, PNG, WebP), voice
    (OGG/Opus), video (MP4, WebM, MOV), else document."""
    suffix = Path(path).suffix.lower()
    if suffix in _PHOTO:
        return "photo"
    if suffix in _VOICE:
        return "voice"
    if suffix in _VIDEO:
        return "video"
    return "document"


def file_digest(path: Path) -> tuple[int, str]:
    """The size and SHA-256 of a file, read a piece at a time."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _read_part(path: Path, offset: int, length: int) -> bytes:
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise TransferError(f"{path} changed while it was being uploaded; upload it again")
    return data


class _Counter:
    """Bytes done so far, passed on to the caller's progress callback."""

    def __init__(self, callback: Progress | None, total: int, done: int = 0) -> None:
        self.callback = callback
        self.total = total
        self.done = done

    def set(self, done: int) -> None:
        self.done = done
        if self.callback is not None:
            self.callback(done, self.total)

    def add(self, count: int) -> None:
        self.set(self.done + count)


class _PartFile:
    """The `.part` file of a download and the SHA-256 of what it holds; bytes are buffered
    and written (and hashed) in a thread, a megabyte at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest = hashlib.sha256()
        self.have = 0  # bytes on disk
        self._buffer = bytearray()

    @property
    def received(self) -> int:
        return self.have + len(self._buffer)

    def load(self, limit: int) -> None:
        """Take up what an earlier download left (dropped when larger than the file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as f:
            if f.tell() > limit:
                f.truncate(0)
        self.digest, self.have = hashlib.sha256(), 0
        with self.path.open("rb") as f:
            while chunk := f.read(_HASH_CHUNK):
                self.digest.update(chunk)
                self.have += len(chunk)

    async def restart(self) -> None:
        self._buffer.clear()
        await asyncio.to_thread(self.path.write_bytes, b"")
        self.digest, self.have = hashlib.sha256(), 0

    async def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        if len(self._buffer) >= _WRITE_CHUNK:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        data = bytes(self._buffer)
        self._buffer.clear()
        await asyncio.to_thread(self._append, data)

    def _append(self, data: bytes) -> None:
        with self.path.open("ab") as f:
            f.write(data)
        self.digest.update(data)
        self.have += len(data)


def _put_in_place(partial: Path, target: Path) -> None:
    """Make the finished `.part` durable, then rename it over the destination."""
    with partial.open("rb+") as f:
        os.fsync(f.fileno())
    os.replace(partial, target)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _safe_name(name: str, fallback: str) -> str:
    """A file name from the server as a name in a folder: no path, never `.` or `..`."""
    cleaned = name.replace("/", "_").replace("\\", "_").replace("\0", "").strip()
    return fallback if cleaned in ("", ".", "..") else cleaned


def destination(dest: StrPath | None, info: FileInfo) -> Path:
    """Where a download goes: `dest`, or the file's own name in `dest` when it is a folder
    (the current folder when None)."""
    if dest is None:
        return Path.cwd() / _safe_name(info.name, info.id)
    raw = os.fspath(dest)
    path = Path(raw).expanduser()
    if path.is_dir() or raw.endswith((os.sep, "/")):
        return path / _safe_name(info.name, info.id)
    return path


class Transfers(Methods):
    """File transfer over plain HTTP, mixed into Client (which provides the session, the
    token and the handling of an ended session)."""

    base_url: str
    request_timeout: float
    flood_sleep_threshold: float

    def _session(self) -> aiohttp.ClientSession:
        raise NotImplementedError

    def _require_token(self, what: str) -> str:
        raise NotImplementedError

    def _session_ended(self, error: SessionEnded) -> None:
        raise NotImplementedError

    # --- upload -----------------------------------------------------------------------------

    async def upload_file(
        self,
        path: StrPath,
        *,
        name: str | None = None,
        progress: Progress | None = None,
        parallel: int = 4,
    ) -> FileInfo:
        """Upload a file (up to `parallel` parts in flight) and return it, ready to send.

        If an earlier upload of the same file was interrupted (process killed, network
        down), only the parts that did not arrive are sent. `name` is what others see
        (default: the file's name); `progress(done_bytes, total_bytes)` follows it."""
        source = Path(path)
        size, sha256 = await asyncio.to_thread(file_digest, source)
        upload = await self.start_upload(size, sha256, source.name if name is None else name)
        if upload.file is not None:  # these bytes were uploaded already
            _Counter(progress, size).set(size)
            return upload.file
        missing = _missing(upload)
        counter = _Counter(progress, size)
        counter.set(size - sum(upload.part_length(p) for p in missing))
        await self._send_parts(source, upload, missing, counter, parallel)
        try:
            return await self.finish_upload(upload.upload_id)
        except ApiError as e:
            if e.code != "UPLOAD_INCOMPLETE":
                raise
        # The server lacks parts it had confirmed (storage trouble): send them once more.
        again = _missing(await self.get_upload(upload.upload_id))
        await self._send_parts(source, upload, again, _Counter(None, size), parallel)
        return await self.finish_upload(upload.upload_id)

    async def _send_parts(
        self, source: Path, upload: Upload, parts: list[int], counter: _Counter, parallel: int
    ) -> None:
        pending = iter(parts)  # shared: each worker takes the next part

        async def worker() -> None:
            for part in pending:
                length = upload.part_length(part)
                offset = part * upload.part_size
                # read when it is this part's turn: at most `parallel` parts in memory
                data = await asyncio.to_thread(_read_part, source, offset, length)
                await self._put_part_retrying(upload.upload_id, part, data)
                counter.add(length)

        workers = [asyncio.create_task(worker()) for _ in range(max(1, min(parallel, len(parts))))]
        try:
            await asyncio.gather(*workers)
        finally:  # one failed (or we were cancelled): stop the others
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _put_part_retrying(self, upload_id: str, part: int, data: bytes) -> None:
        attempt = 0
        while True:
            try:
                await self._put_part(upload_id, part, data)
                return
            except FloodWait as e:
                if e.retry_after > self.flood_sleep_threshold:
                    raise
                await asyncio.sleep(e.retry_after)
                continue
            except SessionEnded as e:
                self._session_ended(e)
                raise
            except ApiError as e:
                if e.status is None or e.status < 500:
                    raise
                failure: Exception = e
            except (NotDelivered, Interrupted) as e:
                failure = ConnectionLost(f"part {part} of the upload could not be sent: {e}")
            attempt += 1
            if attempt >= ATTEMPTS:
                raise failure
            await asyncio.sleep(backoff_delay(attempt - 1, 0.5, 8.0))

    async def _put_part(self, upload_id: str, part: int, data: bytes) -> None:
        """One PUT of one part (the retries are the caller's)."""
        await http_put(
            self._session(),
            f"{self.base_url}/api/upload/{upload_id}/{part}",
            data,
            self._require_token("uploading"),
            client_timeout=aiohttp.ClientTimeout(total=self.request_timeout),
        )

    # --- download ---------------------------------------------------------------------------

    async def download_file(
        self,
        file_id: str,
        dest: StrPath | None = None,
        *,
        progress: Progress | None = None,
    ) -> Path:
        """Download a file to `dest` (a path, or a folder to put it in under its own name;
        by default the current folder) and return where it went.

        The bytes go to `<dest>.part` first; a `.part` left by an interrupted download is
        continued where it stopped. The whole is checked against the file's SHA-256 before
        it is renamed to `dest`, so `dest` never holds a partial or damaged file."""
        info = await self.get_file(file_id)
        target = await asyncio.to_thread(destination, dest, info)
        partial = target.with_name(target.name + ".part")
        part = _PartFile(partial)
        await asyncio.to_thread(part.load, info.size)
        resumed = part.have > 0
        counter = _Counter(progress, info.size)
        counter.set(part.have)
        await self._fetch(info, part, counter)
        if part.digest.hexdigest() != info.sha256 and resumed:
            # What the earlier download left was stale or damaged: fetch it whole, once.
            await part.restart()
            counter.set(0)
            await self._fetch(info, part, counter)
        if part.digest.hexdigest() != info.sha256:
            await asyncio.to_thread(_unlink, partial)
            raise TransferError(f"file {file_id} arrived damaged (its SHA-256 differs)")
        await asyncio.to_thread(_put_in_place, partial, target)
        return target

    async def _fetch(self, info: FileInfo, part: _PartFile, counter: _Counter) -> None:
        """Fill `part` up to the file's size, continuing after dropped connections."""
        attempt = 0
        while part.have < info.size:
            before = part.have
            failure: Exception | None = None
            try:
                await self._get_bytes(info, part, counter)
            except FloodWait as e:
                if e.retry_after > self.flood_sleep_threshold:
                    raise
                await asyncio.sleep(e.retry_after)
                continue
            except SessionEnded as e:
                self._session_ended(e)
                raise
            except ApiError as e:
                if e.status is None or e.status < 500:
                    raise
                failure = e
            except (NotDelivered, Interrupted) as e:
                failure = ConnectionLost(f"the download of {info.id} was cut off: {e}")
            if part.have > before:  # it moved on: continue from there at once
                attempt = 0
                continue
            attempt += 1
            if attempt >= ATTEMPTS:
                raise failure or TransferError(f"the server sent less of {info.id} than it has")
            if failure is not None:
                await asyncio.sleep(backoff_delay(attempt - 1, 0.5, 8.0))

    async def _get_bytes(self, info: FileInfo, part: _PartFile, counter: _Counter) -> None:
        """One GET: the rest of the file from `part.have` on, appended to `part`."""
        headers = {"Authorization": f"Bearer {self._require_token('downloading')}"}
        start = part.have
        if start:
            headers["Range"] = f"bytes={start}-"
            # a different version answers with the whole file instead of a piece of it
            headers["If-Range"] = f'"{info.sha256}"'
        # no total limit (files may be large): only a silence of request_timeout fails it
        timeout = aiohttp.ClientTimeout(total=None, sock_read=self.request_timeout)
        url = f"{self.base_url}/api/files/{info.id}"
        try:
            async with self._session().get(url, headers=headers, timeout=timeout) as r:
                if r.status == 416 and start:  # the kept bytes do not fit: start over
                    await part.restart()
                    counter.set(0)
                    return
                if r.status not in (200, 206):
                    answer_of(r.status, await r.read())  # raises the error it carries
                    raise ApiError("BAD_RESPONSE", f"HTTP {r.status}", r.status)
                if r.status == 206:
                    _check_range(r.headers.get("Content-Range", ""), start, info.size)
                elif start:  # the server sent the whole file after all
                    await part.restart()
                    counter.set(0)
                try:
                    async for chunk in r.content.iter_chunked(_READ_CHUNK):
                        if part.received + len(chunk) > info.size:
                            raise ApiError("BAD_RESPONSE", "more bytes than the file has")
                        await part.write(chunk)
                        counter.set(part.received)
                finally:  # keep what came, even when cut off or cancelled
                    await part.flush()
        except aiohttp.ClientConnectorError as e:
            raise NotDelivered(str(e)) from e
        except (aiohttp.ClientError, TimeoutError) as e:
            raise Interrupted(str(e) or type(e).__name__) from e

    # --- sending media ----------------------------------------------------------------------

    async def send_file(
        self,
        chat_id: int,
        file: StrPath | FileInfo,
        *,
        media_type: str | None = None,
        caption: str = "",
        caption_entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
        anonymous: bool = False,
        waveform: list[int] | None = None,
        progress: Progress | None = None,
    ) -> SentMessage:
        """Upload a file (a FileInfo is sent as it is) and send it as `media_type`: photo,
        document, voice or video (default: by its extension, see `media_type_for`)."""
        if isinstance(file, FileInfo):
            info, kind = file, media_type or _type_of_info(file)
        else:
            kind = media_type or media_type_for(file)
            info = await self.upload_file(file, progress=progress)
        return await self.send_media(
            chat_id,
            InputMedia(kind, info.id, waveform),
            caption=caption,
            caption_entities=caption_entities,
            reply_to_message_id=reply_to_message_id,
            random_id=new_random_id(),
            anonymous=anonymous,
        )

    async def send_photo(
        self,
        chat_id: int,
        photo: StrPath | FileInfo,
        *,
        caption: str = "",
        caption_entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
        progress: Progress | None = None,
    ) -> SentMessage:
        """Send an image as a photo: the server strips its metadata and makes its sizes."""
        return await self.send_file(
            chat_id,
            photo,
            media_type="photo",
            caption=caption,
            caption_entities=caption_entities,
            reply_to_message_id=reply_to_message_id,
            progress=progress,
        )

    async def send_document(
        self,
        chat_id: int,
        document: StrPath | FileInfo,
        *,
        caption: str = "",
        caption_entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
        progress: Progress | None = None,
    ) -> SentMessage:
        """Send any file as it is, under its name."""
        return await self.send_file(
            chat_id,
            document,
            media_type="document",
            caption=caption,
            caption_entities=caption_entities,
            reply_to_message_id=reply_to_message_id,
            progress=progress,
        )

    async def send_voice(
        self,
        chat_id: int,
        voice: StrPath | FileInfo,
        *,
        caption: str = "",
        caption_entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
        waveform: list[int] | None = None,
        progress: Progress | None = None,
    ) -> SentMessage:
        """Send an OGG/Opus recording as a voice note."""
        return await self.send_file(
            chat_id,
            voice,
            media_type="voice",
            caption=caption,
            caption_entities=caption_entities,
            reply_to_message_id=reply_to_message_id,
            waveform=waveform,
            progress=progress,
        )

    async def send_video(
        self,
        chat_id: int,
        video: StrPath | FileInfo,
        *,
        caption: str = "",
        caption_entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
        progress: Progress | None = None,
    ) -> SentMessage:
        """Send a video (a server without ffmpeg sends it as a document)."""
        return await self.send_file(
            chat_id,
            video,
            media_type="video",
            caption=caption,
            caption_entities=caption_entities,
            reply_to_message_id=reply_to_message_id,
            progress=progress,
        )

    async def send_sticker(
        self, chat_id: int, file_id: str, *, reply_to_message_id: int | None = None
    ) -> SentMessage:
        """Send a sticker of a pack, by the sticker's `file_id`."""
        return await self.send_media(
            chat_id, InputMedia("sticker", file_id), reply_to_message_id=reply_to_message_id
        )

    async def send_album(
        self,
        chat_id: int,
        items: Sequence[StrPath | FileInfo | AlbumItem],
        *,
        caption: str = "",
        caption_entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
        anonymous: bool = False,
        progress: Progress | None = None,
    ) -> list[SentMessage]:
        """Send 2 to 10 photos and videos as one album. Paths are uploaded first (videos are
        told by their extension); `caption` goes under the first item. An AlbumItem gives an
        item a caption of its own. `progress` follows all the uploads together."""
        paths = [Path(i) for i in items if not isinstance(i, FileInfo | AlbumItem)]
        sizes = await asyncio.to_thread(lambda: [p.stat().st_size for p in paths])
        total, before = sum(sizes), 0

        def overall(done: int, _: int) -> None:
            if progress is not None:
                progress(before + done, total)

        album: list[AlbumItem] = []
        for item in items:
            if isinstance(item, AlbumItem):
                album.append(item)
                continue
            if isinstance(item, FileInfo):
                info, kind = item, _type_of_info(item)
            else:
                kind = "video" if media_type_for(item) == "video" else "photo"
                info = await self.upload_file(item, progress=overall)
                before += info.size
            album.append(AlbumItem(InputMedia(kind, info.id)))
        if caption and not album[0].caption:
            album[0] = AlbumItem(album[0].media, caption, _entity_list(caption_entities))
        return await self.send_album_items(
            chat_id, album, reply_to_message_id=reply_to_message_id, anonymous=anonymous
        )

    # --- sticker sets -----------------------------------------------------------------------

    async def create_sticker_set(
        self,
        title: str,
        short_name: str,
        stickers: Sequence[StickerArg],
        *,
        progress: Progress | None = None,
    ) -> StickerSet:
        """Make a sticker set, installed for you, of stickers given as (file, emoji):

            await client.create_sticker_set(
                "Cats", "cats_of_ann", [("a.png", "😺"), ("b.png", ["😿", "💧"])]
            )

        Paths are uploaded first (`progress` follows all the uploads together). Each is a
        PNG or WebP of 512 px on its longer side (at most 512 KB), or a WebM VP9 video
        without sound; `short_name` (latin letters, digits, `_`) names the set in its link
        `<server>/addstickers/<short_name>`. One bad sticker refuses the whole set
        (ApiError STICKER_INVALID, with the broken rule)."""
        inputs = await self._input_stickers(stickers, progress)
        params = {
            "title": title,
            "short_name": short_name,
            "stickers": [s.to_dict() for s in inputs],
        }
        return StickerSet.from_dict(await self._invoke("createStickerSet", params))

    async def add_sticker_to_set(
        self, sticker_set: SetRef, sticker: StickerArg, *, progress: Progress | None = None
    ) -> StickerSet:
        """Add a sticker, (file, emoji) as for `create_sticker_set`, at the end of a set you
        made (named by id or short name); returns the set."""
        [made] = await self._input_stickers([sticker], progress)
        params = {**set_ref(sticker_set), "sticker": made.to_dict()}
        return StickerSet.from_dict(await self._invoke("addStickerToSet", params))

    async def _input_stickers(
        self, stickers: Sequence[StickerArg], progress: Progress | None
    ) -> list[InputSticker]:
        """The stickers as the API takes them, their paths uploaded one after another."""
        files = [s[0] for s in stickers if not isinstance(s, InputSticker)]
        paths = [Path(f) for f in files if not isinstance(f, FileInfo)]
        sizes = await asyncio.to_thread(lambda: [p.stat().st_size for p in paths])
        total, before = sum(sizes), 0

        def overall(done: int, _: int) -> None:
            if progress is not None:
                progress(before + done, total)

        inputs: list[InputSticker] = []
        for item in stickers:
            if isinstance(item, InputSticker):
                inputs.append(item)
                continue
            file, emoji = item
            if not isinstance(file, FileInfo):
                file = await self.upload_file(file, progress=overall)
                before += file.size
            inputs.append(InputSticker(file.id, emoji_list(emoji)))
        return inputs

    async def set_profile_photo(
        self, photo: StrPath | FileInfo | None, *, progress: Progress | None = None
    ) -> ProfilePhoto | None:
        """Set your photo from an image (uploaded first unless a FileInfo), cropped to a
        square; None removes it."""
        file_id = await self._photo_file(photo, progress)
        result = await self._invoke("setProfilePhoto", {"file_id": file_id})
        return ProfilePhoto.from_dict(result) if result else None

    async def set_chat_photo(
        self, chat_id: int, photo: StrPath | FileInfo | None, *, progress: Progress | None = None
    ) -> None:
        """Set a group's or channel's photo (the change_info right); None removes it."""
        file_id = await self._photo_file(photo, progress)
        await self._invoke("setChatPhoto", {"chat_id": chat_id, "file_id": file_id})

    async def _photo_file(
        self, photo: StrPath | FileInfo | None, progress: Progress | None
    ) -> str | None:
        if photo is None or isinstance(photo, FileInfo):
            return None if photo is None else photo.id
        return (await self.upload_file(photo, progress=progress)).id


def _missing(upload: Upload) -> list[int]:
    received = set(upload.received)
    return [p for p in range(upload.parts) if p not in received]


def _type_of_info(info: FileInfo) -> str:
    """How an uploaded file is sent by default: by its type, else by its name."""
    mime = info.mime_type
    if mime in ("image/jpeg", "image/png", "image/webp"):
        return "photo"
    if mime in ("audio/ogg", "audio/opus"):
        return "voice"
    if mime.startswith("video/"):
        return "video"
    return media_type_for(info.name) if mime == "application/octet-stream" else "document"


def _entity_list(entities: EntitiesArg) -> list[MessageEntity] | None:
    if entities is None:
        return None
    return [e if isinstance(e, MessageEntity) else MessageEntity.from_dict(e) for e in entities]


def _check_range(header: str, start: int, size: int) -> None:
    """A 206 answer must continue exactly where the kept bytes end."""
    expected = f"bytes {start}-{size - 1}/{size}"
    if header.strip() != expected:
        raise ApiError("BAD_RESPONSE", f"asked for bytes {start}- but got {header!r}", 206)
