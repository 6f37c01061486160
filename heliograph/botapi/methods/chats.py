"""Chat management for bots: reading chats and their members, banning, restricting and
promoting, permissions, pins, leaving, invite links and join requests. Every change goes
through the same services as a user's, with the bot as the caller, so the same rights
apply (a bot administrator with `can_restrict_members` may ban, and so on)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

import orjson
from pydantic import Field

from heliograph.botapi import objects
from heliograph.botapi.chats import resolve_chat
from heliograph.botapi.errors import bad_request
from heliograph.botapi.members import chat_member, permission_fields
from heliograph.botapi.methods import BotContext, BotParams, bot_method
from heliograph.botapi.updates import Peers
from heliograph.domain.entities import ChatKind
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.permissions import (
    AdminRights,
    MemberRights,
    Role,
    require_admin_right,
    require_member_right,
)
from heliograph.services import groups, interactions, invites
from heliograph.services.chats import load_access, peer_of, standing_of
from heliograph.services.invites import InviteLink
from heliograph.store import chats, messages, users
from heliograph.store.db import Conn, Row

ChatId = int | Annotated[str, Field(max_length=64)]
UserId = Annotated[int, Field(ge=1)]
# Telegram's fixed values for what Heliograph has no notion of
MAX_REACTIONS = 11
NO_GIFTS = {
    "unlimited_gifts": False,
    "limited_gifts": False,
    "unique_gifts": False,
    "premium_subscription": False,
    "gifts_from_channels": False,
}
# There is no public address in the configuration: links are paths on the server, and any
# text ending in the code (a full URL, t.me/+code) is read back.
INVITE_PATH = "/join/"
_RIGHTS = frozenset({ErrorCode.ADMIN_REQUIRED, ErrorCode.RIGHT_FORBIDDEN, ErrorCode.OWNER_REQUIRED})
# Telegram's limits: shorter and longer restrictions are forever
_UNTIL_MIN = 30
_UNTIL_MAX = 366 * 86400


@contextlib.contextmanager
def _rights(action: str) -> Iterator[None]:
    """Telegram answers a missing right with 400 and "not enough rights to ..."."""
    try:
        yield
    except HeliographError as e:
        if e.code in _RIGHTS:
            raise bad_request(f"not enough rights to {action}") from None
        raise


class ChatRef(BotParams):
    chat_id: ChatId


class ChatMemberRef(BotParams):
    chat_id: ChatId
    user_id: UserId


async def _chat(ctx: BotContext, chat_id: int | str) -> tuple[int, Row]:
    """Our chat id and row for a bot's chat_id."""
    ours = await resolve_chat(ctx, chat_id)
    async with ctx.app.db.read() as conn:
        row = await chats.get(conn, ours)
    if row is None or row["deleted"]:
        raise bad_request("chat not found")
    return ours, row


async def _group(ctx: BotContext, chat_id: int | str, *, channels: bool = True) -> int:
    ours, row = await _chat(ctx, chat_id)
    if row["kind"] == ChatKind.PRIVATE.value:
        raise bad_request("method is available for supergroup and channel chats only")
    if not channels and row["kind"] == ChatKind.CHANNEL.value:
        raise bad_request("method is available only for supergroups")
    return ours


async def _readable(conn: Conn, ctx: BotContext, chat_id: int) -> Row:
    """The chat, if the bot is in it or it is public."""
    row = await chats.get(conn, chat_id)
    try:
        await load_access(conn, ctx.bot, chat_id)
    except HeliographError as e:
        if e.code is not ErrorCode.CHAT_NOT_FOUND or row is None or not row["username"]:
            raise
    assert row is not None
    return row


# --- reading --------------------------------------------------------------------------------


@bot_method(
    "getChat",
    ChatRef,
    differences="`photo`, `available_reactions` and `invite_link` are not given; "
    "`accent_color_id` is always 0 and `max_reaction_count` 11.",
)
async def get_chat(ctx: BotContext, p: ChatRef) -> dict[str, Any]:
    """Everything about a chat (ChatFullInfo): for groups and channels also the
    description, default permissions, slow mode, linked chat and the last pinned message;
    for a private chat the user's bio."""
    chat_id = await resolve_chat(ctx, p.chat_id)
    async with ctx.app.db.read() as conn:
        row = await _readable(conn, ctx, chat_id)
        peers = Peers(conn, ctx.bot_id)
        chat, _ = await peers.chat(chat_id)
        info: dict[str, Any] = {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": MAX_REACTIONS,
            "accepted_gift_types": NO_GIFTS,
        }
        kind = ChatKind(row["kind"])
        if kind is ChatKind.PRIVATE:
            user = await users.get(conn, peer_of(row["private_key"], ctx.bot_id))
            if user is not None and user["bio"] and not user["deleted"]:
                info["bio"] = user["bio"]
            return info
        if row["about"]:
            info["description"] = row["about"]
        if kind is ChatKind.GROUP:
            defaults = MemberRights.from_mapping(orjson.loads(row["default_rights"]))
            info["permissions"] = permission_fields(defaults)
            if row["slow_mode_seconds"]:
                info["slow_mode_delay"] = row["slow_mode_seconds"]
        if row["linked_chat_id"]:
            linked = await chats.get(conn, row["linked_chat_id"])
            if linked is not None and not linked["deleted"]:
                info["linked_chat_id"] = objects.bot_chat_id(
                    ChatKind(linked["kind"]), linked["id"], None
                )
        pinned = await messages.pinned_ids(conn, chat_id)
        if pinned:
            rows = await messages.get_rows(conn, chat_id, pinned[:1], ctx.bot_id)
            if rows:
                [message] = await messages.hydrate(conn, chat_id, rows)
                info["pinned_message"] = await peers.message(message)
    return info


def _member(row: Row | None, user: dict[str, Any], kind: ChatKind, now: int) -> dict[str, Any]:
    """A ChatMember from a membership row (None: never in the chat)."""
    if row is None:
        return chat_member("left", user)
    is_channel = kind is ChatKind.CHANNEL
    role = Role(row["role"])
    if role is Role.RESTRICTED and 0 < row["restricted_until"] <= now:
        role = Role.MEMBER  # the restriction ran out
    if role is Role.ADMIN:
        admin = AdminRights.from_mapping(orjson.loads(row["admin_rights"]))
        return chat_member(
            role.value, user, admin=admin, title=row["admin_title"], is_channel=is_channel
        )
    if role is Role.RESTRICTED:
        rights = MemberRights.from_mapping(orjson.loads(row["restrictions"]))
        return chat_member(role.value, user, rights=rights, until_date=row["restricted_until"])
    return chat_member(role.value, user, title=row["admin_title"], is_channel=is_channel)


@bot_method("getChatMember", ChatMemberRef)
async def get_chat_member(ctx: BotContext, p: ChatMemberRef) -> dict[str, Any]:
    """A user's place in a chat: creator, administrator (with rights), member, restricted
    (with permissions), left or kicked."""
    chat_id = await resolve_chat(ctx, p.chat_id)
    async with ctx.app.db.read() as conn:
        row = await _readable(conn, ctx, chat_id)
        found = await users.get(conn, p.user_id)
        if found is None:
            raise bad_request("user not found")
        user = await Peers(conn, ctx.bot_id).user(p.user_id)
        member = await chats.member_row(conn, chat_id, p.user_id)
    return _member(member, user, ChatKind(row["kind"]), ctx.app.now())


@bot_method("getChatMemberCount", ChatRef)
async def get_chat_member_count(ctx: BotContext, p: ChatRef) -> int:
    """How many members the chat has."""
    chat_id = await resolve_chat(ctx, p.chat_id)
    async with ctx.app.db.read() as conn:
        row = await _readable(conn, ctx, chat_id)
    count: int = row["member_count"]
    return count


@bot_method("getChatAdministrators", ChatRef)
async def get_chat_administrators(ctx: BotContext, p: ChatRef) -> list[dict[str, Any]]:
    """The chat's owner and administrators; as on Telegram, other bots are left out."""
    chat_id = await _group(ctx, p.chat_id)
    admins = await groups.get_members(ctx.app, ctx.bot, chat_id, "admins", limit=200)
    async with ctx.app.db.read() as conn:
        peers = Peers(conn, ctx.bot_id)
        kind = ChatKind((await peers.chat(chat_id))[1]["kind"])
        found = []
        for a in admins:
            user = await peers.user(a.user_id)
            if user["is_bot"] and a.user_id != ctx.bot_id:
                continue
            found.append(
                chat_member(
                    a.role,
                    user,
                    admin=a.admin_rights,
                    title=a.admin_title,
                    is_channel=kind is ChatKind.CHANNEL,
                )
            )
    return found


# --- members --------------------------------------------------------------------------------


class BanChatMember(BotParams):
    chat_id: ChatId
    user_id: UserId
    until_date: int = 0
    revoke_messages: bool = False


@bot_method(
    "banChatMember",
    BanChatMember,
    differences="A ban lasts until lifted: `until_date` is not kept. `revoke_messages` is "
    "ignored (the user's messages stay).",
)
async def ban_chat_member(ctx: BotContext, p: BanChatMember) -> bool:
    """Remove a user from a group or channel and keep them out until unbanned."""
    chat_id = await _group(ctx, p.chat_id)
    with _rights("restrict/unrestrict chat member"):
        await groups.ban(ctx.app, ctx.bot, chat_id, p.user_id)
    return True


class UnbanChatMember(BotParams):
    chat_id: ChatId
    user_id: UserId
    only_if_banned: bool = False


@bot_method("unbanChatMember", UnbanChatMember)
async def unban_chat_member(ctx: BotContext, p: UnbanChatMember) -> bool:
    """Lift a ban: the user may join again. As on Telegram, a member is removed from the
    chat (so they are not in it, but may join) unless `only_if_banned` is set."""
    chat_id = await _group(ctx, p.chat_id)
    async with ctx.app.db.read() as conn:
        member = await chats.member_row(conn, chat_id, p.user_id)
        access = await groups.group_access(conn, ctx.bot, chat_id)
    role = None if member is None else Role(member["role"])
    with _rights("restrict/unrestrict chat member"):
        if role is Role.BANNED:
            await groups.unban(ctx.app, ctx.bot, chat_id, p.user_id)
        elif role in (Role.MEMBER, Role.RESTRICTED, Role.ADMIN) and not p.only_if_banned:
            await groups.kick(ctx.app, ctx.bot, chat_id, p.user_id)
        elif role is Role.OWNER and not p.only_if_banned:
            raise bad_request("can't remove chat owner")
        else:
            require_admin_right(access.standing, "ban_users")
    return True


class ChatPermissions(BotParams):
    """As on Telegram, a permission left out is not granted."""

    can_send_messages: bool = False
    can_send_audios: bool = False
    can_send_documents: bool = False
    can_send_photos: bool = False
    can_send_videos: bool = False
    can_send_video_notes: bool = False
    can_send_voice_notes: bool = False
    can_send_polls: bool = False
    can_send_other_messages: bool = False
    can_add_web_page_previews: bool = False
    can_change_info: bool = False
    can_invite_users: bool = False
    can_pin_messages: bool = False
    can_manage_topics: bool = False
    # before Bot API 6.5: all media at once
    can_send_media_messages: bool | None = None


def member_rights(p: ChatPermissions, independent: bool) -> MemberRights:
    """Our member rights from ChatPermissions. Media kinds are one right here: all of them
    must be allowed. Without `use_independent_chat_permissions`, Telegram's implications
    hold (links and other messages imply media and text; polls imply text)."""
    media_kinds = (
        p.can_send_audios,
        p.can_send_documents,
        p.can_send_photos,
        p.can_send_videos,
        p.can_send_video_notes,
        p.can_send_voice_notes,
    )
    media = all(media_kinds) if p.can_send_media_messages is None else p.can_send_media_messages
    text = p.can_send_messages
    if not independent:
        if p.can_send_other_messages or p.can_add_web_page_previews:
            media = True
        if media or p.can_send_polls:
            text = True
    return MemberRights(
        send_messages=text,
        send_media=media,
        send_stickers=p.can_send_other_messages,
        send_links=p.can_add_web_page_previews,
        send_polls=p.can_send_polls,
        invite_users=p.can_invite_users,
        pin_messages=p.can_pin_messages,
        change_info=p.can_change_info,
    )


class RestrictChatMember(BotParams):
    chat_id: ChatId
    user_id: UserId
    permissions: ChatPermissions
    use_independent_chat_permissions: bool = False
    until_date: int = 0


@bot_method(
    "restrictChatMember",
    RestrictChatMember,
    differences="The six media permissions are one right here: media are allowed only "
    "when all six are. `can_manage_topics` is ignored (no topics).",
)
async def restrict_chat_member(ctx: BotContext, p: RestrictChatMember) -> bool:
    """Take permissions from a member of a group, until `until_date` (or forever); all
    permissions lift the restriction."""
    chat_id = await _group(ctx, p.chat_id, channels=False)
    rights = member_rights(p.permissions, p.use_independent_chat_permissions)
    now = ctx.app.now()
    until = p.until_date if _UNTIL_MIN <= p.until_date - now <= _UNTIL_MAX else 0
    with _rights("restrict/unrestrict chat member"):
        await groups.restrict(ctx.app, ctx.bot, chat_id, p.user_id, rights, until)
    return True


class PromoteChatMember(BotParams):
    chat_id: ChatId
    user_id: UserId
    is_anonymous: bool = False
    can_manage_chat: bool = False
    can_delete_messages: bool = False
    can_manage_video_chats: bool = False
    can_restrict_members: bool = False
    can_promote_members: bool = False
    can_change_info: bool = False
    can_invite_users: bool = False
    can_post_stories: bool = False
    can_edit_stories: bool = False
    can_delete_stories: bool = False
    can_post_messages: bool = False
    can_edit_messages: bool = False
    can_pin_messages: bool = False
    can_manage_topics: bool = False


@bot_method(
    "promoteChatMember",
    PromoteChatMember,
    differences="`can_manage_chat`, video chat, story and topic rights have no counterpart "
    "and are ignored: an administrator given none of the others is a member again. "
    "`can_post_messages` and `can_edit_messages` count in channels only.",
)
async def promote_chat_member(ctx: BotContext, p: PromoteChatMember) -> bool:
    """Make a member an administrator with these rights, or with none a member again."""
    chat_id, row = await _chat(ctx, p.chat_id)
    if row["kind"] == ChatKind.PRIVATE.value:
        raise bad_request("method is available for supergroup and channel chats only")
    is_channel = row["kind"] == ChatKind.CHANNEL.value
    rights = AdminRights(
        change_info=p.can_change_info,
        delete_messages=p.can_delete_messages,
        ban_users=p.can_restrict_members,
        invite_users=p.can_invite_users,
        pin_messages=p.can_pin_messages,
        manage_admins=p.can_promote_members,
        post_anonymously=p.is_anonymous,
        post_messages=p.can_post_messages and is_channel,
        edit_messages=p.can_edit_messages and is_channel,
    )
    async with ctx.app.db.read() as conn:
        member = await chats.member_row(conn, chat_id, p.user_id)
    title = member["admin_title"] if member is not None and member["role"] == "admin" else ""
    with _rights("promote/demote chat member"):
        await groups.promote(ctx.app, ctx.bot, chat_id, p.user_id, rights, title)
    return True


class SetAdministratorTitle(BotParams):
    chat_id: ChatId
    user_id: UserId
    custom_title: Annotated[str, Field(max_length=16)]


@bot_method("setChatAdministratorCustomTitle", SetAdministratorTitle)
async def set_chat_administrator_custom_title(ctx: BotContext, p: SetAdministratorTitle) -> bool:
    """The title shown for an administrator instead of "admin"."""
    chat_id = await _group(ctx, p.chat_id, channels=False)
    async with ctx.app.db.read() as conn:
        row = await chats.membership(conn, chat_id, p.user_id)
    if row is None or row["role"] != Role.ADMIN.value:
        raise bad_request("user is not an administrator")
    rights = standing_of(row).admin_rights
    with _rights("change the custom title of the administrator"):
        await groups.promote(ctx.app, ctx.bot, chat_id, p.user_id, rights, p.custom_title)
    return True


class SetChatPermissions(BotParams):
    chat_id: ChatId
    permissions: ChatPermissions
    use_independent_chat_permissions: bool = False


@bot_method("setChatPermissions", SetChatPermissions)
async def set_chat_permissions(ctx: BotContext, p: SetChatPermissions) -> bool:
    """The default permissions of the group's members."""
    chat_id = await _group(ctx, p.chat_id, channels=False)
    rights = member_rights(p.permissions, p.use_independent_chat_permissions)
    with _rights("change chat permissions"):
        await groups.set_default_rights(ctx.app, ctx.bot, chat_id, rights)
    return True


# --- the chat itself ------------------------------------------------------------------------


class SetChatTitle(BotParams):
    chat_id: ChatId
    title: Annotated[str, Field(min_length=1, max_length=128)]


@bot_method("setChatTitle", SetChatTitle)
async def set_chat_title(ctx: BotContext, p: SetChatTitle) -> bool:
    """Rename a group or channel."""
    chat_id = await _group(ctx, p.chat_id)
    with _rights("change chat title"):
        await groups.edit_info(ctx.app, ctx.bot, chat_id, title=p.title)
    return True


class SetChatDescription(BotParams):
    chat_id: ChatId
    description: Annotated[str, Field(max_length=255)] = ""


@bot_method("setChatDescription", SetChatDescription)
async def set_chat_description(ctx: BotContext, p: SetChatDescription) -> bool:
    """The description of a group or channel; empty removes it."""
    chat_id = await _group(ctx, p.chat_id)
    with _rights("change chat description"):
        await groups.edit_info(ctx.app, ctx.bot, chat_id, about=p.description)
    return True


class PinChatMessage(BotParams):
    chat_id: ChatId
    message_id: Annotated[int, Field(ge=1)]
    disable_notification: bool = False


@bot_method(
    "pinChatMessage",
    PinChatMessage,
    differences="`disable_notification` is ignored: a pin notifies no one here.",
)
async def pin_chat_message(ctx: BotContext, p: PinChatMessage) -> bool:
    """Pin a message for everyone in the chat."""
    chat_id = await resolve_chat(ctx, p.chat_id)
    with _rights("manage pinned messages in the chat"):
        await interactions.set_pinned(ctx.app, ctx.bot, chat_id, p.message_id, True)
    return True


class UnpinChatMessage(BotParams):
    chat_id: ChatId
    message_id: Annotated[int, Field(ge=1)] | None = None


@bot_method("unpinChatMessage", UnpinChatMessage)
async def unpin_chat_message(ctx: BotContext, p: UnpinChatMessage) -> bool:
    """Unpin a message, or without `message_id` the most recent pinned one."""
    chat_id = await resolve_chat(ctx, p.chat_id)
    message_id = p.message_id
    if message_id is None:
        async with ctx.app.db.read() as conn:
            await load_access(conn, ctx.bot, chat_id)
            pinned = await messages.pinned_ids(conn, chat_id)
        if not pinned:
            return True
        message_id = pinned[0]
    with _rights("manage pinned messages in the chat"):
        await interactions.set_pinned(ctx.app, ctx.bot, chat_id, message_id, False)
    return True


@bot_method("unpinAllChatMessages", ChatRef)
async def unpin_all_chat_messages(ctx: BotContext, p: ChatRef) -> bool:
    """Unpin every pinned message of the chat."""
    chat_id = await resolve_chat(ctx, p.chat_id)
    async with ctx.app.db.read() as conn:
        access = await load_access(conn, ctx.bot, chat_id)
        pinned = await messages.pinned_ids(conn, chat_id)
    with _rights("manage pinned messages in the chat"):
        if access.kind is not ChatKind.PRIVATE and not pinned:
            require_member_right(access.standing, "pin_messages", ctx.app.now())
        for message_id in pinned:
            await interactions.set_pinned(ctx.app, ctx.bot, chat_id, message_id, False)
    return True


@bot_method("leaveChat", ChatRef)
async def leave_chat(ctx: BotContext, p: ChatRef) -> bool:
    """Leave a group or channel."""
    chat_id = await _group(ctx, p.chat_id)
    await groups.leave(ctx.app, ctx.bot, chat_id)
    return True


# --- invite links and join requests ---------------------------------------------------------


def invite_url(code: str) -> str:
    return f"{INVITE_PATH}{code}"


def invite_code(link: str) -> str:
    """The code of a link in any form: a path, a full URL, `t.me/+code`, or the bare code."""
    return link.strip().rstrip("/").rsplit("/", 1)[-1].lstrip("+")


async def _link_object(ctx: BotContext, link: InviteLink) -> dict[str, Any]:
    """A ChatInviteLink."""
    async with ctx.app.db.read() as conn:
        creator = await Peers(conn, ctx.bot_id).user(link.creator_id)
    found: dict[str, Any] = {
        "invite_link": invite_url(link.code),
        "creator": creator,
        "creates_join_request": link.requires_approval,
        "is_primary": link.is_primary,
        "is_revoked": link.revoked,
    }
    if link.title:
        found["name"] = link.title
    if link.expires_at:
        found["expire_date"] = link.expires_at
    if link.usage_limit:
        found["member_limit"] = link.usage_limit
    if link.pending_requests:
        found["pending_join_request_count"] = link.pending_requests
    return found


_LINK_FORM = (
    "Links have the form `/join/<code>` (a path on this server: there is no public address "
    "in the configuration); methods taking a link accept that, a full URL, or the code."
)


class CreateChatInviteLink(BotParams):
    chat_id: ChatId
    name: Annotated[str, Field(max_length=32)] = ""
    expire_date: Annotated[int, Field(ge=0)] | None = None
    member_limit: Annotated[int, Field(ge=1, le=99_999)] | None = None
    creates_join_request: bool = False


@bot_method("createChatInviteLink", CreateChatInviteLink, differences=_LINK_FORM)
async def create_chat_invite_link(ctx: BotContext, p: CreateChatInviteLink) -> dict[str, Any]:
    """A new invite link of a group or channel (ChatInviteLink)."""
    chat_id = await _group(ctx, p.chat_id)
    with _rights("manage chat invite link"):
        link = await invites.create_link(
            ctx.app,
            ctx.bot,
            chat_id,
            p.name,
            p.expire_date or None,
            p.member_limit,
            p.creates_join_request,
        )
    return await _link_object(ctx, link)


@bot_method("exportChatInviteLink", ChatRef, differences=_LINK_FORM)
async def export_chat_invite_link(ctx: BotContext, p: ChatRef) -> str:
    """A new primary invite link (the previous one stops working); the link as text."""
    chat_id = await _group(ctx, p.chat_id)
    with _rights("manage chat invite link"):
        link = await invites.export_primary(ctx.app, ctx.bot, chat_id, replace=True)
    return invite_url(link.code)


class RevokeChatInviteLink(BotParams):
    chat_id: ChatId
    invite_link: Annotated[str, Field(max_length=2048)]


@bot_method("revokeChatInviteLink", RevokeChatInviteLink, differences=_LINK_FORM)
async def revoke_chat_invite_link(ctx: BotContext, p: RevokeChatInviteLink) -> dict[str, Any]:
    """Stop an invite link working; the revoked link."""
    chat_id = await _group(ctx, p.chat_id)
    try:
        with _rights("manage chat invite link"):
            link = await invites.revoke_link(ctx.app, ctx.bot, chat_id, invite_code(p.invite_link))
    except HeliographError as e:
        if e.code is ErrorCode.INVITE_INVALID:
            raise bad_request("INVITE_HASH_EXPIRED") from None
        raise
    return await _link_object(ctx, link)


@bot_method("approveChatJoinRequest", ChatMemberRef)
async def approve_chat_join_request(ctx: BotContext, p: ChatMemberRef) -> bool:
    """Let in a user who asked to join through a link that needs approval."""
    chat_id = await _group(ctx, p.chat_id)
    try:
        with _rights("manage chat invite link"):
            await invites.approve_request(ctx.app, ctx.bot, chat_id, p.user_id)
    except HeliographError as e:
        if e.code is ErrorCode.JOIN_REQUEST_NOT_FOUND:
            raise bad_request("HIDE_REQUESTER_MISSING") from None
        raise
    return True


@bot_method("declineChatJoinRequest", ChatMemberRef)
async def decline_chat_join_request(ctx: BotContext, p: ChatMemberRef) -> bool:
    """Refuse a user who asked to join; they may ask again."""
    chat_id = await _group(ctx, p.chat_id)
    try:
        with _rights("manage chat invite link"):
            await invites.decline_request(ctx.app, ctx.bot, chat_id, p.user_id)
    except HeliographError as e:
        if e.code is ErrorCode.JOIN_REQUEST_NOT_FOUND:
            raise bad_request("HIDE_REQUESTER_MISSING") from None
        raise
    return True
