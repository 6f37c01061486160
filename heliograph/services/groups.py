"""Groups and channels: creating them, their info, roles and rights, bans, and the member
list. Entering and leaving go through `membership`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import orjson

from heliograph.domain.entities import ChatKind
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import ProfilePhoto
from heliograph.domain.permissions import (
    AdminRights,
    MemberRights,
    Role,
    can_act_on,
    require_admin_right,
    require_member_right,
)
from heliograph.domain.text import canonical_username, escape_like, normalize_for_search
from heliograph.services.chats import (
    ChatAccess,
    fan_out,
    load_access,
    standing_of,
    system_access,
)
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.membership import admit, notify_member, release
from heliograph.services.messaging import store_message
from heliograph.store import chats, members, users
from heliograph.store.db import Conn

SLOW_MODE_CHOICES = (0, 10, 30, 60, 300, 900, 3600)


@dataclass(slots=True)
class Member:
    user_id: int
    display_name: str
    username: str | None
    role: str
    joined_at: int
    admin_rights: AdminRights | None = None
    admin_title: str = ""
    restrictions: MemberRights | None = None
    restricted_until: int = 0
    invited_by: int | None = None


@dataclass(slots=True)
class AdminLogEntry:
    id: int
    actor_id: int | None
    action: str
    data: dict[str, Any]
    date: int


def _check_title(app: App, title: str) -> str:
    title = title.strip()
    if not title or len(title) > app.limits.chat_title_max:
        raise HeliographError(
            ErrorCode.CHAT_TITLE_INVALID, f"a title has 1 to {app.limits.chat_title_max} characters"
        )
    return title


def _check_about(app: App, about: str) -> str:
    if len(about) > app.limits.chat_about_max:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"about has at most {app.limits.chat_about_max} characters"
        )
    return about.strip()


async def _existing_users(tx: Conn, user_ids: list[int]) -> list[int]:
    rows = await users.get_many(tx, sorted(set(user_ids)))
    found = [r["id"] for r in rows if not r["deleted"]]
    if len(found) != len(set(user_ids)):
        raise HeliographError(ErrorCode.USER_NOT_FOUND, "a user to add does not exist")
    return found


async def create_chat(
    app: App,
    caller: Caller,
    kind: ChatKind,
    title: str,
    about: str = "",
    member_ids: list[int] | None = None,
) -> int:
    """Create a group (with initial members) or a channel; the caller owns it."""
    if kind is ChatKind.PRIVATE:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "use getPrivateChat for private chats")
    title = _check_title(app, title)
    about = _check_about(app, about)
    invited = [u for u in dict.fromkeys(member_ids or []) if u != caller.user_id]
    if len(invited) > app.limits.members_per_request:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"add at most {app.limits.members_per_request} at once"
        )
    outbox = Outbox()
    async with app.db.transaction() as tx:
        await _existing_users(tx, invited)
        now = app.now()
        chat_id = await chats.insert(tx, kind.value, None, title, now)
        await members.update_chat(
            tx,
            chat_id,
            about=about,
            title_key=normalize_for_search(title),
            owner_id=caller.user_id,
            is_large=int(kind is ChatKind.CHANNEL),
        )
        await chats.add_member(tx, chat_id, caller.user_id, now, role=Role.OWNER.value)
        await chats.adjust_member_count(tx, chat_id, 1)
        access = await load_access(tx, caller, chat_id)
        await notify_member(tx, outbox, chat_id, [caller.user_id], Role.OWNER.value, now)
        if access.is_large:
            outbox.subscribe(chat_id, [caller.user_id], [])
        if kind is ChatKind.GROUP:
            await store_message(
                app,
                tx,
                outbox,
                caller,
                access,
                "",
                [],
                service={"action": "chat_created", "title": title},
            )
        if invited:
            await admit(app, tx, outbox, caller, access, invited)
        await members.log_action(tx, chat_id, caller.user_id, "chat_created", {"title": title}, now)
    outbox.publish(app.bus)
    return chat_id


async def add_members(app: App, caller: Caller, chat_id: int, user_ids: list[int]) -> list[int]:
    if not user_ids or len(user_ids) > app.limits.members_per_request:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS, f"give 1 to {app.limits.members_per_request} users"
        )
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_member_right(access.standing, "invite_users", app.now())
        await _existing_users(tx, user_ids)
        for user_id in user_ids:
            row = await chats.member_row(tx, chat_id, user_id)
            if row is not None and row["role"] == Role.BANNED:
                require_admin_right(access.standing, "ban_users")  # adding unbans
        added = await admit(app, tx, outbox, caller, access, user_ids)
        if not added:
            raise HeliographError(ErrorCode.USER_ALREADY_PARTICIPANT, "already members")
        await members.log_action(
            tx, chat_id, caller.user_id, "members_added", {"user_ids": added}, app.now()
        )
    outbox.publish(app.bus)
    return added


async def group_access(conn: Conn, caller: Caller, chat_id: int) -> ChatAccess:
    access = await load_access(conn, caller, chat_id)
    if access.kind is ChatKind.PRIVATE:
        raise HeliographError(ErrorCode.BAD_REQUEST, "not a group or channel")
    return access


async def _target(conn: Conn, access: ChatAccess, user_id: int) -> Any:
    row = await chats.membership(conn, access.chat_id, user_id)
    if row is None:
        raise HeliographError(ErrorCode.USER_NOT_PARTICIPANT, "not a member of this chat")
    return row


async def _announce_change(
    app: App,
    tx: Conn,
    outbox: Outbox,
    access: ChatAccess,
    caller: Caller,
    action: str,
    info: dict[str, Any],
) -> None:
    """Tell everyone in the chat what changed about it, and log who changed it."""
    await fan_out(tx, outbox, access, caller.user_id, "chat_info", info, info, app.now())
    await members.log_action(tx, access.chat_id, caller.user_id, action, info, app.now())


async def edit_info(
    app: App,
    caller: Caller,
    chat_id: int,
    title: str | None = None,
    about: str | None = None,
) -> None:
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_member_right(access.standing, "change_info", app.now())
        fields: dict[str, Any] = {}
        if title is not None:
            fields["title"] = _check_title(app, title)
            fields["title_key"] = normalize_for_search(fields["title"])
        if about is not None:
            fields["about"] = _check_about(app, about)
        if not fields:
            raise HeliographError(ErrorCode.CHAT_NOT_MODIFIED, "nothing to change")
        await members.update_chat(tx, chat_id, **fields)
        info = {k: v for k, v in fields.items() if k in ("title", "about")}
        await _announce_change(app, tx, outbox, access, caller, "info_changed", info)
        if "title" in fields and access.kind is ChatKind.GROUP:
            await store_message(
                app,
                tx,
                outbox,
                caller,
                access,
                "",
                [],
                service={"action": "title_changed", "title": fields["title"]},
            )
    outbox.publish(app.bus)


async def set_photo(app: App, caller: Caller, chat_id: int, photo: ProfilePhoto | None) -> None:
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_member_right(access.standing, "change_info", app.now())
        encoded = None if photo is None else orjson.dumps(photo).decode()
        await members.update_chat(tx, chat_id, photo=encoded)
        info = {"photo": photo}
        await _announce_change(app, tx, outbox, access, caller, "photo_changed", info)
        if access.kind is ChatKind.GROUP:
            service = {"action": "photo_changed" if photo else "photo_removed", "photo": photo}
            await store_message(app, tx, outbox, caller, access, "", [], service=service)
    outbox.publish(app.bus)


async def set_chat_username(app: App, caller: Caller, chat_id: int, username: str | None) -> None:
    """Make a group or channel public under a name (shared namespace with users), or private."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_admin_right(access.standing, "change_info")
        if username is None:
            await members.update_chat(tx, chat_id, username=None, username_key=None)
        else:
            key = canonical_username(username, app.limits)
            holder = await members.chat_by_username(tx, key)
            if (holder is not None and holder != chat_id) or await users.get_by_username(tx, key):
                raise HeliographError(ErrorCode.USERNAME_OCCUPIED, "this name is taken")
            await members.update_chat(tx, chat_id, username=username.lstrip("@"), username_key=key)
        info = {"username": None if username is None else username.lstrip("@")}
        await _announce_change(app, tx, outbox, access, caller, "username_changed", info)
    outbox.publish(app.bus)


async def promote(
    app: App, caller: Caller, chat_id: int, user_id: int, rights: AdminRights, title: str = ""
) -> None:
    """Make a member an administrator with the given rights, or with no rights a member."""
    if len(title) > app.limits.admin_title_max:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "the administrator title is too long")
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_admin_right(access.standing, "manage_admins")
        target = standing_of(await _target(tx, access, user_id))
        if not target.is_active():
            raise HeliographError(ErrorCode.USER_NOT_PARTICIPANT, "not a member of this chat")
        if user_id == caller.user_id or not can_act_on(access.standing, target):
            raise HeliographError(ErrorCode.RIGHT_FORBIDDEN, "you cannot change this member")
        if rights.exceeds(access.standing.admin()):
            raise HeliographError(ErrorCode.RIGHT_FORBIDDEN, "you cannot grant rights you lack")
        granted = rights != AdminRights()
        role = Role.ADMIN if granted else Role.MEMBER
        await members.set_role(
            tx,
            chat_id,
            user_id,
            role.value,
            admin_rights=asdict(rights) if granted else None,
            admin_title=title,
        )
        await notify_member(
            tx,
            outbox,
            chat_id,
            [user_id],
            role.value,
            app.now(),
            old_role=target.role.value,
            actor_id=caller.user_id,
        )
        await members.log_action(
            tx,
            chat_id,
            caller.user_id,
            "promoted" if granted else "demoted",
            {"user_id": user_id, "rights": asdict(rights), "title": title},
            app.now(),
        )
    outbox.publish(app.bus)


async def restrict(
    app: App, caller: Caller, chat_id: int, user_id: int, rights: MemberRights, until: int
) -> None:
    """Take rights from a member until a date (0: until lifted); all rights back lifts it."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_admin_right(access.standing, "ban_users")
        target = standing_of(await _target(tx, access, user_id))
        if not target.is_active() or not can_act_on(access.standing, target):
            raise HeliographError(ErrorCode.RIGHT_FORBIDDEN, "you cannot restrict this member")
        lifted = rights == MemberRights(pin_messages=True, change_info=True) or all(
            getattr(rights, f)
            for f in (
                "send_messages",
                "send_media",
                "send_stickers",
                "send_links",
                "send_polls",
                "invite_users",
            )
        )
        role = Role.MEMBER if lifted else Role.RESTRICTED
        await members.set_role(
            tx,
            chat_id,
            user_id,
            role.value,
            restrictions=None if lifted else asdict(rights),
            restricted_until=until,
        )
        await notify_member(
            tx,
            outbox,
            chat_id,
            [user_id],
            role.value,
            app.now(),
            old_role=target.role.value,
            actor_id=caller.user_id,
        )
        await members.log_action(
            tx,
            chat_id,
            caller.user_id,
            "restricted" if not lifted else "unrestricted",
            {"user_id": user_id, "rights": asdict(rights), "until": until},
            app.now(),
        )
    outbox.publish(app.bus)


async def ban(app: App, caller: Caller, chat_id: int, user_id: int) -> None:
    """Remove a user and keep them out: their devices stop receiving the chat at once."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_admin_right(access.standing, "ban_users")
        if user_id == caller.user_id:
            raise HeliographError(ErrorCode.RIGHT_FORBIDDEN, "you cannot ban yourself")
        await _existing_users(tx, [user_id])
        row = await chats.membership(tx, chat_id, user_id)
        if row is not None and not can_act_on(access.standing, standing_of(row)):
            raise HeliographError(ErrorCode.RIGHT_FORBIDDEN, "you cannot ban this member")
        await release(app, tx, outbox, caller, access, user_id, Role.BANNED, "member_removed")
        await members.log_action(
            tx, chat_id, caller.user_id, "banned", {"user_id": user_id}, app.now()
        )
    outbox.publish(app.bus)


async def unban(app: App, caller: Caller, chat_id: int, user_id: int) -> None:
    """Lift a ban: the user may join again (they are not added back)."""
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_admin_right(access.standing, "ban_users")
        row = await chats.member_row(tx, chat_id, user_id)
        if row is None or row["role"] != Role.BANNED:
            raise HeliographError(ErrorCode.USER_NOT_PARTICIPANT, "this user is not banned")
        await members.set_role(tx, chat_id, user_id, Role.LEFT.value)
        await members.log_action(
            tx, chat_id, caller.user_id, "unbanned", {"user_id": user_id}, app.now()
        )


async def kick(app: App, caller: Caller, chat_id: int, user_id: int) -> None:
    """Remove a member without banning them."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_admin_right(access.standing, "ban_users")
        target = standing_of(await _target(tx, access, user_id))
        if not target.is_active():
            raise HeliographError(ErrorCode.USER_NOT_PARTICIPANT, "not a member of this chat")
        if user_id == caller.user_id or not can_act_on(access.standing, target):
            raise HeliographError(ErrorCode.RIGHT_FORBIDDEN, "you cannot remove this member")
        await release(app, tx, outbox, caller, access, user_id, Role.LEFT, "member_removed")
        await members.log_action(
            tx, chat_id, caller.user_id, "removed", {"user_id": user_id}, app.now()
        )
    outbox.publish(app.bus)


async def leave(app: App, caller: Caller, chat_id: int) -> None:
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        if access.standing.role is Role.OWNER and access.row["member_count"] > 1:
            raise HeliographError(
                ErrorCode.OWNER_REQUIRED, "transfer ownership before leaving, or delete the chat"
            )
        await release(app, tx, outbox, caller, access, caller.user_id, Role.LEFT, "member_left")
        if access.standing.role is Role.OWNER:
            await members.update_chat(tx, chat_id, deleted=1)
    outbox.publish(app.bus)


async def delete_chat(app: App, caller: Caller, chat_id: int) -> None:
    """Delete a group or channel for everyone (owner only)."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        if access.standing.role is not Role.OWNER:
            raise HeliographError(ErrorCode.OWNER_REQUIRED, "only the owner deletes the chat")
        data = {"deleted": True}
        await fan_out(tx, outbox, access, caller.user_id, "chat_info", data, data, app.now())
        await members.update_chat(tx, chat_id, deleted=1, username=None, username_key=None)
    outbox.publish(app.bus)


async def transfer_ownership(app: App, caller: Caller, chat_id: int, user_id: int) -> None:
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        if access.standing.role is not Role.OWNER:
            raise HeliographError(ErrorCode.OWNER_REQUIRED, "only the owner transfers ownership")
        target = standing_of(await _target(tx, access, user_id))
        if not target.is_active() or user_id == caller.user_id:
            raise HeliographError(ErrorCode.USER_NOT_PARTICIPANT, "not a member of this chat")
        await members.set_role(tx, chat_id, user_id, Role.OWNER.value)
        await members.set_role(
            tx, chat_id, caller.user_id, Role.ADMIN.value, admin_rights=asdict(AdminRights.all())
        )
        await members.update_chat(tx, chat_id, owner_id=user_id)
        now = app.now()
        await notify_member(
            tx,
            outbox,
            chat_id,
            [user_id],
            Role.OWNER.value,
            now,
            old_role=target.role.value,
            actor_id=caller.user_id,
        )
        await notify_member(
            tx,
            outbox,
            chat_id,
            [caller.user_id],
            Role.ADMIN.value,
            now,
            old_role=Role.OWNER.value,
            actor_id=caller.user_id,
        )
        await members.log_action(
            tx, chat_id, caller.user_id, "ownership_transferred", {"user_id": user_id}, now
        )
    outbox.publish(app.bus)


async def set_default_rights(app: App, caller: Caller, chat_id: int, rights: MemberRights) -> None:
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_admin_right(access.standing, "ban_users")
        value = orjson.dumps(asdict(rights)).decode()
        await members.update_chat(tx, chat_id, default_rights=value)
        info = {"default_rights": asdict(rights)}
        await _announce_change(app, tx, outbox, access, caller, "default_rights", info)
    outbox.publish(app.bus)


async def set_chat_settings(
    app: App,
    caller: Caller,
    chat_id: int,
    slow_mode_seconds: int | None = None,
    signatures: bool | None = None,
) -> None:
    outbox = Outbox()
    async with app.db.transaction() as tx:
        access = await group_access(tx, caller, chat_id)
        require_admin_right(access.standing, "change_info")
        fields: dict[str, Any] = {}
        if slow_mode_seconds is not None:
            if slow_mode_seconds not in SLOW_MODE_CHOICES or access.kind is ChatKind.CHANNEL:
                raise HeliographError(
                    ErrorCode.INVALID_PARAMS,
                    f"slow mode is one of {SLOW_MODE_CHOICES} seconds, in groups",
                )
            fields["slow_mode_seconds"] = slow_mode_seconds
        if signatures is not None:
            if access.kind is not ChatKind.CHANNEL:
                raise HeliographError(ErrorCode.INVALID_PARAMS, "signatures are for channels")
            fields["signatures"] = int(signatures)
        if not fields:
            raise HeliographError(ErrorCode.CHAT_NOT_MODIFIED, "nothing to change")
        await members.update_chat(tx, chat_id, **fields)
        info = {**fields, **({"signatures": signatures} if signatures is not None else {})}
        await _announce_change(app, tx, outbox, access, caller, "settings", info)
    outbox.publish(app.bus)


async def link_discussion(app: App, caller: Caller, channel_id: int, group_id: int | None) -> None:
    """Link a group to a channel: every new post gets a comment thread there. Both chats
    keep the link (`linked_chat_id`: the channel's group, the group's channel) and hear of
    it by a `chat_info` update; a group or channel linked elsewhere before is unlinked."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        channel = await group_access(tx, caller, channel_id)
        if channel.kind is not ChatKind.CHANNEL:
            raise HeliographError(ErrorCode.BAD_REQUEST, "discussions are linked to channels")
        require_admin_right(channel.standing, "change_info")
        group = None
        if group_id is not None:
            group = await group_access(tx, caller, group_id)
            if group.kind is not ChatKind.GROUP:
                raise HeliographError(ErrorCode.BAD_REQUEST, "a discussion is a group")
            require_admin_right(group.standing, "change_info")
        now = app.now()
        previous = channel.row["linked_chat_id"]
        if previous != group_id:
            await members.update_chat(tx, channel_id, linked_chat_id=group_id)
            await _announce_link(tx, outbox, channel, caller, group_id, now)
            if previous is not None:  # the group linked before loses its channel
                await _unlink(tx, outbox, caller, previous, channel_id, now)
        if group is not None and group.row["linked_chat_id"] != channel_id:
            if group.row["linked_chat_id"] is not None:  # taken from another channel
                await _unlink(tx, outbox, caller, group.row["linked_chat_id"], group.chat_id, now)
            await members.update_chat(tx, group.chat_id, linked_chat_id=channel_id)
            await _announce_link(tx, outbox, group, caller, channel_id, now)
        await members.log_action(
            tx, channel_id, caller.user_id, "discussion_linked", {"group_id": group_id}, now
        )
    outbox.publish(app.bus)


async def _announce_link(
    tx: Conn, outbox: Outbox, access: ChatAccess, caller: Caller, linked: int | None, now: int
) -> None:
    """Tell everyone in a chat its linked chat changed (only that field, as editChatInfo)."""
    info = {"linked_chat_id": linked}
    await fan_out(tx, outbox, access, caller.user_id, "chat_info", info, info, now)


async def _unlink(
    tx: Conn, outbox: Outbox, caller: Caller, chat_id: int, linked_to: int, now: int
) -> None:
    """Clear the link of a chat that pointed at `linked_to`, if it still does."""
    row = await chats.get(tx, chat_id)
    if row is None or row["deleted"] or row["linked_chat_id"] != linked_to:
        return
    await members.update_chat(tx, chat_id, linked_chat_id=None)
    await _announce_link(tx, outbox, await system_access(tx, chat_id), caller, None, now)


async def get_members(
    app: App,
    caller: Caller,
    chat_id: int,
    which: str = "all",
    query: str = "",
    after_user_id: int = 0,
    limit: int = 100,
) -> list[Member]:
    """A page of members by user id; `which` is all, admins, restricted or banned; `query`
    matches names and usernames. Subscribers of a channel are listed to its admins only."""
    if which not in members.FILTERS or not 1 <= limit <= 200:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "bad filter or limit")
    async with app.db.read() as conn:
        access = await group_access(conn, caller, chat_id)
        admins_only = which in ("banned", "restricted") or (
            access.kind is ChatKind.CHANNEL and which != "admins"
        )
        if admins_only and not access.standing.is_admin():
            raise HeliographError(ErrorCode.ADMIN_REQUIRED, "only administrators see this list")
        rows = await members.page(
            conn,
            chat_id,
            which,
            escape_like(query.strip().lower()) if query else None,
            after_user_id,
            limit,
        )
    result = []
    for r in rows:
        role = Role(r["role"])
        result.append(
            Member(
                user_id=r["user_id"],
                display_name=r["display_name"],
                username=r["username"],
                role=role.value,
                joined_at=r["joined_at"],
                admin_rights=AdminRights.from_mapping(orjson.loads(r["admin_rights"]))
                if role is Role.ADMIN
                else AdminRights.all()
                if role is Role.OWNER
                else None,
                admin_title=r["admin_title"],
                restrictions=MemberRights.from_mapping(orjson.loads(r["restrictions"]))
                if role is Role.RESTRICTED
                else None,
                restricted_until=r["restricted_until"],
                invited_by=r["invited_by"],
            )
        )
    return result


async def get_admin_log(
    app: App, caller: Caller, chat_id: int, before_id: int | None = None, limit: int = 50
) -> list[AdminLogEntry]:
    if not 1 <= limit <= 100:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "limit must be 1 to 100")
    async with app.db.read() as conn:
        access = await group_access(conn, caller, chat_id)
        if not access.standing.is_admin():
            raise HeliographError(ErrorCode.ADMIN_REQUIRED, "only administrators see the log")
        rows = await members.admin_log(conn, chat_id, before_id, limit)
    return [
        AdminLogEntry(r["id"], r["actor_id"], r["action"], orjson.loads(r["data"]), r["date"])
        for r in rows
    ]


async def bulk_add_members(app: App, chat_id: int, user_ids: list[int]) -> int:
    """The operator's path for moving a community in (and for benchmarks): adds members in
    bulk without service messages. Copies nothing per member but the membership rows; the
    members' open sockets start following the chat, and their devices see it in the chat
    list on their next load."""
    outbox = Outbox()
    async with app.db.transaction() as tx:
        chat = await chats.get(tx, chat_id)
        if chat is None or chat["kind"] == ChatKind.PRIVATE.value:
            raise HeliographError(ErrorCode.CHAT_NOT_FOUND, "chat not found")
        unique = sorted(set(user_ids))
        if await users.count_existing(tx, unique) != len(unique):
            raise HeliographError(ErrorCode.USER_NOT_FOUND, "a user to add does not exist")
        added = await members.bulk_add(tx, chat_id, user_ids, app.now(), chat["last_message_id"])
        count = await chats.adjust_member_count(tx, chat_id, added)
        if count > app.settings.large_chat_threshold and not chat["is_large"]:
            await members.update_chat(tx, chat_id, is_large=1)
        for start in range(0, len(unique), 10_000):  # bus payloads stay well under 1 MiB
            outbox.subscribe(chat_id, unique[start : start + 10_000], [])
    outbox.publish(app.bus)
    return added
