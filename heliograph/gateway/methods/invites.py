"""Invite links, join requests, joining, and discovery of public groups and channels."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from heliograph.domain.entities import Chat, Message
from heliograph.gateway.methods import Context, Params, method
from heliograph.gateway.methods.account import Ok
from heliograph.services import discovery, invites, reading
from heliograph.services.discovery import ChatPreview
from heliograph.services.invites import InviteLink, JoinRequest, LinkJoiner

# strict: JSON true is not the number 1
Id = Annotated[int, Field(ge=1, le=2**53, strict=True)]
Date = Annotated[int, Field(ge=0, le=2**53, strict=True)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Username = Annotated[str, Field(min_length=1, max_length=64)]
Limit = Annotated[int, Field(ge=1, le=100, strict=True)]
Flag = Annotated[bool, Field(strict=True)]
LINKS = "Invite links"
DISCOVERY = "Discovery"


class CreateInviteLink(Params):
    chat_id: Id
    title: Annotated[str, Field(max_length=32)] = ""
    expires_at: Date | None = None
    usage_limit: Annotated[int, Field(ge=1, le=99_999, strict=True)] | None = None
    requires_approval: Flag = False


@method("createInviteLink", CreateInviteLink, InviteLink, group=LINKS)
async def create_invite_link(ctx: Context, p: CreateInviteLink) -> InviteLink:
    """Create an invite link (needs the invite right; in channels, administrators only).

    `expires_at` (unix seconds, in the future) and `usage_limit` (1-99,999 joins) bound its
    use; with `requires_approval` each joiner asks the administrators instead of joining.
    A link has a usage limit or requires approval, not both. The code is random (128 bits)."""
    return await invites.create_link(
        ctx.app,
        ctx.user,
        p.chat_id,
        p.title,
        p.expires_at,
        p.usage_limit,
        p.requires_approval,
    )


class GetInviteLinks(Params):
    chat_id: Id
    revoked: Flag = False
    before_code: Code | None = None
    limit: Limit = 50


@method("getInviteLinks", GetInviteLinks, list[InviteLink], group=LINKS)
async def get_invite_links(ctx: Context, p: GetInviteLinks) -> list[InviteLink]:
    """The chat's active (or with `revoked`, revoked) links, newest first.

    Administrators with the invite right see every link; other members see their own. For
    the next page pass the last `code` received as `before_code`."""
    return await invites.get_links(ctx.app, ctx.user, p.chat_id, p.revoked, p.before_code, p.limit)


class InviteLinkRef(Params):
    chat_id: Id
    code: Code


@method("revokeInviteLink", InviteLinkRef, InviteLink, group=LINKS)
async def revoke_invite_link(ctx: Context, p: InviteLinkRef) -> InviteLink:
    """Stop a link working: joining through it answers INVITE_EXPIRED from now on.

    Its creator may revoke it, and administrators with the invite right. Revoking the primary
    link makes exportPrimaryInviteLink create a new one."""
    return await invites.revoke_link(ctx.app, ctx.user, p.chat_id, p.code)


class ExportPrimaryInviteLink(Params):
    chat_id: Id
    replace: Flag = False


@method("exportPrimaryInviteLink", ExportPrimaryInviteLink, InviteLink, group=LINKS)
async def export_primary_invite_link(ctx: Context, p: ExportPrimaryInviteLink) -> InviteLink:
    """The chat's primary link (no expiry, no limit), created on first use.

    With `replace` the current one is revoked and a new one returned."""
    return await invites.export_primary(ctx.app, ctx.user, p.chat_id, p.replace)


class GetInviteLinkMembers(Params):
    chat_id: Id
    code: Code
    before_date: Date | None = None
    before_user_id: Id | None = None
    limit: Limit = 50


@method("getInviteLinkMembers", GetInviteLinkMembers, list[LinkJoiner], group=LINKS)
async def get_invite_link_members(ctx: Context, p: GetInviteLinkMembers) -> list[LinkJoiner]:
    """Who joined through a link, newest first (administrators with the invite right, and the
    link's creator). For the next page pass the last `joined_at` and `user_id` received."""
    before = None
    if p.before_date is not None and p.before_user_id is not None:
        before = (p.before_date, p.before_user_id)
    return await invites.get_link_members(ctx.app, ctx.user, p.chat_id, p.code, before, p.limit)


class PreviewInvite(Params):
    code: Code


@method("previewInvite", PreviewInvite, ChatPreview, group=LINKS)
async def preview_invite(ctx: Context, p: PreviewInvite) -> ChatPreview:
    """What an invite link leads to, for anyone holding it: title, description, name, kind,
    member count, whether joining needs approval, and whether you are in it already.

    Never any message. Unknown codes answer INVITE_INVALID; revoked, expired or used-up
    links INVITE_EXPIRED."""
    return await discovery.preview_invite(ctx.app, ctx.user, p.code)


class JoinChat(Params):
    invite_code: Code | None = None
    username: Username | None = None

    @model_validator(mode="after")
    def _one_way(self) -> JoinChat:
        if (self.invite_code is None) == (self.username is None):
            raise ValueError("give either invite_code or username")
        return self


@method("joinChat", JoinChat, Chat, group=LINKS)
async def join_chat(ctx: Context, p: JoinChat) -> Chat:
    """Join a group or channel through an invite link, or a public one by its name.

    Errors: USER_ALREADY_PARTICIPANT, USER_BANNED_IN_CHAT, INVITE_INVALID, INVITE_EXPIRED.
    A link that requires approval answers INVITE_REQUEST_SENT (409) with the `chat_id`: the
    request was filed (nothing failed) and the administrators decide; you learn the outcome
    from a `chat_membership` update (approved) or a `join_request_declined` one."""
    if p.invite_code is not None:
        chat_id = await discovery.join_by_link(ctx.app, ctx.user, p.invite_code)
    else:
        chat_id = await discovery.join_public(ctx.app, ctx.user, p.username or "")
    return await reading.get_chat(ctx.app, ctx.user, chat_id)


class GetJoinRequests(Params):
    chat_id: Id
    before_date: Date | None = None
    before_user_id: Id | None = None
    limit: Limit = 50


@method("getJoinRequests", GetJoinRequests, list[JoinRequest], group=LINKS)
async def get_join_requests(ctx: Context, p: GetJoinRequests) -> list[JoinRequest]:
    """Pending join requests, newest first (administrators with the invite right).

    They are also pushed live as `join_request` events. For the next page pass the last
    `date` and `user_id` received."""
    before = None
    if p.before_date is not None and p.before_user_id is not None:
        before = (p.before_date, p.before_user_id)
    return await invites.get_requests(ctx.app, ctx.user, p.chat_id, before, p.limit)


class JoinRequestRef(Params):
    chat_id: Id
    user_id: Id


@method("approveJoinRequest", JoinRequestRef, Ok, group=LINKS)
async def approve_join_request(ctx: Context, p: JoinRequestRef) -> Ok:
    """Let a requester in; they get a `chat_membership` update."""
    await invites.approve_request(ctx.app, ctx.user, p.chat_id, p.user_id)
    return Ok()


@method("declineJoinRequest", JoinRequestRef, Ok, group=LINKS)
async def decline_join_request(ctx: Context, p: JoinRequestRef) -> Ok:
    """Refuse a requester; they get a `join_request_declined` update and may ask again."""
    await invites.decline_request(ctx.app, ctx.user, p.chat_id, p.user_id)
    return Ok()


class SearchPublicChats(Params):
    query: Annotated[str, Field(min_length=1, max_length=256)]
    limit: Limit = 20


@method("searchPublicChats", SearchPublicChats, list[ChatPreview], group=DISCOVERY)
async def search_public_chats(ctx: Context, p: SearchPublicChats) -> list[ChatPreview]:
    """Public groups and channels whose title or name contains the query, largest first.

    Matching ignores case and letter variants of any script (as searchMessages does)."""
    return await discovery.search_public_chats(ctx.app, ctx.user, p.query, p.limit)


class ResolveChat(Params):
    username: Username


@method("resolveChat", ResolveChat, ChatPreview, group=DISCOVERY)
async def resolve_chat(ctx: Context, p: ResolveChat) -> ChatPreview:
    """A public group or channel by its exact name (case-insensitive, with or without @)."""
    return await discovery.resolve_chat(ctx.app, ctx.user, p.username)


class SearchHashtag(Params):
    tag: Annotated[str, Field(min_length=1, max_length=256)]
    scope: Literal["public", "mine"] = "public"
    limit: Limit = 50
    before_date: Date | None = None
    before_chat_id: Id | None = None
    before_message_id: Id | None = None


@method("searchHashtag", SearchHashtag, list[Message], group=DISCOVERY)
async def search_hashtag(ctx: Context, p: SearchHashtag) -> list[Message]:
    """Messages carrying a hashtag, newest first: in public groups and channels (`public`,
    no membership needed) or in your own chats (`mine`).

    `#SaveYourInternet`, `saveyourinternet` and `#SAVEYOURINTERNET` are one tag; tags of any
    script work. For the next page pass the `date`, `chat_id` and `id` of the last result."""
    before = None
    if None not in (p.before_date, p.before_chat_id, p.before_message_id):
        before = (p.before_date or 0, p.before_chat_id or 0, p.before_message_id or 0)
    return await discovery.search_hashtag(ctx.app, ctx.user, p.tag, p.scope, p.limit, before)


class GetPublicHistory(Params):
    chat_id: Id | None = None
    username: Username | None = None
    offset_id: Date | None = None
    direction: Literal["older", "newer"] = "older"
    limit: Limit = 50

    @model_validator(mode="after")
    def _one_chat(self) -> GetPublicHistory:
        if (self.chat_id is None) == (self.username is None):
            raise ValueError("give either chat_id or username")
        return self


@method("getPublicHistory", GetPublicHistory, list[Message], group=DISCOVERY)
async def get_public_history(ctx: Context, p: GetPublicHistory) -> list[Message]:
    """Read a public group or channel without joining it, as getHistory does (oldest first).

    Name it by `chat_id` or `username`. Chats without a public name answer CHAT_NOT_FOUND."""
    return await discovery.public_history(
        ctx.app,
        ctx.user,
        p.chat_id,
        p.username,
        p.offset_id,
        p.direction == "newer",
        p.limit,
    )
