"""Pinned chats and the archive: each member's own arrangement of the chat list, kept on the
server so every device shows the same. Each change is an update in the member's common box.

A chat is pinned or archived, never both: pinning takes a chat out of the archive, archiving
unpins it."""

from __future__ import annotations

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.permissions import ACTIVE_ROLE_VALUES
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.messaging import Changed
from heliograph.store import chat_list, chats
from heliograph.store.db import Conn, Row


async def _membership(conn: Conn, caller: Caller, chat_id: int) -> Row:
    row = await chats.membership(conn, chat_id, caller.user_id)
    if row is None or row["deleted"] or row["role"] not in ACTIVE_ROLE_VALUES:
        raise HeliographError(ErrorCode.CHAT_NOT_FOUND, "chat not found")
    return row


async def _write_pins(tx: Conn, caller: Caller, old: list[int], new: list[int]) -> None:
    for chat_id in set(old) - set(new):
        await chat_list.set_pin_order(tx, caller.user_id, chat_id, None)
    for order, chat_id in enumerate(new):
        await chat_list.set_pin_order(tx, caller.user_id, chat_id, order)


async def _pins_update(tx: Conn, outbox: Outbox, caller: Caller, ids: list[int], now: int) -> int:
    body = {"chat_ids": ids}
    pts = await outbox.add(tx, [caller.user_id], "pinned_chats", None, body, body, now)
    return pts[caller.user_id]


async def _archived_update(
    tx: Conn, outbox: Outbox, caller: Caller, chat_id: int, archived: bool, now: int
) -> int:
    await chat_list.set_archived(tx, caller.user_id, chat_id, archived)
    body = {"archived": archived}
    pts = await outbox.add(tx, [caller.user_id], "chat_archived", chat_id, body, body, now)
    return pts[caller.user_id]


async def pin_chat(app: App, caller: Caller, chat_id: int, pinned: bool) -> Changed | None:
    """Pin a chat above the others (first of the pinned), or unpin it; None if it already was
    so. Pinning an archived chat brings it back from the archive."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        row = await _membership(tx, caller, chat_id)
        old = await chat_list.pinned_chat_ids(tx, caller.user_id)
        if pinned == (chat_id in old):
            return None
        if pinned and len(old) >= app.limits.pinned_chats:
            raise HeliographError(
                ErrorCode.PINNED_CHATS_TOO_MANY,
                f"at most {app.limits.pinned_chats} chats can be pinned",
            )
        new = [chat_id, *old] if pinned else [i for i in old if i != chat_id]
        now = app.now()
        count = 1
        if pinned and row["archived"]:
            await _archived_update(tx, outbox, caller, chat_id, False, now)
            count = 2
        await _write_pins(tx, caller, old, new)
        pts = await _pins_update(tx, outbox, caller, new, now)
    outbox.publish(app.bus)
    return Changed(pts, count)


async def reorder_pinned_chats(app: App, caller: Caller, chat_ids: list[int]) -> Changed | None:
    """Put the pinned chats in this order; the list must name each pinned chat once."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        old = await chat_list.pinned_chat_ids(tx, caller.user_id)
        if sorted(chat_ids) != sorted(old):
            raise HeliographError(
                ErrorCode.INVALID_PARAMS, "chat_ids must list every pinned chat exactly once"
            )
        if chat_ids == old:
            return None
        await _write_pins(tx, caller, old, chat_ids)
        pts = await _pins_update(tx, outbox, caller, chat_ids, app.now())
    outbox.publish(app.bus)
    return Changed(pts, 1)


async def archive_chat(app: App, caller: Caller, chat_id: int, archived: bool) -> Changed | None:
    """Move a chat into the archive or back; None if it already was there. Archiving a
    pinned chat unpins it. New messages leave an archived chat in the archive."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        row = await _membership(tx, caller, chat_id)
        if archived == bool(row["archived"]):
            return None
        now = app.now()
        count = 1
        if archived and row["pin_order"] is not None:
            old = await chat_list.pinned_chat_ids(tx, caller.user_id)
            new = [i for i in old if i != chat_id]
            await _write_pins(tx, caller, old, new)
            await _pins_update(tx, outbox, caller, new, now)
            count = 2
        pts = await _archived_update(tx, outbox, caller, chat_id, archived, now)
    outbox.publish(app.bus)
    return Changed(pts, count)
