"""Invite links, join requests, and the lookups of discovery (public chats, hashtags).

A chat's primary link is told apart by the length of its code: the schema has no column for
it yet, and codes are made only here, so the rule lives in one place (`new_code`)."""

from __future__ import annotations

import secrets
from typing import Any

from heliograph.store.db import Conn, Row, among

_LINK = (
    "id, chat_id, code, creator_id, title, created_at, expires_at, usage_limit, usage_count,"
    " requires_approval, revoked"
)
_ACTIVE = "('owner', 'admin', 'member', 'restricted')"
# 16 random bytes (128 bits) give 22 url-safe characters; primary links get 18 bytes (24).
_CODE_BYTES = 16
_PRIMARY_CODE_BYTES = 18
_PRIMARY_CODE_LENGTH = 24


def new_code(primary: bool = False) -> str:
    """A random, unguessable code of url-safe characters."""
    return secrets.token_urlsafe(_PRIMARY_CODE_BYTES if primary else _CODE_BYTES)


def is_primary(code: str) -> bool:
    return len(code) == _PRIMARY_CODE_LENGTH


# --- links ----------------------------------------------------------------------------------


async def insert_link(
    tx: Conn,
    *,
    chat_id: int,
    code: str,
    creator_id: int,
    title: str,
    now: int,
    expires_at: int,
    usage_limit: int,
    requires_approval: bool,
) -> Row:
    row = await tx.fetchrow(
        "INSERT INTO invite_links (chat_id, code, creator_id, title, created_at, expires_at,"
        f" usage_limit, requires_approval) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_LINK}",
        chat_id,
        code,
        creator_id,
        title,
        now,
        expires_at,
        usage_limit,
        int(requires_approval),
    )
    assert row is not None
    return row


async def link_by_code(conn: Conn, code: str) -> Row | None:
    return await conn.fetchrow(f"SELECT {_LINK} FROM invite_links WHERE code = ?", code)


async def links_of_chat(
    conn: Conn,
    chat_id: int,
    creator_id: int | None,
    revoked: bool,
    before_id: int | None,
    limit: int,
) -> list[Row]:
    """A chat's links (or one creator's), newest first."""
    sql = f"SELECT {_LINK} FROM invite_links WHERE chat_id = ? AND revoked = ? AND id < ?"
    args: list[Any] = [chat_id, int(revoked), before_id if before_id is not None else 2**62]
    if creator_id is not None:
        sql += " AND creator_id = ?"
        args.append(creator_id)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit)
    return await conn.fetch(sql, *args)


async def count_active_links(conn: Conn, chat_id: int) -> int:
    n: int = await conn.fetchval(
        "SELECT COUNT(*) FROM invite_links WHERE chat_id = ? AND revoked = 0", chat_id
    )
    return n


async def primary_link(conn: Conn, chat_id: int) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {_LINK} FROM invite_links WHERE chat_id = ? AND revoked = 0"
        " AND LENGTH(code) = ? ORDER BY id DESC LIMIT 1",
        chat_id,
        _PRIMARY_CODE_LENGTH,
    )


async def revoke_link(tx: Conn, link_id: int) -> Row:
    row = await tx.fetchrow(
        f"UPDATE invite_links SET revoked = 1 WHERE id = ? RETURNING {_LINK}", link_id
    )
    assert row is not None
    return row


async def use_link(tx: Conn, link_id: int, now: int) -> bool:
    """Count one join through a link if it is still usable; False when it no longer is (the
    check and the increment are one statement, so two joiners cannot both take the last use)."""
    changed = await tx.execute(
        "UPDATE invite_links SET usage_count = usage_count + 1 WHERE id = ? AND revoked = 0"
        " AND (expires_at = 0 OR expires_at > ?)"
        " AND (usage_limit = 0 OR usage_count < usage_limit)",
        link_id,
        now,
    )
    return changed > 0


async def count_use(tx: Conn, link_id: int) -> None:
    """Count a join approved by an administrator (such links have no usage limit)."""
    await tx.execute("UPDATE invite_links SET usage_count = usage_count + 1 WHERE id = ?", link_id)


async def lock_chat(tx: Conn, chat_id: int) -> None:
    """Order concurrent writers of one chat's links (a row lock on PostgreSQL; SQLite has a
    single writer anyway)."""
    await tx.execute("UPDATE chats SET deleted = deleted WHERE id = ?", chat_id)


async def joined_through(
    conn: Conn, chat_id: int, link_id: int, before: tuple[int, int] | None, limit: int
) -> list[Row]:
    """Who joined through a link, newest first; `before` is (joined_at, user_id)."""
    sql = (
        "SELECT m.user_id, m.joined_at, m.role, u.display_name, u.username FROM chat_members m"
        " JOIN users u ON u.id = m.user_id WHERE m.chat_id = ? AND m.invite_link_id = ?"
    )
    args: list[Any] = [chat_id, link_id]
    if before is not None:
        sql += " AND (m.joined_at < ? OR (m.joined_at = ? AND m.user_id < ?))"
        args += [before[0], before[0], before[1]]
    sql += " ORDER BY m.joined_at DESC, m.user_id DESC LIMIT ?"
    args.append(limit)
    return await conn.fetch(sql, *args)


# --- join requests --------------------------------------------------------------------------
#
# A request is live while its user is not in the chat: no member row, or one that left before
# the request was made. (Someone added by other means and gone again does not resurrect it.)

_LIVE = (
    " LEFT JOIN chat_members m ON m.chat_id = r.chat_id AND m.user_id = r.user_id"
    " WHERE r.chat_id = ? AND u.deleted = 0"
    " AND (m.user_id IS NULL OR (m.role = 'left' AND r.date >= m.joined_at))"
)


async def live_request(conn: Conn, chat_id: int, user_id: int) -> Row | None:
    return await conn.fetchrow(
        "SELECT r.user_id, r.invite_link_id, r.date FROM join_requests r"
        f" JOIN users u ON u.id = r.user_id{_LIVE} AND r.user_id = ?",
        chat_id,
        user_id,
    )


async def save_request(
    tx: Conn, chat_id: int, user_id: int, invite_link_id: int | None, now: int
) -> None:
    await tx.execute(
        "INSERT INTO join_requests (chat_id, user_id, invite_link_id, date) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (chat_id, user_id) DO UPDATE SET invite_link_id = excluded.invite_link_id,"
        " date = excluded.date",
        chat_id,
        user_id,
        invite_link_id,
        now,
    )


async def delete_request(tx: Conn, chat_id: int, user_id: int) -> bool:
    """Remove a request; False if it was already gone (another administrator answered it)."""
    deleted = await tx.execute(
        "DELETE FROM join_requests WHERE chat_id = ? AND user_id = ?", chat_id, user_id
    )
    return deleted > 0


async def requests_page(
    conn: Conn, chat_id: int, before: tuple[int, int] | None, limit: int
) -> list[Row]:
    """Live requests, newest first, with who asks and through which link; `before` is
    (date, user_id) of the last one of the previous page."""
    sql = (
        "SELECT r.user_id, r.date, u.display_name, u.username, l.code FROM join_requests r"
        " JOIN users u ON u.id = r.user_id"
        " LEFT JOIN invite_links l ON l.id = r.invite_link_id" + _LIVE
    )
    args: list[Any] = [chat_id]
    if before is not None:
        sql += " AND (r.date < ? OR (r.date = ? AND r.user_id < ?))"
        args += [before[0], before[0], before[1]]
    sql += " ORDER BY r.date DESC, r.user_id DESC LIMIT ?"
    args.append(limit)
    return await conn.fetch(sql, *args)


async def count_requests(conn: Conn, chat_id: int) -> int:
    n: int = await conn.fetchval(
        f"SELECT COUNT(*) FROM join_requests r JOIN users u ON u.id = r.user_id{_LIVE}",
        chat_id,
    )
    return n


async def pending_by_link(conn: Conn, chat_id: int, link_ids: list[int]) -> dict[int, int]:
    """How many live requests came through each of these links."""
    if not link_ids:
        return {}
    test, args = among(conn, link_ids)
    rows = await conn.fetch(
        "SELECT r.invite_link_id AS link_id, COUNT(*) AS n FROM join_requests r"
        f" JOIN users u ON u.id = r.user_id{_LIVE} AND r.invite_link_id {test}"
        " GROUP BY r.invite_link_id",
        chat_id,
        *args,
    )
    return {r["link_id"]: r["n"] for r in rows}


async def admin_rows(conn: Conn, chat_id: int) -> list[Row]:
    """The owner and administrators, with their rights (a short list: indexed by role)."""
    return await conn.fetch(
        "SELECT user_id, role, admin_rights FROM chat_members"
        " WHERE chat_id = ? AND role IN ('owner', 'admin') ORDER BY user_id",
        chat_id,
    )


# --- discovery ------------------------------------------------------------------------------


async def roles_of(conn: Conn, user_id: int, chat_ids: list[int]) -> dict[int, str]:
    if not chat_ids:
        return {}
    test, args = among(conn, chat_ids)
    rows = await conn.fetch(
        f"SELECT chat_id, role FROM chat_members WHERE user_id = ? AND chat_id {test}",
        user_id,
        *args,
    )
    return {r["chat_id"]: r["role"] for r in rows}


async def public_chat_id(conn: Conn, chat_id: int) -> int | None:
    """The id back if the chat is a public (named) group or channel, else None."""
    found: int | None = await conn.fetchval(
        "SELECT id FROM chats WHERE id = ? AND username_key IS NOT NULL AND deleted = 0"
        " AND kind <> 'private'",
        chat_id,
    )
    return found


async def hashtag_keys(
    conn: Conn,
    tag: str,
    viewer_id: int,
    public: bool,
    before: tuple[int, int, int] | None,
    limit: int,
) -> list[tuple[int, int, int]]:
    """(date, chat_id, message_id) of messages carrying a normalised tag, newest first: in
    public chats the viewer is not banned from, or in the viewer's own chats."""
    if public:
        sql = (
            "SELECT h.date, h.chat_id, h.message_id FROM hashtags h JOIN chats c"
            " ON c.id = h.chat_id AND c.username_key IS NOT NULL AND c.deleted = 0"
            " WHERE h.tag = ? AND NOT EXISTS (SELECT 1 FROM chat_members b"
            " WHERE b.chat_id = h.chat_id AND b.user_id = ? AND b.role = 'banned')"
        )
    else:
        sql = (
            "SELECT h.date, h.chat_id, h.message_id FROM hashtags h JOIN chat_members cm"
            f" ON cm.chat_id = h.chat_id AND cm.user_id = ? AND cm.role IN {_ACTIVE}"
            " JOIN chats c ON c.id = h.chat_id AND c.deleted = 0 WHERE h.tag = ?"
        )
    args: list[Any] = [tag, viewer_id] if public else [viewer_id, tag]
    if before is not None:
        sql += (
            " AND (h.date < ? OR (h.date = ? AND (h.chat_id < ?"
            " OR (h.chat_id = ? AND h.message_id < ?))))"
        )
        args += [before[0], before[0], before[1], before[1], before[2]]
    sql += " ORDER BY h.date DESC, h.chat_id DESC, h.message_id DESC LIMIT ?"
    args.append(limit)
    rows = await conn.fetch(sql, *args)
    return [(r["date"], r["chat_id"], r["message_id"]) for r in rows]
