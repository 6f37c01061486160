"""Chat management through the Bot API: a bot added to a group learns of it (my_chat_member),
reads the chat and its members, and as an administrator promotes, restricts, bans, pins,
sets permissions and makes invite links, within the rights it was given; and a bot's
command menus, name and descriptions."""

from __future__ import annotations

from typing import Any

from aiogram import types as tg

from heliograph.server import Server
from tests.botapi.helpers import BotApi, World, description, started
from tests.gateway.api import User
from tests.groups.helpers import assert_error

BOT_RIGHTS = {
    "ban_users": True,
    "pin_messages": True,
    "invite_users": True,
    "change_info": True,
    "manage_admins": True,
}


async def _group_with_bot(w: World) -> tuple[User, User, int]:
    """Bob and Carol in Ann's group "Team", and Ann's bot added by Ann; our chat id."""
    bob = await w.api.make_user("bob")
    carol = await w.api.make_user("carol")
    group = await w.api.ok(
        "createGroup", w.ann.token, title="Team", about="our team", user_ids=[bob.user_id]
    )
    await w.api.ok(
        "addChatMembers", w.ann.token, chat_id=group["id"], user_ids=[carol.user_id, w.bot.bot_id]
    )
    return bob, carol, int(group["id"])


async def _my_chat_member(bot: BotApi) -> list[dict[str, Any]]:
    return [u["my_chat_member"] for u in await bot.updates() if "my_chat_member" in u]


async def test_a_bot_administrator_manages_members(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        bob, carol, group = await _group_with_bot(w)
        chat = -group  # as the bot knows it
        [added] = await _my_chat_member(bot)
        tg.ChatMemberUpdated.model_validate(added)
        assert added["chat"] == {"id": chat, "type": "supergroup", "title": "Team"}
        assert added["from"]["id"] == ann.user_id
        assert added["old_chat_member"]["status"] == "left"
        assert added["new_chat_member"] == {
            "status": "member",
            "user": added["new_chat_member"]["user"],
        }
        assert added["new_chat_member"]["user"]["id"] == bot.bot_id

        info = await bot.ok("getChat", chat_id=chat)
        tg.ChatFullInfo.model_validate(info)
        assert info["title"] == "Team" and info["description"] == "our team"
        assert info["accent_color_id"] == 0 and info["max_reaction_count"] == 11
        assert info["permissions"]["can_send_messages"] is True
        assert await bot.ok("getChatMemberCount", chat_id=chat) == 4

        # a plain member may not ban
        status, body = await bot.call("banChatMember", chat_id=chat, user_id=bob.user_id)
        assert status == 400
        assert (
            description(body) == "Bad Request: not enough rights to restrict/unrestrict chat member"
        )

        await api.ok(
            "promoteChatMember", ann.token, chat_id=group, user_id=bot.bot_id, rights=BOT_RIGHTS
        )
        [promoted] = await _my_chat_member(bot)
        # (old_chat_member is "member" once groups.promote passes the old role along)
        assert promoted["new_chat_member"]["status"] == "administrator"
        me = await bot.ok("getChatMember", chat_id=chat, user_id=bot.bot_id)
        assert me["status"] == "administrator" and me["can_restrict_members"] is True
        admins = await bot.ok("getChatAdministrators", chat_id=chat)
        assert sorted((a["user"]["id"], a["status"]) for a in admins) == sorted(
            [(ann.user_id, "creator"), (bot.bot_id, "administrator")]
        )

        # restrict Bob to text: the media permissions go
        await bot.ok(
            "restrictChatMember",
            chat_id=chat,
            user_id=bob.user_id,
            permissions={"can_send_messages": True},
        )
        member = await bot.ok("getChatMember", chat_id=chat, user_id=bob.user_id)
        assert member["status"] == "restricted" and member["until_date"] == 0
        assert member["can_send_messages"] is True and member["can_send_photos"] is False
        restricted = await api.ok("getChatMembers", ann.token, chat_id=group, filter="restricted")
        assert [m["user_id"] for m in restricted] == [bob.user_id]

        # promote Carol, with a right the bot has, and title her
        await bot.ok(
            "promoteChatMember", chat_id=chat, user_id=carol.user_id, can_pin_messages=True
        )
        await bot.ok(
            "setChatAdministratorCustomTitle",
            chat_id=chat,
            user_id=carol.user_id,
            custom_title="Pins",
        )
        member = await bot.ok("getChatMember", chat_id=chat, user_id=carol.user_id)
        assert member["status"] == "administrator" and member["custom_title"] == "Pins"
        assert member["can_pin_messages"] is True and member["can_restrict_members"] is False
        # not a right the bot has
        status, body = await bot.call(
            "promoteChatMember", chat_id=chat, user_id=carol.user_id, can_delete_messages=True
        )
        assert status == 400 and "not enough rights" in description(body)

        # ban, and lift the ban
        await bot.ok("banChatMember", chat_id=chat, user_id=bob.user_id)
        member = await bot.ok("getChatMember", chat_id=chat, user_id=bob.user_id)
        tg.ChatMemberBanned.model_validate(member)
        assert member["status"] == "kicked"
        banned = await api.ok("getChatMembers", ann.token, chat_id=group, filter="banned")
        assert [m["user_id"] for m in banned] == [bob.user_id]
        await bot.ok("unbanChatMember", chat_id=chat, user_id=bob.user_id, only_if_banned=True)
        member = await bot.ok("getChatMember", chat_id=chat, user_id=bob.user_id)
        assert member["status"] == "left"
        # only_if_banned leaves a member be; without it, unbanning removes them (Telegram's way)
        await bot.ok("unbanChatMember", chat_id=chat, user_id=carol.user_id, only_if_banned=True)
        member = await bot.ok("getChatMember", chat_id=chat, user_id=carol.user_id)
        assert member["status"] == "administrator"
        status, body = await bot.call("unbanChatMember", chat_id=chat, user_id=ann.user_id)
        assert status == 400 and description(body) == "Bad Request: can't remove chat owner"

        # default permissions
        await bot.ok(
            "setChatPermissions",
            chat_id=chat,
            permissions={"can_send_messages": True, "can_send_polls": True},
            use_independent_chat_permissions=True,
        )
        permissions = (await bot.ok("getChat", chat_id=chat))["permissions"]
        assert permissions["can_send_polls"] is True and permissions["can_send_photos"] is False
        assert permissions["can_invite_users"] is False
        log = await api.ok("getAdminLog", ann.token, chat_id=group)
        changed = next(e for e in log if e["action"] == "default_rights")
        assert changed["actor_id"] == bot.bot_id
        assert changed["data"]["default_rights"]["send_media"] is False

        # unknown users and chats, in Telegram's words
        status, body = await bot.call("getChatMember", chat_id=chat, user_id=999999)
        assert (status, description(body)) == (400, "Bad Request: user not found")
        status, body = await bot.call("getChat", chat_id=-999999)
        assert (status, description(body)) == (400, "Bad Request: chat not found")


async def test_pins_links_title_and_leaving(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        bob, _carol, group = await _group_with_bot(w)
        chat = -group
        await api.ok(
            "promoteChatMember", ann.token, chat_id=group, user_id=bot.bot_id, rights=BOT_RIGHTS
        )
        first = await bot.ok("sendMessage", chat_id=chat, text="rules: be nice")
        second = await bot.ok("sendMessage", chat_id=chat, text="meeting at noon")
        assert await bot.ok("pinChatMessage", chat_id=chat, message_id=first["message_id"])
        await bot.ok("pinChatMessage", chat_id=chat, message_id=second["message_id"])
        pinned = (await bot.ok("getChat", chat_id=chat))["pinned_message"]
        assert pinned["message_id"] == second["message_id"]
        assert pinned["text"] == "meeting at noon"
        await bot.ok("unpinChatMessage", chat_id=chat)  # the newest
        pinned = (await bot.ok("getChat", chat_id=chat))["pinned_message"]
        assert pinned["message_id"] == first["message_id"]
        await bot.ok("pinChatMessage", chat_id=chat, message_id=second["message_id"])
        await bot.ok("unpinAllChatMessages", chat_id=chat)
        assert "pinned_message" not in await bot.ok("getChat", chat_id=chat)

        link = await bot.ok("createChatInviteLink", chat_id=chat, name="friends", member_limit=5)
        tg.ChatInviteLink.model_validate(link)
        assert link["invite_link"].startswith("/join/")
        assert link["name"] == "friends" and link["member_limit"] == 5
        assert link["creator"]["id"] == bot.bot_id
        assert (link["is_primary"], link["is_revoked"], link["creates_join_request"]) == (
            False,
            False,
            False,
        )
        dave = await api.make_user("dave")
        code = link["invite_link"].rsplit("/", 1)[-1]
        await api.ok("joinChat", dave.token, invite_code=code)
        assert await bot.ok("getChatMemberCount", chat_id=chat) == 5
        member = await bot.ok("getChatMember", chat_id=chat, user_id=dave.user_id)
        assert member["status"] == "member"

        primary = await bot.ok("exportChatInviteLink", chat_id=chat)
        assert isinstance(primary, str) and primary.startswith("/join/")
        assert await bot.ok("exportChatInviteLink", chat_id=chat) != primary  # a new one
        revoked = await bot.ok(
            "revokeChatInviteLink", chat_id=chat, invite_link=link["invite_link"]
        )
        assert revoked["is_revoked"] is True
        status, body = await api.call("joinChat", bob.token, invite_code=code)
        assert status != 200

        await bot.ok("setChatTitle", chat_id=chat, title="Team Two")
        await bot.ok("setChatDescription", chat_id=chat, description="")
        ann_view = await api.ok("getChat", ann.token, chat_id=group)
        assert ann_view["title"] == "Team Two"

        # approving join requests
        asking = await bot.ok("createChatInviteLink", chat_id=chat, creates_join_request=True)
        erin = await api.make_user("erin")
        status, body = await api.call(
            "joinChat", erin.token, invite_code=asking["invite_link"].rsplit("/", 1)[-1]
        )
        assert_error(status, body, "INVITE_REQUEST_SENT")
        await bot.ok("approveChatJoinRequest", chat_id=chat, user_id=erin.user_id)
        member = await bot.ok("getChatMember", chat_id=chat, user_id=erin.user_id)
        assert member["status"] == "member"
        status, body = await bot.call("declineChatJoinRequest", chat_id=chat, user_id=erin.user_id)
        assert status == 400

        await bot.updates()
        assert await bot.ok("leaveChat", chat_id=chat) is True
        [left] = await _my_chat_member(bot)
        assert left["new_chat_member"]["status"] == "left"
        status, body = await bot.call("getChat", chat_id=chat)
        assert (status, description(body)) == (400, "Bad Request: chat not found")
        members = await api.ok("getChatMembers", ann.token, chat_id=group)
        assert bot.bot_id not in [m["user_id"] for m in members]


async def test_commands_names_and_descriptions(server: Server) -> None:
    async with started(server) as w:
        api, ann, bot = w.api, w.ann, w.bot
        menu = [
            {"command": "start", "description": "Start"},
            {"command": "help", "description": "Help"},
        ]
        await bot.ok("setMyCommands", commands=menu)
        groups = [{"command": "stats", "description": "Group stats"}]
        await bot.ok("setMyCommands", commands=groups, scope={"type": "all_group_chats"})
        private = [{"command": "secret", "description": "Only for Ann"}]
        scope_ann = {"type": "chat", "chat_id": ann.user_id}
        await bot.ok("setMyCommands", commands=private, scope=scope_ann)
        german = [{"command": "hilfe", "description": "Hilfe"}]
        await bot.ok("setMyCommands", commands=german, language_code="de")

        assert await bot.ok("getMyCommands") == menu
        assert await bot.ok("getMyCommands", scope={"type": "all_group_chats"}) == groups
        assert await bot.ok("getMyCommands", scope=scope_ann) == private
        assert await bot.ok("getMyCommands", language_code="de") == german
        assert await bot.ok("getMyCommands", scope={"type": "all_private_chats"}) == []
        # the default menu is the one users see
        info = await api.ok("getBotInfo", ann.token, bot_id=bot.bot_id)
        assert info["commands"] == menu
        # form fields carry the scope as JSON, as libraries send it
        status, body = await bot.form("getMyCommands", scope={"type": "all_group_chats"})
        assert status == 200 and body["result"] == groups

        await bot.ok("deleteMyCommands", scope={"type": "all_group_chats"})
        assert await bot.ok("getMyCommands", scope={"type": "all_group_chats"}) == []
        await bot.ok("setMyCommands", commands=[], language_code="de")
        assert await bot.ok("getMyCommands", language_code="de") == []

        status, body = await bot.call(
            "setMyCommands", commands=[{"command": "Bad Command!", "description": "x"}]
        )
        assert status == 400
        status, body = await bot.call(
            "setMyCommands", commands=menu, scope={"type": "chat", "chat_id": -999999}
        )
        assert (status, description(body)) == (400, "Bad Request: chat not found")
        status, body = await bot.call("setMyCommands", commands=menu, scope={"type": "nobody"})
        assert status == 400

        await bot.ok("setMyName", name="Helper Two")
        assert await bot.ok("getMyName") == {"name": "Helper Two"}
        assert (await bot.ok("getMe"))["first_name"] == "Helper Two"
        await bot.ok("setMyDescription", description="I help with things.")
        assert await bot.ok("getMyDescription") == {"description": "I help with things."}
        await bot.ok("setMyShortDescription", short_description="A helper")
        assert await bot.ok("getMyShortDescription") == {"short_description": "A helper"}
        info = await api.ok("getBotInfo", ann.token, bot_id=bot.bot_id)
        assert (info["name"], info["description"], info["about"]) == (
            "Helper Two",
            "I help with things.",
            "A helper",
        )
        # one language only: others are accepted and read as the default
        await bot.ok("setMyName", name="Helfer", language_code="de")
        assert await bot.ok("getMyName", language_code="de") == {"name": "Helper Two"}
        status, body = await bot.call("setMyShortDescription", short_description="x" * 121)
        assert status == 400
