"""Groups and channels: creation, info, members, roles, rights, bans and the admin log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from heliograph.domain.entities import Chat, ChatKind
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.permissions import AdminRights, MemberRights
from heliograph.gateway.methods import Context, Params, method
from heliograph.gateway.methods.account import Ok
from heliograph.services import groups, reading
from heliograph.services.accounts import verify_own_password
from heliograph.services.groups import AdminLogEntry, Member

Id = Annotated[int, Field(ge=1, le=2**53)]
Title = Annotated[str, Field(min_length=1, max_length=256)]
About = Annotated[str, Field(max_length=1024)]
UserIds = Annotated[list[Id], Field(max_length=200)]


@dataclass(slots=True)
class AddedMembers:
    user_ids: list[int]


class CreateGroup(Params):
    title: Title
    about: About = ""
    user_ids: UserIds = Field(default_factory=list)


@method("createGroup", CreateGroup, Chat, group="Groups and channels")
async def create_group(ctx: Context, p: CreateGroup) -> Chat:
    """Create a group with initial members (up to 200 at once); you are its owner.

    Groups hold up to 200,000 members. Past a threshold (200 by default) a group keeps an
    update box of its own, like a channel: its Chat then has a `pts`."""
    chat_id = await groups.create_chat(
        ctx.app, ctx.user, ChatKind.GROUP, p.title, p.about, p.user_ids
    )
    return await reading.get_chat(ctx.app, ctx.user, chat_id)


class CreateChannel(Params):
    title: Title
    about: About = ""


@method("createChannel", CreateChannel, Chat, group="Groups and channels")
async def create_channel(ctx: Context, p: CreateChannel) -> Chat:
    """Create a broadcast channel: administrators post, any number of subscribers read."""
    chat_id = await groups.create_chat(ctx.app, ctx.user, ChatKind.CHANNEL, p.title, p.about)
    return await reading.get_chat(ctx.app, ctx.user, chat_id)


class AddChatMembers(Params):
    chat_id: Id
    user_ids: Annotated[list[Id], Field(min_length=1, max_length=200)]


@method("addChatMembers", AddChatMembers, AddedMembers, group="Groups and channels")
async def add_chat_members(ctx: Context, p: AddChatMembers) -> AddedMembers:
    """Add users (needs the invite right). Adding a banned user lifts the ban (needs the ban
    right)."""
    return AddedMembers(await groups.add_members(ctx.app, ctx.user, p.chat_id, p.user_ids))


class EditChatInfo(Params):
    chat_id: Id
    title: Title | None = None
    about: About | None = None


@method("editChatInfo", EditChatInfo, Ok, group="Groups and channels")
async def edit_chat_info(ctx: Context, p: EditChatInfo) -> Ok:
    """Change the title and/or description (needs the change-info right)."""
    await groups.edit_info(ctx.app, ctx.user, p.chat_id, p.title, p.about)
    return Ok()


class SetChatUsername(Params):
    chat_id: Id
    username: Annotated[str, Field(min_length=1, max_length=64)] | None


@method("setChatUsername", SetChatUsername, Ok, group="Groups and channels")
async def set_chat_username(ctx: Context, p: SetChatUsername) -> Ok:
    """Make the chat public under a name anyone can find, or private again with null.

    Names share one namespace with user names."""
    await groups.set_chat_username(ctx.app, ctx.user, p.chat_id, p.username)
    return Ok()


class PromoteChatMember(Params):
    chat_id: Id
    user_id: Id
    rights: AdminRights = AdminRights()
    title: Annotated[str, Field(max_length=64)] = ""


@method("promoteChatMember", PromoteChatMember, Ok, group="Groups and channels")
async def promote_chat_member(ctx: Context, p: PromoteChatMember) -> Ok:
    """Make a member an administrator with the given rights; all rights false demotes.

    Needs the manage-admins right, and you cannot grant a right you lack."""
    await groups.promote(ctx.app, ctx.user, p.chat_id, p.user_id, p.rights, p.title)
    return Ok()


class RestrictChatMember(Params):
    chat_id: Id
    user_id: Id
    rights: MemberRights
    until_date: Annotated[int, Field(ge=0)] = 0


@method("restrictChatMember", RestrictChatMember, Ok, group="Groups and channels")
async def restrict_chat_member(ctx: Context, p: RestrictChatMember) -> Ok:
    """Take rights from a member until `until_date` (0: until lifted). Giving every right
    back lifts the restriction. Needs the ban right."""
    await groups.restrict(ctx.app, ctx.user, p.chat_id, p.user_id, p.rights, p.until_date)
    return Ok()


class ChatUser(Params):
    chat_id: Id
    user_id: Id


@method("banChatMember", ChatUser, Ok, group="Groups and channels")
async def ban_chat_member(ctx: Context, p: ChatUser) -> Ok:
    """Remove a user and keep them out. Their devices stop receiving the chat at once and
    they cannot read its new history."""
    await groups.ban(ctx.app, ctx.user, p.chat_id, p.user_id)
    return Ok()


@method("unbanChatMember", ChatUser, Ok, group="Groups and channels")
async def unban_chat_member(ctx: Context, p: ChatUser) -> Ok:
    """Lift a ban; the user may join again."""
    await groups.unban(ctx.app, ctx.user, p.chat_id, p.user_id)
    return Ok()


@method("removeChatMember", ChatUser, Ok, group="Groups and channels")
async def remove_chat_member(ctx: Context, p: ChatUser) -> Ok:
    """Remove a member without banning them (needs the ban right)."""
    await groups.kick(ctx.app, ctx.user, p.chat_id, p.user_id)
    return Ok()


class ChatOnly(Params):
    chat_id: Id


@method("leaveChat", ChatOnly, Ok, group="Groups and channels")
async def leave_chat(ctx: Context, p: ChatOnly) -> Ok:
    """Leave a group or channel. An owner transfers ownership first (or deletes the chat)."""
    await groups.leave(ctx.app, ctx.user, p.chat_id)
    return Ok()


@method("deleteChat", ChatOnly, Ok, group="Groups and channels")
async def delete_chat(ctx: Context, p: ChatOnly) -> Ok:
    """Delete a group or channel for everyone (owner only)."""
    await groups.delete_chat(ctx.app, ctx.user, p.chat_id)
    return Ok()


class TransferOwnership(Params):
    chat_id: Id
    user_id: Id
    password: Annotated[str, Field(min_length=1, max_length=1024)]


@method("transferChatOwnership", TransferOwnership, Ok, group="Groups and channels", rate="auth")
async def transfer_chat_ownership(ctx: Context, p: TransferOwnership) -> Ok:
    """Make another member the owner; you stay an administrator with every right. Your
    password confirms it."""
    if not await verify_own_password(ctx.app, ctx.user, p.password):
        raise HeliographError(ErrorCode.PASSWORD_INVALID, "the password is wrong")
    await groups.transfer_ownership(ctx.app, ctx.user, p.chat_id, p.user_id)
    return Ok()


class SetDefaultRights(Params):
    chat_id: Id
    rights: MemberRights


@method("setChatDefaultRights", SetDefaultRights, Ok, group="Groups and channels")
async def set_chat_default_rights(ctx: Context, p: SetDefaultRights) -> Ok:
    """Set what every member may do (send messages, media, stickers, links, polls, invite,
    pin, change info). Needs the ban right."""
    await groups.set_default_rights(ctx.app, ctx.user, p.chat_id, p.rights)
    return Ok()


class SetChatSettings(Params):
    chat_id: Id
    slow_mode_seconds: Literal[0, 10, 30, 60, 300, 900, 3600] | None = None
    signatures: bool | None = None


@method("setChatSettings", SetChatSettings, Ok, group="Groups and channels")
async def set_chat_settings(ctx: Context, p: SetChatSettings) -> Ok:
    """Slow mode of a group (seconds between a member's messages), or author signatures on a
    channel's posts. Needs the change-info right."""
    await groups.set_chat_settings(ctx.app, ctx.user, p.chat_id, p.slow_mode_seconds, p.signatures)
    return Ok()


class LinkDiscussion(Params):
    channel_id: Id
    group_id: Id | None


@method("linkDiscussionGroup", LinkDiscussion, Ok, group="Groups and channels")
async def link_discussion_group(ctx: Context, p: LinkDiscussion) -> Ok:
    """Link a group to a channel (null unlinks): each new post is copied there and comments
    are replies to that copy (see `Message.discussion`)."""
    await groups.link_discussion(ctx.app, ctx.user, p.channel_id, p.group_id)
    return Ok()


class GetChatMembers(Params):
    chat_id: Id
    filter: Literal["all", "admins", "restricted", "banned"] = "all"
    query: Annotated[str, Field(max_length=64)] = ""
    after_user_id: Annotated[int, Field(ge=0)] = 0
    limit: Annotated[int, Field(ge=1, le=200)] = 100


@method("getChatMembers", GetChatMembers, list[Member], group="Groups and channels")
async def get_chat_members(ctx: Context, p: GetChatMembers) -> list[Member]:
    """A page of members ordered by user id; for the next page pass the last `user_id` as
    `after_user_id`. `query` matches display names and usernames. A channel's subscriber
    list, and the restricted and banned lists, are for administrators."""
    return await groups.get_members(
        ctx.app, ctx.user, p.chat_id, p.filter, p.query, p.after_user_id, p.limit
    )


class GetAdminLog(Params):
    chat_id: Id
    before_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


@method("getAdminLog", GetAdminLog, list[AdminLogEntry], group="Groups and channels")
async def get_admin_log(ctx: Context, p: GetAdminLog) -> list[AdminLogEntry]:
    """Recent administrative actions, newest first (administrators only)."""
    return await groups.get_admin_log(ctx.app, ctx.user, p.chat_id, p.before_id, p.limit)
