"""Uploads in progress, stored files, the files messages hold, and the link-preview cache."""

from __future__ import annotations

from heliograph.store.db import Conn, Row, among

# --- uploads --------------------------------------------------------------------------------


async def insert_upload(
    tx: Conn,
    *,
    upload_id: str,
    owner_id: int,
    size: int,
    sha256: str,
    name: str,
    part_size: int,
    now: int,
    expires_at: int,
) -> None:
    await tx.execute(
        "INSERT INTO uploads (id, owner_id, size, sha256, name, part_size, created_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        upload_id,
        owner_id,
        size,
        sha256,
        name,
        part_size,
        now,
        expires_at,
    )


async def get_upload(conn: Conn, upload_id: str) -> Row | None:
    return await conn.fetchrow("SELECT * FROM uploads WHERE id = ?", upload_id)


async def find_upload(conn: Conn, owner_id: int, sha256: str, size: int, now: int) -> Row | None:
    """The caller's unexpired upload of the same bytes: starting again resumes it."""
    return await conn.fetchrow(
        "SELECT * FROM uploads WHERE owner_id = ? AND sha256 = ? AND size = ? AND expires_at > ?"
        " ORDER BY created_at DESC LIMIT 1",
        owner_id,
        sha256,
        size,
        now,
    )


async def count_uploads(conn: Conn, owner_id: int, now: int) -> int:
    return int(
        await conn.fetchval(
            "SELECT COUNT(*) FROM uploads WHERE owner_id = ? AND expires_at > ?", owner_id, now
        )
    )


async def add_part(tx: Conn, upload_id: str, part: int) -> None:
    await tx.execute(
        "INSERT INTO upload_parts (upload_id, part) VALUES (?, ?) ON CONFLICT DO NOTHING",
        upload_id,
        part,
    )


async def parts(conn: Conn, upload_id: str) -> list[int]:
    rows = await conn.fetch(
        "SELECT part FROM upload_parts WHERE upload_id = ? ORDER BY part", upload_id
    )
    return [r["part"] for r in rows]


async def delete_upload(tx: Conn, upload_id: str) -> None:
    await tx.execute("DELETE FROM upload_parts WHERE upload_id = ?", upload_id)
    await tx.execute("DELETE FROM uploads WHERE id = ?", upload_id)


async def expired_uploads(conn: Conn, now: int, limit: int = 100) -> list[str]:
    rows = await conn.fetch(
        "SELECT id FROM uploads WHERE expires_at <= ? ORDER BY expires_at LIMIT ?", now, limit
    )
    return [r["id"] for r in rows]


# --- files ----------------------------------------------------------------------------------


async def insert_file(
    tx: Conn,
    *,
    file_id: str,
    sha256: str,
    size: int,
    name: str,
    mime_type: str,
    owner_id: int | None,
    now: int,
    public: bool = False,
) -> None:
    await tx.execute(
        "INSERT INTO files (id, sha256, size, name, mime_type, owner_id, public, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        file_id,
        sha256,
        size,
        name,
        mime_type,
        owner_id,
        int(public),
        now,
    )


async def get_file(conn: Conn, file_id: str) -> Row | None:
    return await conn.fetchrow("SELECT * FROM files WHERE id = ?", file_id)


async def make_public(tx: Conn, file_ids: list[str]) -> None:
    if file_ids:
        test, args = among(tx, file_ids)
        await tx.execute(f"UPDATE files SET public = 1 WHERE id {test}", *args)


async def cached_media(conn: Conn, file_id: str, kind: str) -> str | None:
    value = await conn.fetchval(
        "SELECT data FROM media_cache WHERE file_id = ? AND kind = ?", file_id, kind
    )
    return None if value is None else str(value)


async def cache_media(tx: Conn, file_id: str, kind: str, data: str) -> None:
    await tx.execute(
        "INSERT INTO media_cache (file_id, kind, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        file_id,
        kind,
        data,
    )


# --- what messages hold ---------------------------------------------------------------------


async def attach(tx: Conn, chat_id: int, message_id: int, file_ids: list[str]) -> None:
    await tx.executemany(
        "INSERT INTO message_files (file_id, chat_id, message_id) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(f, chat_id, message_id) for f in dict.fromkeys(file_ids)],
    )


async def detach(tx: Conn, chat_id: int, message_ids: list[int]) -> None:
    if message_ids:
        test, args = among(tx, message_ids)
        await tx.execute(
            f"DELETE FROM message_files WHERE chat_id = ? AND message_id {test}", chat_id, *args
        )


async def holders(conn: Conn, file_id: str, limit: int) -> list[tuple[int, int]]:
    """(chat_id, message_id) of messages holding the file, newest first."""
    rows = await conn.fetch(
        "SELECT chat_id, message_id FROM message_files WHERE file_id = ?"
        " ORDER BY message_id DESC LIMIT ?",
        file_id,
        limit,
    )
    return [(r["chat_id"], r["message_id"]) for r in rows]


# --- link previews --------------------------------------------------------------------------


async def cached_preview(conn: Conn, url: str) -> Row | None:
    return await conn.fetchrow("SELECT data, fetched_at FROM link_previews WHERE url = ?", url)


async def cache_preview(tx: Conn, url: str, data: str | None, now: int) -> None:
    await tx.execute(
        "INSERT INTO link_previews (url, data, fetched_at) VALUES (?, ?, ?)"
        " ON CONFLICT (url) DO UPDATE SET data = excluded.data, fetched_at = excluded.fetched_at",
        url,
        data,
        now,
    )
