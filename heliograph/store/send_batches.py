"""The rows of a batch of plain text sends (services/send_batch.py), written at once: each
message under its chat's next id, the senders' read pointers, and one update per recipient
with consecutive pts. On PostgreSQL all of it is one statement (one round trip for the
batch); on SQLite, where `UPDATE` may not stand inside `WITH`, five whatever the batch's
size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from heliograph.store.db import Conn
from heliograph.store.messages import RandomIdTaken, is_random_id_conflict


@dataclass(frozen=True, slots=True)
class PlainRow:
    chat_id: int
    sender_id: int
    text: str
    entities: str  # JSON
    search_text: str
    random_id: int | None
    no_link_preview: bool
    # who gets the update (the sender among them): distinct and ascending, as
    # `ChatAccess.member_ids` are
    recipients: Sequence[int]


async def write(tx: Conn, sends: list[PlainRow], now: int) -> list[tuple[int, dict[int, int]]]:
    """Store the sends in the order given; each one's message id and its recipients' pts.
    Raises RandomIdTaken when a sender used a `random_id` before (nothing is stored)."""
    try:
        if tx.dialect == "postgres":
            return await _write_postgres(tx, sends, now)
        return await _write_sqlite(tx, sends, now)
    except Exception as e:
        if is_random_id_conflict(e):
            raise RandomIdTaken(0) from e
        raise


async def _write_postgres(
    tx: Conn, sends: list[PlainRow], now: int
) -> list[tuple[int, dict[int, int]]]:
    entries = [(user_id, i) for i, s in enumerate(sends, 1) for user_id in s.recipients]
    rows = await tx.fetch(
        _WRITE_POSTGRES,
        [s.chat_id for s in sends],
        [s.sender_id for s in sends],
        [s.text for s in sends],
        [s.entities for s in sends],
        [s.search_text for s in sends],
        [s.random_id for s in sends],
        [int(s.no_link_preview) for s in sends],
        now,
        now,
        [user_id for user_id, _ in entries],
        [i for _, i in entries],
        now,
    )
    ids = [0] * len(sends)
    given: dict[int, list[int]] = {}  # each user's new pts
    for r in rows:
        if r["what"] == "m":
            ids[r["a"] - 1] = r["b"]
        elif r["what"] == "u":
            given.setdefault(r["a"], []).append(r["b"])
    for values in given.values():
        values.sort()
    return _positions(sends, ids, given)


async def _write_sqlite(
    tx: Conn, sends: list[PlainRow], now: int
) -> list[tuple[int, dict[int, int]]]:
    per_chat: dict[int, int] = {}
    for s in sends:
        per_chat[s.chat_id] = per_chat.get(s.chat_id, 0) + 1
    heads = await tx.fetch(_NUMBER_SQLITE, now, _pairs(per_chat))
    # each chat's ids continue from the head it had: base + 1, base + 2, ...
    next_id = {r["id"]: r["last_message_id"] - per_chat[r["id"]] for r in heads}
    ids = []
    for s in sends:
        next_id[s.chat_id] += 1
        ids.append(next_id[s.chat_id])
    await tx.executemany(
        f"INSERT INTO messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                s.chat_id,
                message_id,
                s.sender_id,
                now,
                s.text,
                s.entities,
                s.search_text,
                s.random_id,
                int(s.no_link_preview),
            )
            for s, message_id in zip(sends, ids, strict=True)
        ],
    )
    newest = {(s.chat_id, s.sender_id): m for s, m in zip(sends, ids, strict=True)}
    await tx.executemany(
        "UPDATE chat_members SET read_inbox_max_id = ?"
        " WHERE chat_id = ? AND user_id = ? AND read_inbox_max_id < ?",
        [(m, c, u, m) for (c, u), m in newest.items()],
    )
    per_user: dict[int, int] = {}
    for s in sends:
        for user_id in s.recipients:
            per_user[user_id] = per_user.get(user_id, 0) + 1
    given = {
        r["id"]: list(range(r["pts"] - per_user[r["id"]] + 1, r["pts"] + 1))
        for r in await tx.fetch(_ADVANCE_SQLITE, _pairs(per_user))
    }
    positions = _positions(sends, ids, given)
    await tx.executemany(
        "INSERT INTO updates (user_id, pts, kind, chat_id, data, date)"
        " VALUES (?, ?, 'new_message', ?, ?, ?)",
        [
            (user_id, pts, s.chat_id, _pointer(message_id), now)
            for s, (message_id, pts_by_user) in zip(sends, positions, strict=True)
            for user_id, pts in pts_by_user.items()
        ],
    )
    return positions


def _pairs(counts: dict[int, int]) -> str:
    """(id, count) pairs as JSON, for `json_each`: one statement whatever their number."""
    return orjson.dumps(list(counts.items())).decode()


def _pointer(message_id: int) -> str:
    return orjson.dumps({"message_id": message_id}).decode()


def _positions(
    sends: list[PlainRow], ids: list[int], given: dict[int, list[int]]
) -> list[tuple[int, dict[int, int]]]:
    """Each send's id and its recipients' pts, handing each user's pts out in order."""
    handed: dict[int, int] = {}
    found = []
    for s, message_id in zip(sends, ids, strict=True):
        pts_by_user = {}
        for user_id in s.recipients:
            if user_id in given:  # else no such user: no box
                n = handed.get(user_id, 0)
                handed[user_id] = n + 1
                pts_by_user[user_id] = given[user_id][n]
        found.append((message_id, pts_by_user))
    return found


_COLUMNS = "chat_id, id, sender_id, date, text, entities, search_text, random_id, no_link_preview"

# Advance counters by each one's count (SQLite 3.33 and later: UPDATE ... FROM)
_COUNTS_SQLITE = (
    "(SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS n"
    " FROM json_each(?)) AS v"
)
_NUMBER_SQLITE = (
    "UPDATE chats SET last_message_id = last_message_id + v.n, last_activity = ?"
    f" FROM {_COUNTS_SQLITE} WHERE chats.id = v.id RETURNING chats.id, chats.last_message_id"
)
_ADVANCE_SQLITE = (
    f"UPDATE users SET pts = pts + v.n FROM {_COUNTS_SQLITE} WHERE users.id = v.id"
    " RETURNING users.id, users.pts"
)

# The whole batch in one statement. Rows are locked in the order every writer takes them
# (decision 0012): the chats, then the senders' rows in them (`r`), then the users; the
# branches of the final UNION ALL run in that order, which fixes it. Each message is
# numbered from its chat's head in the order given (`m`); each recipient's updates take
# consecutive pts in the order given (`b`). Returns ("m", send index, message id) and
# ("u", user id, pts) rows.
_WRITE_POSTGRES = (
    "WITH s AS (SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[],"
    " ?::text[], ?::bigint[], ?::int[]) WITH ORDINALITY"
    " AS s(chat_id, sender_id, text, entities, search_text, random_id, no_link_preview, i)),"
    " n AS (SELECT chat_id, count(*) AS n FROM s GROUP BY chat_id),"
    " lc AS (SELECT id FROM chats WHERE id IN (SELECT chat_id FROM n) ORDER BY id FOR UPDATE),"
    " c AS (UPDATE chats SET last_message_id = chats.last_message_id + n.n, last_activity = ?"
    " FROM n WHERE chats.id = n.chat_id AND chats.id IN (SELECT id FROM lc)"
    " RETURNING chats.id, chats.last_message_id - n.n AS base),"
    " m AS (SELECT s.*, c.base + row_number() OVER (PARTITION BY s.chat_id ORDER BY s.i) AS id"
    " FROM s JOIN c ON c.id = s.chat_id),"
    f" stored AS (INSERT INTO messages ({_COLUMNS}) SELECT chat_id, id, sender_id, ?::bigint,"
    " text, entities, search_text, random_id, no_link_preview FROM m),"
    " r AS (UPDATE chat_members SET read_inbox_max_id = x.top FROM (SELECT chat_id, sender_id,"
    " max(id) AS top FROM m GROUP BY chat_id, sender_id) x WHERE chat_members.chat_id ="
    " x.chat_id AND chat_members.user_id = x.sender_id AND chat_members.read_inbox_max_id < x.top"
    " RETURNING 1),"
    " e AS (SELECT * FROM unnest(?::bigint[], ?::bigint[]) WITH ORDINALITY AS e(user_id, i, j)),"
    " k AS (SELECT user_id, count(*) AS n FROM e GROUP BY user_id),"
    " lu AS (SELECT id FROM users WHERE id IN (SELECT user_id FROM k) ORDER BY id FOR UPDATE),"
    " p AS (UPDATE users SET pts = users.pts + k.n FROM k WHERE users.id = k.user_id"
    " AND users.id IN (SELECT id FROM lu) RETURNING users.id, users.pts - k.n AS base),"
    " b AS (INSERT INTO updates (user_id, pts, kind, chat_id, data, date)"
    " SELECT e.user_id, p.base + row_number() OVER (PARTITION BY e.user_id ORDER BY e.j),"
    " 'new_message', m.chat_id, '{\"message_id\": ' || m.id || '}', ?::bigint"
    " FROM e JOIN p ON p.id = e.user_id JOIN m ON m.i = e.i RETURNING user_id, pts)"
    " SELECT 'm' AS what, i AS a, id AS b FROM m"
    " UNION ALL SELECT 'r', count(*), 0 FROM r"
    " UNION ALL SELECT 'u', user_id, pts FROM b"
)
