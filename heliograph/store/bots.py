"""Bot accounts, their command menus and their pending queries."""

from __future__ import annotations

from typing import Any

from heliograph.store.db import Conn, Row

BOT_COLUMNS = (
    "b.user_id, b.owner_id, b.token_hash, b.description, b.short_description, b.privacy,"
    " b.inline_placeholder, b.created_at, b.acked_pts, b.allowed_updates, b.webhook_url,"
    " b.webhook_secret, b.webhook_max_connections, b.webhook_error_date,"
    " b.webhook_error_message, u.username, u.display_name, u.deleted, u.disabled, u.pts"
)


async def insert(tx: Conn, user_id: int, owner_id: int, token_hash: bytes, now: int) -> None:
    await tx.execute("UPDATE users SET is_bot = 1 WHERE id = ?", user_id)
    await tx.execute(
        "INSERT INTO bots (user_id, owner_id, token_hash, created_at) VALUES (?, ?, ?, ?)",
        user_id,
        owner_id,
        token_hash,
        now,
    )


async def get(conn: Conn, bot_id: int) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {BOT_COLUMNS} FROM bots b JOIN users u ON u.id = b.user_id WHERE b.user_id = ?",
        bot_id,
    )


async def owned_by(conn: Conn, owner_id: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT {BOT_COLUMNS} FROM bots b JOIN users u ON u.id = b.user_id"
        " WHERE b.owner_id = ? AND u.deleted = 0 ORDER BY b.user_id",
        owner_id,
    )


async def update(tx: Conn, bot_id: int, **fields: Any) -> None:
    """Set the named bot columns (names come from our code, never from input)."""
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await tx.execute(f"UPDATE bots SET {assignments} WHERE user_id = ?", *fields.values(), bot_id)


async def acknowledge(tx: Conn, bot_id: int, pts: int) -> None:
    await tx.execute(
        "UPDATE bots SET acked_pts = ? WHERE user_id = ? AND acked_pts < ?", pts, bot_id, pts
    )


async def delete(tx: Conn, bot_id: int) -> None:
    for table, column in (("bot_commands", "bot_id"), ("bot_queries", "bot_id")):
        await tx.execute(f"DELETE FROM {table} WHERE {column} = ?", bot_id)
    await tx.execute("DELETE FROM bots WHERE user_id = ?", bot_id)


async def commands(conn: Conn, bot_id: int, scope: str, language_code: str) -> str | None:
    value = await conn.fetchval(
        "SELECT commands FROM bot_commands WHERE bot_id = ? AND scope = ? AND language_code = ?",
        bot_id,
        scope,
        language_code,
    )
    return None if value is None else str(value)


async def set_commands(
    tx: Conn, bot_id: int, scope: str, language_code: str, encoded: str | None
) -> None:
    if encoded is None:
        await tx.execute(
            "DELETE FROM bot_commands WHERE bot_id = ? AND scope = ? AND language_code = ?",
            bot_id,
            scope,
            language_code,
        )
        return
    await tx.execute(
        "INSERT INTO bot_commands (bot_id, scope, language_code, commands) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (bot_id, scope, language_code) DO UPDATE SET commands = excluded.commands",
        bot_id,
        scope,
        language_code,
        encoded,
    )


async def insert_query(
    tx: Conn, query_id: str, bot_id: int, user_id: int, kind: str, data: str, now: int
) -> None:
    await tx.execute(
        "INSERT INTO bot_queries (id, bot_id, user_id, kind, data, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        query_id,
        bot_id,
        user_id,
        kind,
        data,
        now,
    )


async def get_query(conn: Conn, query_id: str) -> Row | None:
    return await conn.fetchrow("SELECT * FROM bot_queries WHERE id = ?", query_id)


async def forget_queries(tx: Conn, before: int) -> None:
    await tx.execute("DELETE FROM bot_queries WHERE created_at < ?", before)
