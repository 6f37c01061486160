"""The common update box of each user: an append-only sequence numbered by pts."""

from __future__ import annotations

from typing import Any

import orjson

from heliograph.store import users
from heliograph.store.db import Conn, Row


async def append(
    tx: Conn,
    user_ids: list[int],
    kind: str,
    chat_id: int | None,
    data: dict[str, Any],
    now: int,
) -> dict[int, int]:
    """Write one update into each user's box in the caller's transaction; returns each user's
    new pts. Per batch of users, whatever their number, one statement on PostgreSQL and two
    on SQLite: the round trips, not the rows, are what a send costs."""
    encoded = orjson.dumps(data).decode()
    unique = sorted(set(user_ids))  # ascending across batches too: the lock order
    pts_by_user: dict[int, int] = {}
    for start in range(0, len(unique), _BATCH):
        batch = unique[start : start + _BATCH]
        if tx.dialect == "postgres":
            rows = await tx.fetch(_APPEND_POSTGRES, batch, kind, chat_id, encoded, now)
            pts_by_user |= {r["user_id"]: r["pts"] for r in rows}
            continue
        advanced = await users.next_pts(tx, batch)
        if not advanced:
            continue
        pts_by_user |= advanced
        marks = ",".join("(?, ?, ?, ?, ?, ?)" for _ in advanced)
        args: list[Any] = []
        for user_id, pts in advanced.items():
            args += [user_id, pts, kind, chat_id, encoded, now]
        await tx.execute(
            f"INSERT INTO updates (user_id, pts, kind, chat_id, data, date) VALUES {marks}", *args
        )
    return pts_by_user


# users per statement: 6 parameters each stays far under every engine's limit
_BATCH = 500

# Advance the users' pts and write their rows in one statement (SQLite allows no UPDATE
# inside WITH), the users as one array: one prepared statement whatever their number. The
# row locks order concurrent writers: `l` takes them in id order before any is updated, as
# an UPDATE alone locks rows in whatever order its plan reads them, and two sends to groups
# sharing members would then deadlock.
_APPEND_POSTGRES = (
    "WITH l AS (SELECT id FROM users WHERE id = ANY(?) ORDER BY id FOR UPDATE),"
    " p AS (UPDATE users SET pts = pts + 1 WHERE id IN (SELECT id FROM l) RETURNING id, pts)"
    " INSERT INTO updates (user_id, pts, kind, chat_id, data, date)"
    " SELECT id, pts, ?::text, ?::bigint, ?::text, ?::bigint FROM p RETURNING user_id, pts"
)


async def since(conn: Conn, user_id: int, after_pts: int, limit: int) -> list[Row]:
    return await conn.fetch(
        "SELECT pts, kind, chat_id, data, date FROM updates WHERE user_id = ? AND pts > ?"
        " ORDER BY pts LIMIT ?",
        user_id,
        after_pts,
        limit,
    )


async def head(conn: Conn, user_id: int) -> int:
    pts: int | None = await conn.fetchval("SELECT pts FROM users WHERE id = ?", user_id)
    return pts or 0


# --- the shared box of a large chat ---------------------------------------------------------


async def append_to_chat(tx: Conn, chat_id: int, kind: str, data: dict[str, Any], now: int) -> int:
    pts: int = await tx.fetchval(
        "UPDATE chats SET pts = pts + 1 WHERE id = ? RETURNING pts", chat_id
    )
    await tx.execute(
        "INSERT INTO chat_updates (chat_id, pts, kind, data, date) VALUES (?, ?, ?, ?, ?)",
        chat_id,
        pts,
        kind,
        orjson.dumps(data).decode(),
        now,
    )
    return pts


async def chat_since(conn: Conn, chat_id: int, after_pts: int, limit: int) -> list[Row]:
    return await conn.fetch(
        "SELECT pts, kind, chat_id, data, date FROM chat_updates WHERE chat_id = ? AND pts > ?"
        " ORDER BY pts LIMIT ?",
        chat_id,
        after_pts,
        limit,
    )


async def chat_head(conn: Conn, chat_id: int) -> int:
    pts: int | None = await conn.fetchval("SELECT pts FROM chats WHERE id = ?", chat_id)
    return pts or 0
