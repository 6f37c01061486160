"""Invite links of groups and channels, and join requests (joining is in `discovery`).

A link works while it is not revoked, not expired, under its usage limit, and while its
creator may still invite: a member who loses the right (banned, restricted, demoted, gone)
takes their links with them. A link either has a usage limit or asks the administrators to
approve each joiner, never both (as in Telegram)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from heliograph.domain.entities import ChatKind
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.permissions import (
    AdminRights,
    Role,
    Standing,
    require_admin_right,
    require_member_right,
)
from heliograph.services.chats import ChatAccess, load_access, standing_of
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.membership import admit
from heliograph.store import chats, invites, members, users
from heliograph.store.db import Conn, Row

TITLE_MAX = 32
USAGE_LIMIT_MAX = 99_999
ACTIVE_LINKS_MAX = 500


@dataclass(slots=True)
class InviteLink:
    """An invite link; share `code`. `expires_at` and `usage_limit` are null when the link
    has none. `is_primary`: the chat's main link (exportPrimaryInviteLink).
    `pending_requests`: join requests through it waiting for an answer."""

    code: str
    chat_id: int
    creator_id: int
    title: str
    created_at: int
    expires_at: int | None
    usage_limit: int | None
    usage_count: int
    requires_approval: bool
    revoked: bool
    is_primary: bool
    pending_requests: int = 0


@dataclass(slots=True)
class JoinRequest:
    """Someone asking to join, and the code of the link they used."""

    user_id: int
    display_name: str
    username: str | None
    date: int
    invite_code: str | None


@dataclass(slots=True)
class LinkJoiner:
    """Someone who joined through a link; `role` is their place in the chat now."""

    user_id: int
    display_name: str
    username: str | None
    joined_at: int
    role: str


def _link(row: Row, pending: int = 0) -> InviteLink:
    return InviteLink(
        code=row["code"],
        chat_id=row["chat_id"],
        creator_id=row["creator_id"],
        title=row["title"],
        created_at=row["created_at"],
        expires_at=row["expires_at"] or None,
        usage_limit=row["usage_limit"] or None,
        usage_count=row["usage_count"],
        requires_approval=bool(row["requires_approval"]),
        revoked=bool(row["revoked"]),
        is_primary=invites.is_primary(row["code"]),
        pending_requests=pending,
    )


def _check_limit(app: App, limit: int) -> None:
    if not 1 <= limit <= app.limits.page_max:
        raise HeliographError(ErrorCode.INVALID_PARAMS, f"limit is 1 to {app.limits.page_max}")


def _may_invite(standing: Standing, now: int) -> bool:
    if not standing.is_active():
        return False
    if standing.kind is ChatKind.CHANNEL:  # subscribers never invite, whatever the defaults
        return standing.admin().invite_users
    return standing.member_rights(now).invite_users or standing.admin().invite_users


def _require_invite_right(standing: Standing, now: int) -> None:
    if standing.kind is ChatKind.CHANNEL:
        require_admin_right(standing, "invite_users")
    else:
        require_member_right(standing, "invite_users", now)


def _sees_all_links(standing: Standing) -> bool:
    return standing.admin().invite_users


async def _group(conn: Conn, caller: Caller, chat_id: int) -> ChatAccess:
    access = await load_access(conn, caller, chat_id)
    if access.kind is ChatKind.PRIVATE:
        raise HeliographError(ErrorCode.BAD_REQUEST, "private chats have no invite links")
    return access


async def _link_of(conn: Conn, chat_id: int, code: str) -> Row:
    link = await invites.link_by_code(conn, code)
    if link is None or link["chat_id"] != chat_id:
        raise HeliographError(ErrorCode.INVITE_INVALID, "no such invite link in this chat")
    return link


async def _usable(conn: Conn, link: Row, now: int) -> bool:
    if link["revoked"]:
        return False
    if link["expires_at"] and link["expires_at"] <= now:
        return False
    if link["usage_limit"] and link["usage_count"] >= link["usage_limit"]:
        return False
    creator = await chats.membership(conn, link["chat_id"], link["creator_id"])
    return creator is not None and _may_invite(standing_of(creator), now)


async def chat_of_link(conn: Conn, code: str) -> tuple[Row, Row]:
    """The link and its chat; INVITE_INVALID for an unknown code or a deleted chat."""
    link = await invites.link_by_code(conn, code)
    chat = None if link is None else await chats.get(conn, link["chat_id"])
    if link is None or chat is None or chat["deleted"]:
        raise HeliographError(ErrorCode.INVITE_INVALID, "no such invite link")
    return link, chat


async def require_usable(conn: Conn, link: Row, now: int) -> None:
    if not await _usable(conn, link, now):
        raise HeliographError(ErrorCode.INVITE_EXPIRED, "this invite link no longer works")


# --- links ----------------------------------------------------------------------------------


async def create_link(
    app: App,
    caller: Caller,
    chat_id: int,
    title: str = "",
    expires_at: int | None = None,
    usage_limit: int | None = None,
    requires_approval: bool = False,
) -> InviteLink:
    """A new link of the chat (needs the invite right)."""
    title = title.strip()
    if len(title) > TITLE_MAX:
        raise HeliographError(ErrorCode.INVALID_PARAMS, f"title has at most {TITLE_MAX} chars")
    if usage_limit is not None and not 1 <= usage_limit <= USAGE_LIMIT_MAX:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"usage_limit must be 1 to {USAGE_LIMIT_MAX}"
        )
    if usage_limit is not None and requires_approval:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, "a link has a usage_limit or requires_approval, not both"
        )
    now = app.now()
    if expires_at is not None and expires_at <= now:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "expires_at must be in the future")
    async with app.db.transaction() as tx:
        access = await _group(tx, caller, chat_id)
        _require_invite_right(access.standing, now)
        if await invites.count_active_links(tx, chat_id) >= ACTIVE_LINKS_MAX:
            raise HeliographError(
                ErrorCode.INVALID_PARAMS,
                f"a chat has at most {ACTIVE_LINKS_MAX} active links: revoke some first",
            )
        row = await invites.insert_link(
            tx,
            chat_id=chat_id,
            code=invites.new_code(),
            creator_id=caller.user_id,
            title=title,
            now=now,
            expires_at=expires_at or 0,
            usage_limit=usage_limit or 0,
            requires_approval=requires_approval,
        )
        await _log(tx, caller, chat_id, "invite_link_created", row, now)
    return _link(row)


async def _log(tx: Conn, caller: Caller, chat_id: int, action: str, link: Row, now: int) -> None:
    data = {"code": link["code"], "title": link["title"]}
    await members.log_action(tx, chat_id, caller.user_id, action, data, now)


async def get_links(
    app: App,
    caller: Caller,
    chat_id: int,
    revoked: bool = False,
    before_code: str | None = None,
    limit: int = 50,
) -> list[InviteLink]:
    """The chat's links, newest first: all of them for administrators with the invite right,
    your own for everyone else. Page with the last code received as `before_code`."""
    _check_limit(app, limit)
    async with app.db.read() as conn:
        access = await _group(conn, caller, chat_id)
        before_id = None
        if before_code is not None:
            before_id = (await _link_of(conn, chat_id, before_code))["id"]
        creator = None if _sees_all_links(access.standing) else caller.user_id
        rows = await invites.links_of_chat(conn, chat_id, creator, revoked, before_id, limit)
        pending = await invites.pending_by_link(conn, chat_id, [r["id"] for r in rows])
    return [_link(r, pending.get(r["id"], 0)) for r in rows]


async def revoke_link(app: App, caller: Caller, chat_id: int, code: str) -> InviteLink:
    """Stop a link working (its creator, or an administrator with the invite right). The
    primary link is replaced by a new one on the next exportPrimaryInviteLink."""
    async with app.db.transaction() as tx:
        access = await _group(tx, caller, chat_id)
        link = await _link_of(tx, chat_id, code)
        if link["creator_id"] != caller.user_id and not _sees_all_links(access.standing):
            raise HeliographError(ErrorCode.ADMIN_REQUIRED, "this is another member's link")
        if link["revoked"]:
            return _link(link)
        row = await invites.revoke_link(tx, link["id"])
        await _log(tx, caller, chat_id, "invite_link_revoked", row, app.now())
    return _link(row)


async def export_primary(
    app: App, caller: Caller, chat_id: int, replace: bool = False
) -> InviteLink:
    """The chat's primary link, made on first use; `replace` revokes it and makes a new one.
    One that stopped working (revoked, or its creator lost the right) is replaced too."""
    now = app.now()
    async with app.db.transaction() as tx:
        access = await _group(tx, caller, chat_id)
        _require_invite_right(access.standing, now)
        await invites.lock_chat(tx, chat_id)
        current = await invites.primary_link(tx, chat_id)
        if current is not None and (replace or not await _usable(tx, current, now)):
            await invites.revoke_link(tx, current["id"])
            await _log(tx, caller, chat_id, "invite_link_revoked", current, now)
            current = None
        if current is None:
            current = await invites.insert_link(
                tx,
                chat_id=chat_id,
                code=invites.new_code(primary=True),
                creator_id=caller.user_id,
                title="",
                now=now,
                expires_at=0,
                usage_limit=0,
                requires_approval=False,
            )
            await _log(tx, caller, chat_id, "invite_link_created", current, now)
    return _link(current)


async def get_link_members(
    app: App,
    caller: Caller,
    chat_id: int,
    code: str,
    before: tuple[int, int] | None = None,
    limit: int = 50,
) -> list[LinkJoiner]:
    """Who joined through a link, newest first (administrators with the invite right, and
    the link's creator)."""
    _check_limit(app, limit)
    async with app.db.read() as conn:
        access = await _group(conn, caller, chat_id)
        link = await _link_of(conn, chat_id, code)
        if link["creator_id"] != caller.user_id and not _sees_all_links(access.standing):
            raise HeliographError(ErrorCode.ADMIN_REQUIRED, "this is another member's link")
        rows = await invites.joined_through(conn, chat_id, link["id"], before, limit)
    return [
        LinkJoiner(r["user_id"], r["display_name"], r["username"], r["joined_at"], r["role"])
        for r in rows
    ]


# --- join requests --------------------------------------------------------------------------


async def _request_admins(conn: Conn, chat_id: int) -> list[int]:
    """Who answers join requests: the owner and administrators with the invite right."""
    return [
        r["user_id"]
        for r in await invites.admin_rows(conn, chat_id)
        if r["role"] == Role.OWNER
        or AdminRights.from_mapping(orjson.loads(r["admin_rights"])).invite_users
    ]


async def announce_request(
    tx: Conn, outbox: Outbox, chat_id: int, user_id: int, link: Row, now: int
) -> None:
    user = await users.get(tx, user_id)
    event: dict[str, Any] = {
        "type": "join_request",
        "chat_id": chat_id,
        "user_id": user_id,
        "display_name": user["display_name"] if user is not None else "",
        "username": user["username"] if user is not None else None,
        "date": now,
        "invite_code": link["code"],
        "pending_count": await invites.count_requests(tx, chat_id),
    }
    outbox.event(event, await _request_admins(tx, chat_id))


async def get_requests(
    app: App,
    caller: Caller,
    chat_id: int,
    before: tuple[int, int] | None = None,
    limit: int = 50,
) -> list[JoinRequest]:
    _check_limit(app, limit)
    async with app.db.read() as conn:
        access = await _group(conn, caller, chat_id)
        require_admin_right(access.standing, "invite_users")
        rows = await invites.requests_page(conn, chat_id, before, limit)
    return [
        JoinRequest(r["user_id"], r["display_name"], r["username"], r["date"], r["code"])
        for r in rows
    ]


async def _open_request(
    tx: Conn, caller: Caller, chat_id: int, user_id: int
) -> tuple[ChatAccess, Row]:
    access = await _group(tx, caller, chat_id)
    require_admin_right(access.standing, "invite_users")
    request = await invites.live_request(tx, chat_id, user_id)
    if request is None:
        user = await users.get(tx, user_id)
        if user is None or user["deleted"]:
            raise HeliographError(ErrorCode.USER_NOT_FOUND, "user not found")
        raise HeliographError(ErrorCode.JOIN_REQUEST_NOT_FOUND, "no pending request")
    # Deleting claims the request: of two administrators answering at once, one does.
    if not await invites.delete_request(tx, chat_id, user_id):
        raise HeliographError(ErrorCode.JOIN_REQUEST_NOT_FOUND, "already answered")
    return access, request


async def _resolved(tx: Conn, outbox: Outbox, chat_id: int, user_id: int, approved: bool) -> None:
    """Tell the other administrators' devices the request is answered."""
    event = {
        "type": "join_request_resolved",
        "chat_id": chat_id,
        "user_id": user_id,
        "approved": approved,
        "pending_count": await invites.count_requests(tx, chat_id),
    }
    outbox.event(event, await _request_admins(tx, chat_id))


async def approve_request(app: App, caller: Caller, chat_id: int, user_id: int) -> None:
    """Let a requester in (administrators with the invite right). They learn of it in their
    own box (a `chat_membership` update)."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access, request = await _open_request(tx, caller, chat_id, user_id)
        link_id = request["invite_link_id"]
        if link_id is not None:
            await invites.count_use(tx, link_id)
        await admit(
            app,
            tx,
            outbox,
            caller,
            access,
            [user_id],
            invite_link_id=link_id,
            service="member_joined_by_request",
        )
        now = app.now()
        data = {"user_id": user_id}
        await members.log_action(tx, chat_id, caller.user_id, "join_request_approved", data, now)
        await _resolved(tx, outbox, chat_id, user_id, True)
    outbox.publish(app.bus)


async def decline_request(app: App, caller: Caller, chat_id: int, user_id: int) -> None:
    """Refuse a requester; they get a `join_request_declined` update in their own box and may
    ask again."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access, _ = await _open_request(tx, caller, chat_id, user_id)
        now = app.now()
        data = {"title": access.row["title"]}
        await outbox.add(tx, [user_id], "join_request_declined", chat_id, data, data, now)
        logged = {"user_id": user_id}
        await members.log_action(tx, chat_id, caller.user_id, "join_request_declined", logged, now)
        await _resolved(tx, outbox, chat_id, user_id, False)
    outbox.publish(app.bus)
