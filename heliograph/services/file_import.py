"""Files that arrive whole in one request (a bot's multipart upload), stored as an upload's
finished file would be: hashed, typed by content, handed to the blob store, and owned by
whoever sent it."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import FileInfo
from heliograph.media import probe
from heliograph.services import files
from heliograph.services.context import App
from heliograph.store import files as file_store

_HASH_CHUNK = 1024 * 1024


def _digest_and_size(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


async def store_local_file(app: App, owner_id: int, path: Path, name: str) -> FileInfo:
    """Store the local file at `path` (consumed: moved into the blob store). Its type is
    judged by content and name, as for uploads; what the sender claimed is not trusted."""
    store = files.storage(app)
    name = files.clean_name(app, name)
    digest, size = await asyncio.to_thread(_digest_and_size, path)
    if size < 1:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "file must be non-empty")
    if size > app.limits.file_size:
        raise HeliographError(
            ErrorCode.FILE_TOO_LARGE,
            f"files may be at most {app.limits.file_size} bytes",
            limit=app.limits.file_size,
        )
    mime = await asyncio.to_thread(probe.detect_mime, path, name)
    await store.blobs.put_file(path, digest, size)
    file_id = files.new_file_id()
    async with app.db.transaction() as tx:
        await file_store.insert_file(
            tx,
            file_id=file_id,
            sha256=digest,
            size=size,
            name=name,
            mime_type=mime,
            owner_id=owner_id,
            now=app.now(),
        )
    return FileInfo(file_id, size, name, mime, digest)
