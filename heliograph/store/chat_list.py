"""Each member's own arrangement of the chat list: pinned chats in order, and the archive."""

from __future__ import annotations

from heliograph.store.chats import ACTIVE_SQL, CHAT_COLUMNS, MEMBER_COLUMNS
from heliograph.store.db import Conn, Row

_PINNED = (
    "FROM chat_members m JOIN chats c ON c.id = m.chat_id"
    f" WHERE m.user_id = ? AND m.pin_order IS NOT NULL AND m.role IN {ACTIVE_SQL}"
    " AND c.deleted = 0 ORDER BY m.pin_order, m.chat_id"
)


async def pinned_chat_ids(conn: Conn, user_id: int) -> list[int]:
    """The user's pinned chats, first shown first (chats they have left drop out)."""
    rows = await conn.fetch(f"SELECT m.chat_id {_PINNED}", user_id)
    return [r["chat_id"] for r in rows]


async def pinned_chat_rows(conn: Conn, user_id: int) -> list[Row]:
    """The pinned chats as the chat list reads them, in order."""
    return await conn.fetch(f"SELECT {CHAT_COLUMNS}, {MEMBER_COLUMNS} {_PINNED}", user_id)


async def set_pin_order(tx: Conn, user_id: int, chat_id: int, order: int | None) -> None:
    await tx.execute(
        "UPDATE chat_members SET pin_order = ? WHERE chat_id = ? AND user_id = ?",
        order,
        chat_id,
        user_id,
    )


async def set_archived(tx: Conn, user_id: int, chat_id: int, archived: bool) -> None:
    await tx.execute(
        "UPDATE chat_members SET archived = ? WHERE chat_id = ? AND user_id = ?",
        int(archived),
        chat_id,
        user_id,
    )
