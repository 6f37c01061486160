"""Finding and opening chats, and checking who may do what in them."""

from __future__ import annotations

from dataclasses import dataclass

from heliograph.domain.entities import ChatKind, Reachability
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.services.context import App, Caller
from heliograph.store import chats, users
from heliograph.store.db import Conn


@dataclass(frozen=True, slots=True)
class Membership:
    chat_id: int
    kind: ChatKind
    member_ids: list[int]
    read_inbox_max_id: int
    last_message_id: int


def private_key(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{low}:{high}"


def peer_of(private_key_value: str, user_id: int) -> int:
    low, high = (int(x) for x in private_key_value.split(":"))
    return high if low == user_id else low


async def require_member(conn: Conn, caller: Caller, chat_id: int) -> Membership:
    """The caller's membership of a chat; a chat they are not in does not exist for them."""
    row = await chats.membership(conn, chat_id, caller.user_id)
    if row is None:
        raise HeliographError(ErrorCode.CHAT_NOT_FOUND, "chat not found")
    return Membership(
        chat_id=chat_id,
        kind=ChatKind(row["kind"]),
        member_ids=await chats.member_ids(conn, chat_id),
        read_inbox_max_id=row["read_inbox_max_id"],
        last_message_id=row["last_message_id"],
    )


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
    return chat_id
