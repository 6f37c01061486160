"""Large chats (channels, groups past the threshold) have an update box of their own. Devices
follow it from the pts their common box announces, live or after being away, and stop when
they leave."""

from __future__ import annotations

from dataclasses import replace

from heliograph.sdk import Client, Update
from tests.sdk.conftest import Restartable
from tests.sdk.helpers import FAST, Devices, quiet, read_json, take, take_until


def posts(updates: list[Update], chat_id: int) -> list[str]:
    return [
        u.message.text
        for u in updates
        if u.type == "new_message" and u.message and u.chat_id == chat_id and not u.message.service
    ]


async def test_channel_posts_reach_subscribers_live_and_after_being_away(
    restartable: Restartable, devices: Devices
) -> None:
    url = restartable.url
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    bob_tablet = await devices.sign_in(url, "bob", "bob-tablet")  # away during the posts
    await alice.connect()
    await bob.connect()
    await bob_tablet.close()

    channel = (await alice.call("createChannel", title="News"))["id"]
    await alice.call("addChatMembers", chat_id=channel, user_ids=[bob.user_id])
    for n in range(3):
        await alice.send_message(channel, f"post {n}")

    got = await take(bob, 4)
    assert (got[0].type, got[0].chat_id, got[0].role) == ("chat_membership", channel, "member")
    assert posts(got, channel) == ["post 0", "post 1", "post 2"]
    assert all(u.box == channel for u in got[1:])
    assert [u.pts for u in got[1:]] == [1, 2, 3]  # the channel's own sequence
    assert posts(await take(alice, 4), channel) == ["post 0", "post 1", "post 2"]

    tablet = Client(url, session_file=devices.path("bob-tablet"), **FAST)  # type: ignore[arg-type]
    devices.clients.append(tablet)
    again = await take(tablet, 4)
    assert again[0].type == "chat_membership"
    assert posts(again, channel) == ["post 0", "post 1", "post 2"]
    assert await quiet(tablet, 0.3) == []
    await tablet.close()
    assert read_json(devices.path("bob-tablet"))["boxes"] == {str(channel): 3}

    await bob.call("leaveChat", chat_id=channel)
    left = await take_until(bob, lambda g: any(u.type == "chat_membership" for u in g))
    assert left[-1].role == "left"
    await alice.send_message(channel, "after bob left")
    assert posts(await take_until(alice, lambda g: bool(posts(g, channel))), channel) == [
        "after bob left"
    ]
    assert posts(await quiet(bob, 0.5), channel) == []


async def test_a_group_growing_large_moves_to_its_own_box_without_a_gap(
    restartable: Restartable, devices: Devices
) -> None:
    restartable.config = replace(restartable.config, large_chat_threshold=2)
    await restartable.restart()
    url = restartable.url
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    carol = await devices.sign_up(url, "carol")
    await bob.connect()
    group = (await alice.call("createGroup", title="Friends", user_ids=[bob.user_id]))["id"]
    await alice.send_message(group, "small")
    await alice.call("addChatMembers", chat_id=group, user_ids=[carol.user_id])
    await alice.send_message(group, "large")

    got = await take_until(bob, lambda g: "large" in posts(g, group))
    assert any(u.type == "chat_became_large" and u.box_pts is not None for u in got)
    texts = posts(got, group)
    assert texts[0] == "small" and texts[-1] == "large"
    small = next(u for u in got if u.message and u.message.text == "small")
    large = next(u for u in got if u.message and u.message.text == "large")
    assert small.box is None and large.box == group
    assert await quiet(bob, 0.3) == []
