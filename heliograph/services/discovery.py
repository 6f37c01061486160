"""Finding groups and channels from outside and getting in: previews, public chats by name or
title, joining by name or invite link, reading a public chat without joining, and messages
by hashtag."""

from __future__ import annotations

from dataclasses import dataclass

from heliograph.domain.entities import ChatKind, Message
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.permissions import ACTIVE_ROLES, Role
from heliograph.domain.text import canonical_username, escape_like, normalize_for_search
from heliograph.services.chats import system_access
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.invites import announce_request, chat_of_link, require_usable
from heliograph.services.membership import admit
from heliograph.store import chats, invites, members, messages
from heliograph.store.db import Conn, Row

SCOPES = ("public", "mine")


@dataclass(slots=True)
class ChatPreview:
    """A group or channel as someone outside it may see it: never its messages or members.
    `requires_approval`: joining through this link sends a request to the administrators;
    `request_pending`: you have sent one that is not yet answered."""

    chat_id: int
    kind: ChatKind
    title: str
    about: str
    username: str | None
    member_count: int
    requires_approval: bool = False
    is_member: bool = False
    request_pending: bool = False


def _limit(app: App, limit: int) -> int:
    if not 1 <= limit <= app.limits.page_max:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"limit must be between 1 and {app.limits.page_max}"
        )
    return limit


def _not_found() -> HeliographError:
    return HeliographError(ErrorCode.CHAT_NOT_FOUND, "chat not found")


def _preview(chat: Row, role: str | None, requires_approval: bool, pending: bool) -> ChatPreview:
    return ChatPreview(
        chat_id=chat["id"],
        kind=ChatKind(chat["kind"]),
        title=chat["title"],
        about=chat["about"],
        username=chat["username"],
        member_count=chat["member_count"],
        requires_approval=requires_approval,
        is_member=role in ACTIVE_ROLES,
        request_pending=pending,
    )


async def preview_of(
    conn: Conn, caller: Caller, chat: Row, requires_approval: bool = False
) -> ChatPreview:
    member = await chats.member_row(conn, chat["id"], caller.user_id)
    role = None if member is None else member["role"]
    pending = role not in ACTIVE_ROLES and (
        await invites.live_request(conn, chat["id"], caller.user_id) is not None
    )
    return _preview(chat, role, requires_approval, pending)


async def check_may_join(conn: Conn, chat_id: int, user_id: int) -> None:
    """Refuse members (USER_ALREADY_PARTICIPANT) and banned users (USER_BANNED_IN_CHAT)."""
    row = await chats.member_row(conn, chat_id, user_id)
    if row is None:
        return
    if row["role"] in ACTIVE_ROLES:
        raise HeliographError(ErrorCode.USER_ALREADY_PARTICIPANT, "you are already a member")
    if row["role"] == Role.BANNED:
        raise HeliographError(ErrorCode.USER_BANNED_IN_CHAT, "you are banned from this chat")


async def _public_chat(
    app: App, conn: Conn, chat_id: int | None = None, username: str | None = None
) -> Row:
    """A public group or channel by id or by name; any other is CHAT_NOT_FOUND."""
    if username is not None:
        chat_id = await members.chat_by_username(conn, canonical_username(username, app.limits))
    elif chat_id is not None:
        chat_id = await invites.public_chat_id(conn, chat_id)
    chat = None if chat_id is None else await chats.get(conn, chat_id)
    if chat is None or chat["deleted"] or chat["kind"] == ChatKind.PRIVATE.value:
        raise _not_found()
    return chat


async def resolve_chat(app: App, caller: Caller, username: str) -> ChatPreview:
    async with app.db.read() as conn:
        chat = await _public_chat(app, conn, username=username)
        return await preview_of(conn, caller, chat)


async def search_public_chats(
    app: App, caller: Caller, query: str, limit: int = 20
) -> list[ChatPreview]:
    """Public groups and channels whose title or name contains the query, in any script
    (both sides normalised), the largest first."""
    _limit(app, limit)
    if len(query) > app.limits.search_query_max:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "the search query is too long")
    term = normalize_for_search(query.strip().removeprefix("@"))
    if not term:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "the search query is empty")
    async with app.db.read() as conn:
        rows = await members.search_public(conn, escape_like(term), limit)
        roles = await invites.roles_of(conn, caller.user_id, [r["id"] for r in rows])
    return [_preview(r, roles.get(r["id"]), False, False) for r in rows]


async def _enter(
    app: App, tx: Conn, outbox: Outbox, caller: Caller, chat_id: int, link_id: int | None
) -> None:
    access = await system_access(tx, chat_id)
    service = "member_joined" if link_id is None else "member_joined_by_link"
    await admit(
        app, tx, outbox, caller, access, [caller.user_id], invite_link_id=link_id, service=service
    )
    await invites.delete_request(tx, chat_id, caller.user_id)


async def join_public(app: App, caller: Caller, username: str) -> int:
    """Join a public group or channel by its name; returns its id."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        chat = await _public_chat(app, tx, username=username)
        await check_may_join(tx, chat["id"], caller.user_id)
        await _enter(app, tx, outbox, caller, chat["id"], None)
    outbox.publish(app.bus)
    return int(chat["id"])


async def preview_invite(app: App, caller: Caller, code: str) -> ChatPreview:
    """What a link leads to, for anyone holding it; nothing of the chat's messages."""
    async with app.db.read() as conn:
        link, chat = await chat_of_link(conn, code)
        found = await preview_of(conn, caller, chat, bool(link["requires_approval"]))
        if not found.is_member:  # members may look at any link of their chat
            await require_usable(conn, link, app.now())
        return found


async def join_by_link(app: App, caller: Caller, code: str) -> int:
    """Join through a link; returns the chat id. A link that requires approval files a
    request instead and answers INVITE_REQUEST_SENT (with `chat_id`), after committing it."""
    outbox = Outbox()
    requested = False
    now = app.now()
    async with app.db.transaction() as tx:
        link, chat = await chat_of_link(tx, code)
        chat_id = chat["id"]
        await check_may_join(tx, chat_id, caller.user_id)
        await require_usable(tx, link, now)
        if link["requires_approval"]:
            requested = True
            if await invites.live_request(tx, chat_id, caller.user_id) is None:
                await invites.save_request(tx, chat_id, caller.user_id, link["id"], now)
                await announce_request(tx, outbox, chat_id, caller.user_id, link, now)
        else:
            if not await invites.use_link(tx, link["id"], now):  # another took the last use
                raise HeliographError(ErrorCode.INVITE_EXPIRED, "this invite link is used up")
            await _enter(app, tx, outbox, caller, chat_id, link["id"])
    outbox.publish(app.bus)
    if requested:
        raise HeliographError(
            ErrorCode.INVITE_REQUEST_SENT,
            "your request to join was sent to the administrators",
            chat_id=chat_id,
        )
    return int(chat_id)


async def public_history(
    app: App,
    caller: Caller,
    chat_id: int | None,
    username: str | None,
    offset_id: int | None = None,
    newer: bool = False,
    limit: int = 50,
) -> list[Message]:
    """History of a public group or channel for anyone but its banned users, in the order of
    getHistory (oldest first)."""
    _limit(app, limit)
    if (chat_id is None) == (username is None):
        raise HeliographError(ErrorCode.INVALID_PARAMS, "give either chat_id or username")
    async with app.db.read() as conn:
        chat = await _public_chat(app, conn, chat_id, username)
        member = await chats.member_row(conn, chat["id"], caller.user_id)
        if member is not None and member["role"] == Role.BANNED:
            raise HeliographError(ErrorCode.USER_BANNED_IN_CHAT, "you are banned from this chat")
        rows = await messages.history_rows(
            conn, chat["id"], caller.user_id, offset_id, newer, limit
        )
        if not newer:
            rows = list(reversed(rows))
        return await messages.hydrate(conn, chat["id"], rows)


def normalize_tag(tag: str) -> str:
    """`#SaveYourInternet`, `saveyourinternet` and `#SAVEYOURINTERNET` are one tag."""
    term = normalize_for_search(tag.strip().removeprefix("#"))
    if not term or any(c.isspace() or c == "#" for c in term):
        raise HeliographError(ErrorCode.INVALID_PARAMS, "tag must be one hashtag, like #news")
    return term


async def search_hashtag(
    app: App,
    caller: Caller,
    tag: str,
    scope: str = "public",
    limit: int = 50,
    before: tuple[int, int, int] | None = None,
) -> list[Message]:
    """Messages carrying a hashtag, newest first: in public groups and channels (no
    membership needed) or in the caller's own chats. Page with `before` = (date, chat_id, id)
    of the last message received."""
    _limit(app, limit)
    if scope not in SCOPES:
        raise HeliographError(ErrorCode.INVALID_PARAMS, f"scope is one of {SCOPES}")
    term = normalize_tag(tag)
    found: list[Message] = []
    async with app.db.read() as conn:
        # A few rounds at most: messages the caller deleted for themself are left out.
        for _ in range(3):
            want = limit - len(found)
            keys = await invites.hashtag_keys(
                conn, term, caller.user_id, scope == "public", before, want
            )
            found += await _hydrate_keys(conn, caller, keys)
            if len(keys) < want or len(found) >= limit:
                break
            before = keys[-1]
    return found


async def _hydrate_keys(
    conn: Conn, caller: Caller, keys: list[tuple[int, int, int]]
) -> list[Message]:
    by_chat: dict[int, list[int]] = {}
    for _, chat_id, message_id in keys:
        by_chat.setdefault(chat_id, []).append(message_id)
    hydrated: dict[tuple[int, int], Message] = {}
    for chat_id, ids in by_chat.items():
        rows = await messages.get_rows(conn, chat_id, ids, caller.user_id)
        for message in await messages.hydrate(conn, chat_id, rows):
            hydrated[(chat_id, message.id)] = message
    return [hydrated[(c, m)] for _, c, m in keys if (c, m) in hydrated]
