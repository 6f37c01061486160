"""Sticker packs: made by users, shared by link, installed, searched and sent.

Any user makes packs from files they uploaded; each sticker gets a public file of its own
(the same stored bytes), so anyone holding the pack's link may preview it, and the uploaded
file stays as private as it was. Only a pack's creator changes it; every change bumps its
`version`. Each user keeps an ordered list of installed packs, which suggestions follow."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import Sticker
from heliograph.domain.stickers import (
    SetSticker,
    StickerSet,
    StickerSetInfo,
    check_emoji,
    emoji_key,
    short_name_key,
)
from heliograph.domain.text import escape_like, normalize_for_search
from heliograph.media.stickerfiles import StickerFile, check_sticker
from heliograph.services import files
from heliograph.services.context import App, Caller, Outbox
from heliograph.store import files as file_store
from heliograph.store import stickers as store
from heliograph.store.db import Conn, Row

_FILE_NAMES = {"image/png": "sticker.png", "image/webp": "sticker.webp"}
# users told at once when a pack they installed is deleted (one bus message per batch)
_EVENT_BATCH = 1000
CHANGED = {"type": "sticker_sets_changed"}


@dataclass(frozen=True, slots=True)
class StickerInput:
    """A sticker to add: an uploaded file of yours and the emoji it stands for."""

    file_id: str
    emoji: list[str]


@dataclass(frozen=True, slots=True)
class SetRef:
    """A pack named by its id or by its short name (the one in its link)."""

    set_id: int | None = None
    short_name: str | None = None


@dataclass(frozen=True, slots=True)
class _Checked:
    source: Row
    file: StickerFile
    emoji: list[str]


# --- reading --------------------------------------------------------------------------------


def to_sticker(row: Row) -> Sticker:
    return Sticker(
        file_id=row["file_id"],
        set_id=row["set_id"],
        set_name=row["short_name"],
        emoji=row["emoji"].split(" ")[0],
        format=row["format"],
        mime_type=row["mime_type"],
        width=row["width"],
        height=row["height"],
        size=row["size"],
    )


def _not_found() -> HeliographError:
    return HeliographError(ErrorCode.STICKER_SET_NOT_FOUND, "sticker set not found")


async def _resolve(conn: Conn, ref: SetRef) -> int:
    """The id of the pack `ref` names; STICKER_SET_NOT_FOUND if there is none."""
    if ref.short_name is not None:
        set_id = await store.set_id_by_name(conn, ref.short_name.lower())
    else:
        set_id = ref.set_id
    if set_id is None or await store.get_set(conn, set_id) is None:
        raise _not_found()
    return set_id


async def _full(conn: Conn, caller: Caller, set_id: int) -> StickerSet:
    row = await store.get_set(conn, set_id)
    if row is None:
        raise _not_found()
    stickers = [
        SetSticker(to_sticker(r), r["emoji"].split(" "))
        for r in await store.stickers_of(conn, set_id)
    ]
    return StickerSet(
        id=row["id"],
        short_name=row["short_name"],
        title=row["title"],
        version=row["version"],
        install_count=row["install_count"],
        installed=bool(await store.installed_among(conn, caller.user_id, [set_id])),
        is_creator=row["owner_id"] == caller.user_id,
        stickers=stickers,
    )


async def _infos(conn: Conn, caller: Caller, rows: list[Row]) -> list[StickerSetInfo]:
    ids = [r["id"] for r in rows]
    covers = await store.covers(conn, ids)
    installed = await store.installed_among(conn, caller.user_id, ids)
    return [
        StickerSetInfo(
            id=r["id"],
            short_name=r["short_name"],
            title=r["title"],
            version=r["version"],
            count=r["sticker_count"],
            install_count=r["install_count"],
            installed=r["id"] in installed,
            is_creator=r["owner_id"] == caller.user_id,
            cover=to_sticker(covers[r["id"]]) if r["id"] in covers else None,
        )
        for r in rows
    ]


async def get_sticker_set(app: App, caller: Caller, ref: SetRef) -> StickerSet:
    """A whole pack, for anyone signed in: what its link shows."""
    async with app.db.read() as conn:
        return await _full(conn, caller, await _resolve(conn, ref))


async def sticker_for_sending(app: App, file_id: str) -> Sticker:
    """The sticker with this id, as a message holds it."""
    async with app.db.read() as conn:
        row = await store.get_sticker(conn, file_id)
    if row is None:
        raise HeliographError(ErrorCode.STICKER_NOT_FOUND, "sticker not found")
    return to_sticker(row)


# --- checking input -------------------------------------------------------------------------


def _check_title(app: App, title: str) -> tuple[str, str]:
    """The title as stored, and its search key."""
    title = title.strip()
    most = app.limits.sticker_set_title_max
    if not title or len(title) > most:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"a sticker set's title has 1 to {most} characters"
        )
    return title, normalize_for_search(title)


async def _check_file(app: App, caller: Caller, file_id: str) -> tuple[Row, StickerFile]:
    """An uploaded file of the caller's that meets the sticker rules."""
    row = await files.readable_file(app, caller, file_id)
    if row["owner_id"] != caller.user_id:
        raise HeliographError(
            ErrorCode.STICKER_INVALID,
            "stickers are made from files you uploaded yourself",
            file_id=file_id,
        )
    limits = app.limits
    most = max(limits.sticker_static_bytes, limits.sticker_video_bytes)
    if row["size"] > most:  # refused before any byte is copied
        raise HeliographError(
            ErrorCode.STICKER_INVALID,
            f"a sticker file may be at most {most // 1024} KB; this one is"
            f" {row['size'] // 1024} KB",
            file_id=file_id,
        )
    path = await files.local_copy(app, row)
    try:
        checked = await asyncio.to_thread(check_sticker, path, limits)
    except HeliographError as e:
        e.extra.setdefault("file_id", file_id)
        raise
    finally:
        await asyncio.to_thread(path.unlink, True)
    return row, checked


async def _check_stickers(app: App, caller: Caller, items: list[StickerInput]) -> list[_Checked]:
    # every sticker's emoji first: they cost nothing to check, the files cost a copy each
    emoji = [check_emoji(item.emoji, app.limits.sticker_emoji_max) for item in items]
    seen: dict[str, tuple[Row, StickerFile]] = {}
    for item in items:
        if item.file_id not in seen:
            seen[item.file_id] = await _check_file(app, caller, item.file_id)
    return [_Checked(*seen[i.file_id], e) for i, e in zip(items, emoji, strict=True)]


async def _store_sticker(
    app: App, tx: Conn, caller: Caller, set_id: int, position: int, item: _Checked
) -> None:
    """The sticker's own public file (the same stored bytes, a neutral name) and its row."""
    file_id = files.new_file_id()
    await file_store.insert_file(
        tx,
        file_id=file_id,
        sha256=item.source["sha256"],
        size=item.source["size"],
        name=_FILE_NAMES.get(item.file.mime_type, "sticker.webm"),
        mime_type=item.file.mime_type,
        owner_id=caller.user_id,
        now=app.now(),
        public=True,
    )
    await store.insert_sticker(
        tx,
        file_id=file_id,
        set_id=set_id,
        position=position,
        emoji=item.emoji,
        keys=[emoji_key(e) for e in item.emoji],
        kind=item.file.format,
        width=item.file.width,
        height=item.file.height,
    )


def _check_count(app: App, count: int) -> None:
    most = app.limits.stickers_per_set
    if count > most:
        raise HeliographError(
            ErrorCode.STICKER_SET_FULL, f"a sticker set holds at most {most} stickers", limit=most
        )


# --- creating and changing packs ------------------------------------------------------------


async def create_sticker_set(
    app: App, caller: Caller, title: str, short_name: str, items: list[StickerInput]
) -> StickerSet:
    """Make a pack of the caller's uploaded files and install it for them. Every sticker is
    checked first: one bad sticker refuses the whole pack and nothing is stored."""
    key = short_name_key(short_name)
    title, title_key = _check_title(app, title)
    if not items:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "a sticker set needs a sticker")
    _check_count(app, len(items))
    async with app.db.read() as conn:  # spare the checks when the name is taken anyway
        if await store.set_id_by_name(conn, key) is not None:
            raise _occupied()
    checked = await _check_stickers(app, caller, items)
    outbox = Outbox()
    async with app.db.transaction() as tx:
        set_id = await store.insert_set(
            tx,
            short_name=short_name,
            short_name_key=key,
            title=title,
            title_key=title_key,
            owner_id=caller.user_id,
            now=app.now(),
        )
        if set_id is None:
            raise _occupied()
        for position, item in enumerate(checked):
            await _store_sticker(app, tx, caller, set_id, position, item)
        # a creator with a full list keeps the pack uninstalled: `installed` says so
        installed = await store.count_installed(tx, caller.user_id)
        room = installed < app.limits.installed_sticker_sets_max
        if room and await store.install(tx, caller.user_id, set_id):
            _tell_own_devices(outbox, caller)
    outbox.publish(app.bus)
    return await get_sticker_set(app, caller, SetRef(set_id=set_id))


def _occupied() -> HeliographError:
    return HeliographError(ErrorCode.SHORT_NAME_OCCUPIED, "a sticker set has this short name")


def _tell_own_devices(outbox: Outbox, caller: Caller) -> None:
    """The caller's other devices reload their installed packs."""
    outbox.event(dict(CHANGED), [caller.user_id], skip_session=caller.session_id)


async def _own_set(tx: Conn, caller: Caller, set_id: int, *, admin_may: bool = False) -> None:
    """Count a change of the caller's own pack (locking it on PostgreSQL), or refuse."""
    row = await store.bump_version(tx, set_id)
    if row is None:
        raise _not_found()
    if row["owner_id"] != caller.user_id and not (admin_may and caller.is_admin):
        raise _not_creator()


def _not_creator() -> HeliographError:
    return HeliographError(
        ErrorCode.OWNER_REQUIRED, "only the creator of this sticker set may change it"
    )


async def _sticker_of_own_set(tx: Conn, caller: Caller, file_id: str) -> Row:
    """A sticker of one of the caller's packs, read after the pack is locked."""
    row = await store.get_sticker(tx, file_id)
    if row is None:
        raise HeliographError(ErrorCode.STICKER_NOT_FOUND, "sticker not found")
    await _own_set(tx, caller, row["set_id"])
    again = await store.get_sticker(tx, file_id)  # as it is now that no one else changes it
    if again is None:
        raise HeliographError(ErrorCode.STICKER_NOT_FOUND, "sticker not found")
    return again


async def add_sticker_to_set(
    app: App, caller: Caller, ref: SetRef, item: StickerInput
) -> StickerSet:
    """Add a sticker at the end of the caller's pack."""
    async with app.db.read() as conn:
        set_id = await _resolve(conn, ref)
        row = await store.get_set(conn, set_id)
    if row is not None and row["owner_id"] != caller.user_id:  # before the slow file checks
        raise _not_creator()
    [checked] = await _check_stickers(app, caller, [item])
    async with app.db.transaction() as tx:
        await _own_set(tx, caller, set_id)
        count = await store.count(tx, set_id)
        _check_count(app, count + 1)
        await _store_sticker(app, tx, caller, set_id, count, checked)
    return await get_sticker_set(app, caller, SetRef(set_id=set_id))


async def remove_sticker_from_set(app: App, caller: Caller, file_id: str) -> StickerSet:
    """Remove a sticker from the caller's pack. Messages that hold it still show it."""
    async with app.db.transaction() as tx:
        row = await _sticker_of_own_set(tx, caller, file_id)
        await store.delete_sticker(tx, row["set_id"], file_id, row["position"])
    return await get_sticker_set(app, caller, SetRef(set_id=row["set_id"]))


async def set_sticker_position(app: App, caller: Caller, file_id: str, position: int) -> StickerSet:
    """Move a sticker to `position` (0 is first) in its pack."""
    async with app.db.transaction() as tx:
        row = await _sticker_of_own_set(tx, caller, file_id)
        last = await store.count(tx, row["set_id"]) - 1
        if not 0 <= position <= last:
            raise HeliographError(
                ErrorCode.INVALID_PARAMS, f"position must be between 0 and {last}", last=last
            )
        await store.move_sticker(tx, row["set_id"], file_id, row["position"], position)
    return await get_sticker_set(app, caller, SetRef(set_id=row["set_id"]))


async def set_sticker_emoji(app: App, caller: Caller, file_id: str, emoji: list[str]) -> StickerSet:
    """Replace the emoji a sticker stands for."""
    emoji = check_emoji(emoji, app.limits.sticker_emoji_max)
    async with app.db.transaction() as tx:
        row = await _sticker_of_own_set(tx, caller, file_id)
        await store.set_emoji(tx, row["set_id"], file_id, emoji, [emoji_key(e) for e in emoji])
    return await get_sticker_set(app, caller, SetRef(set_id=row["set_id"]))


async def set_sticker_set_title(app: App, caller: Caller, ref: SetRef, title: str) -> StickerSet:
    title, title_key = _check_title(app, title)
    async with app.db.transaction() as tx:
        set_id = await _resolve(tx, ref)
        await _own_set(tx, caller, set_id)
        await store.set_title(tx, set_id, title, title_key)
    return await get_sticker_set(app, caller, SetRef(set_id=set_id))


async def delete_sticker_set(app: App, caller: Caller, ref: SetRef) -> None:
    """Delete a pack (its creator, or a server administrator): it leaves every user's list
    and its link leads nowhere. Messages that hold its stickers still show them."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        set_id = await _resolve(tx, ref)
        await _own_set(tx, caller, set_id, admin_may=True)
        users = await store.installers(tx, set_id)
        await store.delete_set(tx, set_id)
    for start in range(0, len(users), _EVENT_BATCH):
        outbox.event(dict(CHANGED), users[start : start + _EVENT_BATCH], caller.session_id)
    outbox.publish(app.bus)


# --- installed packs ------------------------------------------------------------------------


async def install_sticker_set(app: App, caller: Caller, ref: SetRef) -> StickerSetInfo:
    """Put a pack first in the caller's list. Installing it again changes nothing."""
    most = app.limits.installed_sticker_sets_max
    outbox = Outbox()
    async with app.db.transaction() as tx:
        set_id = await _resolve(tx, ref)
        if not await store.installed_among(tx, caller.user_id, [set_id]):
            if await store.count_installed(tx, caller.user_id) >= most:
                raise HeliographError(
                    ErrorCode.STICKER_SETS_TOO_MANY,
                    f"you have {most} sticker sets installed, the most allowed: remove one first",
                    limit=most,
                )
            added = await store.install(tx, caller.user_id, set_id)
            if added is None:  # deleted meanwhile
                raise _not_found()
            if added:
                _tell_own_devices(outbox, caller)
    outbox.publish(app.bus)
    async with app.db.read() as conn:
        row = await store.get_set(conn, set_id)
        if row is None:  # deleted in between
            raise _not_found()
        [info] = await _infos(conn, caller, [row])
    return info


async def uninstall_sticker_set(app: App, caller: Caller, ref: SetRef) -> None:
    """Remove a pack from the caller's list; removing one not there changes nothing."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        set_id = await _resolve(tx, ref)
        if await store.uninstall(tx, caller.user_id, set_id):
            _tell_own_devices(outbox, caller)
    outbox.publish(app.bus)


async def installed_sticker_sets(app: App, caller: Caller) -> list[StickerSetInfo]:
    async with app.db.read() as conn:
        return await _infos(conn, caller, await store.installed_sets(conn, caller.user_id))


async def reorder_sticker_sets(app: App, caller: Caller, set_ids: list[int]) -> None:
    """Put the named installed packs first, in this order; the others follow as they were."""
    if len(set(set_ids)) != len(set_ids):
        raise HeliographError(ErrorCode.INVALID_PARAMS, "set_ids names a sticker set twice")
    outbox = Outbox()
    async with app.db.transaction() as tx:
        current = await store.installed_ids(tx, caller.user_id)
        have = set(current)
        missing = [i for i in set_ids if i not in have]
        if missing:
            raise HeliographError(
                ErrorCode.STICKER_SET_NOT_FOUND,
                f"sticker set {missing[0]} is not installed",
                set_id=missing[0],
            )
        named = set(set_ids)
        order = set_ids + [i for i in current if i not in named]
        if order != current:
            await store.set_order(tx, caller.user_id, order)
            _tell_own_devices(outbox, caller)
    outbox.publish(app.bus)


# --- finding stickers -----------------------------------------------------------------------


def _check_limit(app: App, limit: int) -> None:
    if not 1 <= limit <= app.limits.page_max:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"limit must be between 1 and {app.limits.page_max}"
        )


async def sticker_suggestions(
    app: App, caller: Caller, emoji: str, limit: int = 50
) -> list[Sticker]:
    """Stickers for one emoji from the caller's installed packs, in the order of the packs
    and then of the stickers in each."""
    _check_limit(app, limit)
    [emoji] = check_emoji([emoji], 1)
    async with app.db.read() as conn:
        rows = await store.suggestions(conn, caller.user_id, emoji_key(emoji), limit)
    return [to_sticker(r) for r in rows]


async def search_sticker_sets(
    app: App, caller: Caller, query: str, limit: int = 20
) -> list[StickerSetInfo]:
    """Packs whose title or short name contains the query, in any script (both sides
    normalised), the most installed first."""
    _check_limit(app, limit)
    if len(query) > app.limits.search_query_max:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "the search query is too long")
    term = normalize_for_search(query.strip())
    if not term:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "the search query is empty")
    async with app.db.read() as conn:
        return await _infos(conn, caller, await store.search(conn, escape_like(term), limit))
