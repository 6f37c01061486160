"""Invite links end to end over the API: creating, listing and revoking them, expiry and
usage limits, join requests with live notice to the administrators, previews for outsiders,
joining public chats by name, and bans that outlast links."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api, User, assert_error, is_update


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async with Api(base_url(server)) as client:
        yield client


async def _group(api: Api, owner: User, *members: User, **extra: Any) -> int:
    ids = [m.user_id for m in members]
    chat = await api.ok("createGroup", owner.token, title="Team", user_ids=ids, **extra)
    return int(chat["id"])


async def _error(api: Api, user: User, method: str, want: str, /, **params: Any) -> dict[str, Any]:
    status, body = await api.call(method, user.token, **params)
    return assert_error(status, body, want)


async def _count(api: Api, user: User, chat_id: int) -> int:
    return int((await api.ok("getChat", user.token, chat_id=chat_id))["member_count"])


async def test_links_are_created_listed_and_revoked(api: Api) -> None:
    owner = await api.make_user("owner")
    bob = await api.make_user("bob")
    carol = await api.make_user("carol")
    chat_id = await _group(api, owner, bob)
    link = await api.ok("createInviteLink", owner.token, chat_id=chat_id, title="friends")
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", link["code"])
    assert link["title"] == "friends" and link["creator_id"] == owner.user_id
    assert (link["usage_count"], link["usage_limit"], link["expires_at"]) == (0, None, None)
    assert not link["revoked"] and not link["is_primary"]
    # Members of a group may invite by default, and see only their own links.
    own = await api.ok("createInviteLink", bob.token, chat_id=chat_id)
    assert [x["code"] for x in await api.ok("getInviteLinks", bob.token, chat_id=chat_id)] == [
        own["code"]
    ]
    listed = await api.ok("getInviteLinks", owner.token, chat_id=chat_id)
    assert [x["code"] for x in listed] == [own["code"], link["code"]]
    page = await api.ok("getInviteLinks", owner.token, chat_id=chat_id, limit=1)
    rest = await api.ok("getInviteLinks", owner.token, chat_id=chat_id, before_code=page[0]["code"])
    assert [x["code"] for x in page + rest] == [own["code"], link["code"]]

    # Bad input is refused and creates nothing.
    now = int(time.time())
    for params in (
        {"usage_limit": 5, "requires_approval": True},
        {"expires_at": now - 10},
        {"usage_limit": 0},
        {"title": "x" * 33},
    ):
        await _error(api, owner, "createInviteLink", "INVALID_PARAMS", chat_id=chat_id, **params)
    assert len(await api.ok("getInviteLinks", owner.token, chat_id=chat_id)) == 2
    await _error(api, carol, "createInviteLink", "CHAT_NOT_FOUND", chat_id=chat_id)
    await _error(api, carol, "getInviteLinks", "CHAT_NOT_FOUND", chat_id=chat_id)

    # Only the creator or an administrator revokes; a revoked link stops working.
    await _error(api, bob, "revokeInviteLink", "ADMIN_REQUIRED", chat_id=chat_id, code=link["code"])
    revoked = await api.ok("revokeInviteLink", owner.token, chat_id=chat_id, code=own["code"])
    assert revoked["revoked"]
    await _error(api, carol, "joinChat", "INVITE_EXPIRED", invite_code=own["code"])
    await _error(api, carol, "previewInvite", "INVITE_EXPIRED", code=own["code"])
    await _error(api, carol, "joinChat", "INVITE_INVALID", invite_code="NoSuchCode123456789")
    gone = await api.ok("getInviteLinks", owner.token, chat_id=chat_id, revoked=True)
    assert [x["code"] for x in gone] == [own["code"]]
    await _error(api, owner, "revokeInviteLink", "INVITE_INVALID", chat_id=chat_id, code="unknown")

    # The primary link is made once, and replaced when revoked.
    primary = await api.ok("exportPrimaryInviteLink", owner.token, chat_id=chat_id)
    assert primary["is_primary"]
    again = await api.ok("exportPrimaryInviteLink", owner.token, chat_id=chat_id)
    assert again["code"] == primary["code"]
    await api.ok("revokeInviteLink", owner.token, chat_id=chat_id, code=primary["code"])
    fresh = await api.ok("exportPrimaryInviteLink", owner.token, chat_id=chat_id)
    assert fresh["code"] != primary["code"] and fresh["is_primary"]
    replaced = await api.ok("exportPrimaryInviteLink", owner.token, chat_id=chat_id, replace=True)
    assert replaced["code"] != fresh["code"]
    await _error(api, carol, "joinChat", "INVITE_EXPIRED", invite_code=fresh["code"])
    await api.ok("joinChat", carol.token, invite_code=replaced["code"])

    # In a channel only administrators with the invite right make links.
    channel = await api.ok("createChannel", owner.token, title="News")
    await api.ok("addChatMembers", owner.token, chat_id=channel["id"], user_ids=[bob.user_id])
    await _error(api, bob, "createInviteLink", "ADMIN_REQUIRED", chat_id=channel["id"])
    await _error(api, bob, "exportPrimaryInviteLink", "ADMIN_REQUIRED", chat_id=channel["id"])


async def test_limits_expiry_members_and_bans(server: Server, api: Api) -> None:
    owner = await api.make_user("owner")
    bob = await api.make_user("bob")
    u1, u2, u3 = [await api.make_user(f"user{i}") for i in (1, 2, 3)]
    chat_id = await _group(api, owner, bob)
    limited = await api.ok("createInviteLink", owner.token, chat_id=chat_id, usage_limit=2)
    joined = await api.ok("joinChat", u1.token, invite_code=limited["code"])
    assert joined["id"] == chat_id and joined["role"] == "member"
    await api.ok("joinChat", u2.token, invite_code=limited["code"])
    await _error(api, u1, "joinChat", "USER_ALREADY_PARTICIPANT", invite_code=limited["code"])
    # The n+1-th user is refused and nothing changes.
    count = await _count(api, owner, chat_id)
    before = await api.snapshot(u3)
    await _error(api, u3, "joinChat", "INVITE_EXPIRED", invite_code=limited["code"])
    assert await _count(api, owner, chat_id) == count == 4
    assert await api.snapshot(u3) == before
    [link] = [
        x
        for x in await api.ok("getInviteLinks", owner.token, chat_id=chat_id)
        if x["code"] == limited["code"]
    ]
    assert link["usage_count"] == 2

    # Who joined through it: for administrators and the link's creator only.
    joiners = await api.ok(
        "getInviteLinkMembers", owner.token, chat_id=chat_id, code=limited["code"]
    )
    assert {j["user_id"] for j in joiners} == {u1.user_id, u2.user_id}
    await _error(
        api, bob, "getInviteLinkMembers", "ADMIN_REQUIRED", chat_id=chat_id, code=limited["code"]
    )
    history = await api.ok("getHistory", u1.token, chat_id=chat_id)
    services = [m["service"] for m in history if m["service"]]
    assert {"action": "member_joined_by_link", "user_ids": [u1.user_id]} in services

    # Racing for the last use: exactly one gets in.
    racers = [await api.make_user(f"racer{i}") for i in range(4)]
    last = await api.ok("createInviteLink", owner.token, chat_id=chat_id, usage_limit=1)
    count = await _count(api, owner, chat_id)
    answers = await asyncio.gather(
        *(api.call("joinChat", r.token, invite_code=last["code"]) for r in racers)
    )
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 410, 410, 410], answers
    assert await _count(api, owner, chat_id) == count + 1

    # Expiry: the link works until its date, then answers INVITE_EXPIRED.
    soon = await api.ok(
        "createInviteLink", owner.token, chat_id=chat_id, expires_at=int(time.time()) + 60
    )
    real_clock = server.app.clock
    server.app.clock = lambda: real_clock() + 120
    try:
        await _error(api, u3, "joinChat", "INVITE_EXPIRED", invite_code=soon["code"])
    finally:
        server.app.clock = real_clock
    await api.ok("joinChat", u3.token, invite_code=soon["code"])

    # A banned user cannot come back through any link; a banned member's links die.
    bobs = await api.ok("createInviteLink", bob.token, chat_id=chat_id)
    await api.ok("banChatMember", owner.token, chat_id=chat_id, user_id=u1.user_id)
    primary = await api.ok("exportPrimaryInviteLink", owner.token, chat_id=chat_id)
    count = await _count(api, owner, chat_id)
    await _error(api, u1, "joinChat", "USER_BANNED_IN_CHAT", invite_code=primary["code"])
    await api.ok("banChatMember", owner.token, chat_id=chat_id, user_id=bob.user_id)
    await api.ok("leaveChat", u2.token, chat_id=chat_id)
    await _error(api, u2, "joinChat", "INVITE_EXPIRED", invite_code=bobs["code"])
    assert await _count(api, owner, chat_id) == count - 2
    await api.ok("joinChat", u2.token, invite_code=primary["code"])  # left users may return


async def test_join_requests_end_to_end(api: Api) -> None:
    owner = await api.make_user("owner")
    sub = await api.make_user("subscriber")
    asker = await api.make_user("asker")
    other = await api.make_user("other")
    channel = (await api.ok("createChannel", owner.token, title="Club", about="members only"))["id"]
    await api.ok("addChatMembers", owner.token, chat_id=channel, user_ids=[sub.user_id])
    link = await api.ok("createInviteLink", owner.token, chat_id=channel, requires_approval=True)
    preview = await api.ok("previewInvite", asker.token, code=link["code"])
    assert preview["requires_approval"] and not preview["is_member"]
    assert not preview["request_pending"]
    admin_ws = await api.ws_connect(owner.token)
    asker_ws = await api.ws_connect(asker.token)

    error = await _error(api, asker, "joinChat", "INVITE_REQUEST_SENT", invite_code=link["code"])
    assert error["chat_id"] == channel
    event = await admin_ws.next(lambda f: f.get("type") == "event")
    assert event["event"]["type"] == "join_request"
    assert (event["event"]["chat_id"], event["event"]["user_id"]) == (channel, asker.user_id)
    assert event["event"]["pending_count"] == 1
    assert (await api.ok("previewInvite", asker.token, code=link["code"]))["request_pending"]
    # Asking again files nothing new.
    await _error(api, asker, "joinChat", "INVITE_REQUEST_SENT", invite_code=link["code"])
    await _error(api, asker, "getChat", "CHAT_NOT_FOUND", chat_id=channel)
    requests = await api.ok("getJoinRequests", owner.token, chat_id=channel)
    assert [(r["user_id"], r["invite_code"]) for r in requests] == [(asker.user_id, link["code"])]
    listed = await api.ok("getInviteLinks", owner.token, chat_id=channel)
    assert listed[0]["pending_requests"] == 1
    await _error(api, sub, "getJoinRequests", "ADMIN_REQUIRED", chat_id=channel)
    await _error(
        api, sub, "approveJoinRequest", "ADMIN_REQUIRED", chat_id=channel, user_id=asker.user_id
    )

    await api.ok("approveJoinRequest", owner.token, chat_id=channel, user_id=asker.user_id)
    frame = await asker_ws.next(is_update)
    assert frame["update"]["type"] == "chat_membership" and frame["update"]["role"] == "member"
    assert frame["update"]["chat_id"] == channel
    assert (await api.ok("getChat", asker.token, chat_id=channel))["role"] == "member"
    assert await api.ok("getJoinRequests", owner.token, chat_id=channel) == []
    await _error(
        api,
        owner,
        "approveJoinRequest",
        "JOIN_REQUEST_NOT_FOUND",
        chat_id=channel,
        user_id=asker.user_id,
    )
    await _error(
        api, owner, "approveJoinRequest", "USER_NOT_FOUND", chat_id=channel, user_id=999999
    )
    [after] = await api.ok("getInviteLinks", owner.token, chat_id=channel)
    assert (after["usage_count"], after["pending_requests"]) == (1, 0)

    # Declined: not a member, told in their own box, free to ask again.
    await _error(api, other, "joinChat", "INVITE_REQUEST_SENT", invite_code=link["code"])
    count = await _count(api, owner, channel)
    await api.ok("declineJoinRequest", owner.token, chat_id=channel, user_id=other.user_id)
    assert await _count(api, owner, channel) == count
    await _error(api, other, "getChat", "CHAT_NOT_FOUND", chat_id=channel)
    difference = await api.ok("getDifference", other.token, pts=0)
    declined = [u for u in difference["updates"] if u["type"] == "join_request_declined"]
    assert [(u["chat_id"], u["title"]) for u in declined] == [(channel, "Club")]
    assert not (await api.ok("previewInvite", other.token, code=link["code"]))["request_pending"]


async def test_preview_public_join_and_reading_without_joining(api: Api) -> None:
    owner = await api.make_user("owner")
    reader = await api.make_user("reader")
    group = await _group(api, owner, about="our secrets")
    await api.ok("sendMessage", owner.token, chat_id=group, text="private words")
    link = await api.ok("createInviteLink", owner.token, chat_id=group)
    preview = await api.ok("previewInvite", reader.token, code=link["code"])
    assert preview == {
        "chat_id": group,
        "kind": "group",
        "title": "Team",
        "about": "our secrets",
        "username": None,
        "member_count": 1,
        "requires_approval": False,
        "is_member": False,
        "request_pending": False,
    }
    assert (await api.ok("previewInvite", owner.token, code=link["code"]))["is_member"]
    await _error(api, reader, "getPublicHistory", "CHAT_NOT_FOUND", chat_id=group)

    channel = (await api.ok("createChannel", owner.token, title="Daily News"))["id"]
    await api.ok("setChatUsername", owner.token, chat_id=channel, username="DailyNews")
    for text in ("first post", "second post"):
        await api.ok("sendMessage", owner.token, chat_id=channel, text=text)
    await _error(api, reader, "getHistory", "CHAT_NOT_FOUND", chat_id=channel)
    resolved = await api.ok("resolveChat", reader.token, username="@dailynews")
    assert (resolved["chat_id"], resolved["kind"], resolved["is_member"]) == (
        channel,
        "channel",
        False,
    )
    for params in ({"chat_id": channel}, {"username": "DAILYNEWS"}):
        history = await api.ok("getPublicHistory", reader.token, **params)
        assert [m["text"] for m in history] == ["first post", "second post"]
    newer = await api.ok(
        "getPublicHistory", reader.token, chat_id=channel, offset_id=1, direction="newer"
    )
    assert [m["text"] for m in newer] == ["second post"]
    await _error(api, reader, "resolveChat", "CHAT_NOT_FOUND", username="nosuchchat")
    await _error(api, reader, "getPublicHistory", "INVALID_PARAMS")

    chat = await api.ok("joinChat", reader.token, username="dailynews")
    assert (chat["id"], chat["role"], chat["member_count"]) == (channel, "member", 2)
    assert [m["text"] for m in await api.ok("getHistory", reader.token, chat_id=channel)] == [
        "first post",
        "second post",
    ]
    await _error(api, reader, "joinChat", "USER_ALREADY_PARTICIPANT", username="dailynews")
    await _error(api, reader, "joinChat", "INVALID_PARAMS", username="dailynews", invite_code="abc")
    # A banned subscriber reads it no more, even without joining.
    await api.ok("banChatMember", owner.token, chat_id=channel, user_id=reader.user_id)
    await _error(api, reader, "getPublicHistory", "USER_BANNED_IN_CHAT", chat_id=channel)
    await _error(api, reader, "joinChat", "USER_BANNED_IN_CHAT", username="dailynews")
