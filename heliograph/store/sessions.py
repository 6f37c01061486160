"""Signed-in sessions (one per device) and login codes."""

from __future__ import annotations

from heliograph.store.db import Conn, Row


async def insert(
    tx: Conn, user_id: int, token_hash: bytes, device_name: str, client: str, ip: str, now: int
) -> int:
    session_id: int = await tx.fetchval(
        "INSERT INTO sessions (user_id, token_hash, device_name, client, ip, created_at,"
        " last_active_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        user_id,
        token_hash,
        device_name,
        client,
        ip,
        now,
        now,
    )
    return session_id


async def by_token_hash(conn: Conn, token_hash: bytes) -> Row | None:
    return await conn.fetchrow(
        "SELECT s.id, s.user_id, s.last_active_at, s.ip, u.disabled, u.is_admin"
        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        token_hash,
    )


async def exists(conn: Conn, session_id: int) -> bool:
    return await conn.fetchrow("SELECT 1 FROM sessions WHERE id = ?", session_id) is not None


async def list_for_user(conn: Conn, user_id: int) -> list[Row]:
    return await conn.fetch(
        "SELECT id, device_name, client, ip, created_at, last_active_at FROM sessions"
        " WHERE user_id = ? ORDER BY last_active_at DESC",
        user_id,
    )


async def touch(tx: Conn, session_id: int, ip: str, now: int) -> None:
    await tx.execute(
        "UPDATE sessions SET last_active_at = ?, ip = ? WHERE id = ?", now, ip, session_id
    )


async def delete(tx: Conn, user_id: int, session_id: int) -> int:
    return await tx.execute(
        "DELETE FROM sessions WHERE id = ? AND user_id = ?", session_id, user_id
    )


async def delete_others(tx: Conn, user_id: int, keep_session_id: int | None) -> list[int]:
    rows = await tx.fetch(
        "DELETE FROM sessions WHERE user_id = ? AND id <> ? RETURNING id",
        user_id,
        keep_session_id if keep_session_id is not None else -1,
    )
    return [r["id"] for r in rows]


# --- login codes ----------------------------------------------------------------------------


async def insert_login_code(
    tx: Conn,
    code: str,
    secret_hash: bytes,
    device_name: str,
    client: str,
    ip: str,
    expires_at: int,
) -> None:
    await tx.execute(
        "INSERT INTO login_codes (code, secret_hash, device_name, client, ip, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        code,
        secret_hash,
        device_name,
        client,
        ip,
        expires_at,
    )


async def get_login_code(conn: Conn, code: str) -> Row | None:
    return await conn.fetchrow(
        "SELECT code, secret_hash, device_name, client, ip, expires_at, approved_by"
        " FROM login_codes WHERE code = ?",
        code,
    )


async def approve_login_code(tx: Conn, code: str, user_id: int) -> int:
    return await tx.execute(
        "UPDATE login_codes SET approved_by = ? WHERE code = ? AND approved_by IS NULL",
        user_id,
        code,
    )


async def delete_login_code(tx: Conn, code: str) -> None:
    await tx.execute("DELETE FROM login_codes WHERE code = ?", code)


async def delete_expired_login_codes(tx: Conn, now: int) -> None:
    await tx.execute("DELETE FROM login_codes WHERE expires_at < ?", now)
