"""Finding and opening chats, the caller's standing in them, and fan-out of chat updates:
per member for small chats, once into the chat's own box for large ones."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import orjson

from heliograph.domain.entities import ChatKind, Reachability
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.permissions import (
    AdminRights,
    MemberRights,
    Role,
    Standing,
    require_active,
)
from heliograph.services.context import App, Caller, Outbox
from heliograph.store import chats, users
from heliograph.store.db import Conn, Row


@dataclass(frozen=True, slots=True)
class Position:
    """Where an update landed for the caller: their common box (box None) or a chat's box."""

    pts: int
    box: int | None = None


@dataclass(slots=True)
class ChatAccess:
    """A chat as the caller stands in it, loaded once per request."""

    chat_id: int
    kind: ChatKind
    is_large: bool
    standing: Standing
    row: Row
    # active members; loaded only for small chats (large chats never list their members here)
    member_ids: list[int]
    # one of those members deleted their account (a private chat with them is read-only)
    member_deleted: bool = False
    # the caller keeps a draft here (when not known: perhaps)
    has_draft: bool = True

    @property
    def read_inbox_max_id(self) -> int:
        value: int = self.row["read_inbox_max_id"]
        return value

    @property
    def last_message_id(self) -> int:
        value: int = self.row["last_message_id"]
        return value


def private_key(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{low}:{high}"


def peer_of(private_key_value: str, user_id: int) -> int:
    low, high = (int(x) for x in private_key_value.split(":"))
    return high if low == user_id else low


def standing_of(row: Row) -> Standing:
    return Standing(
        kind=ChatKind(row["kind"]),
        role=Role(row["role"]),
        admin_rights=_admin_rights(row["admin_rights"]),
        defaults=_member_rights(row["default_rights"]),
        restrictions=_member_rights(row["restrictions"]),
        restricted_until=row["restricted_until"],
    )


# Rights are stored as JSON and read on every request; the few distinct values repeat, and
# the parsed rights are immutable, so each is parsed once.
@functools.lru_cache(maxsize=1024)
def _admin_rights(stored: str) -> AdminRights:
    return AdminRights.from_mapping(orjson.loads(stored))


@functools.lru_cache(maxsize=1024)
def _member_rights(stored: str) -> MemberRights:
    return MemberRights.from_mapping(orjson.loads(stored))


async def load_access(
    conn: Conn, caller: Caller, chat_id: int, *, active: bool = True
) -> ChatAccess:
    """The caller's standing in a chat. A chat they are not in does not exist for them;
    banned members are told so (USER_BANNED_IN_CHAT) and read nothing new."""
    return access_of(
        caller, chat_id, await chats.access_rows(conn, chat_id, caller.user_id), active
    )


def access_of(caller: Caller, chat_id: int, rows: list[Row], active: bool = True) -> ChatAccess:
    """`load_access` from the rows `chats.access_rows` read."""
    if not rows or rows[0]["deleted"]:
        raise HeliographError(ErrorCode.CHAT_NOT_FOUND, "chat not found")
    row = rows[0]
    standing = standing_of(row)
    if active:
        require_active(standing)
    return ChatAccess(
        chat_id=chat_id,
        kind=standing.kind,
        is_large=bool(row["is_large"]),
        standing=standing,
        row=row,
        member_ids=[r["other_id"] for r in rows if r["other_id"] is not None],
        member_deleted=any(r["other_deleted"] for r in rows),
        has_draft=bool(row["has_draft"]),
    )


async def system_access(tx: Conn, chat_id: int) -> ChatAccess:
    """Access to a chat on the system's behalf (posting a discussion copy, erasing a user)."""
    full = await chats.row_as_access(tx, chat_id)
    assert full is not None
    standing = Standing(
        ChatKind(full["kind"]), Role.OWNER, AdminRights.all(), MemberRights(), MemberRights(), 0
    )
    is_large = bool(full["is_large"])
    return ChatAccess(
        chat_id,
        standing.kind,
        is_large,
        standing,
        full,
        [] if is_large else await chats.member_ids(tx, chat_id),
    )


async def fan_out(
    tx: Conn,
    outbox: Outbox,
    access: ChatAccess,
    caller_id: int | None,
    kind: str,
    stored: dict[str, Any],
    body: dict[str, Any],
    now: int,
) -> Position | None:
    """Record an update of a chat for everyone in it, in this transaction: one row in the
    chat's box for a large chat, one pointer per member for a small one. Returns where it
    landed for `caller_id` (None if the caller is not among the recipients)."""
    if access.is_large:
        pts = await outbox.add_to_chat(tx, access.chat_id, kind, stored, body, now)
        # Bots read only their own box (the Bot API has one update sequence per bot).
        bot_ids = await chats.bot_member_ids(tx, access.chat_id)
        if bot_ids:
            await outbox.add(tx, bot_ids, kind, access.chat_id, stored, body, now)
        return Position(pts, access.chat_id)
    by_user = await outbox.add(tx, access.member_ids, kind, access.chat_id, stored, body, now)
    if caller_id is None or caller_id not in by_user:
        return None
    return Position(by_user[caller_id])


async def open_private_chat(app: App, caller: Caller, user_id: int) -> int:
    """The private chat with a user, created on first use if their privacy allows it. A chat
    with oneself is the user's "Saved Messages"."""
    key = private_key(caller.user_id, user_id)
    async with app.db.read() as conn:
        existing = await chats.private_by_key(conn, key)
        if existing is not None:
            return existing
        target = await users.get(conn, user_id)
        if target is None or target["deleted"]:
            raise HeliographError(ErrorCode.USER_NOT_FOUND, "user not found")
        if (
            user_id != caller.user_id
            and target["privacy_private_chats"] == Reachability.CONTACTS.value
            and not await users.has_contact(conn, user_id, caller.user_id)
        ):
            raise HeliographError(
                ErrorCode.PRIVACY_RESTRICTED, "this user accepts messages from contacts only"
            )
    async with app.db.transaction() as tx:
        existing = await chats.private_by_key(tx, key)  # lost a race with the other side
        if existing is not None:
            return existing
        now = app.now()
        chat_id = await chats.insert(tx, ChatKind.PRIVATE.value, key, "", now)
        for member in {caller.user_id, user_id}:
            await chats.add_member(tx, chat_id, member, now)
        await chats.adjust_member_count(tx, chat_id, len({caller.user_id, user_id}))
    return chat_id
