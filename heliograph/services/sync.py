"""getState and getDifference: how a device that was away catches up on its common box."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from heliograph.domain.entities import Message, State
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.services.chats import load_access
from heliograph.services.context import App, Caller
from heliograph.services.reading import draft_from_row
from heliograph.store import chats, messages, updates
from heliograph.store.db import Conn, Row


@dataclass(slots=True)
class Difference:
    """Updates after the client's pts, oldest first. With `more`, call again from `state`.
    With `too_long`, the gap is too large to replay: reload the chat list and history, then
    continue from `state`."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    state: State = field(default_factory=lambda: State(0, 0))
    more: bool = False
    too_long: bool = False


async def get_state(app: App, caller: Caller) -> State:
    async with app.db.read() as conn:
        return State(pts=await updates.head(conn, caller.user_id), date=app.now())


MESSAGE_KINDS = ("new_message", "edit_message")


async def _messages_of(
    conn: Conn, caller: Caller, rows: list[Row], data: list[dict[str, Any]]
) -> dict[tuple[int, int], Message]:
    """Every message a page of updates points at, read with one query per chat."""
    wanted: dict[int, set[int]] = {}
    for row, stored in zip(rows, data, strict=True):
        if row["kind"] in MESSAGE_KINDS:
            wanted.setdefault(row["chat_id"], set()).add(stored["message_id"])
    found: dict[tuple[int, int], Message] = {}
    for chat_id, ids in wanted.items():
        stored_rows = await messages.get_rows(conn, chat_id, sorted(ids), caller.user_id)
        for message in await messages.hydrate(conn, chat_id, stored_rows):
            found[(chat_id, message.id)] = message
    return found


async def _hydrate_page(conn: Conn, caller: Caller, rows: list[Row]) -> list[dict[str, Any]]:
    """Each update as it was pushed live, built from the pointer the box keeps and the
    current state of what it points at (a message edited since is returned as it is now)."""
    data: list[dict[str, Any]] = [orjson.loads(row["data"]) for row in rows]
    loaded = await _messages_of(conn, caller, rows, data)
    page: list[dict[str, Any]] = []
    for row, stored in zip(rows, data, strict=True):
        update: dict[str, Any] = {"pts": row["pts"], "pts_count": 1, "type": row["kind"]}
        chat_id = row["chat_id"]
        if chat_id is not None:
            update["chat_id"] = chat_id
        if row["kind"] in MESSAGE_KINDS:  # most of a page: no statement of its own
            # None: deleted since; a later update in this box says so.
            update["message"] = loaded.get((chat_id, stored["message_id"]))
        else:
            await _hydrate_other(conn, caller, row, stored, update)
        page.append(update)
    return page


async def _hydrate_other(
    conn: Conn, caller: Caller, row: Row, data: dict[str, Any], update: dict[str, Any]
) -> None:
    """Fill in an update that is not a message: what it says now, where that can change."""
    chat_id = row["chat_id"]
    kind = row["kind"]
    if kind == "message_reactions":
        reactions = await messages.reactions_for(conn, chat_id, [data["message_id"]])
        # the stored change (who, from what to what) stays: bots read it as message_reaction
        update.update(data, reactions=reactions.get(data["message_id"], []))
    elif kind == "draft":
        found = await chats.drafts_for(conn, caller.user_id, [chat_id])
        update["draft"] = draft_from_row(found.get(chat_id))
    elif kind == "read_inbox":
        member = await chats.membership(conn, chat_id, caller.user_id)
        unread = 0
        if member is not None:
            unread = await chats.unread_count(conn, chat_id, caller.user_id, data["max_id"])
        update.update(data, unread_count=unread)
    else:
        update.update(data)


def _check_limit(app: App, limit: int) -> None:
    if limit < 1 or limit > app.limits.difference_max:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"limit must be 1 to {app.limits.difference_max}"
        )


async def _difference(
    app: App,
    conn: Conn,
    caller: Caller,
    head: int,
    pts: int,
    fetch: Callable[[], Awaitable[list[Row]]],
    box: int | None,
) -> Difference:
    """One page of a box after `pts`, whichever box it is."""
    if pts < 0 or pts > head:
        raise HeliographError(
            ErrorCode.PTS_INVALID, f"pts must be between 0 and the current {head}"
        )
    now = app.now()
    if head - pts > app.limits.difference_too_long:
        return Difference(state=State(pts=head, date=now), too_long=True)
    rows = await fetch()
    hydrated = await _hydrate_page(conn, caller, rows)
    if box is not None:
        hydrated = [{**u, "box": box} for u in hydrated]
    # No rows but a head further on means a hole (pruned updates): jump to the head.
    last = rows[-1]["pts"] if rows else head
    return Difference(updates=hydrated, state=State(pts=last, date=now), more=last < head)


async def get_difference(app: App, caller: Caller, pts: int, limit: int = 100) -> Difference:
    _check_limit(app, limit)
    async with app.db.read() as conn:
        head = await updates.head(conn, caller.user_id)
        return await _difference(
            app,
            conn,
            caller,
            head,
            pts,
            lambda: updates.since(conn, caller.user_id, pts, limit),
            None,
        )


async def get_channel_difference(
    app: App, caller: Caller, chat_id: int, pts: int, limit: int = 100
) -> Difference:
    """The same for a large chat's own box. Members only: a banned member reads nothing new."""
    _check_limit(app, limit)
    async with app.db.read() as conn:
        access = await load_access(conn, caller, chat_id)
        if not access.is_large:
            raise HeliographError(
                ErrorCode.BAD_REQUEST, "this chat has no box of its own: use getDifference"
            )
        head = await updates.chat_head(conn, chat_id)
        return await _difference(
            app,
            conn,
            caller,
            head,
            pts,
            lambda: updates.chat_since(conn, chat_id, pts, limit),
            chat_id,
        )
