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


async def append_many(
    tx: Conn, items: list[tuple[list[int], str, int | None, str]], now: int
) -> list[dict[int, int]]:
    """`append` for many updates at once, given as (user_ids, kind, chat_id, data as JSON):
    each user's updates take their next pts in the order given. One statement on PostgreSQL,
    two on SQLite, whatever the number of updates; returns each update's pts per user."""
    entries = [
        (user_id, kind, chat_id, data)
        for user_ids, kind, chat_id, data in items
        for user_id in sorted(set(user_ids))
    ]
    counts: dict[int, int] = {}
    for user_id, *_ in entries:
        counts[user_id] = counts.get(user_id, 0) + 1
    given: dict[int, list[int]] = {}  # each user's new pts, ascending (none: no such user)
    if tx.dialect == "postgres" and entries:
        columns = [list(c) for c in zip(*entries, strict=True)]
        for r in await tx.fetch(_APPEND_MANY_POSTGRES, *columns, now):
            given.setdefault(r["user_id"], []).append(r["pts"])
        for ascending in given.values():
            ascending.sort()
    elif entries:
        heads = await tx.fetch(_ADVANCE_SQLITE, orjson.dumps(list(counts.items())).decode())
        given = {r["id"]: list(range(r["pts"] - counts[r["id"]] + 1, r["pts"] + 1)) for r in heads}
    handed: dict[int, int] = {}
    pts_of: list[int | None] = []  # each entry's pts, handed out in order
    for user_id, *_ in entries:
        n = handed.get(user_id, 0)
        handed[user_id] = n + 1
        pts_of.append(given[user_id][n] if user_id in given else None)
    if tx.dialect != "postgres" and entries:
        await tx.executemany(
            "INSERT INTO updates (user_id, pts, kind, chat_id, data, date)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (user_id, pts, kind, chat_id, data, now)
                for (user_id, kind, chat_id, data), pts in zip(entries, pts_of, strict=True)
                if pts is not None
            ],
        )
    result: list[dict[int, int]] = []
    position = iter(zip(entries, pts_of, strict=True))
    for user_ids, *_ in items:
        found = {}
        for _ in range(len(set(user_ids))):
            (user_id, *_rest), pts = next(position)
            if pts is not None:
                found[user_id] = pts
        result.append(found)
    return result


# Each user's pts advanced by their number of updates (rows locked in id order first, as in
# _APPEND_POSTGRES), and the updates written with consecutive pts in the order given.
_APPEND_MANY_POSTGRES = (
    "WITH s AS (SELECT * FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::text[])"
    " WITH ORDINALITY AS s(user_id, kind, chat_id, data, ord)),"
    " n AS (SELECT user_id, count(*) AS n FROM s GROUP BY user_id),"
    " l AS (SELECT id FROM users WHERE id IN (SELECT user_id FROM n) ORDER BY id FOR UPDATE),"
    " p AS (UPDATE users u SET pts = u.pts + n.n FROM n WHERE u.id = n.user_id"
    " AND u.id IN (SELECT id FROM l) RETURNING u.id, u.pts - n.n AS base)"
    " INSERT INTO updates (user_id, pts, kind, chat_id, data, date)"
    " SELECT s.user_id, p.base + row_number() OVER (PARTITION BY s.user_id ORDER BY s.ord),"
    " s.kind, s.chat_id, s.data, ?::bigint FROM s JOIN p ON p.id = s.user_id"
    " RETURNING user_id, pts"
)
_ADVANCE_SQLITE = (
    "UPDATE users SET pts = pts + v.n"
    " FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS n"
    " FROM json_each(?)) AS v WHERE users.id = v.id RETURNING users.id, users.pts"
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
