"""What the web client needed of the server, through the SDK against a real server on both
stores: the discussion link pushed to both chats, comment counts pushed to a channel's
followers, the caller's own rights in `Chat`, and history loaded around a message."""

from __future__ import annotations

import time

import pytest

from heliograph.sdk import COMMENT_COUNT, AdminRights, ApiError, MemberRights, Update
from heliograph.server import Server
from tests.conftest import base_url
from tests.sdk.helpers import Devices, take_until

ALL_RIGHTS = MemberRights(
    send_messages=True,
    send_media=True,
    send_stickers=True,
    send_links=True,
    send_polls=True,
    invite_users=True,
    pin_messages=True,
    change_info=True,
)
NO_RIGHTS = MemberRights(
    send_messages=False,
    send_media=False,
    send_stickers=False,
    send_links=False,
    send_polls=False,
    invite_users=False,
)


def _info(updates: list[Update], chat_id: int) -> list[dict[str, object]]:
    return [u.raw for u in updates if u.type == "chat_info" and u.chat_id == chat_id]


async def test_linking_a_discussion_group_is_pushed_to_both_chats(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    assert bob.user_id
    channel = await alice.create_channel("News")
    await alice.add_chat_members(channel.id, [bob.user_id])
    group = await alice.create_group("News chat", user_ids=[bob.user_id])
    other = await alice.create_group("Other chat", user_ids=[bob.user_id])
    await bob.connect()

    await alice.link_discussion_group(channel.id, group.id)
    got = await take_until(bob, lambda us: bool(_info(us, channel.id) and _info(us, group.id)))
    assert [u["linked_chat_id"] for u in _info(got, channel.id)] == [group.id]
    assert [u["linked_chat_id"] for u in _info(got, group.id)] == [channel.id]
    # only the field that changed, as for every chat_info
    position = {"type", "chat_id", "pts", "pts_count", "box"}
    assert set(_info(got, channel.id)[0]) - position == {"linked_chat_id"}
    assert set(_info(got, group.id)[0]) - position == {"linked_chat_id"}
    assert (await bob.get_chat(channel.id)).linked_chat_id == group.id
    assert (await bob.get_chat(group.id)).linked_chat_id == channel.id

    # Moving the link to another group unlinks the first; unlinking clears both sides.
    await alice.link_discussion_group(channel.id, other.id)
    got = await take_until(
        bob,
        lambda us: bool(_info(us, channel.id) and _info(us, group.id) and _info(us, other.id)),
    )
    assert _info(got, channel.id)[-1]["linked_chat_id"] == other.id
    assert _info(got, group.id)[-1]["linked_chat_id"] is None
    assert _info(got, other.id)[-1]["linked_chat_id"] == channel.id
    assert (await bob.get_chat(group.id)).linked_chat_id is None
    await alice.link_discussion_group(channel.id, None)
    got = await take_until(bob, lambda us: bool(_info(us, channel.id) and _info(us, other.id)))
    assert _info(got, channel.id)[-1]["linked_chat_id"] is None
    assert _info(got, other.id)[-1]["linked_chat_id"] is None
    assert (await alice.get_chat(channel.id)).linked_chat_id is None

    # A device that was away replays the changes from the channel's box.
    replay = await alice.get_channel_difference(channel.id, 0)
    linked = [u.raw["linked_chat_id"] for u in replay.updates if u.type == "chat_info"]
    assert linked == [group.id, other.id, None]


async def test_comment_counts_are_pushed_once_into_the_channel_box(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    carol = await devices.sign_up(url, "carol")  # subscribes to the channel, not in the group
    assert bob.user_id and carol.user_id
    channel = await alice.create_channel("News")
    await alice.add_chat_members(channel.id, [bob.user_id, carol.user_id])
    group = await alice.create_group("News chat", user_ids=[bob.user_id])
    await alice.link_discussion_group(channel.id, group.id)
    sent = await alice.send_message(channel.id, "Road closed at noon")
    post = sent.message
    assert post.discussion is not None
    copy_id = post.discussion.message_id
    await carol.connect()
    carol_head = (await carol.get_state()).pts
    box_before = (await carol.get_chat(channel.id)).pts
    assert box_before is not None

    await bob.send_message(group.id, "Which road?", reply_to_message_id=copy_id)
    got = await take_until(carol, lambda us: any(u.type == COMMENT_COUNT for u in us))
    (update,) = [u for u in got if u.type == COMMENT_COUNT]
    assert (update.chat_id, update.box, update.message_id, update.comment_count) == (
        channel.id,
        channel.id,
        post.id,
        1,
    )
    await alice.send_message(group.id, "Main street", reply_to_message_id=copy_id)
    got = await take_until(carol, lambda us: any(u.type == COMMENT_COUNT for u in us))
    assert [u.comment_count for u in got if u.type == COMMENT_COUNT] == [2]
    # A reply to anything else in the group is no comment.
    plain = await bob.send_message(group.id, "unrelated")
    await bob.send_message(group.id, "a reply", reply_to_message_id=plain.message.id)

    # One update per comment in the channel's box, none in the subscribers' own boxes.
    box_after = (await carol.get_chat(channel.id)).pts
    assert box_after == box_before + 2
    assert (await carol.get_state()).pts == carol_head
    replay = await carol.get_channel_difference(channel.id, box_before)
    assert [(u.type, u.message_id, u.comment_count) for u in replay.updates] == [
        (COMMENT_COUNT, post.id, 1),
        (COMMENT_COUNT, post.id, 2),
    ]
    (stored,) = await carol.get_messages(channel.id, [post.id])
    assert stored.discussion is not None and stored.discussion.comment_count == 2


async def test_deleting_a_comment_or_a_reply_lowers_the_count(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    carol = await devices.sign_up(url, "carol")  # a subscriber of the channel only
    assert bob.user_id and carol.user_id
    channel = await alice.create_channel("News")
    await alice.add_chat_members(channel.id, [carol.user_id])
    group = await alice.create_group("News chat", user_ids=[bob.user_id])
    await alice.link_discussion_group(channel.id, group.id)
    post = (await alice.send_message(channel.id, "Road closed at noon")).message
    assert post.discussion is not None
    copy_id = post.discussion.message_id
    first = await bob.send_message(group.id, "Which road?", reply_to_message_id=copy_id)
    await alice.send_message(group.id, "Main street", reply_to_message_id=copy_id)
    await carol.connect()

    await bob.delete_messages(group.id, [first.message.id], for_everyone=True)
    got = await take_until(carol, lambda us: any(u.type == COMMENT_COUNT for u in us))
    assert [(u.message_id, u.comment_count) for u in got if u.type == COMMENT_COUNT] == [
        (post.id, 1)
    ]
    (stored,) = await carol.get_messages(channel.id, [post.id])
    assert stored.discussion is not None and stored.discussion.comment_count == 1

    # In any group, a deleted reply no longer counts on the message it answered.
    question = (await bob.send_message(group.id, "Lunch?")).message
    answers = [
        (await alice.send_message(group.id, t, reply_to_message_id=question.id)).message
        for t in ("yes", "no")
    ]
    (counted,) = await bob.get_messages(group.id, [question.id])
    assert counted.reply_count == 2
    await alice.delete_messages(group.id, [a.id for a in answers], for_everyone=True)
    (counted,) = await bob.get_messages(group.id, [question.id])
    assert counted.reply_count == 0


def _membership(update: Update) -> str | None:
    return update.role if update.type == "chat_membership" else None


async def test_chat_carries_the_callers_own_rights(server: Server, devices: Devices) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    carol = await devices.sign_up(url, "carol")
    assert alice.user_id and bob.user_id and carol.user_id
    group = await alice.create_group("Quiet room", user_ids=[bob.user_id, carol.user_id])
    assert (await alice.get_chat(group.id)).my_rights == ALL_RIGHTS
    member = await bob.get_chat(group.id)
    assert member.my_rights == MemberRights() and member.can_send
    assert member.restricted_until == 0

    await bob.connect()
    until = int(time.time()) + 3600
    await alice.restrict_chat_member(
        group.id, bob.user_id, MemberRights(send_messages=False), until_date=until
    )
    await take_until(bob, lambda us: any(_membership(u) == "restricted" for u in us))
    muted = await bob.get_chat(group.id)
    assert muted.role == "restricted" and not muted.can_send
    assert muted.my_rights is not None and not muted.my_rights.send_messages
    assert muted.restricted_until == until
    with pytest.raises(ApiError) as refused:
        await bob.send_message(group.id, "can I talk?")
    assert refused.value.code == "CHAT_WRITE_FORBIDDEN"
    # every chat in the list says the same as getChat
    listed = {c.id: c for c in await bob.get_chats()}
    assert listed[group.id].my_rights == muted.my_rights

    await alice.restrict_chat_member(group.id, bob.user_id, MemberRights())
    await take_until(bob, lambda us: any(_membership(u) == "member" for u in us))
    free = await bob.get_chat(group.id)
    assert free.can_send and free.restricted_until == 0

    # An administrator has what they were granted besides what members may.
    await alice.promote_chat_member(group.id, carol.user_id, AdminRights(pin_messages=True))
    admin = await carol.get_chat(group.id)
    assert admin.my_rights is not None
    assert admin.my_rights.send_messages and admin.my_rights.pin_messages
    assert not admin.my_rights.change_info

    # A channel: its subscribers may not post, its owner and posting administrators may.
    channel = await alice.create_channel("News")
    await alice.add_chat_members(channel.id, [bob.user_id, carol.user_id])
    assert (await alice.get_chat(channel.id)).my_rights == ALL_RIGHTS
    assert (await bob.get_chat(channel.id)).my_rights == NO_RIGHTS
    await alice.promote_chat_member(channel.id, carol.user_id, AdminRights(post_messages=True))
    poster = await carol.get_chat(channel.id)
    assert poster.can_send and poster.my_rights is not None
    assert not poster.my_rights.change_info

    # A private chat: writable, pins allowed, nobody to invite.
    private = await alice.get_private_chat(bob.user_id)
    assert private.my_rights == MemberRights(invite_users=False, pin_messages=True)


async def test_history_around_a_message(server: Server, devices: Devices) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    assert bob.user_id
    chat = await alice.get_private_chat(bob.user_id)
    ids = [(await alice.send_message(chat.id, f"m{i}")).message.id for i in range(1, 31)]
    assert ids == list(range(1, 31))

    async def around(message_id: int, limit: int) -> list[int]:
        found = await alice.get_history(chat.id, around_id=message_id, limit=limit)
        return [m.id for m in found]

    assert await around(15, 10) == list(range(11, 21))  # 5 up to it, 5 after
    assert await around(15, 9) == list(range(11, 20))
    assert await around(15, 1) == [15]
    assert await around(2, 10) == list(range(1, 11))  # few older: more newer
    assert await around(29, 10) == list(range(21, 31))  # few newer: more older
    assert await around(30, 100) == list(range(1, 31))
    assert await around(500, 4) == [27, 28, 29, 30]  # past the newest: the newest

    # Deleted (for everyone, or for oneself) messages are left out; the window stays full.
    await alice.delete_messages(chat.id, [15], for_everyone=True)
    await alice.delete_messages(chat.id, [16])
    assert await around(15, 10) == [10, 11, 12, 13, 14, 17, 18, 19, 20, 21]
    assert [m.id for m in await bob.get_history(chat.id, around_id=15, limit=4)] == [
        13,
        14,
        16,
        17,
    ]
    # Paging on from the window's ends joins it to the rest, with no gap and no repeat.
    window = await around(8, 6)
    newer = await alice.get_history(chat.id, offset_id=window[-1], direction="newer", limit=100)
    older = await alice.get_history(chat.id, offset_id=window[0], limit=100)
    joined = [m.id for m in older] + window + [m.id for m in newer]
    assert joined == [i for i in range(1, 31) if i not in (15, 16)]

    for bad in (
        {"around_id": 5, "offset_id": 5},
        {"around_id": 5, "direction": "newer"},
        {"around_id": 5, "direction": "older"},
        {"around_id": 0},
        {"around_id": 5, "limit": 101},
    ):
        with pytest.raises(ApiError) as refused:
            await alice.get_history(chat.id, **bad)  # type: ignore[arg-type]
        assert refused.value.code == "INVALID_PARAMS", bad
    with pytest.raises(ApiError) as refused:
        await alice.get_history(999_999, around_id=5)
    assert refused.value.code == "CHAT_NOT_FOUND"
