"""Groups, channels, invite links and discovery through the SDK's typed methods, against a real
server."""

from __future__ import annotations

import pytest

from heliograph.sdk import AdminRights, ApiError, ChatPreview, MemberRights, Update
from heliograph.server import Server
from tests.conftest import base_url
from tests.sdk.helpers import Devices, take_until


async def test_a_group_is_created_and_managed(server: Server, devices: Devices) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    carol = await devices.sign_up(url, "carol")
    dave = await devices.sign_up(url, "dave")
    assert bob.user_id and carol.user_id and dave.user_id

    group = await alice.create_group("Friends", about="old friends", user_ids=[bob.user_id])
    assert (group.kind, group.title, group.about, group.role) == (
        "group",
        "Friends",
        "old friends",
        "owner",
    )
    assert await alice.add_chat_members(group.id, [carol.user_id, dave.user_id]) == [
        carol.user_id,
        dave.user_id,
    ]
    await alice.promote_chat_member(
        group.id, bob.user_id, AdminRights(ban_users=True, pin_messages=True), title="deputy"
    )
    await alice.restrict_chat_member(group.id, carol.user_id, MemberRights(send_messages=False))
    await alice.ban_chat_member(group.id, dave.user_id)
    await alice.set_chat_settings(group.id, slow_mode_seconds=10)

    with pytest.raises(ApiError):
        await carol.send_message(group.id, "muted")

    chat = await alice.get_chat(group.id)
    assert (chat.member_count, chat.slow_mode_seconds) == (3, 10)

    [found] = await alice.get_chat_members(group.id, query="bo")
    assert (found.user_id, found.role, found.admin_title) == (bob.user_id, "admin", "deputy")
    assert found.admin_rights == AdminRights(ban_users=True, pin_messages=True)

    [restricted] = await alice.get_chat_members(group.id, filter="restricted")
    assert restricted.user_id == carol.user_id
    assert restricted.restrictions is not None
    assert not restricted.restrictions.send_messages
    [banned] = await alice.get_chat_members(group.id, filter="banned")
    assert banned.user_id == dave.user_id

    log = await alice.get_admin_log(group.id)
    actions = [entry.action for entry in log]
    assert {"promoted", "restricted", "banned"} <= set(actions)
    assert all(entry.actor_id == alice.user_id for entry in log if entry.action == "banned")
    assert actions.index("banned") < actions.index("promoted")  # newest first


async def test_a_channel_joined_by_invite_delivers_posts_live(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    channel = await alice.create_channel("News", about="daily news")
    assert channel.kind == "channel" and channel.pts is not None

    link = await alice.create_invite_link(channel.id, title="friends", usage_limit=5)
    assert (link.chat_id, link.usage_limit, link.revoked) == (channel.id, 5, False)

    preview = await bob.preview_invite(link.code)
    assert preview == ChatPreview(
        chat_id=channel.id, kind="channel", title="News", about="daily news", member_count=1
    )

    await bob.connect()
    joined = await bob.join_chat(invite_code=link.code)
    assert (joined.id, joined.role) == (channel.id, "member")
    assert (await bob.preview_invite(link.code)).is_member

    sent = await alice.send_message(channel.id, "breaking")
    assert sent.box == channel.id and sent.message.sender_chat_id == channel.id

    def has_post(got: list[Update]) -> bool:
        return any(u.message and u.message.text == "breaking" for u in got)

    got = await take_until(bob, has_post)
    post = next(u for u in got if u.message and u.message.text == "breaking")
    assert post.type == "new_message" and post.box == channel.id and post.chat_id == channel.id
    assert post.message is not None

    [views] = (await bob.view_messages(channel.id, [post.message.id])).views
    assert views >= 1
    assert (await bob.view_messages(channel.id, [post.message.id])).views == [views]  # once
    [joiner] = await alice.get_invite_link_members(channel.id, link.code)
    assert joiner.user_id == bob.user_id
    [listed] = await alice.get_invite_links(channel.id)
    assert (listed.code, listed.usage_count) == (link.code, 1)
    diff = await bob.get_channel_difference(channel.id, 0)
    assert any(u.message and u.message.text == "breaking" for u in diff.updates)


async def test_public_chats_and_hashtags_are_found(server: Server, devices: Devices) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    channel = await alice.create_channel("Astronomy Daily")
    await alice.set_chat_username(channel.id, "astro_daily")
    await alice.send_message(channel.id, "Tonight: the #Perseids peak")
    await alice.create_group("Private astronomy club")

    [found] = await bob.search_public_chats("astronomy")
    assert (found.chat_id, found.username, found.is_member) == (channel.id, "astro_daily", False)
    assert (await bob.resolve_chat("@astro_daily")).chat_id == channel.id

    [hit] = await bob.search_hashtag("perseids")
    assert (hit.chat_id, hit.text) == (channel.id, "Tonight: the #Perseids peak")
    history = await bob.get_public_history(username="astro_daily")
    assert [m.text for m in history if not m.service] == ["Tonight: the #Perseids peak"]


def test_rights_round_trip_as_plain_dicts() -> None:
    rights = MemberRights(send_media=False)
    assert MemberRights.from_dict(rights.to_dict()) == rights
    assert MemberRights.from_dict({"send_media": False, "unknown": True}) == rights
    assert AdminRights.from_dict({}) == AdminRights()
