"""Sticker packs, their stickers and emoji, and each user's installed packs.

A pack's stickers have dense positions 0 … n-1; a user's installed packs are ordered by
position (ties, from concurrent installs, by pack id)."""

from __future__ import annotations

from heliograph.store.db import Conn, Row, among

# A sticker as messages and packs show it: its row, its pack's name, its file's type and size.
STICKER_COLUMNS = (
    "s.file_id, s.set_id, s.position, s.emoji, s.format, s.width, s.height, ss.short_name,"
    " f.mime_type, f.size"
)
_STICKER_FROM = (
    "stickers s JOIN sticker_sets ss ON ss.id = s.set_id JOIN files f ON f.id = s.file_id"
)
# A pack in a list: its row and how many stickers it has.
_SET_COLUMNS = (
    "ss.id, ss.short_name, ss.title, ss.owner_id, ss.version, ss.install_count,"
    " (SELECT COUNT(*) FROM stickers c WHERE c.set_id = ss.id) AS sticker_count"
)


# --- packs ----------------------------------------------------------------------------------


async def insert_set(
    tx: Conn,
    *,
    short_name: str,
    short_name_key: str,
    title: str,
    title_key: str,
    owner_id: int,
    now: int,
) -> int | None:
    """The new pack's id, or None when its short name is taken (even by a concurrent call)."""
    value = await tx.fetchval(
        "INSERT INTO sticker_sets (short_name, short_name_key, title, title_key, owner_id,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (short_name_key) DO NOTHING"
        " RETURNING id",
        short_name,
        short_name_key,
        title,
        title_key,
        owner_id,
        now,
    )
    return None if value is None else int(value)


async def get_set(conn: Conn, set_id: int) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {_SET_COLUMNS} FROM sticker_sets ss WHERE ss.id = ?", set_id
    )


async def set_id_by_name(conn: Conn, short_name_key: str) -> int | None:
    value = await conn.fetchval(
        "SELECT id FROM sticker_sets WHERE short_name_key = ?", short_name_key
    )
    return None if value is None else int(value)


async def bump_version(tx: Conn, set_id: int) -> Row | None:
    """Count a change of the pack; the pack (id, owner_id, version), or None if it is gone.

    On PostgreSQL the update locks the pack's row until commit, so changes to one pack
    run one at a time and positions and counts stay exact."""
    return await tx.fetchrow(
        "UPDATE sticker_sets SET version = version + 1 WHERE id = ?"
        " RETURNING id, owner_id, version",
        set_id,
    )


async def set_title(tx: Conn, set_id: int, title: str, title_key: str) -> None:
    await tx.execute(
        "UPDATE sticker_sets SET title = ?, title_key = ? WHERE id = ?", title, title_key, set_id
    )


async def delete_set(tx: Conn, set_id: int) -> None:
    """Remove the pack with its stickers, emoji and installs (cascades). The sticker files
    stay: messages that hold them still show them."""
    await tx.execute("DELETE FROM sticker_emoji WHERE set_id = ?", set_id)
    await tx.execute("DELETE FROM stickers WHERE set_id = ?", set_id)
    await tx.execute("DELETE FROM installed_sticker_sets WHERE set_id = ?", set_id)
    await tx.execute("DELETE FROM sticker_sets WHERE id = ?", set_id)


async def search(conn: Conn, term: str, limit: int) -> list[Row]:
    """Packs whose title (normalised) or short name contains `term`, an escaped LIKE term;
    the most installed first."""
    return await conn.fetch(
        f"SELECT {_SET_COLUMNS} FROM sticker_sets ss"
        " WHERE ss.title_key LIKE ? ESCAPE '\\' OR ss.short_name_key LIKE ? ESCAPE '\\'"
        " ORDER BY ss.install_count DESC, ss.id LIMIT ?",
        f"%{term}%",
        f"%{term}%",
        limit,
    )


async def covers(conn: Conn, set_ids: list[int]) -> dict[int, Row]:
    """Each pack's first sticker."""
    if not set_ids:
        return {}
    test, args = among(conn, set_ids)
    rows = await conn.fetch(
        f"SELECT {STICKER_COLUMNS} FROM {_STICKER_FROM} WHERE s.position = 0 AND s.set_id {test}",
        *args,
    )
    return {r["set_id"]: r for r in rows}


# --- stickers -------------------------------------------------------------------------------


async def insert_sticker(
    tx: Conn,
    *,
    file_id: str,
    set_id: int,
    position: int,
    emoji: list[str],
    keys: list[str],
    kind: str,
    width: int,
    height: int,
) -> None:
    await tx.execute(
        "INSERT INTO stickers (file_id, set_id, position, emoji, format, width, height)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        file_id,
        set_id,
        position,
        " ".join(emoji),
        kind,
        width,
        height,
    )
    await _insert_emoji(tx, file_id, set_id, keys)


async def _insert_emoji(tx: Conn, file_id: str, set_id: int, keys: list[str]) -> None:
    await tx.executemany(
        "INSERT INTO sticker_emoji (emoji, file_id, set_id) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(key, file_id, set_id) for key in keys],
    )


async def get_sticker(conn: Conn, file_id: str) -> Row | None:
    return await conn.fetchrow(
        f"SELECT {STICKER_COLUMNS} FROM {_STICKER_FROM} WHERE s.file_id = ?", file_id
    )


async def stickers_of(conn: Conn, set_id: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT {STICKER_COLUMNS} FROM {_STICKER_FROM} WHERE s.set_id = ? ORDER BY s.position",
        set_id,
    )


async def count(conn: Conn, set_id: int) -> int:
    return int(await conn.fetchval("SELECT COUNT(*) FROM stickers WHERE set_id = ?", set_id))


async def delete_sticker(tx: Conn, set_id: int, file_id: str, position: int) -> None:
    """Remove a sticker and close the gap it leaves."""
    await tx.execute("DELETE FROM sticker_emoji WHERE file_id = ?", file_id)
    await tx.execute("DELETE FROM stickers WHERE file_id = ?", file_id)
    await tx.execute(
        "UPDATE stickers SET position = position - 1 WHERE set_id = ? AND position > ?",
        set_id,
        position,
    )


async def move_sticker(tx: Conn, set_id: int, file_id: str, old: int, new: int) -> None:
    """Move a sticker from position `old` to `new`, shifting the ones between."""
    if new < old:
        await tx.execute(
            "UPDATE stickers SET position = position + 1"
            " WHERE set_id = ? AND position >= ? AND position < ?",
            set_id,
            new,
            old,
        )
    elif new > old:
        await tx.execute(
            "UPDATE stickers SET position = position - 1"
            " WHERE set_id = ? AND position > ? AND position <= ?",
            set_id,
            old,
            new,
        )
    await tx.execute("UPDATE stickers SET position = ? WHERE file_id = ?", new, file_id)


async def set_emoji(tx: Conn, set_id: int, file_id: str, emoji: list[str], keys: list[str]) -> None:
    await tx.execute("UPDATE stickers SET emoji = ? WHERE file_id = ?", " ".join(emoji), file_id)
    await tx.execute("DELETE FROM sticker_emoji WHERE file_id = ?", file_id)
    await _insert_emoji(tx, file_id, set_id, keys)


# --- installed packs ------------------------------------------------------------------------


async def install(tx: Conn, user_id: int, set_id: int) -> bool | None:
    """Put the pack first in the user's list; False if it was already installed, None if
    the pack is gone.

    The count goes up first: on PostgreSQL that locks the pack's row, so a deletion
    running at the same time waits rather than the insert failing its foreign key."""
    if not await tx.execute(
        "UPDATE sticker_sets SET install_count = install_count + 1 WHERE id = ?", set_id
    ):
        return None
    top = await tx.fetchval(
        "SELECT MIN(position) FROM installed_sticker_sets WHERE user_id = ?", user_id
    )
    added = await tx.execute(
        "INSERT INTO installed_sticker_sets (user_id, set_id, position) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        user_id,
        set_id,
        0 if top is None else int(top) - 1,
    )
    if not added:
        await tx.execute(
            "UPDATE sticker_sets SET install_count = install_count - 1 WHERE id = ?", set_id
        )
    return bool(added)


async def uninstall(tx: Conn, user_id: int, set_id: int) -> bool:
    removed = await tx.execute(
        "DELETE FROM installed_sticker_sets WHERE user_id = ? AND set_id = ?", user_id, set_id
    )
    if removed:
        await tx.execute(
            "UPDATE sticker_sets SET install_count = install_count - 1 WHERE id = ?", set_id
        )
    return bool(removed)


async def count_installed(conn: Conn, user_id: int) -> int:
    return int(
        await conn.fetchval(
            "SELECT COUNT(*) FROM installed_sticker_sets WHERE user_id = ?", user_id
        )
    )


async def installed_ids(conn: Conn, user_id: int) -> list[int]:
    """The user's installed packs' ids, in their order."""
    rows = await conn.fetch(
        "SELECT set_id FROM installed_sticker_sets WHERE user_id = ? ORDER BY position, set_id",
        user_id,
    )
    return [r["set_id"] for r in rows]


async def installed_sets(conn: Conn, user_id: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT {_SET_COLUMNS} FROM installed_sticker_sets i"
        " JOIN sticker_sets ss ON ss.id = i.set_id WHERE i.user_id = ?"
        " ORDER BY i.position, i.set_id",
        user_id,
    )


async def installed_among(conn: Conn, user_id: int, set_ids: list[int]) -> set[int]:
    if not set_ids:
        return set()
    test, args = among(conn, set_ids)
    rows = await conn.fetch(
        f"SELECT set_id FROM installed_sticker_sets WHERE user_id = ? AND set_id {test}",
        user_id,
        *args,
    )
    return {r["set_id"] for r in rows}


async def installers(conn: Conn, set_id: int) -> list[int]:
    rows = await conn.fetch("SELECT user_id FROM installed_sticker_sets WHERE set_id = ?", set_id)
    return [r["user_id"] for r in rows]


async def set_order(tx: Conn, user_id: int, set_ids: list[int]) -> None:
    """Number the user's packs 0 … n-1 in this order."""
    await tx.executemany(
        "UPDATE installed_sticker_sets SET position = ? WHERE user_id = ? AND set_id = ?",
        [(position, user_id, set_id) for position, set_id in enumerate(set_ids)],
    )


async def suggestions(conn: Conn, user_id: int, key: str, limit: int) -> list[Row]:
    """Stickers for an emoji (its suggestion key) in the user's installed packs: in the order
    of the packs, then of the stickers in each."""
    return await conn.fetch(
        f"SELECT {STICKER_COLUMNS} FROM sticker_emoji e"
        " JOIN installed_sticker_sets i ON i.set_id = e.set_id AND i.user_id = ?"
        " JOIN stickers s ON s.file_id = e.file_id"
        " JOIN sticker_sets ss ON ss.id = s.set_id JOIN files f ON f.id = s.file_id"
        " WHERE e.emoji = ? ORDER BY i.position, i.set_id, s.position LIMIT ?",
        user_id,
        key,
        limit,
    )
