"""Joining and leaving: the one place a user enters or leaves a group or channel, so member
counts, the switch to a shared box, service messages, the member's own devices and every
node's socket subscriptions stay in step."""

from __future__ import annotations

from heliograph.domain.entities import ChatKind
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.permissions import ACTIVE_ROLES, Role
from heliograph.services.chats import ChatAccess
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.messaging import store_message
from heliograph.store import chats, invites, members, updates
from heliograph.store.db import Conn


async def notify_member(
    tx: Conn,
    outbox: Outbox,
    chat_id: int,
    user_ids: list[int],
    role: str,
    now: int,
    *,
    old_role: str | None = None,
    actor_id: int | None = None,
) -> None:
    """Tell users' own devices that their place in a chat changed. For a large chat the
    update carries the chat box's current pts: the point to follow it from. `old_role` and
    `actor_id` (who made the change), when known, are what bots read as my_chat_member."""
    if not user_ids:
        return
    row = await chats.get(tx, chat_id)
    box_pts = row["pts"] if row is not None and row["is_large"] else None
    data: dict[str, object] = {"role": role, "box_pts": box_pts}
    if old_role is not None:
        data["old_role"] = old_role
    if actor_id is not None:
        data["actor_id"] = actor_id
    await outbox.add(tx, user_ids, "chat_membership", chat_id, data, data, now)
    # Bots administering the chat hear of every member's change (the Bot API's chat_member).
    watchers = [b for b in await chats.admin_bot_ids(tx, chat_id) if b not in user_ids]
    for user_id in user_ids if watchers else ():
        change = {k: v for k, v in data.items() if k != "box_pts"} | {"user_id": user_id}
        await outbox.add(tx, watchers, "chat_member", chat_id, change, change, now)


async def refresh(tx: Conn, access: ChatAccess) -> ChatAccess:
    """Reload the chat's columns and members after a change of membership."""
    row = await chats.row_as_access(tx, access.chat_id)
    assert row is not None
    merged = {**dict(access.row), **dict(row)}
    is_large = bool(row["is_large"])
    access.row = merged
    access.is_large = is_large
    access.member_ids = [] if is_large else await chats.member_ids(tx, access.chat_id)
    return access


async def admit(
    app: App,
    tx: Conn,
    outbox: Outbox,
    actor: Caller,
    access: ChatAccess,
    user_ids: list[int],
    *,
    invite_link_id: int | None = None,
    service: str = "members_added",
) -> list[int]:
    """Make users members (those not already in), announce it, and follow the chat's box.
    Returns who was added."""
    now = app.now()
    added = []
    for user_id in user_ids:
        row = await chats.member_row(tx, access.chat_id, user_id)
        if row is not None and row["role"] in ACTIVE_ROLES:
            continue
        if row is not None and row["role"] == Role.BANNED and actor.user_id == user_id:
            raise HeliographError(ErrorCode.USER_BANNED_IN_CHAT, "you are banned from this chat")
        joined = await chats.add_member(
            tx,
            access.chat_id,
            user_id,
            now,
            invited_by=actor.user_id if actor.user_id != user_id else None,
            invite_link_id=invite_link_id,
            # New members of a large chat start with its history read: no wall of unread.
            read_inbox_max_id=access.last_message_id if access.is_large else 0,
        )
        if joined:
            await invites.delete_request(tx, access.chat_id, user_id)
            added.append(user_id)
    if not added:
        return []
    count = await chats.adjust_member_count(tx, access.chat_id, len(added))
    if count > app.limits.group_members and access.kind is not ChatKind.CHANNEL:
        raise HeliographError(
            ErrorCode.USERS_TOO_MANY, f"a group holds at most {app.limits.group_members} members"
        )
    await grow_if_needed(app, tx, outbox, access, count)
    await refresh(tx, access)
    await notify_member(
        tx, outbox, access.chat_id, added, Role.MEMBER.value, now, actor_id=actor.user_id
    )
    if access.is_large:
        outbox.subscribe(access.chat_id, added, [])
    if access.kind is not ChatKind.CHANNEL:
        await store_message(
            app,
            tx,
            outbox,
            actor,
            access,
            "",
            [],
            service={"action": service, "user_ids": added},
        )
    return added


async def grow_if_needed(
    app: App, tx: Conn, outbox: Outbox, access: ChatAccess, member_count: int
) -> None:
    """Past the threshold a group gets a box of its own: from then on one row per update,
    whatever the member count. Members are told once, in their own boxes."""
    if access.is_large or member_count <= app.settings.large_chat_threshold:
        return
    await members.update_chat(tx, access.chat_id, is_large=1)
    current = await chats.member_ids(tx, access.chat_id)
    data = {"box_pts": await updates.chat_head(tx, access.chat_id)}
    await outbox.add(tx, current, "chat_became_large", access.chat_id, data, data, app.now())
    outbox.subscribe(access.chat_id, current, [])
    await refresh(tx, access)


async def release(
    app: App,
    tx: Conn,
    outbox: Outbox,
    actor: Caller,
    access: ChatAccess,
    user_id: int,
    role: Role,
    service: str | None,
) -> None:
    """Take a user out of a chat (left, or banned): announce it while they still receive it,
    then stop their devices following the chat."""
    now = app.now()
    if service is not None and access.kind is not ChatKind.CHANNEL:
        await store_message(
            app, tx, outbox, actor, access, "", [], service={"action": service, "user_id": user_id}
        )
    row = await chats.member_row(tx, access.chat_id, user_id)
    was_active = row is not None and row["role"] in ACTIVE_ROLES
    if row is None:
        await members.ensure_row(tx, access.chat_id, user_id, role.value, now)
    else:
        await members.set_role(tx, access.chat_id, user_id, role.value)
    if was_active:
        await chats.adjust_member_count(tx, access.chat_id, -1)
        await notify_member(
            tx,
            outbox,
            access.chat_id,
            [user_id],
            role.value,
            now,
            old_role=row["role"] if row is not None else None,
            actor_id=actor.user_id,
        )
        if access.is_large:
            outbox.subscribe(access.chat_id, [], [user_id])
    await refresh(tx, access)
