"""Messages, stored once per chat, with per-user hiding, pins and reactions."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
from pydantic import TypeAdapter

from heliograph.domain.entities import (
    Discussion,
    ForwardOrigin,
    Message,
    MessageEntity,
    Reaction,
)
from heliograph.domain.media import LinkPreview, Media
from heliograph.store import chats
from heliograph.store.db import Conn, Row, among

MEDIA = TypeAdapter(Media)
PREVIEW = TypeAdapter(LinkPreview)

_COLUMNS = (
    "m.chat_id, m.id, m.sender_id, m.date, m.text, m.entities, m.reply_to_id, m.forward,"
    " m.edit_date, m.service, m.anonymous, m.signature, m.views, m.reply_count,"
    " m.discussion_chat_id, m.discussion_message_id, m.media, m.grouped_id, m.link_preview,"
    " m.reply_markup, m.via_bot_id"
)
_VISIBLE = (
    " NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ?"
    " AND h.chat_id = m.chat_id AND h.message_id = m.id)"
)


class RandomIdTaken(Exception):
    """The sender has a message with this `random_id` already: the send is a retry. The
    transaction is spoilt (on PostgreSQL a failed statement aborts it): roll it back."""


def is_random_id_conflict(error: Exception) -> bool:
    if isinstance(error, sqlite3.IntegrityError):
        return "messages.random_id" in str(error)
    return getattr(error, "constraint_name", None) == "messages_random"  # asyncpg's


_INSERT_COLUMNS = (
    "chat_id, id, sender_id, date, text, entities, reply_to_id, forward, search_text,"
    " random_id, service, anonymous, signature, media, grouped_id, no_link_preview,"
    " reply_markup, via_bot_id"
)
_INSERT_REST = ", ".join(["?"] * 16)


# One round trip on PostgreSQL for what takes three statements on SQLite (which allows no
# UPDATE inside WITH): number the message from its chat's counter, store it, and move the
# sender's read pointer to it.
_INSERT_NEXT_POSTGRES = (
    "WITH n AS (UPDATE chats SET last_message_id = last_message_id + 1, last_activity = ?"
    " WHERE id = ? RETURNING last_message_id AS id),"
    " r AS (UPDATE chat_members SET read_inbox_max_id = (SELECT id FROM n)"
    " WHERE chat_id = ? AND user_id = ? AND read_inbox_max_id < (SELECT id FROM n))"
    f" INSERT INTO messages ({_INSERT_COLUMNS}) VALUES (?, (SELECT id FROM n), {_INSERT_REST})"
    " RETURNING id"
)


async def insert_next(
    tx: Conn,
    *,
    chat_id: int,
    sender_id: int,
    date: int,
    text: str,
    entities: list[MessageEntity],
    reply_to_id: int | None,
    forward: ForwardOrigin | None,
    search_text: str,
    random_id: int | None,
    service: dict[str, Any] | None = None,
    anonymous: bool = False,
    signature: str | None = None,
    media: Media | None = None,
    grouped_id: int | None = None,
    no_link_preview: bool = False,
    reply_markup: dict[str, Any] | None = None,
    via_bot_id: int | None = None,
) -> int:
    """Store a new message under its chat's next id and return the id; the sender's read
    pointer moves to it (sending is reading: they have seen their own message). Raises
    RandomIdTaken when the sender used `random_id` before."""
    rest = (
        sender_id,
        date,
        text,
        orjson.dumps(entities).decode(),
        reply_to_id,
        None if forward is None else orjson.dumps(forward).decode(),
        search_text,
        random_id,
        None if service is None else orjson.dumps(service).decode(),
        int(anonymous),
        signature,
        None if media is None else orjson.dumps(media).decode(),
        grouped_id,
        int(no_link_preview),
        None if reply_markup is None else orjson.dumps(reply_markup).decode(),
        via_bot_id,
    )
    try:
        if tx.dialect == "postgres":
            message_id: int = await tx.fetchval(
                _INSERT_NEXT_POSTGRES, date, chat_id, chat_id, sender_id, chat_id, *rest
            )
            return message_id
        message_id = await chats.next_message_id(tx, chat_id, date)
        await tx.execute(
            f"INSERT INTO messages ({_INSERT_COLUMNS}) VALUES (?, ?, {_INSERT_REST})",
            chat_id,
            message_id,
            *rest,
        )
        await chats.raise_read_pointer(tx, chat_id, sender_id, message_id)
        return message_id
    except Exception as e:
        if random_id is not None and is_random_id_conflict(e):
            raise RandomIdTaken(random_id) from e
        raise


async def by_random_id(conn: Conn, sender_id: int, random_id: int) -> tuple[int, int] | None:
    row = await conn.fetchrow(
        "SELECT chat_id, id FROM messages WHERE sender_id = ? AND random_id = ?",
        sender_id,
        random_id,
    )
    return None if row is None else (row["chat_id"], row["id"])


async def get_rows(conn: Conn, chat_id: int, ids: list[int], viewer_id: int) -> list[Row]:
    if not ids:
        return []
    test, args = among(conn, ids)
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM messages m WHERE m.chat_id = ? AND m.id {test}"
        f" AND {_VISIBLE} ORDER BY m.id",
        chat_id,
        *args,
        viewer_id,
    )


async def history_rows(
    conn: Conn, chat_id: int, viewer_id: int, offset_id: int | None, newer: bool, limit: int
) -> list[Row]:
    """Up to `limit` messages before `offset_id` (newest first) or after it (oldest first)."""
    if newer:
        sql = f" AND m.id > ? ORDER BY m.id ASC LIMIT ?"  # noqa: F541
        anchor = offset_id or 0
    else:
        sql = " AND m.id < ? ORDER BY m.id DESC LIMIT ?"
        anchor = offset_id if offset_id is not None else 2**62
    return await conn.fetch(
        f"SELECT {_COLUMNS} FROM messages m WHERE m.chat_id = ? AND {_VISIBLE}{sql}",
        chat_id,
        viewer_id,
        anchor,
        limit,
    )


async def history_around(
    conn: Conn, chat_id: int, viewer_id: int, around_id: int, limit: int
) -> list[Row]:
    """Up to `limit` messages centred on `around_id`, oldest first: about half at or before it
    (it is the last of those when visible), the rest after it; where one side runs out, more
    of the other. Two indexed range reads of at most `limit` rows each."""
    older = await history_rows(conn, chat_id, viewer_id, around_id + 1, False, limit)
    newer = await history_rows(conn, chat_id, viewer_id, around_id, True, limit)
    half = (limit + 1) // 2
    take_newer = min(len(newer), limit - min(len(older), half))
    take_older = min(len(older), limit - take_newer)
    return list(reversed(older[:take_older])) + newer[:take_newer]


async def last_visible_rows(conn: Conn, chat_ids: list[int], viewer_id: int) -> dict[int, Row]:
    """The newest message each chat shows this viewer (one indexed lookup per chat)."""
    found: dict[int, Row] = {}
    for chat_id in chat_ids:
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM messages m WHERE m.chat_id = ? AND {_VISIBLE}"
            " ORDER BY m.id DESC LIMIT 1",
            chat_id,
            viewer_id,
        )
        if row is not None:
            found[chat_id] = row
    return found


async def search_rows(
    conn: Conn,
    viewer_id: int,
    pattern: str,
    chat_id: int | None,
    before: tuple[int, int, int] | None,
    limit: int,
) -> list[Row]:
    """Messages whose normalised text contains `pattern` (a LIKE pattern), newest first, in the
    viewer's chats. `before` is the (date, chat_id, id) of the last result of the previous page."""
    sql = (
        f"SELECT {_COLUMNS} FROM messages m JOIN chat_members cm ON cm.chat_id = m.chat_id"
        " AND cm.user_id = ? AND cm.role IN ('owner', 'admin', 'member', 'restricted')"
        " WHERE m.search_text LIKE ? ESCAPE '\\' AND m.service IS NULL"
        f" AND {_VISIBLE}"
    )
    args: list[object] = [viewer_id, pattern, viewer_id]
    if chat_id is not None:
        sql += " AND m.chat_id = ?"
        args.append(chat_id)
    if before is not None:
        sql += (
            " AND (m.date < ? OR (m.date = ? AND (m.chat_id < ? OR (m.chat_id = ? AND m.id < ?))))"
        )
        args += [before[0], before[0], before[1], before[1], before[2]]
    sql += " ORDER BY m.date DESC, m.chat_id DESC, m.id DESC LIMIT ?"
    args.append(limit)
    return await conn.fetch(sql, *args)


async def edit(
    tx: Conn,
    chat_id: int,
    message_id: int,
    text: str,
    entities: list[MessageEntity],
    search_text: str,
    edit_date: int,
) -> None:
    await tx.execute(
        "UPDATE messages SET text = ?, entities = ?, search_text = ?, edit_date = ?"
        " WHERE chat_id = ? AND id = ?",
        text,
        orjson.dumps(entities).decode(),
        search_text,
        edit_date,
        chat_id,
        message_id,
    )


async def delete(tx: Conn, chat_id: int, ids: list[int]) -> None:
    test, args = among(tx, ids)
    for table, column in (
        ("reactions", "message_id"),
        ("pinned_messages", "message_id"),
        ("mentions", "message_id"),
        ("hashtags", "message_id"),
        ("message_views", "message_id"),
        ("message_files", "message_id"),
    ):
        await tx.execute(
            f"DELETE FROM {table} WHERE chat_id = ? AND {column} {test}", chat_id, *args
        )
    await tx.execute(f"DELETE FROM messages WHERE chat_id = ? AND id {test}", chat_id, *args)


async def hide(tx: Conn, user_id: int, chat_id: int, ids: list[int]) -> None:
    await tx.executemany(
        "INSERT INTO hidden_messages (user_id, chat_id, message_id) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(user_id, chat_id, i) for i in ids],
    )


async def ids_by_sender(conn: Conn, sender_id: int) -> list[tuple[int, int]]:
    rows = await conn.fetch(
        "SELECT chat_id, id FROM messages WHERE sender_id = ? ORDER BY chat_id, id", sender_id
    )
    return [(r["chat_id"], r["id"]) for r in rows]


# --- pins -----------------------------------------------------------------------------------


async def pin(tx: Conn, chat_id: int, message_id: int) -> bool:
    return (
        await tx.execute(
            "INSERT INTO pinned_messages (chat_id, message_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            chat_id,
            message_id,
        )
        > 0
    )


async def unpin(tx: Conn, chat_id: int, message_id: int) -> bool:
    return (
        await tx.execute(
            "DELETE FROM pinned_messages WHERE chat_id = ? AND message_id = ?", chat_id, message_id
        )
        > 0
    )


async def pinned_ids(conn: Conn, chat_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT message_id FROM pinned_messages WHERE chat_id = ? ORDER BY message_id DESC",
        chat_id,
    )
    return [r["message_id"] for r in rows]


# --- reactions ------------------------------------------------------------------------------


async def set_reaction(tx: Conn, chat_id: int, message_id: int, user_id: int, emoji: str) -> None:
    await tx.execute(
        "INSERT INTO reactions (chat_id, message_id, user_id, emoji) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (chat_id, message_id, user_id) DO UPDATE SET emoji = excluded.emoji",
        chat_id,
        message_id,
        user_id,
        emoji,
    )


async def remove_reaction(tx: Conn, chat_id: int, message_id: int, user_id: int) -> int:
    return await tx.execute(
        "DELETE FROM reactions WHERE chat_id = ? AND message_id = ? AND user_id = ?",
        chat_id,
        message_id,
        user_id,
    )


REACTORS_SHOWN = 10


async def reactions_for(conn: Conn, chat_id: int, ids: list[int]) -> dict[int, list[Reaction]]:
    if not ids:
        return {}
    test, args = among(conn, ids)
    rows = await conn.fetch(
        "SELECT message_id, emoji, user_id FROM reactions"
        f" WHERE chat_id = ? AND message_id {test} ORDER BY message_id, user_id",
        chat_id,
        *args,
    )
    grouped: dict[int, dict[str, list[int]]] = {}
    for r in rows:
        grouped.setdefault(r["message_id"], {}).setdefault(r["emoji"], []).append(r["user_id"])
    return {
        message_id: sorted(
            (
                Reaction(emoji=e, count=len(u), user_ids=u[:REACTORS_SHOWN])
                for e, u in by_emoji.items()
            ),
            key=lambda r: (-r.count, r.emoji),
        )
        for message_id, by_emoji in grouped.items()
    }


# --- rows to entities -----------------------------------------------------------------------


def to_message(
    row: Row,
    reactions: dict[int, list[Reaction]],
    pinned: set[int] | frozenset[int],
    comments: dict[int, int] | None = None,
) -> Message:
    forward = None
    if row["forward"]:
        forward = ForwardOrigin(**orjson.loads(row["forward"]))
    anonymous = bool(row["anonymous"])
    discussion = None
    if row["discussion_chat_id"] is not None:
        discussion = Discussion(
            row["discussion_chat_id"],
            row["discussion_message_id"],
            comments.get(row["id"], 0) if comments else 0,
        )
    return Message(
        id=row["id"],
        chat_id=row["chat_id"],
        sender_id=None if anonymous else row["sender_id"],
        date=row["date"],
        text=row["text"],
        entities=[MessageEntity(**e) for e in orjson.loads(row["entities"])],
        reply_to_message_id=row["reply_to_id"],
        forward_origin=forward,
        edit_date=row["edit_date"],
        pinned=row["id"] in pinned,
        reactions=reactions.get(row["id"], []),
        service=None if row["service"] is None else orjson.loads(row["service"]),
        sender_chat_id=row["chat_id"] if anonymous else None,
        signature=row["signature"],
        views=row["views"] or None,
        reply_count=row["reply_count"],
        discussion=discussion,
        media=None if row["media"] is None else MEDIA.validate_json(row["media"]),
        grouped_id=row["grouped_id"],
        link_preview=(
            None if row["link_preview"] is None else PREVIEW.validate_json(row["link_preview"])
        ),
        reply_markup=None if row["reply_markup"] is None else orjson.loads(row["reply_markup"]),
        via_bot_id=row["via_bot_id"],
    )


async def hydrate(conn: Conn, chat_id: int, rows: list[Row]) -> list[Message]:
    """Turn rows of one chat into Messages with their reactions, pin marks and comments."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    reactions = await reactions_for(conn, chat_id, ids)
    pinned = set(await pinned_ids(conn, chat_id))
    comments: dict[int, int] = {}
    for r in rows:
        if r["discussion_chat_id"] is not None:
            count = await conn.fetchval(
                "SELECT reply_count FROM messages WHERE chat_id = ? AND id = ?",
                r["discussion_chat_id"],
                r["discussion_message_id"],
            )
            comments[r["id"]] = count or 0
    return [to_message(r, reactions, pinned, comments) for r in rows]


async def sender_of(conn: Conn, chat_id: int, message_id: int) -> int | None:
    """The real author, also of anonymous posts (for edit rights and reply notifications)."""
    sender: int | None = await conn.fetchval(
        "SELECT sender_id FROM messages WHERE chat_id = ? AND id = ?", chat_id, message_id
    )
    return sender


async def count_reply(tx: Conn, chat_id: int, message_id: int) -> None:
    await tx.execute(
        "UPDATE messages SET reply_count = reply_count + 1 WHERE chat_id = ? AND id = ?",
        chat_id,
        message_id,
    )


async def uncount_replies(tx: Conn, chat_id: int, ids: list[int]) -> list[int]:
    """Messages `ids` are going: lower the reply count of what they replied to; returns those
    messages (in the same chat)."""
    test, args = among(tx, ids)
    rows = await tx.fetch(
        "SELECT reply_to_id, COUNT(*) AS n FROM messages"
        f" WHERE chat_id = ? AND id {test} AND reply_to_id IS NOT NULL"
        " GROUP BY reply_to_id ORDER BY reply_to_id",
        chat_id,
        *args,
    )
    for row in rows:
        await tx.execute(
            "UPDATE messages SET reply_count = CASE WHEN reply_count > ? THEN reply_count - ?"
            " ELSE 0 END WHERE chat_id = ? AND id = ?",
            row["n"],
            row["n"],
            chat_id,
            row["reply_to_id"],
        )
    return [row["reply_to_id"] for row in rows]


async def discussion_post(conn: Conn, chat_id: int, message_id: int) -> tuple[int, int, int] | None:
    """When the message is a channel post's copy in its discussion group: the channel, the
    post and the number of comments (replies to the copy). Two lookups by primary key."""
    row = await conn.fetchrow(
        "SELECT forward, reply_count FROM messages WHERE chat_id = ? AND id = ?",
        chat_id,
        message_id,
    )
    if row is None or not row["forward"]:
        return None
    origin = orjson.loads(row["forward"])
    post = await conn.fetchrow(
        "SELECT discussion_chat_id, discussion_message_id FROM messages"
        " WHERE chat_id = ? AND id = ?",
        origin["chat_id"],
        origin["message_id"],
    )
    if post is None or (post["discussion_chat_id"], post["discussion_message_id"]) != (
        chat_id,
        message_id,
    ):
        return None
    return origin["chat_id"], origin["message_id"], row["reply_count"]


async def set_discussion(
    tx: Conn, chat_id: int, message_id: int, discussion_chat_id: int, discussion_message_id: int
) -> None:
    await tx.execute(
        "UPDATE messages SET discussion_chat_id = ?, discussion_message_id = ?"
        " WHERE chat_id = ? AND id = ?",
        discussion_chat_id,
        discussion_message_id,
        chat_id,
        message_id,
    )


async def add_mentions(tx: Conn, chat_id: int, message_id: int, user_ids: list[int]) -> None:
    await tx.executemany(
        "INSERT INTO mentions (user_id, chat_id, message_id) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(u, chat_id, message_id) for u in user_ids],
    )


async def unread_mentions(conn: Conn, user_id: int, chat_id: int, read_max_id: int) -> int:
    n: int = await conn.fetchval(
        "SELECT COUNT(*) FROM mentions WHERE user_id = ? AND chat_id = ? AND message_id > ?",
        user_id,
        chat_id,
        read_max_id,
    )
    return n


async def add_hashtags(tx: Conn, chat_id: int, message_id: int, tags: list[str], date: int) -> None:
    await tx.executemany(
        "INSERT INTO hashtags (tag, chat_id, message_id, date) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(t, chat_id, message_id, date) for t in tags],
    )


async def replace_hashtags(
    tx: Conn, chat_id: int, message_id: int, tags: list[str], date: int
) -> None:
    await tx.execute(
        "DELETE FROM hashtags WHERE chat_id = ? AND message_id = ?", chat_id, message_id
    )
    await add_hashtags(tx, chat_id, message_id, tags, date)


async def count_view(tx: Conn, chat_id: int, message_id: int, user_id: int) -> bool:
    """Count a view once per user; True when this one counted."""
    added = await tx.execute(
        "INSERT INTO message_views (chat_id, message_id, user_id) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        chat_id,
        message_id,
        user_id,
    )
    if added:
        await tx.execute(
            "UPDATE messages SET views = views + 1 WHERE chat_id = ? AND id = ?",
            chat_id,
            message_id,
        )
    return added > 0


async def set_link_preview(
    tx: Conn, chat_id: int, message_id: int, preview: LinkPreview | None
) -> None:
    await tx.execute(
        "UPDATE messages SET link_preview = ? WHERE chat_id = ? AND id = ?",
        None if preview is None else orjson.dumps(preview).decode(),
        chat_id,
        message_id,
    )


async def ids_in_group(conn: Conn, chat_id: int, grouped_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT id FROM messages WHERE chat_id = ? AND grouped_id = ? ORDER BY id",
        chat_id,
        grouped_id,
    )
    return [r["id"] for r in rows]


async def set_reply_markup(
    tx: Conn, chat_id: int, message_id: int, reply_markup: dict[str, Any] | None
) -> None:
    await tx.execute(
        "UPDATE messages SET reply_markup = ? WHERE chat_id = ? AND id = ?",
        None if reply_markup is None else orjson.dumps(reply_markup).decode(),
        chat_id,
        message_id,
    )


async def set_media(tx: Conn, chat_id: int, message_id: int, media: Media) -> None:
    await tx.execute(
        "UPDATE messages SET media = ? WHERE chat_id = ? AND id = ?",
        orjson.dumps(media).decode(),
        chat_id,
        message_id,
    )
