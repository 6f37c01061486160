"""Typed wrappers of the API methods, one per method, mixed into Client.

Each builds the JSON parameters, calls `_invoke` and turns the result into dataclasses. The
parameters follow the API reference; only ones given are sent, so server defaults apply."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from heliograph.sdk.types import (
    Account,
    AdminLogEntry,
    AdminRights,
    AlbumItem,
    Bot,
    BotCommand,
    BotInfo,
    CallbackAnswer,
    Chat,
    ChatPreview,
    Difference,
    FileInfo,
    InlineButton,
    InlineResults,
    InputMedia,
    InviteLink,
    JoinRequest,
    LinkJoiner,
    Member,
    MemberRights,
    Message,
    MessageEntity,
    PtsChange,
    SentMessage,
    Session,
    State,
    Sticker,
    StickerSet,
    StickerSetInfo,
    Upload,
    User,
    Views,
)

# Calls that may be repeated after a dropped connection without changing the outcome: reads,
# and writes whose second run is a no-op. sendMessage joins them when it carries a random_id.
RETRY_SAFE = frozenset(
    {
        "getMe",
        "getChats",
        "getChat",
        "getPinnedChats",
        "pinChat",
        "archiveChat",
        "reorderPinnedChats",
        "getPrivateChat",
        "getHistory",
        "getMessages",
        "searchMessages",
        "getSessions",
        "getUsers",
        "resolveUsername",
        "searchUsers",
        "getContacts",
        "getState",
        "getDifference",
        "readHistory",
        "setTyping",
        "pinMessage",
        "setReaction",
        "saveDraft",
        "updateProfile",
        "setUsername",
        "setPrivacy",
        "addContact",
        "getChannelDifference",
        "viewMessages",
        "getChatMembers",
        "getAdminLog",
        "getInviteLinks",
        "getInviteLinkMembers",
        "previewInvite",
        "getJoinRequests",
        "searchPublicChats",
        "resolveChat",
        "searchHashtag",
        "getPublicHistory",
        # a second start finds the first (same size and SHA-256); finishing twice is a no-op
        "startUpload",
        "getUpload",
        "finishUpload",
        "getFile",
        "setProfilePhoto",
        "getMyBots",
        "getBotInfo",
        "editBot",
        "getStickerSet",
        "getInstalledStickerSets",
        "getStickerSuggestions",
        "searchStickerSets",
        # a set installed already, or not installed, is left as it is
        "installStickerSet",
        "uninstallStickerSet",
        "reorderStickerSets",
        "setStickerPosition",
        "setStickerEmoji",
        "setStickerSetTitle",
    }
)
# Sends that the server deduplicates by their random_id: safe to retry when they carry one.
SENDS = frozenset({"sendMessage", "sendMedia", "sendAlbum"})

# Methods that need no session; the SDK calls them without the token.
NO_SESSION = frozenset({"signUp", "signIn", "requestLoginCode", "checkLoginCode"})


def retry_safe(method: str, params: Mapping[str, Any]) -> bool:
    if method in SENDS:
        return params.get("random_id") is not None
    return method in RETRY_SAFE


EntitiesArg = Sequence[MessageEntity | Mapping[str, Any]] | None


def _entities(entities: EntitiesArg) -> list[dict[str, Any]] | None:
    if entities is None:
        return None
    return [e.to_dict() if isinstance(e, MessageEntity) else dict(e) for e in entities]


AdminRightsArg = AdminRights | Mapping[str, bool]
MemberRightsArg = MemberRights | Mapping[str, bool]


def _rights(rights: AdminRightsArg | MemberRightsArg) -> dict[str, Any]:
    if isinstance(rights, AdminRights | MemberRights):
        return rights.to_dict()
    return dict(rights)


CommandsArg = Iterable[BotCommand | tuple[str, str]]


def _commands(commands: CommandsArg) -> list[dict[str, Any]]:
    return [
        (c if isinstance(c, BotCommand) else BotCommand(c[0], c[1])).to_dict() for c in commands
    ]


# A sticker set by its id or its short name (the name in its link), or as fetched.
SetRef = int | str | StickerSet | StickerSetInfo


def set_ref(ref: SetRef) -> dict[str, Any]:
    if isinstance(ref, StickerSet | StickerSetInfo):
        return {"set_id": ref.id}
    if isinstance(ref, str):
        return {"short_name": ref}
    return {"set_id": ref}


def _given(**params: Any) -> dict[str, Any]:
    """The parameters that were given (None means: leave it to the server's default)."""
    return {k: v for k, v in params.items() if v is not None}


class Methods:
    async def _invoke(self, method: str, params: dict[str, Any], *, auth: bool = True) -> Any:
        raise NotImplementedError

    # --- profile and account ----------------------------------------------------------------

    async def get_me(self) -> Account:
        return Account.from_dict(await self._invoke("getMe", {}))

    async def update_profile(
        self, *, display_name: str | None = None, bio: str | None = None
    ) -> Account:
        params = _given(display_name=display_name, bio=bio)
        return Account.from_dict(await self._invoke("updateProfile", params))

    async def set_username(self, username: str | None) -> Account:
        """Set the public username, or remove it with None."""
        return Account.from_dict(await self._invoke("setUsername", {"username": username}))

    async def set_privacy(
        self, *, last_seen: str | None = None, private_chats: str | None = None
    ) -> Account:
        """`last_seen`: everybody, contacts or nobody; `private_chats`: everybody or contacts."""
        params = _given(last_seen=last_seen, private_chats=private_chats)
        return Account.from_dict(await self._invoke("setPrivacy", params))

    async def get_sessions(self) -> list[Session]:
        return [Session.from_dict(s) for s in await self._invoke("getSessions", {})]

    async def end_session(self, session_id: int) -> None:
        await self._invoke("endSession", {"session_id": session_id})

    async def end_other_sessions(self) -> int:
        """End every other session of the account; returns how many ended."""
        return int((await self._invoke("endOtherSessions", {}))["count"])

    async def change_password(
        self, old_password: str, new_password: str, *, end_other_sessions: bool = False
    ) -> int:
        """Returns how many other sessions were ended."""
        params = {
            "old_password": old_password,
            "new_password": new_password,
            "end_other_sessions": end_other_sessions,
        }
        return int((await self._invoke("changePassword", params))["count"])

    # --- users and contacts -----------------------------------------------------------------

    async def get_users(self, user_ids: Iterable[int]) -> list[User]:
        result = await self._invoke("getUsers", {"user_ids": list(user_ids)})
        return [User.from_dict(u) for u in result]

    async def resolve_username(self, username: str) -> User:
        return User.from_dict(await self._invoke("resolveUsername", {"username": username}))

    async def search_users(self, query: str, *, limit: int | None = None) -> list[User]:
        result = await self._invoke("searchUsers", _given(query=query, limit=limit))
        return [User.from_dict(u) for u in result]

    async def get_contacts(self) -> list[User]:
        return [User.from_dict(u) for u in await self._invoke("getContacts", {})]

    async def add_contact(self, user_id: int) -> User:
        return User.from_dict(await self._invoke("addContact", {"user_id": user_id}))

    async def remove_contact(self, user_id: int) -> None:
        await self._invoke("removeContact", {"user_id": user_id})

    # --- chats ------------------------------------------------------------------------------

    async def get_chats(
        self,
        *,
        limit: int | None = None,
        before_activity: int | None = None,
        before_chat_id: int | None = None,
    ) -> list[Chat]:
        """The chat list, most recently active first. For the next page pass the
        `last_activity` and `id` of the last chat received."""
        params = _given(limit=limit, before_activity=before_activity, before_chat_id=before_chat_id)
        return [Chat.from_dict(c) for c in await self._invoke("getChats", params)]

    async def get_chat(self, chat_id: int) -> Chat:
        return Chat.from_dict(await self._invoke("getChat", {"chat_id": chat_id}))

    async def get_pinned_chats(self) -> list[Chat]:
        """Your pinned chats in their order, however old their last message."""
        return [Chat.from_dict(c) for c in await self._invoke("getPinnedChats", {})]

    async def pin_chat(self, chat_id: int, *, pinned: bool = True) -> PtsChange:
        """Pin a chat first in your list (pinned=False unpins); every device follows."""
        params = {"chat_id": chat_id, "pinned": pinned}
        return PtsChange.from_dict(await self._invoke("pinChat", params))

    async def reorder_pinned_chats(self, chat_ids: Iterable[int]) -> PtsChange:
        """Put your pinned chats in this order (name each pinned chat once)."""
        params = {"chat_ids": list(chat_ids)}
        return PtsChange.from_dict(await self._invoke("reorderPinnedChats", params))

    async def archive_chat(self, chat_id: int, *, archived: bool = True) -> PtsChange:
        """Move a chat into your archive (archived=False takes it out); archiving unpins."""
        params = {"chat_id": chat_id, "archived": archived}
        return PtsChange.from_dict(await self._invoke("archiveChat", params))

    async def get_private_chat(self, user_id: int) -> Chat:
        """The private chat with a user (your Saved Messages with your own id)."""
        return Chat.from_dict(await self._invoke("getPrivateChat", {"user_id": user_id}))

    # --- messages ---------------------------------------------------------------------------

    async def get_history(
        self,
        chat_id: int,
        *,
        offset_id: int | None = None,
        direction: Literal["older", "newer"] | None = None,
        limit: int | None = None,
        around_id: int | None = None,
    ) -> list[Message]:
        """A page of history, oldest first: before `offset_id` (or the newest messages), or
        after it with direction="newer"; or, with `around_id` alone, up to `limit` messages
        centred on that message (to open a chat at an old message, then page both ways)."""
        params = _given(
            chat_id=chat_id,
            offset_id=offset_id,
            direction=direction,
            limit=limit,
            around_id=around_id,
        )
        return [Message.from_dict(m) for m in await self._invoke("getHistory", params)]

    async def get_messages(self, chat_id: int, message_ids: Iterable[int]) -> list[Message]:
        params = {"chat_id": chat_id, "message_ids": list(message_ids)}
        return [Message.from_dict(m) for m in await self._invoke("getMessages", params)]

    async def search_messages(
        self,
        query: str,
        *,
        chat_id: int | None = None,
        limit: int | None = None,
        before_date: int | None = None,
        before_chat_id: int | None = None,
        before_message_id: int | None = None,
    ) -> list[Message]:
        """Search message text (any script), newest first. For the next page pass the
        `date`, `chat_id` and `id` of the last result."""
        params = _given(
            query=query,
            chat_id=chat_id,
            limit=limit,
            before_date=before_date,
            before_chat_id=before_chat_id,
            before_message_id=before_message_id,
        )
        return [Message.from_dict(m) for m in await self._invoke("searchMessages", params)]

    async def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
        random_id: int | None = None,
        anonymous: bool = False,
        no_link_preview: bool = False,
    ) -> SentMessage:
        """Send a text message. A random_id is always sent (one is made when not given), so
        the SDK can retry a send cut off by a dropped connection without sending it twice.
        `anonymous` posts as the group (administrators with the post_anonymously right);
        `no_link_preview` keeps the server from previewing the first link."""
        params = _given(
            chat_id=chat_id,
            text=text,
            entities=_entities(entities),
            reply_to_message_id=reply_to_message_id,
            random_id=random_id if random_id is not None else new_random_id(),
            anonymous=True if anonymous else None,
            no_link_preview=True if no_link_preview else None,
        )
        return SentMessage.from_dict(await self._invoke("sendMessage", params))

    async def send_media(
        self,
        chat_id: int,
        media: InputMedia,
        *,
        caption: str = "",
        caption_entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
        random_id: int | None = None,
        anonymous: bool = False,
    ) -> SentMessage:
        """Send an uploaded file (see `upload_file`, or `send_photo` and the like, which
        upload and send in one go) as a photo, document, voice note, video or sticker.
        Like send_message, it always carries a random_id."""
        params = _given(
            chat_id=chat_id,
            media=media.to_dict(),
            caption=caption or None,
            caption_entities=_entities(caption_entities),
            reply_to_message_id=reply_to_message_id,
            random_id=random_id if random_id is not None else new_random_id(),
            anonymous=True if anonymous else None,
        )
        return SentMessage.from_dict(await self._invoke("sendMedia", params))

    async def send_album_items(
        self,
        chat_id: int,
        items: Sequence[AlbumItem],
        *,
        reply_to_message_id: int | None = None,
        random_id: int | None = None,
        anonymous: bool = False,
    ) -> list[SentMessage]:
        """The raw sendAlbum: 2 to 10 uploaded photos and videos sent as one album (all or
        none). `send_album` uploads files and calls this."""
        params = _given(
            chat_id=chat_id,
            items=[item.to_dict() for item in items],
            reply_to_message_id=reply_to_message_id,
            random_id=random_id if random_id is not None else new_random_id(),
            anonymous=True if anonymous else None,
        )
        return [SentMessage.from_dict(s) for s in await self._invoke("sendAlbum", params)]

    async def forward_messages(
        self, from_chat_id: int, message_ids: Iterable[int], to_chat_id: int
    ) -> list[SentMessage]:
        params = {
            "from_chat_id": from_chat_id,
            "message_ids": list(message_ids),
            "to_chat_id": to_chat_id,
        }
        return [SentMessage.from_dict(s) for s in await self._invoke("forwardMessages", params)]

    async def edit_message(
        self, chat_id: int, message_id: int, text: str, *, entities: EntitiesArg = None
    ) -> PtsChange:
        params = _given(
            chat_id=chat_id, message_id=message_id, text=text, entities=_entities(entities)
        )
        return PtsChange.from_dict(await self._invoke("editMessage", params))

    async def delete_messages(
        self, chat_id: int, message_ids: Iterable[int], *, for_everyone: bool = False
    ) -> PtsChange:
        params = {
            "chat_id": chat_id,
            "message_ids": list(message_ids),
            "for_everyone": for_everyone,
        }
        return PtsChange.from_dict(await self._invoke("deleteMessages", params))

    async def pin_message(self, chat_id: int, message_id: int, *, pinned: bool = True) -> PtsChange:
        params = {"chat_id": chat_id, "message_id": message_id, "pinned": pinned}
        return PtsChange.from_dict(await self._invoke("pinMessage", params))

    async def set_reaction(self, chat_id: int, message_id: int, emoji: str | None) -> PtsChange:
        """React with one emoji (replacing your earlier reaction); None removes it."""
        params = {"chat_id": chat_id, "message_id": message_id, "emoji": emoji}
        return PtsChange.from_dict(await self._invoke("setReaction", params))

    async def read_history(self, chat_id: int, max_id: int) -> PtsChange:
        params = {"chat_id": chat_id, "max_id": max_id}
        return PtsChange.from_dict(await self._invoke("readHistory", params))

    async def set_typing(self, chat_id: int, action: str = "typing") -> None:
        await self._invoke("setTyping", {"chat_id": chat_id, "action": action})

    async def save_draft(
        self,
        chat_id: int,
        text: str,
        *,
        entities: EntitiesArg = None,
        reply_to_message_id: int | None = None,
    ) -> PtsChange:
        """Save the unsent text of a chat for your other devices; empty text clears it."""
        params = _given(
            chat_id=chat_id,
            text=text,
            entities=_entities(entities),
            reply_to_message_id=reply_to_message_id,
        )
        return PtsChange.from_dict(await self._invoke("saveDraft", params))

    async def view_messages(self, chat_id: int, message_ids: Iterable[int]) -> Views:
        """Count that you saw channel posts (once per user) and get their view counters."""
        params = {"chat_id": chat_id, "message_ids": list(message_ids)}
        return Views.from_dict(await self._invoke("viewMessages", params))

    # --- groups and channels ----------------------------------------------------------------

    async def create_group(
        self, title: str, *, about: str | None = None, user_ids: Iterable[int] | None = None
    ) -> Chat:
        """Create a group with initial members (up to 200 at once); you are its owner."""
        params = _given(
            title=title, about=about, user_ids=None if user_ids is None else list(user_ids)
        )
        return Chat.from_dict(await self._invoke("createGroup", params))

    async def create_channel(self, title: str, *, about: str | None = None) -> Chat:
        """Create a broadcast channel: administrators post, subscribers read."""
        params = _given(title=title, about=about)
        return Chat.from_dict(await self._invoke("createChannel", params))

    async def add_chat_members(self, chat_id: int, user_ids: Iterable[int]) -> list[int]:
        """Add users (up to 200 at once); returns the ids of those added."""
        params = {"chat_id": chat_id, "user_ids": list(user_ids)}
        return _ints_of((await self._invoke("addChatMembers", params)).get("user_ids"))

    async def edit_chat_info(
        self, chat_id: int, *, title: str | None = None, about: str | None = None
    ) -> None:
        await self._invoke("editChatInfo", _given(chat_id=chat_id, title=title, about=about))

    async def set_chat_username(self, chat_id: int, username: str | None) -> None:
        """Make the chat public under a name, or private again with None."""
        await self._invoke("setChatUsername", {"chat_id": chat_id, "username": username})

    async def promote_chat_member(
        self,
        chat_id: int,
        user_id: int,
        rights: AdminRightsArg | None = None,
        *,
        title: str | None = None,
    ) -> None:
        """Make a member an administrator with `rights`; all rights false (the default)
        demotes. `title` is the administrator's custom title."""
        params = _given(
            chat_id=chat_id,
            user_id=user_id,
            rights=_rights(rights if rights is not None else AdminRights()),
            title=title,
        )
        await self._invoke("promoteChatMember", params)

    async def restrict_chat_member(
        self, chat_id: int, user_id: int, rights: MemberRightsArg, *, until_date: int | None = None
    ) -> None:
        """Leave a member only `rights` until `until_date` (unix seconds; 0 or None: until
        lifted). Giving every right back lifts the restriction."""
        params = _given(
            chat_id=chat_id, user_id=user_id, rights=_rights(rights), until_date=until_date
        )
        await self._invoke("restrictChatMember", params)

    async def ban_chat_member(self, chat_id: int, user_id: int) -> None:
        """Remove a user and keep them out."""
        await self._invoke("banChatMember", {"chat_id": chat_id, "user_id": user_id})

    async def unban_chat_member(self, chat_id: int, user_id: int) -> None:
        await self._invoke("unbanChatMember", {"chat_id": chat_id, "user_id": user_id})

    async def remove_chat_member(self, chat_id: int, user_id: int) -> None:
        """Remove a member without banning them."""
        await self._invoke("removeChatMember", {"chat_id": chat_id, "user_id": user_id})

    async def leave_chat(self, chat_id: int) -> None:
        await self._invoke("leaveChat", {"chat_id": chat_id})

    async def delete_chat(self, chat_id: int) -> None:
        """Delete a group or channel for everyone (owner only)."""
        await self._invoke("deleteChat", {"chat_id": chat_id})

    async def transfer_chat_ownership(self, chat_id: int, user_id: int, password: str) -> None:
        """Make another member the owner; your password confirms it."""
        params = {"chat_id": chat_id, "user_id": user_id, "password": password}
        await self._invoke("transferChatOwnership", params)

    async def set_chat_default_rights(self, chat_id: int, rights: MemberRightsArg) -> None:
        """Set what every member may do."""
        params = {"chat_id": chat_id, "rights": _rights(rights)}
        await self._invoke("setChatDefaultRights", params)

    async def set_chat_settings(
        self,
        chat_id: int,
        *,
        slow_mode_seconds: Literal[0, 10, 30, 60, 300, 900, 3600] | None = None,
        signatures: bool | None = None,
    ) -> None:
        """Slow mode of a group, or author signatures on a channel's posts."""
        params = _given(chat_id=chat_id, slow_mode_seconds=slow_mode_seconds, signatures=signatures)
        await self._invoke("setChatSettings", params)

    async def link_discussion_group(self, channel_id: int, group_id: int | None) -> None:
        """Link a discussion group to a channel (None unlinks). Both chats hear of it by a
        `chat_info` update carrying `linked_chat_id`."""
        params = {"channel_id": channel_id, "group_id": group_id}
        await self._invoke("linkDiscussionGroup", params)

    async def get_chat_members(
        self,
        chat_id: int,
        *,
        filter: Literal["all", "admins", "restricted", "banned"] | None = None,
        query: str | None = None,
        after_user_id: int | None = None,
        limit: int | None = None,
    ) -> list[Member]:
        """A page of members ordered by user id; for the next page pass the last `user_id`
        as `after_user_id`. `query` matches display names and usernames."""
        params = _given(
            chat_id=chat_id, filter=filter, query=query, after_user_id=after_user_id, limit=limit
        )
        return [Member.from_dict(m) for m in await self._invoke("getChatMembers", params)]

    async def get_admin_log(
        self, chat_id: int, *, before_id: int | None = None, limit: int | None = None
    ) -> list[AdminLogEntry]:
        """Recent administrative actions, newest first (administrators only)."""
        params = _given(chat_id=chat_id, before_id=before_id, limit=limit)
        return [AdminLogEntry.from_dict(e) for e in await self._invoke("getAdminLog", params)]

    # --- invite links and join requests -----------------------------------------------------

    async def create_invite_link(
        self,
        chat_id: int,
        *,
        title: str | None = None,
        expires_at: int | None = None,
        usage_limit: int | None = None,
        requires_approval: bool | None = None,
    ) -> InviteLink:
        """A new invite link, bounded by `expires_at` (unix seconds) and/or `usage_limit`;
        with `requires_approval` joiners ask the administrators instead."""
        params = _given(
            chat_id=chat_id,
            title=title,
            expires_at=expires_at,
            usage_limit=usage_limit,
            requires_approval=requires_approval,
        )
        return InviteLink.from_dict(await self._invoke("createInviteLink", params))

    async def get_invite_links(
        self,
        chat_id: int,
        *,
        revoked: bool | None = None,
        before_code: str | None = None,
        limit: int | None = None,
    ) -> list[InviteLink]:
        """Active (or revoked) links, newest first; for the next page pass the last `code`."""
        params = _given(chat_id=chat_id, revoked=revoked, before_code=before_code, limit=limit)
        return [InviteLink.from_dict(x) for x in await self._invoke("getInviteLinks", params)]

    async def revoke_invite_link(self, chat_id: int, code: str) -> InviteLink:
        params = {"chat_id": chat_id, "code": code}
        return InviteLink.from_dict(await self._invoke("revokeInviteLink", params))

    async def export_primary_invite_link(
        self, chat_id: int, *, replace: bool | None = None
    ) -> InviteLink:
        """The chat's primary link, created on first use; `replace` revokes it for a new one."""
        params = _given(chat_id=chat_id, replace=replace)
        return InviteLink.from_dict(await self._invoke("exportPrimaryInviteLink", params))

    async def get_invite_link_members(
        self,
        chat_id: int,
        code: str,
        *,
        before_date: int | None = None,
        before_user_id: int | None = None,
        limit: int | None = None,
    ) -> list[LinkJoiner]:
        """Who joined through a link, newest first. For the next page pass the last
        `joined_at` and `user_id`."""
        params = _given(
            chat_id=chat_id,
            code=code,
            before_date=before_date,
            before_user_id=before_user_id,
            limit=limit,
        )
        result = await self._invoke("getInviteLinkMembers", params)
        return [LinkJoiner.from_dict(j) for j in result]

    async def preview_invite(self, code: str) -> ChatPreview:
        """What an invite link leads to (never any message)."""
        return ChatPreview.from_dict(await self._invoke("previewInvite", {"code": code}))

    async def join_chat(
        self, *, invite_code: str | None = None, username: str | None = None
    ) -> Chat:
        """Join through an invite link, or a public chat by its name (give one of them).

        A link that requires approval raises ApiError INVITE_REQUEST_SENT (with `chat_id`):
        the request was filed and the administrators decide."""
        params = _given(invite_code=invite_code, username=username)
        return Chat.from_dict(await self._invoke("joinChat", params))

    async def get_join_requests(
        self,
        chat_id: int,
        *,
        before_date: int | None = None,
        before_user_id: int | None = None,
        limit: int | None = None,
    ) -> list[JoinRequest]:
        """Pending join requests, newest first. For the next page pass the last `date` and
        `user_id`."""
        params = _given(
            chat_id=chat_id, before_date=before_date, before_user_id=before_user_id, limit=limit
        )
        return [JoinRequest.from_dict(r) for r in await self._invoke("getJoinRequests", params)]

    async def approve_join_request(self, chat_id: int, user_id: int) -> None:
        await self._invoke("approveJoinRequest", {"chat_id": chat_id, "user_id": user_id})

    async def decline_join_request(self, chat_id: int, user_id: int) -> None:
        await self._invoke("declineJoinRequest", {"chat_id": chat_id, "user_id": user_id})

    # --- discovery --------------------------------------------------------------------------

    async def search_public_chats(
        self, query: str, *, limit: int | None = None
    ) -> list[ChatPreview]:
        """Public groups and channels whose title or name contains the query, largest first."""
        params = _given(query=query, limit=limit)
        return [ChatPreview.from_dict(c) for c in await self._invoke("searchPublicChats", params)]

    async def resolve_chat(self, username: str) -> ChatPreview:
        """A public group or channel by its exact name."""
        return ChatPreview.from_dict(await self._invoke("resolveChat", {"username": username}))

    async def search_hashtag(
        self,
        tag: str,
        *,
        scope: Literal["public", "mine"] | None = None,
        limit: int | None = None,
        before_date: int | None = None,
        before_chat_id: int | None = None,
        before_message_id: int | None = None,
    ) -> list[Message]:
        """Messages carrying a hashtag, newest first, in public chats or (`mine`) your own.
        For the next page pass the `date`, `chat_id` and `id` of the last result."""
        params = _given(
            tag=tag,
            scope=scope,
            limit=limit,
            before_date=before_date,
            before_chat_id=before_chat_id,
            before_message_id=before_message_id,
        )
        return [Message.from_dict(m) for m in await self._invoke("searchHashtag", params)]

    async def get_public_history(
        self,
        *,
        chat_id: int | None = None,
        username: str | None = None,
        offset_id: int | None = None,
        direction: Literal["older", "newer"] | None = None,
        limit: int | None = None,
    ) -> list[Message]:
        """Read a public group or channel without joining it (name it by id or username),
        as get_history does."""
        params = _given(
            chat_id=chat_id,
            username=username,
            offset_id=offset_id,
            direction=direction,
            limit=limit,
        )
        return [Message.from_dict(m) for m in await self._invoke("getPublicHistory", params)]

    # --- bots -------------------------------------------------------------------------------

    async def create_bot(self, name: str, username: str) -> Bot:
        """Make a bot; you own it. Its username ends in `bot`. The result carries its token,
        shown only now: point any Telegram bot library at this server with it."""
        params = {"name": name, "username": username}
        return Bot.from_dict(await self._invoke("createBot", params))

    async def get_my_bots(self) -> list[Bot]:
        """The bots you own (without their tokens)."""
        return [Bot.from_dict(b) for b in await self._invoke("getMyBots", {})]

    async def edit_bot(
        self,
        bot_id: int,
        *,
        name: str | None = None,
        description: str | None = None,
        about: str | None = None,
        privacy: bool | None = None,
        inline: bool | None = None,
        inline_placeholder: str | None = None,
        commands: CommandsArg | None = None,
    ) -> Bot:
        """Change a bot of yours; what is not given stays. `privacy` on: in groups it sees
        only commands, replies to it and mentions of it. `inline` turns inline mode on
        (with `inline_placeholder` as the hint in the input field) or off. `commands`
        (BotCommand or (command, description)) replaces its command menu."""
        params = _given(
            bot_id=bot_id,
            name=name,
            description=description,
            about=about,
            privacy=privacy,
            inline=inline,
            inline_placeholder=inline_placeholder,
            commands=None if commands is None else _commands(commands),
        )
        return Bot.from_dict(await self._invoke("editBot", params))

    async def revoke_bot_token(self, bot_id: int) -> Bot:
        """Give a bot of yours a new token (in the result); the old one stops working."""
        return Bot.from_dict(await self._invoke("revokeBotToken", {"bot_id": bot_id}))

    async def delete_bot(self, bot_id: int) -> None:
        """Delete a bot of yours: its token stops working; it shows as a deleted account."""
        await self._invoke("deleteBot", {"bot_id": bot_id})

    async def get_bot_info(self, bot_id: int) -> BotInfo:
        """What any user sees of a bot: description, about text, command menu, inline mode."""
        return BotInfo.from_dict(await self._invoke("getBotInfo", {"bot_id": bot_id}))

    async def start_bot(self, bot_id: int, parameter: str = "") -> SentMessage:
        """Start a bot as a `t.me/<bot>?start=<parameter>` link does: sends `/start
        <parameter>` in your private chat with it. The parameter is up to 64 letters,
        digits, `_` and `-`."""
        params = {"bot_id": bot_id, "parameter": parameter}
        return SentMessage.from_dict(await self._invoke("startBot", params))

    async def press_button(self, chat_id: int, message_id: int, data: str) -> CallbackAnswer:
        """Press the inline button carrying callback data `data` and wait for the bot's
        answer (ApiError BOT_RESPONSE_TIMEOUT after 10 s). `press` finds the button."""
        params = {"chat_id": chat_id, "message_id": message_id, "data": data}
        return CallbackAnswer.from_dict(await self._invoke("pressButton", params))

    async def press(self, message: Message, button: str | InlineButton) -> CallbackAnswer:
        """Press a button of a bot's message, named by its label or its callback data.
        ValueError when the message has no such button, or the button is not one to press
        (a link: open its `url`)."""
        found = button if isinstance(button, InlineButton) else message.button(button)
        if found is None:
            raise ValueError(f"message {message.id} has no button {button!r}")
        if found.callback_data is None:
            raise ValueError(f"the button {found.text!r} carries no callback data to send")
        return await self.press_button(message.chat_id, message.id, found.callback_data)

    async def get_inline_results(
        self, bot_id: int, query: str, *, chat_id: int | None = None, offset: str = ""
    ) -> InlineResults:
        """Ask a bot in inline mode for results for what was typed after `@botname`, to
        send in `chat_id` (the bot learns the kind of chat). For more, pass the results'
        `next_offset` as `offset`."""
        params = _given(bot_id=bot_id, query=query, chat_id=chat_id, offset=offset or None)
        return InlineResults.from_dict(await self._invoke("getInlineResults", params))

    async def send_inline_result(
        self,
        chat_id: int,
        query_id: str,
        result_id: str,
        *,
        reply_to_message_id: int | None = None,
    ) -> SentMessage:
        """Send one of a bot's inline results (within an hour of getting them) as your
        message; it shows `via_bot_id`."""
        params = _given(
            chat_id=chat_id,
            query_id=query_id,
            result_id=result_id,
            reply_to_message_id=reply_to_message_id,
        )
        return SentMessage.from_dict(await self._invoke("sendInlineResult", params))

    # --- sticker sets -----------------------------------------------------------------------
    # `create_sticker_set` and `add_sticker_to_set`, which upload files, are in Transfers.

    async def remove_sticker_from_set(self, file_id: str) -> StickerSet:
        """Remove a sticker (by its file id) from a set you made; messages keep showing it."""
        return StickerSet.from_dict(
            await self._invoke("removeStickerFromSet", {"file_id": file_id})
        )

    async def set_sticker_position(self, file_id: str, position: int) -> StickerSet:
        """Move a sticker of a set you made to `position` (0 is first)."""
        params = {"file_id": file_id, "position": position}
        return StickerSet.from_dict(await self._invoke("setStickerPosition", params))

    async def set_sticker_emoji(self, file_id: str, emoji: str | Sequence[str]) -> StickerSet:
        """Replace the emoji a sticker of a set you made stands for (the first is shown)."""
        params = {"file_id": file_id, "emoji": emoji_list(emoji)}
        return StickerSet.from_dict(await self._invoke("setStickerEmoji", params))

    async def set_sticker_set_title(self, sticker_set: SetRef, title: str) -> StickerSet:
        params = {**set_ref(sticker_set), "title": title}
        return StickerSet.from_dict(await self._invoke("setStickerSetTitle", params))

    async def delete_sticker_set(self, sticker_set: SetRef) -> None:
        """Delete a set you made; it leaves everyone's installed sets."""
        await self._invoke("deleteStickerSet", set_ref(sticker_set))

    async def get_sticker_set(self, sticker_set: SetRef) -> StickerSet:
        """A whole set, by its id or short name (what its link `/addstickers/<name>` shows)."""
        return StickerSet.from_dict(await self._invoke("getStickerSet", set_ref(sticker_set)))

    async def install_sticker_set(self, sticker_set: SetRef) -> StickerSetInfo:
        """Add a set to your installed sets, first in the list."""
        result = await self._invoke("installStickerSet", set_ref(sticker_set))
        return StickerSetInfo.from_dict(result)

    async def uninstall_sticker_set(self, sticker_set: SetRef) -> None:
        await self._invoke("uninstallStickerSet", set_ref(sticker_set))

    async def get_installed_sticker_sets(self) -> list[StickerSetInfo]:
        """Your installed sets in your order. Call again on a `sticker_sets_changed` event."""
        result = await self._invoke("getInstalledStickerSets", {})
        return [StickerSetInfo.from_dict(x) for x in result]

    async def reorder_sticker_sets(self, set_ids: Iterable[int]) -> None:
        """Put your installed sets in this order (those left out follow)."""
        await self._invoke("reorderStickerSets", {"set_ids": list(set_ids)})

    async def get_sticker_suggestions(
        self, emoji: str, *, limit: int | None = None
    ) -> list[Sticker]:
        """Stickers for an emoji from your installed sets (skin tones ignored)."""
        params = _given(emoji=emoji, limit=limit)
        return [Sticker.from_dict(x) for x in await self._invoke("getStickerSuggestions", params)]

    async def search_sticker_sets(
        self, query: str, *, limit: int | None = None
    ) -> list[StickerSetInfo]:
        """Sets whose title or short name contains the query, the most installed first."""
        params = _given(query=query, limit=limit)
        result = await self._invoke("searchStickerSets", params)
        return [StickerSetInfo.from_dict(x) for x in result]

    # --- files ------------------------------------------------------------------------------
    # The raw upload calls; `upload_file` and `download_file` use them and do the transfer.

    async def start_upload(self, size: int, sha256: str, name: str = "") -> Upload:
        """Begin an upload, or resume your unfinished upload of the same bytes."""
        params = {"size": size, "sha256": sha256, "name": name}
        return Upload.from_dict(await self._invoke("startUpload", params))

    async def get_upload(self, upload_id: str) -> Upload:
        """Which parts of an upload have arrived."""
        return Upload.from_dict(await self._invoke("getUpload", {"upload_id": upload_id}))

    async def finish_upload(self, upload_id: str) -> FileInfo:
        """Check and store an upload whose parts have all arrived."""
        return FileInfo.from_dict(await self._invoke("finishUpload", {"upload_id": upload_id}))

    async def get_file(self, file_id: str) -> FileInfo:
        """A file's name, size, type and SHA-256, if you may see it."""
        return FileInfo.from_dict(await self._invoke("getFile", {"file_id": file_id}))

    # --- sync -------------------------------------------------------------------------------

    async def get_state(self) -> State:
        return State.from_dict(await self._invoke("getState", {}))

    async def get_difference(self, pts: int, *, limit: int | None = None) -> Difference:
        """The raw getDifference call. Live clients need not call it: `updates()` does."""
        params = _given(pts=pts, limit=limit)
        return Difference.from_dict(await self._invoke("getDifference", params))

    async def get_channel_difference(
        self, chat_id: int, pts: int, *, limit: int | None = None
    ) -> Difference:
        """The raw getChannelDifference call for a large chat's own box. Live clients need
        not call it: `updates()` follows the boxes of large chats."""
        params = _given(chat_id=chat_id, pts=pts, limit=limit)
        return Difference.from_dict(await self._invoke("getChannelDifference", params))


def emoji_list(emoji: str | Sequence[str]) -> list[str]:
    """A single emoji, or several (a string is one emoji, not a sequence of characters)."""
    return [emoji] if isinstance(emoji, str) else list(emoji)


def _ints_of(value: Any) -> list[int]:
    return [int(v) for v in value or []]


def new_random_id() -> int:
    return secrets.randbits(63)
