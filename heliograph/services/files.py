"""Uploads and stored files: resumable chunked uploads checked by SHA-256, derived files,
and who may fetch a file.

An upload's parts are written straight into one file at their offsets, in any order and as
often as a client retries; finishing hashes that file once and hands it to the blob store,
which keeps each content once."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import shutil
from pathlib import Path

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import FileInfo, Upload
from heliograph.domain.permissions import Role, require_active
from heliograph.media import probe
from heliograph.services.chats import standing_of
from heliograph.services.context import App, Caller, Storage
from heliograph.store import chats, files, messages
from heliograph.store.db import Conn, Row

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_HASH_CHUNK = 1024 * 1024
# how many of the messages holding a file are checked for the caller's access
_HOLDERS_CHECKED = 50


def new_file_id() -> str:
    """24 URL-safe characters, never starting with "-": people paste file ids into command
    lines, where a leading dash reads as an option."""
    while (file_id := secrets.token_urlsafe(18)).startswith("-"):
        pass
    return file_id


def storage(app: App) -> Storage:
    if app.storage is None:
        raise HeliographError(ErrorCode.UNAVAILABLE, "file storage is not configured")
    return app.storage


def to_file_info(row: Row) -> FileInfo:
    return FileInfo(row["id"], row["size"], row["name"], row["mime_type"], row["sha256"])


def clean_name(app: App, name: str) -> str:
    """A file name as others will see it: no path, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip()
    if len(name) > app.limits.file_name_max:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS,
            f"a file name may have at most {app.limits.file_name_max} characters",
        )
    return name or "file"


def _upload_path(store: Storage, upload_id: str) -> Path:
    return store.upload_dir / f"{upload_id}.part"


def _part_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))


def _to_upload(row: Row, received: list[int], file: FileInfo | None = None) -> Upload:
    return Upload(
        upload_id=row["id"],
        size=row["size"],
        part_size=row["part_size"],
        parts=_part_count(row["size"], row["part_size"]),
        received=received,
        expires_at=row["expires_at"],
        file=file,
    )


async def _state(app: App, row: Row) -> Upload:
    async with app.db.read() as conn:
        if row["file_id"] is not None:
            file = await files.get_file(conn, row["file_id"])
            assert file is not None
            count = _part_count(row["size"], row["part_size"])
            return _to_upload(row, list(range(count)), to_file_info(file))
        return _to_upload(row, await files.parts(conn, row["id"]))


async def start_upload(app: App, caller: Caller, size: int, sha256: str, name: str) -> Upload:
    """Begin an upload, or resume the caller's unexpired upload of the same bytes."""
    store = storage(app)
    sha256 = sha256.lower()
    if not _SHA256.match(sha256):
        raise HeliographError(ErrorCode.INVALID_PARAMS, "sha256 must be 64 hexadecimal digits")
    if size < 1:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "an empty file cannot be uploaded")
    if size > app.limits.file_size:
        raise HeliographError(
            ErrorCode.FILE_TOO_LARGE,
            f"files may be at most {app.limits.file_size} bytes",
            limit=app.limits.file_size,
        )
    name = clean_name(app, name)
    now = app.now()
    async with app.db.read() as conn:
        earlier = await files.find_upload(conn, caller.user_id, sha256, size, now)
    if earlier is not None:
        return await _state(app, earlier)
    free = await asyncio.to_thread(_free_bytes, store.upload_dir)
    if free < size * 2:  # the upload, and its copy in the blob store
        raise HeliographError(ErrorCode.UNAVAILABLE, "the server has no room for this file now")
    upload_id = new_file_id()
    part_size = app.limits.upload_part_size
    async with app.db.transaction() as tx:
        if await files.count_uploads(tx, caller.user_id, now) >= app.limits.uploads_per_user:
            raise HeliographError(
                ErrorCode.FLOOD_WAIT,
                "too many uploads in progress; finish or wait for them",
                retry_after=60,
            )
        await files.insert_upload(
            tx,
            upload_id=upload_id,
            owner_id=caller.user_id,
            size=size,
            sha256=sha256,
            name=name,
            part_size=part_size,
            now=now,
            expires_at=now + app.limits.upload_ttl_seconds,
        )
    row = await _own_upload(app, caller, upload_id)
    return _to_upload(row, [])


def _free_bytes(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(directory).free


async def _own_upload(app: App, caller: Caller, upload_id: str) -> Row:
    if not _ID.match(upload_id):
        raise HeliographError(ErrorCode.UPLOAD_NOT_FOUND, "upload not found")
    async with app.db.read() as conn:
        row = await files.get_upload(conn, upload_id)
    if row is None or row["owner_id"] != caller.user_id or row["expires_at"] <= app.now():
        raise HeliographError(ErrorCode.UPLOAD_NOT_FOUND, "upload not found")
    return row


async def get_upload(app: App, caller: Caller, upload_id: str) -> Upload:
    return await _state(app, await _own_upload(app, caller, upload_id))


async def part_slot(app: App, caller: Caller, upload_id: str, part: int) -> tuple[Row, int]:
    """The upload and how many bytes part `part` must have; checked before its body is read."""
    row = await _own_upload(app, caller, upload_id)
    if row["file_id"] is not None:
        raise HeliographError(ErrorCode.FILE_PART_INVALID, "this upload is already finished")
    count = _part_count(row["size"], row["part_size"])
    if not 0 <= part < count:
        raise HeliographError(
            ErrorCode.FILE_PART_INVALID, f"part must be between 0 and {count - 1}", parts=count
        )
    return row, int(min(row["part_size"], row["size"] - part * row["part_size"]))


async def put_part(app: App, upload: Row, part: int, data: bytes) -> None:
    """Write one part at its offset (`part_slot` checked the caller and the length). Sending
    a part again overwrites it with the same bytes."""
    path = _upload_path(storage(app), upload["id"])
    await asyncio.to_thread(_write_at, path, part * upload["part_size"], data)
    async with app.db.transaction() as tx:
        await files.add_part(tx, upload["id"], part)


def _write_at(path: Path, offset: int, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written
    finally:
        os.close(fd)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def finish_upload(app: App, caller: Caller, upload_id: str) -> FileInfo:
    """Check the whole file against its SHA-256 and store it. Finishing twice is harmless."""
    store = storage(app)
    row = await _own_upload(app, caller, upload_id)
    if row["file_id"] is not None:
        return await file_info(app, row["file_id"])
    count = _part_count(row["size"], row["part_size"])
    async with app.db.read() as conn:
        received = set(await files.parts(conn, upload_id))
    missing = [p for p in range(count) if p not in received]
    if missing:
        raise HeliographError(
            ErrorCode.UPLOAD_INCOMPLETE,
            f"{len(missing)} of {count} parts have not arrived",
            missing=missing[:1000],
        )
    path = _upload_path(store, upload_id)
    try:
        digest = await asyncio.to_thread(_sha256_of, path)
        mime = await asyncio.to_thread(probe.detect_mime, path, row["name"])
    except FileNotFoundError:
        # a concurrent finish took the file first
        return await _finished_by_another(app, caller, upload_id)
    if digest != row["sha256"]:
        # The parts are kept: a client that sent a wrong part may send it again.
        raise HeliographError(
            ErrorCode.FILE_CHECKSUM_MISMATCH,
            "the file's SHA-256 does not match; send the parts again",
            sha256=digest,
        )
    try:
        await store.blobs.put_file(path, digest, row["size"])
    except FileNotFoundError:
        return await _finished_by_another(app, caller, upload_id)
    file_id = new_file_id()
    async with app.db.transaction() as tx:
        claimed = await tx.execute(
            "UPDATE uploads SET file_id = ? WHERE id = ? AND file_id IS NULL", file_id, upload_id
        )
        if claimed:
            await files.insert_file(
                tx,
                file_id=file_id,
                sha256=digest,
                size=row["size"],
                name=row["name"],
                mime_type=mime,
                owner_id=caller.user_id,
                now=app.now(),
            )
            await tx.execute("DELETE FROM upload_parts WHERE upload_id = ?", upload_id)
    if not claimed:
        return await _finished_by_another(app, caller, upload_id)
    return await file_info(app, file_id)


async def _finished_by_another(app: App, caller: Caller, upload_id: str) -> FileInfo:
    row = await _own_upload(app, caller, upload_id)
    if row["file_id"] is None:
        raise HeliographError(ErrorCode.UPLOAD_INCOMPLETE, "the upload's data is gone; start again")
    return await file_info(app, row["file_id"])


async def file_info(app: App, file_id: str) -> FileInfo:
    async with app.db.read() as conn:
        row = await files.get_file(conn, file_id)
    if row is None:
        raise HeliographError(ErrorCode.FILE_NOT_FOUND, "file not found")
    return to_file_info(row)


async def store_bytes(
    app: App, owner_id: int | None, data: bytes, name: str, mime_type: str, *, public: bool = False
) -> FileInfo:
    """Store a file the server made (a photo size, a thumbnail)."""
    sha256 = await storage(app).blobs.put_bytes(data)
    file_id = new_file_id()
    async with app.db.transaction() as tx:
        await files.insert_file(
            tx,
            file_id=file_id,
            sha256=sha256,
            size=len(data),
            name=name,
            mime_type=mime_type,
            owner_id=owner_id,
            now=app.now(),
            public=public,
        )
    return FileInfo(file_id, len(data), name, mime_type, sha256)


async def local_copy(app: App, row: Row) -> Path:
    """A stored file's bytes in a private temporary file in the upload directory, for tools
    that need a path (image decoding, ffprobe, sticker checks). The caller removes it."""
    store = storage(app)
    path = store.upload_dir / f"scratch-{secrets.token_hex(12)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = await asyncio.to_thread(path.open, "xb")
    try:
        async for chunk in store.blobs.read(row["sha256"]):
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    return path


async def remove_expired_uploads(app: App) -> int:
    """Delete abandoned uploads and their data; returns how many went."""
    store = storage(app)
    removed = 0
    while True:
        async with app.db.read() as conn:
            expired = await files.expired_uploads(conn, app.now())
        if not expired:
            return removed
        for upload_id in expired:
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread(_upload_path(store, upload_id).unlink)
            async with app.db.transaction() as tx:
                await files.delete_upload(tx, upload_id)
            removed += 1


async def readable_file(app: App, caller: Caller, file_id: str) -> Row:
    """The file, if the caller may fetch it: its uploader, anyone for public files (profile
    photos, stickers), or whoever can see a message holding it. Otherwise it does not exist."""
    if not _ID.match(file_id):
        raise HeliographError(ErrorCode.FILE_NOT_FOUND, "file not found")
    async with app.db.read() as conn:
        row = await files.get_file(conn, file_id)
        if row is None:
            raise HeliographError(ErrorCode.FILE_NOT_FOUND, "file not found")
        if row["owner_id"] == caller.user_id or row["public"]:
            return row
        for chat_id, message_id in await files.holders(conn, file_id, _HOLDERS_CHECKED):
            if await _can_see(conn, caller, chat_id, message_id):
                return row
    raise HeliographError(ErrorCode.FILE_NOT_FOUND, "file not found")


async def _can_see(conn: Conn, caller: Caller, chat_id: int, message_id: int) -> bool:
    """Whether the caller sees the message: as a member, or, in a public group or channel
    (which anyone may read), as anyone not banned from it."""
    membership = await chats.membership(conn, chat_id, caller.user_id)
    if membership is None or membership["role"] == Role.LEFT:
        chat = await chats.get(conn, chat_id)
        if chat is None or chat["deleted"] or not chat["username"]:
            return False
    elif membership["deleted"]:
        return False
    else:
        try:
            require_active(standing_of(membership))
        except HeliographError:
            return False
    rows = await messages.get_rows(conn, chat_id, [message_id], caller.user_id)
    return bool(rows)
