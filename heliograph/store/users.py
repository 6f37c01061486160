"""Accounts, profiles, privacy and contacts."""

from __future__ import annotations

from typing import Any

from heliograph.store.db import Conn, Row, among

_USER_COLUMNS = (
    "id, username, display_name, bio, created_at, last_seen_at, online_until, disabled, deleted,"
    " is_admin, "
    "privacy_last_seen, privacy_private_chats, pts, photo, is_bot"
)


async def insert(
    tx: Conn, username: str, username_key: str, display_name: str, password_hash: str, now: int
) -> int:
    user_id: int = await tx.fetchval(
        "INSERT INTO users (username, username_key, display_name, password_hash, created_at,"
        " last_seen_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        username,
        username_key,
        display_name,
        password_hash,
        now,
        now,
    )
    return user_id


async def get(conn: Conn, user_id: int) -> Row | None:
    return await conn.fetchrow(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", user_id)


async def get_many(conn: Conn, user_ids: list[int]) -> list[Row]:
    if not user_ids:
        return []
    test, args = among(conn, user_ids)
    return await conn.fetch(f"SELECT {_USER_COLUMNS} FROM users WHERE id {test} ORDER BY id", *args)


async def count_existing(conn: Conn, user_ids: list[int]) -> int:
    """How many of these ids are live accounts (in chunks: SQLite caps bound parameters)."""
    found = 0
    for start in range(0, len(user_ids), 1000):
        chunk = user_ids[start : start + 1000]
        test, args = among(conn, chunk)
        found += await conn.fetchval(
            f"SELECT COUNT(*) FROM users WHERE id {test} AND deleted = 0", *args
        )
    return found


async def get_by_username(conn: Conn, username_key: str) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM users WHERE username_key = ? AND deleted = 0", username_key
    )


async def password_hash(conn: Conn, user_id: int) -> str | None:
    value: str | None = await conn.fetchval("SELECT password_hash FROM users WHERE id = ?", user_id)
    return value


async def credentials_by_username(conn: Conn, username_key: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT id, password_hash, disabled FROM users WHERE username_key = ? AND deleted = 0",
        username_key,
    )


async def search(conn: Conn, prefix_key: str, limit: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT {_USER_COLUMNS} FROM users WHERE username_key LIKE ? ESCAPE '\\' AND deleted = 0"
        " ORDER BY username_key LIMIT ?",
        prefix_key + "%",
        limit,
    )


async def list_all(conn: Conn, limit: int, after_id: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT {_USER_COLUMNS} FROM users WHERE id > ? ORDER BY id LIMIT ?", after_id, limit
    )


async def update_fields(tx: Conn, user_id: int, **fields: Any) -> None:
    """Set the named columns (names come from our code, never from input)."""
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await tx.execute(f"UPDATE users SET {assignments} WHERE id = ?", *fields.values(), user_id)


async def touch_last_seen(tx: Conn, user_id: int, now: int) -> None:
    await tx.execute("UPDATE users SET last_seen_at = ? WHERE id = ?", now, user_id)


async def renew_presence(tx: Conn, user_ids: list[int], now: int, until: int) -> None:
    if tx.dialect == "postgres":
        # Locked in id order, as sends take users' rows (see store/updates.py).
        await tx.execute(
            "UPDATE users SET last_seen_at = ?, online_until = ? WHERE id IN"
            " (SELECT id FROM users WHERE id = ANY(?) ORDER BY id FOR UPDATE)",
            now,
            until,
            user_ids,
        )
        return
    for start in range(0, len(user_ids), 500):  # SQLite caps bound parameters
        test, args = among(tx, user_ids[start : start + 500])
        await tx.execute(
            f"UPDATE users SET last_seen_at = ?, online_until = ? WHERE id {test}",
            now,
            until,
            *args,
        )


async def next_pts(tx: Conn, user_ids: list[int]) -> dict[int, int]:
    """Advance each user's common box by one; their new pts (SQLite: its one writer needs
    no lock order)."""
    test, args = among(tx, user_ids)
    rows = await tx.fetch(
        f"UPDATE users SET pts = pts + 1 WHERE id {test} RETURNING id, pts", *args
    )
    return {r["id"]: r["pts"] for r in rows}


async def erase_private_data(tx: Conn, user_id: int) -> None:
    """What a deleted account leaves nowhere: contacts (both ways), drafts, its update box,
    reactions and its "deleted for me" marks."""
    for table in (
        "contacts",
        "drafts",
        "updates",
        "reactions",
        "hidden_messages",
        "installed_sticker_sets",
        "system_bot_dialogs",
    ):
        await tx.execute(f"DELETE FROM {table} WHERE user_id = ?", user_id)
    await tx.execute("DELETE FROM contacts WHERE contact_id = ?", user_id)


async def mark_deleted(tx: Conn, user_id: int) -> None:
    await tx.execute(
        "UPDATE users SET username = NULL, username_key = NULL, display_name = '', bio = '',"
        " password_hash = '', photo = NULL, deleted = 1, disabled = 1 WHERE id = ?",
        user_id,
    )


# --- contacts -------------------------------------------------------------------------------


async def add_contact(tx: Conn, user_id: int, contact_id: int, now: int) -> None:
    await tx.execute(
        "INSERT INTO contacts (user_id, contact_id, added_at) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        user_id,
        contact_id,
        now,
    )


async def remove_contact(tx: Conn, user_id: int, contact_id: int) -> int:
    return await tx.execute(
        "DELETE FROM contacts WHERE user_id = ? AND contact_id = ?", user_id, contact_id
    )


async def contact_ids(conn: Conn, user_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT contact_id FROM contacts WHERE user_id = ? ORDER BY added_at", user_id
    )
    return [r["contact_id"] for r in rows]


async def count_contacts(conn: Conn, user_id: int) -> int:
    n: int = await conn.fetchval("SELECT COUNT(*) FROM contacts WHERE user_id = ?", user_id)
    return n


async def has_contact(conn: Conn, user_id: int, contact_id: int) -> bool:
    row = await conn.fetchrow(
        "SELECT 1 FROM contacts WHERE user_id = ? AND contact_id = ?", user_id, contact_id
    )
    return row is not None


async def contacts_of(conn: Conn, contact_id: int, user_ids: list[int]) -> set[int]:
    """Which of `user_ids` have `contact_id` in their contact list."""
    if not user_ids:
        return set()
    test, args = among(conn, user_ids)
    rows = await conn.fetch(
        f"SELECT user_id FROM contacts WHERE contact_id = ? AND user_id {test}",
        contact_id,
        *args,
    )
    return {r["user_id"] for r in rows}
