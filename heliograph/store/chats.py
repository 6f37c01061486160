"""Chats, membership and read pointers."""

from __future__ import annotations

from heliograph.store.db import Conn, Row, among


async def insert(tx: Conn, kind: str, private_key: str | None, title: str, now: int) -> int:
    chat_id: int = await tx.fetchval(
        "INSERT INTO chats (kind, private_key, title, created_at, last_activity)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        kind,
        private_key,
        title,
        now,
        now,
    )
    return chat_id


async def get(conn: Conn, chat_id: int) -> Row | None:
    return await conn.fetchrow(f"SELECT {CHAT_COLUMNS} FROM chats c WHERE c.id = ?", chat_id)


async def private_by_key(conn: Conn, private_key: str) -> int | None:
    chat_id: int | None = await conn.fetchval(
        "SELECT id FROM chats WHERE private_key = ?", private_key
    )
    return chat_id


async def add_member(
    tx: Conn,
    chat_id: int,
    user_id: int,
    now: int,
    role: str = "member",
    invited_by: int | None = None,
    invite_link_id: int | None = None,
    read_inbox_max_id: int = 0,
) -> bool:
    """Insert or re-activate a member (someone who left may come back). False when they
    already were an active member, also when a concurrent transaction made them one."""
    changed = await tx.execute(
        "INSERT INTO chat_members (chat_id, user_id, joined_at, role, invited_by, invite_link_id,"
        " read_inbox_max_id, name_key, is_bot) VALUES (?, ?, ?, ?, ?, ?, ?,"
        " COALESCE((SELECT LOWER(display_name) || ' ' || COALESCE(username_key, '')"
        " FROM users WHERE id = ?), ''), COALESCE((SELECT is_bot FROM users WHERE id = ?), 0))"
        " ON CONFLICT (chat_id, user_id) DO UPDATE SET role = excluded.role,"
        " joined_at = excluded.joined_at, invited_by = excluded.invited_by,"
        " invite_link_id = excluded.invite_link_id, admin_rights = '{}', restrictions = '{}',"
        " restricted_until = 0, read_inbox_max_id = excluded.read_inbox_max_id"
        f" WHERE chat_members.role NOT IN {ACTIVE_SQL}",
        chat_id,
        user_id,
        now,
        role,
        invited_by,
        invite_link_id,
        read_inbox_max_id,
        user_id,
        user_id,
    )
    return changed > 0


ACTIVE_SQL = "('owner', 'admin', 'member', 'restricted')"


async def admin_bot_ids(conn: Conn, chat_id: int) -> list[int]:
    """The bots administering a chat (through the partial index of bots)."""
    rows = await conn.fetch(
        "SELECT user_id FROM chat_members WHERE chat_id = ? AND is_bot = 1"
        " AND role IN ('owner', 'admin')",
        chat_id,
    )
    return [r["user_id"] for r in rows]


async def bot_member_ids(conn: Conn, chat_id: int) -> list[int]:
    """The bots in a chat (through a partial index: cheap in a chat of any size)."""
    rows = await conn.fetch(
        "SELECT user_id FROM chat_members WHERE chat_id = ? AND is_bot = 1"
        f" AND role IN {ACTIVE_SQL}",
        chat_id,
    )
    return [r["user_id"] for r in rows]


CHAT_COLUMNS = (
    "c.id, c.kind, c.private_key, c.title, c.about, c.username, c.created_at,"
    " c.last_message_id, c.last_activity, c.is_large, c.pts, c.member_count, c.owner_id,"
    " c.default_rights, c.slow_mode_seconds, c.signatures, c.linked_chat_id, c.max_read_id,"
    " c.deleted, c.photo"
)
MEMBER_COLUMNS = (
    "m.user_id, m.role, m.admin_rights, m.admin_title, m.restrictions, m.restricted_until,"
    " m.read_inbox_max_id, m.invited_by, m.invite_link_id, m.joined_at, m.last_sent_at,"
    " m.pin_order, m.archived"
)


async def membership(conn: Conn, chat_id: int, user_id: int) -> Row | None:
    """The chat and the user's row in it (any role, left and banned included)."""
    return await conn.fetchrow(
        f"SELECT {CHAT_COLUMNS}, {MEMBER_COLUMNS} FROM chats c"
        " JOIN chat_members m ON m.chat_id = c.id AND m.user_id = ? WHERE c.id = ?",
        user_id,
        chat_id,
    )


async def access_rows(conn: Conn, chat_id: int, user_id: int) -> list[Row]:
    """The chat and the user's row in it (like `membership`) with whether the user keeps a
    draft there (`has_draft`), repeated once per active member of a small chat with that
    member's id and deleted flag (`other_id`, `other_deleted`): all a request needs to know
    about a chat, in one statement. For a large chat, one row with `other_id` null. Empty
    when the user has no row in the chat."""
    return await conn.fetch(
        f"SELECT {_ACCESS} FROM chats c JOIN chat_members m ON m.chat_id = c.id AND m.user_id = ?"
        f" {_ACCESS_JOINS} WHERE c.id = ? ORDER BY o.user_id",
        user_id,
        chat_id,
    )


async def access_rows_many(conn: Conn, wanted: list[tuple[int, int]]) -> list[list[Row]]:
    """`access_rows` for each (chat_id, user_id): in one statement on PostgreSQL."""
    if conn.dialect != "postgres":
        return [await access_rows(conn, chat_id, user_id) for chat_id, user_id in wanted]
    rows = await conn.fetch(
        f"SELECT v.i, {_ACCESS} FROM unnest(?::bigint[], ?::bigint[]) WITH ORDINALITY"
        " AS v(chat_id, user_id, i) JOIN chats c ON c.id = v.chat_id"
        f" JOIN chat_members m ON m.chat_id = c.id AND m.user_id = v.user_id {_ACCESS_JOINS}"
        " ORDER BY v.i, o.user_id",
        [chat_id for chat_id, _ in wanted],
        [user_id for _, user_id in wanted],
    )
    found: list[list[Row]] = [[] for _ in wanted]
    for r in rows:
        found[r["i"] - 1].append(r)
    return found


_ACCESS = (
    f"{CHAT_COLUMNS}, {MEMBER_COLUMNS}, d.user_id IS NOT NULL AS has_draft,"
    " o.user_id AS other_id, ou.deleted AS other_deleted"
)
_ACCESS_JOINS = (
    "LEFT JOIN drafts d ON d.user_id = m.user_id AND d.chat_id = c.id"
    " LEFT JOIN chat_members o ON o.chat_id = c.id AND c.is_large = 0"
    f" AND o.role IN {ACTIVE_SQL}"
    " LEFT JOIN users ou ON ou.id = o.user_id"
)


async def member_row(conn: Conn, chat_id: int, user_id: int) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {MEMBER_COLUMNS} FROM chat_members m WHERE m.chat_id = ? AND m.user_id = ?",
        chat_id,
        user_id,
    )


async def member_ids(conn: Conn, chat_id: int) -> list[int]:
    """Active members (not those who left or were banned)."""
    rows = await conn.fetch(
        f"SELECT user_id FROM chat_members WHERE chat_id = ? AND role IN {ACTIVE_SQL}"
        " ORDER BY user_id",
        chat_id,
    )
    return [r["user_id"] for r in rows]


async def large_chats_of_user(conn: Conn, user_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT m.chat_id FROM chat_members m JOIN chats c ON c.id = m.chat_id"
        f" WHERE m.user_id = ? AND c.is_large = 1 AND m.role IN {ACTIVE_SQL}",
        user_id,
    )
    return [r["chat_id"] for r in rows]


async def chats_of_user(conn: Conn, user_id: int) -> list[int]:
    rows = await conn.fetch("SELECT chat_id FROM chat_members WHERE user_id = ?", user_id)
    return [r["chat_id"] for r in rows]


async def private_peers(conn: Conn, user_id: int) -> list[int]:
    """Everyone this user shares a private chat with."""
    rows = await conn.fetch(
        "SELECT o.user_id FROM chat_members m"
        " JOIN chats c ON c.id = m.chat_id AND c.kind = 'private'"
        " JOIN chat_members o ON o.chat_id = m.chat_id AND o.user_id <> m.user_id"
        " WHERE m.user_id = ?",
        user_id,
    )
    return [r["user_id"] for r in rows]


async def list_for_user(
    conn: Conn, user_id: int, limit: int, before: tuple[int, int] | None
) -> list[Row]:
    """The user's chats by last activity, newest first; `before` is (activity, chat_id)."""
    sql = (
        f"SELECT {CHAT_COLUMNS}, {MEMBER_COLUMNS} FROM chat_members m"
        f" JOIN chats c ON c.id = m.chat_id WHERE m.user_id = ? AND m.role IN {ACTIVE_SQL}"
    )
    args: list[object] = [user_id]
    if before is not None:
        sql += " AND (c.last_activity < ? OR (c.last_activity = ? AND c.id < ?))"
        args += [before[0], before[0], before[1]]
    sql += " ORDER BY c.last_activity DESC, c.id DESC LIMIT ?"
    args.append(limit)
    return await conn.fetch(sql, *args)


async def next_message_id(tx: Conn, chat_id: int, now: int) -> int:
    message_id: int = await tx.fetchval(
        "UPDATE chats SET last_message_id = last_message_id + 1, last_activity = ?"
        " WHERE id = ? RETURNING last_message_id",
        now,
        chat_id,
    )
    return message_id


async def raise_read_pointer(tx: Conn, chat_id: int, user_id: int, max_id: int) -> bool:
    """Move the read pointer forward only; False if it was already there or past."""
    changed = await tx.execute(
        "UPDATE chat_members SET read_inbox_max_id = ?"
        " WHERE chat_id = ? AND user_id = ? AND read_inbox_max_id < ?",
        max_id,
        chat_id,
        user_id,
        max_id,
    )
    return changed > 0


async def read_outbox_max_id(conn: Conn, chat_id: int, user_id: int) -> int:
    """How far the other members of a small chat have read: the highest of their pointers."""
    value: int | None = await conn.fetchval(
        "SELECT MAX(read_inbox_max_id) FROM chat_members WHERE chat_id = ? AND user_id <> ?",
        chat_id,
        user_id,
    )
    return value or 0


async def unread_count(conn: Conn, chat_id: int, user_id: int, read_max_id: int) -> int:
    n: int = await conn.fetchval(
        "SELECT COUNT(*) FROM messages m WHERE m.chat_id = ? AND m.id > ?"
        " AND (m.sender_id IS NULL OR m.sender_id <> ?)"
        " AND NOT EXISTS (SELECT 1 FROM hidden_messages h WHERE h.user_id = ?"
        " AND h.chat_id = m.chat_id AND h.message_id = m.id)",
        chat_id,
        read_max_id,
        user_id,
        user_id,
    )
    return n


# --- drafts ---------------------------------------------------------------------------------


async def save_draft(
    tx: Conn,
    user_id: int,
    chat_id: int,
    text: str,
    entities: str,
    reply_to_id: int | None,
    now: int,
) -> None:
    await tx.execute(
        "INSERT INTO drafts (user_id, chat_id, text, entities, reply_to_id, date)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, chat_id) DO UPDATE SET"
        " text = excluded.text, entities = excluded.entities,"
        " reply_to_id = excluded.reply_to_id, date = excluded.date",
        user_id,
        chat_id,
        text,
        entities,
        reply_to_id,
        now,
    )


async def clear_draft(tx: Conn, user_id: int, chat_id: int) -> int:
    return await tx.execute(
        "DELETE FROM drafts WHERE user_id = ? AND chat_id = ?", user_id, chat_id
    )


async def drafts_for(conn: Conn, user_id: int, chat_ids: list[int]) -> dict[int, Row]:
    if not chat_ids:
        return {}
    test, args = among(conn, chat_ids)
    rows = await conn.fetch(
        "SELECT chat_id, text, entities, reply_to_id, date FROM drafts"
        f" WHERE user_id = ? AND chat_id {test}",
        user_id,
        *args,
    )
    return {r["chat_id"]: r for r in rows}


async def touch_last_sent(tx: Conn, chat_id: int, user_id: int, now: int) -> None:
    await tx.execute(
        "UPDATE chat_members SET last_sent_at = ? WHERE chat_id = ? AND user_id = ?",
        now,
        chat_id,
        user_id,
    )


async def adjust_member_count(tx: Conn, chat_id: int, delta: int) -> int:
    count: int = await tx.fetchval(
        "UPDATE chats SET member_count = member_count + ? WHERE id = ? RETURNING member_count",
        delta,
        chat_id,
    )
    return count


async def row_as_access(conn: Conn, chat_id: int) -> Row | None:
    """The chat's columns shaped like a membership row, for acting on the system's behalf."""
    return await conn.fetchrow(
        f"SELECT {CHAT_COLUMNS}, 0 AS read_inbox_max_id, 0 AS last_sent_at FROM chats c"
        " WHERE c.id = ?",
        chat_id,
    )


async def raise_max_read(tx: Conn, chat_id: int, max_id: int) -> bool:
    changed = await tx.execute(
        "UPDATE chats SET max_read_id = ? WHERE id = ? AND max_read_id < ?",
        max_id,
        chat_id,
        max_id,
    )
    return changed > 0


async def leave_all_groups(tx: Conn, user_id: int) -> None:
    """A deleted account leaves every group and channel (private chats stay for the peer)."""
    await tx.execute(
        "UPDATE chats SET member_count = member_count - 1 WHERE kind <> 'private' AND id IN"
        f" (SELECT chat_id FROM chat_members WHERE user_id = ? AND role IN {ACTIVE_SQL})",
        user_id,
    )
    await tx.execute(
        "UPDATE chat_members SET role = 'left' WHERE user_id = ? AND chat_id IN"
        " (SELECT id FROM chats WHERE kind <> 'private')",
        user_id,
    )
