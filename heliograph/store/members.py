"""Group and channel membership: roles, rights, member lists and the admin log."""

from __future__ import annotations

from typing import Any

import orjson

from heliograph.store.chats import MEMBER_COLUMNS
from heliograph.store.db import Conn, Row

ACTIVE = "('owner', 'admin', 'member', 'restricted')"
FILTERS = {
    "all": f"m.role IN {ACTIVE}",
    "admins": "m.role IN ('owner', 'admin')",
    "restricted": "m.role = 'restricted'",
    "banned": "m.role = 'banned'",
}


async def set_role(
    tx: Conn,
    chat_id: int,
    user_id: int,
    role: str,
    *,
    admin_rights: dict[str, bool] | None = None,
    admin_title: str = "",
    restrictions: dict[str, bool] | None = None,
    restricted_until: int = 0,
) -> None:
    await tx.execute(
        "UPDATE chat_members SET role = ?, admin_rights = ?, admin_title = ?, restrictions = ?,"
        " restricted_until = ? WHERE chat_id = ? AND user_id = ?",
        role,
        orjson.dumps(admin_rights or {}).decode(),
        admin_title,
        orjson.dumps(restrictions or {}).decode(),
        restricted_until,
        chat_id,
        user_id,
    )


async def ensure_row(tx: Conn, chat_id: int, user_id: int, role: str, now: int) -> None:
    """A row for someone not in the chat (to ban them before they ever join)."""
    await tx.execute(
        "INSERT INTO chat_members (chat_id, user_id, joined_at, role) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (chat_id, user_id) DO NOTHING",
        chat_id,
        user_id,
        now,
        role,
    )


async def page(
    conn: Conn, chat_id: int, which: str, name_key: str | None, after_user_id: int, limit: int
) -> list[Row]:
    """Members by user id, optionally those whose name or username contains `name_key`.
    The page is cut on chat_members' own key first, so every page costs the same."""
    inner = (
        f"SELECT {MEMBER_COLUMNS} FROM chat_members m WHERE m.chat_id = ? AND {FILTERS[which]}"
        " AND m.user_id > ?"
    )
    args: list[Any] = [chat_id, after_user_id]
    if name_key:
        inner += " AND m.name_key LIKE ? ESCAPE '\\'"
        args.append(f"%{name_key}%")
    inner += " ORDER BY m.user_id LIMIT ?"
    args.append(limit)
    columns = MEMBER_COLUMNS.replace("m.", "p.")
    return await conn.fetch(
        f"SELECT {columns}, u.display_name, u.username FROM ({inner}) p"
        " JOIN users u ON u.id = p.user_id ORDER BY p.user_id",
        *args,
    )


async def bulk_add(
    tx: Conn, chat_id: int, user_ids: list[int], now: int, read_inbox_max_id: int
) -> int:
    """Add many members in one statement per thousand (the administrator's bulk path)."""
    added = 0
    for start in range(0, len(user_ids), 1000):
        chunk = user_ids[start : start + 1000]
        marks = ",".join("(?, ?, ?, 'member', ?, '')" for _ in chunk)
        args: list[Any] = []
        for user_id in chunk:
            args += [chat_id, user_id, now, read_inbox_max_id]
        added += await tx.execute(
            "INSERT INTO chat_members (chat_id, user_id, joined_at, role, read_inbox_max_id,"
            f" name_key) VALUES {marks} ON CONFLICT DO NOTHING",
            *args,
        )
    return added


# --- admin log ------------------------------------------------------------------------------


async def log_action(
    tx: Conn, chat_id: int, actor_id: int | None, action: str, data: dict[str, Any], now: int
) -> None:
    await tx.execute(
        "INSERT INTO admin_log (chat_id, actor_id, action, data, date) VALUES (?, ?, ?, ?, ?)",
        chat_id,
        actor_id,
        action,
        orjson.dumps(data).decode(),
        now,
    )


async def admin_log(conn: Conn, chat_id: int, before_id: int | None, limit: int) -> list[Row]:
    return await conn.fetch(
        "SELECT id, actor_id, action, data, date FROM admin_log WHERE chat_id = ? AND id < ?"
        " ORDER BY id DESC LIMIT ?",
        chat_id,
        before_id if before_id is not None else 2**62,
        limit,
    )


# --- chats of this kind ---------------------------------------------------------------------


async def update_chat(tx: Conn, chat_id: int, **fields: Any) -> None:
    """Set the named chat columns (names come from our code, never from input)."""
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await tx.execute(f"UPDATE chats SET {assignments} WHERE id = ?", *fields.values(), chat_id)


async def chat_by_username(conn: Conn, username_key: str) -> int | None:
    chat_id: int | None = await conn.fetchval(
        "SELECT id FROM chats WHERE username_key = ? AND deleted = 0", username_key
    )
    return chat_id


async def search_public(conn: Conn, term: str, limit: int) -> list[Row]:
    """Public groups and channels whose title or username contains `term` (normalised)."""
    from heliograph.store.chats import CHAT_COLUMNS

    return await conn.fetch(
        f"SELECT {CHAT_COLUMNS} FROM chats c WHERE c.username_key IS NOT NULL AND c.deleted = 0"
        " AND (c.title_key LIKE ? ESCAPE '\\' OR c.username_key LIKE ? ESCAPE '\\')"
        " ORDER BY c.member_count DESC, c.id LIMIT ?",
        f"%{term}%",
        f"%{term}%",
        limit,
    )
