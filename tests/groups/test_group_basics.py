"""Groups and channels end to end over the API: creation, live delivery through the chat's
own box, bans that cut a member off at once, and catch-up with getChannelDifference."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from heliograph.server import Server
from tests.conftest import base_url


class Api:
    def __init__(self, http: aiohttp.ClientSession, token: str = "") -> None:
        self.http = http
        self.token = token

    async def __call__(self, method: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.post(f"/api/{method}", json=params, headers=headers) as r:
            body = await r.json()
        if not body["ok"]:
            raise AssertionError(f"{method}: {body['error']}")
        return body["result"]

    async def error(self, method: str, **params: Any) -> str:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.post(f"/api/{method}", json=params, headers=headers) as r:
            body = await r.json()
        assert not body["ok"], body
        code: str = body["error"]["code"]
        return code


async def _user(http: aiohttp.ClientSession, name: str) -> tuple[Api, int]:
    result = await Api(http)("signUp", username=name, password="long-enough", display_name=name)
    return Api(http, result["token"]), result["account"]["id"]


async def _frames(ws: aiohttp.ClientWebSocketResponse, want: int, wait: float = 5) -> list[Any]:
    got: list[Any] = []
    async with asyncio.timeout(wait):
        while len(got) < want:
            msg = await ws.receive_json()
            for item in msg if isinstance(msg, list) else [msg]:
                if item.get("type") == "update":
                    got.append(item["update"])
    return got


async def test_channel_posts_reach_subscribers_live_and_by_difference(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        owner, _ = await _user(http, "owner")
        reader, reader_id = await _user(http, "reader")
        late, late_id = await _user(http, "latecomer")
        channel = await owner("createChannel", title="News", about="daily")
        assert channel["pts"] == 0 and channel["kind"] == "channel"
        chat_id = channel["id"]
        await owner("addChatMembers", chat_id=chat_id, user_ids=[reader_id, late_id])

        async with http.ws_connect("/api/ws") as ws:
            await ws.send_json({"type": "auth", "token": reader.token})
            await ws.receive_json()
            sent = await owner("sendMessage", chat_id=chat_id, text="first post")
            assert sent["box"] == chat_id and sent["pts"] == 1
            assert sent["message"]["sender_id"] is None
            assert sent["message"]["sender_chat_id"] == chat_id
            (update,) = await _frames(ws, 1)
            assert update["box"] == chat_id and update["pts"] == 1
            assert update["message"]["text"] == "first post"

        # Subscribers cannot post.
        assert await reader.error("sendMessage", chat_id=chat_id, text="hi") == (
            "CHAT_WRITE_FORBIDDEN"
        )
        await owner("sendMessage", chat_id=chat_id, text="second post")
        diff = await late("getChannelDifference", chat_id=chat_id, pts=0)
        assert [u["message"]["text"] for u in diff["updates"]] == ["first post", "second post"]
        assert diff["state"]["pts"] == 2 and not diff["more"]

        # Views count once per user.
        views = await reader("viewMessages", chat_id=chat_id, message_ids=[1, 1, 2])
        views = await late("viewMessages", chat_id=chat_id, message_ids=[1])
        assert views["views"] == [3]  # the author, the reader and the latecomer

        # A banned subscriber stops receiving at once and reads nothing new.
        async with http.ws_connect("/api/ws") as ws:
            await ws.send_json({"type": "auth", "token": late.token})
            await ws.receive_json()
            await owner("banChatMember", chat_id=chat_id, user_id=late_id)
            (membership,) = await _frames(ws, 1)
            assert membership["type"] == "chat_membership" and membership["role"] == "banned"
            await owner("sendMessage", chat_id=chat_id, text="after the ban")
            try:
                extra = await _frames(ws, 1, wait=0.5)
            except TimeoutError:
                extra = []
            assert extra == []
        assert await late.error("getHistory", chat_id=chat_id) == "USER_BANNED_IN_CHAT"
        assert await late.error("getChannelDifference", chat_id=chat_id, pts=2) == (
            "USER_BANNED_IN_CHAT"
        )


async def test_group_members_roles_and_service_messages(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        alice, alice_id = await _user(http, "alice")
        bob, bob_id = await _user(http, "bob")
        carol, carol_id = await _user(http, "carol")
        group = await alice("createGroup", title="Team", user_ids=[bob_id])
        chat_id = group["id"]
        assert group["pts"] is None  # small: updates travel in members' own boxes
        assert group["member_count"] == 2
        # Bob may not add people once inviting is restricted to admins.
        await alice(
            "setChatDefaultRights",
            chat_id=chat_id,
            rights={"send_messages": True, "invite_users": False},
        )
        assert await bob.error("addChatMembers", chat_id=chat_id, user_ids=[carol_id]) == (
            "ADMIN_REQUIRED"
        )
        await alice(
            "promoteChatMember",
            chat_id=chat_id,
            user_id=bob_id,
            rights={"invite_users": True, "pin_messages": True},
        )
        await bob("addChatMembers", chat_id=chat_id, user_ids=[carol_id])
        history = await carol("getHistory", chat_id=chat_id)
        services = [m["service"]["action"] for m in history if m["service"]]
        assert services == ["chat_created", "members_added", "members_added"]
        # Mentions notify and count.
        await alice("sendMessage", chat_id=chat_id, text="@carol look at this")
        chat = await carol("getChat", chat_id=chat_id)
        assert chat["unread_mentions_count"] == 1
        admins = await carol("getChatMembers", chat_id=chat_id, filter="admins")
        assert {(m["user_id"], m["role"]) for m in admins} == {
            (bob_id, "admin"),
            (alice_id, "owner"),
        }
        found = await carol("getChatMembers", chat_id=chat_id, query="CAR")
        assert [m["user_id"] for m in found] == [carol_id]
        log = await alice("getAdminLog", chat_id=chat_id)
        assert [e["action"] for e in log][:3] == ["members_added", "promoted", "default_rights"]
        # Restricted members are refused with a clear error and nothing is stored.
        await alice(
            "restrictChatMember", chat_id=chat_id, user_id=carol_id, rights={"send_messages": False}
        )
        assert await carol.error("sendMessage", chat_id=chat_id, text="x") == (
            "CHAT_WRITE_FORBIDDEN"
        )
        assert (await carol("getHistory", chat_id=chat_id))[-1]["text"] == "@carol look at this"


async def test_channel_posts_get_a_comment_thread_in_the_linked_group(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        owner, _ = await _user(http, "editor")
        reader, reader_id = await _user(http, "commenter")
        channel = (await owner("createChannel", title="Dispatches"))["id"]
        group = (await owner("createGroup", title="Dispatches chat", user_ids=[reader_id]))["id"]
        await owner("addChatMembers", chat_id=channel, user_ids=[reader_id])
        # Only someone who administers both may link them.
        assert await reader.error("linkDiscussionGroup", channel_id=channel, group_id=group) in (
            "ADMIN_REQUIRED",
        )
        await owner("linkDiscussionGroup", channel_id=channel, group_id=group)

        post = (await owner("sendMessage", chat_id=channel, text="Road closed at noon"))["message"]
        (stored,) = await reader("getMessages", chat_id=channel, message_ids=[post["id"]])
        thread = stored["discussion"]
        assert thread["chat_id"] == group and thread["comment_count"] == 0
        (copy,) = await reader("getMessages", chat_id=group, message_ids=[thread["message_id"]])
        assert copy["text"] == "Road closed at noon"
        assert copy["forward_origin"]["chat_id"] == channel
        assert copy["forward_origin"]["message_id"] == post["id"]

        await reader(
            "sendMessage",
            chat_id=group,
            text="Which road?",
            reply_to_message_id=thread["message_id"],
        )
        await owner(
            "sendMessage",
            chat_id=group,
            text="Main street",
            reply_to_message_id=thread["message_id"],
        )
        (stored,) = await reader("getMessages", chat_id=channel, message_ids=[post["id"]])
        assert stored["discussion"]["comment_count"] == 2

        # Unlinked: new posts get no thread; old threads stay.
        await owner("linkDiscussionGroup", channel_id=channel, group_id=None)
        later = (await owner("sendMessage", chat_id=channel, text="Road open"))["message"]
        (stored_later,) = await reader("getMessages", chat_id=channel, message_ids=[later["id"]])
        assert stored_later["discussion"] is None
