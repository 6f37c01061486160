"""What a user reads: the chat list, history, single messages and search."""

from __future__ import annotations

import orjson

from heliograph.domain.entities import Chat, ChatKind, Draft, Message, MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import ProfilePhoto
from heliograph.domain.permissions import MemberRights, Role, Standing
from heliograph.domain.text import escape_like, normalize_for_search
from heliograph.services.chats import load_access, peer_of, standing_of
from heliograph.services.context import App, Caller
from heliograph.store import chat_list, chats, messages, users
from heliograph.store.db import Conn, Row


def _page(app: App, limit: int) -> int:
    if limit < 1 or limit > app.limits.page_max:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"limit must be between 1 and {app.limits.page_max}"
        )
    return limit


def draft_from_row(row: Row | None) -> Draft | None:
    if row is None:
        return None
    entities = [MessageEntity(**e) for e in orjson.loads(row["entities"])]
    return Draft(row["text"], entities, row["reply_to_id"], row["date"])


def own_rights(standing: Standing, now: int, *, peer_deleted: bool = False) -> MemberRights:
    """The caller's effective rights in a chat, as the services decide them: what
    `check_can_send` and `require_member_right` allow."""
    if standing.kind is ChatKind.PRIVATE:
        can = not peer_deleted
        return MemberRights(can, can, can, can, can, invite_users=False, pin_messages=True)
    if standing.kind is ChatKind.CHANNEL:
        admin = standing.admin()
        post = admin.post_messages
        return MemberRights(
            post,
            post,
            post,
            post,
            post,
            invite_users=admin.invite_users,
            pin_messages=admin.pin_messages,
            change_info=admin.change_info,
        )
    return standing.member_rights(now)


def _restricted_until(standing: Standing, now: int) -> int:
    until = standing.restricted_until
    return until if standing.role is Role.RESTRICTED and until > now else 0


async def _to_chats(conn: Conn, caller: Caller, rows: list[Row], now: int) -> list[Chat]:
    chat_ids = [r["id"] for r in rows]
    last = await messages.last_visible_rows(conn, chat_ids, caller.user_id)
    drafts = await chats.drafts_for(conn, caller.user_id, chat_ids)
    peers = {r["id"]: peer_of(r["private_key"], caller.user_id) for r in rows if r["private_key"]}
    names = {u["id"]: u for u in await users.get_many(conn, list(set(peers.values())))}
    result = []
    for r in rows:
        chat_id = r["id"]
        kind = ChatKind(r["kind"])
        peer = peers.get(chat_id)
        title = r["title"]
        photo = r["photo"]
        if peer is not None:
            peer_row = names.get(peer)
            photo = None if peer_row is None else peer_row["photo"]
            title = (
                "Deleted account"
                if peer_row is None or peer_row["deleted"]
                else (peer_row["display_name"])
            )
        standing = standing_of(r)
        last_message = None
        if chat_id in last:
            last_message = (await messages.hydrate(conn, chat_id, [last[chat_id]]))[0]
        read_max = r["read_inbox_max_id"]
        if r["is_large"]:
            read_outbox = r["max_read_id"]
        else:
            read_outbox = await chats.read_outbox_max_id(conn, chat_id, caller.user_id)
        result.append(
            Chat(
                id=chat_id,
                kind=kind,
                title=title,
                peer_user_id=peer,
                unread_count=await chats.unread_count(conn, chat_id, caller.user_id, read_max),
                read_inbox_max_id=read_max,
                read_outbox_max_id=read_outbox,
                last_message=last_message,
                last_activity=r["last_activity"],
                pinned_message_ids=await messages.pinned_ids(conn, chat_id),
                draft=draft_from_row(drafts.get(chat_id)),
                about=r["about"],
                username=r["username"],
                member_count=r["member_count"],
                role=r["role"],
                pts=r["pts"] if r["is_large"] else None,
                unread_mentions_count=await messages.unread_mentions(
                    conn, caller.user_id, chat_id, read_max
                ),
                slow_mode_seconds=r["slow_mode_seconds"],
                linked_chat_id=r["linked_chat_id"],
                signatures=bool(r["signatures"]),
                photo=ProfilePhoto.from_json(photo),
                pinned=r["pin_order"] is not None,
                archived=bool(r["archived"]),
                my_rights=own_rights(
                    standing,
                    now,
                    peer_deleted=peer is not None
                    and peer != caller.user_id
                    and (names.get(peer) is None or bool(names[peer]["deleted"])),
                ),
                restricted_until=_restricted_until(standing, now),
            )
        )
    return result


async def large_chat_ids(app: App, caller: Caller) -> list[int]:
    """The large chats whose boxes the caller's sockets follow."""
    async with app.db.read() as conn:
        return await chats.large_chats_of_user(conn, caller.user_id)


async def get_chats(
    app: App, caller: Caller, limit: int = 50, before: tuple[int, int] | None = None
) -> list[Chat]:
    """The chat list by last activity; page with `before` = (last_activity, id) of the last
    chat of the previous page. Private chats nobody has written in yet are left out."""
    limit = _page(app, limit)
    async with app.db.read() as conn:
        found: list[Row] = []
        cursor = before
        while len(found) < limit:
            rows = await chats.list_for_user(conn, caller.user_id, limit, cursor)
            found += [r for r in rows if r["last_message_id"] > 0 or r["kind"] != "private"]
            if len(rows) < limit:
                break
            cursor = (rows[-1]["last_activity"], rows[-1]["id"])
        return await _to_chats(conn, caller, found[:limit], app.now())


async def get_pinned_chats(app: App, caller: Caller) -> list[Chat]:
    """The caller's pinned chats in their order, whatever their last activity."""
    async with app.db.read() as conn:
        rows = await chat_list.pinned_chat_rows(conn, caller.user_id)
        return await _to_chats(conn, caller, rows, app.now())


async def get_chat(app: App, caller: Caller, chat_id: int) -> Chat:
    async with app.db.read() as conn:
        access = await load_access(conn, caller, chat_id)
        return (await _to_chats(conn, caller, [access.row], app.now()))[0]


async def get_history(
    app: App,
    caller: Caller,
    chat_id: int,
    offset_id: int | None = None,
    newer: bool = False,
    limit: int = 50,
    *,
    around_id: int | None = None,
) -> list[Message]:
    """Messages before `offset_id` (or the newest), or after it with `newer`; or with
    `around_id` up to `limit` messages centred on that id. Always returned oldest first."""
    limit = _page(app, limit)
    if around_id is not None and (offset_id is not None or newer):
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, "around_id goes without offset_id and direction"
        )
    if around_id is not None and around_id < 1:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "around_id is a message id (1 or more)")
    async with app.db.read() as conn:
        await load_access(conn, caller, chat_id)
        if around_id is not None:
            rows = await messages.history_around(conn, chat_id, caller.user_id, around_id, limit)
            return await messages.hydrate(conn, chat_id, rows)
        rows = await messages.history_rows(conn, chat_id, caller.user_id, offset_id, newer, limit)
        if not newer:
            rows = list(reversed(rows))
        return await messages.hydrate(conn, chat_id, rows)


async def get_messages(app: App, caller: Caller, chat_id: int, ids: list[int]) -> list[Message]:
    if not ids or len(ids) > app.limits.ids_per_request:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"give 1 to {app.limits.ids_per_request} message ids"
        )
    async with app.db.read() as conn:
        await load_access(conn, caller, chat_id)
        rows = await messages.get_rows(conn, chat_id, sorted(set(ids)), caller.user_id)
        return await messages.hydrate(conn, chat_id, rows)


async def search_messages(
    app: App,
    caller: Caller,
    query: str,
    chat_id: int | None = None,
    limit: int = 50,
    before: tuple[int, int, int] | None = None,
) -> list[Message]:
    """Substring search in the caller's chats (or one chat), newest first, in any script:
    both sides are normalised (case, Arabic/Persian letter forms, digits, diacritics)."""
    limit = _page(app, limit)
    if len(query) > app.limits.search_query_max:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "the search query is too long")
    term = normalize_for_search(query)
    if not term:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "the search query is empty")
    async with app.db.read() as conn:
        if chat_id is not None:
            await load_access(conn, caller, chat_id)
        rows = await messages.search_rows(
            conn, caller.user_id, f"%{escape_like(term)}%", chat_id, before, limit
        )
        found: list[Message] = []
        for row in rows:
            found += await messages.hydrate(conn, row["chat_id"], [row])
        return found
