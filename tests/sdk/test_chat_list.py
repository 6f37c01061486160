"""Pinned chats and the archive: kept on the server per member, the same on every device
(SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from heliograph.sdk import CHAT_ARCHIVED, PINNED_CHATS, ApiError, Client, Update
from heliograph.server import Server
from tests.conftest import base_url
from tests.sdk.helpers import Devices, take_until


def _arrangement(updates: list[Update]) -> list[tuple[str, object]]:
    """The chat-list updates among `updates`, as (type, what they say)."""
    return [
        (u.type, u.chat_ids if u.type == PINNED_CHATS else (u.chat_id, u.archived))
        for u in updates
        if u.type in (PINNED_CHATS, CHAT_ARCHIVED)
    ]


async def _chats(client: Client, *titles: str) -> list[int]:
    return [(await client.create_group(title)).id for title in titles]


async def test_pins_reach_the_other_device_live_and_keep_their_order(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    phone = await devices.sign_up(url, "alice", "alice-phone")
    laptop = await devices.sign_in(url, "alice", "alice-laptop")
    bob = await devices.sign_up(url, "bob")
    old, work, family = await _chats(phone, "Old", "Work", "Family")
    private = (await phone.get_private_chat(bob.user_id or 0)).id
    await bob.send_message(private, "hi")
    await laptop.connect()

    await phone.pin_chat(old)
    await phone.pin_chat(work)
    assert (await phone.pin_chat(work)).changed is False  # already pinned: nothing happens
    await phone.pin_chat(private)
    seen = await take_until(laptop, lambda got: len(_arrangement(got)) == 3)
    assert _arrangement(seen) == [
        (PINNED_CHATS, [old]),
        (PINNED_CHATS, [work, old]),
        (PINNED_CHATS, [private, work, old]),
    ]

    # The oldest chat is still listed, first of all, whatever its last activity.
    await phone.send_message(family, "the newest activity")
    assert [c.id for c in await laptop.get_pinned_chats()] == [private, work, old]
    listed = {c.id: c.pinned for c in await laptop.get_chats()}
    assert listed == {old: True, work: True, family: False, private: True}

    await laptop.reorder_pinned_chats([old, private, work])
    await phone.pin_chat(private, pinned=False)
    # every device sees its own changes too
    seen = await take_until(laptop, lambda got: len(_arrangement(got)) == 2)
    assert _arrangement(seen) == [(PINNED_CHATS, [old, private, work]), (PINNED_CHATS, [old, work])]
    assert [c.id for c in await phone.get_pinned_chats()] == [old, work]

    # Each member arranges their own list: Bob's is untouched.
    assert await bob.get_pinned_chats() == []
    assert [c.pinned for c in await bob.get_chats()] == [False]


async def test_archiving_a_pinned_chat_unpins_it_and_pinning_brings_it_back(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    phone = await devices.sign_up(url, "alice", "alice-phone")
    laptop = await devices.sign_in(url, "alice", "alice-laptop")
    news, games = await _chats(phone, "News", "Games")
    await phone.pin_chat(news)
    await phone.connect()
    await laptop.connect()

    change = await phone.archive_chat(news)
    assert change.pts_count == 2  # unpinned, then archived
    await phone.archive_chat(games)
    assert (await phone.archive_chat(games)).changed is False
    seen = await take_until(laptop, lambda got: len(_arrangement(got)) == 4)
    assert _arrangement(seen) == [
        (PINNED_CHATS, [news]),
        (PINNED_CHATS, []),
        (CHAT_ARCHIVED, (news, True)),
        (CHAT_ARCHIVED, (games, True)),
    ]
    listed = {c.id: (c.archived, c.pinned) for c in await laptop.get_chats()}
    assert listed == {news: (True, False), games: (True, False)}

    # A new message leaves an archived chat in the archive.
    await phone.send_message(games, "still archived")
    assert (await laptop.get_chat(games)).archived is True

    await laptop.pin_chat(games)
    # the phone has not read its updates yet: all six are waiting, in order
    seen = await take_until(phone, lambda got: len(_arrangement(got)) == 6)
    assert _arrangement(seen)[4:] == [(CHAT_ARCHIVED, (games, False)), (PINNED_CHATS, [games])]
    await phone.archive_chat(news, archived=False)
    assert {c.id: c.archived for c in await phone.get_chats()} == {news: False, games: False}


async def test_a_device_that_was_away_catches_up_on_the_arrangement(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    phone = await devices.sign_up(url, "alice", "alice-phone")
    laptop = await devices.sign_in(url, "alice", "alice-laptop")
    first, second = await _chats(phone, "First", "Second")
    since = (await laptop.get_state()).pts

    await phone.pin_chat(first)
    await phone.pin_chat(second)
    await phone.archive_chat(first)

    replay = await laptop.get_difference(since)
    assert _arrangement(replay.updates) == [
        (PINNED_CHATS, [first]),
        (PINNED_CHATS, [second, first]),
        (PINNED_CHATS, [second]),
        (CHAT_ARCHIVED, (first, True)),
    ]


async def test_bad_arrangements_are_refused_and_change_nothing(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    chats = await _chats(alice, *(f"Chat {n}" for n in range(11)))
    for chat_id in chats[:10]:
        await alice.pin_chat(chat_id)
    pinned = [c.id for c in await alice.get_pinned_chats()]
    assert pinned == chats[9::-1]

    with pytest.raises(ApiError) as too_many:
        await alice.pin_chat(chats[10])
    assert too_many.value.code == "PINNED_CHATS_TOO_MANY"
    with pytest.raises(ApiError) as not_all:
        await alice.reorder_pinned_chats(pinned[:-1])
    assert not_all.value.code == "INVALID_PARAMS"
    with pytest.raises(ApiError) as twice:
        await alice.reorder_pinned_chats([pinned[0], *pinned[:-1]])
    assert twice.value.code == "INVALID_PARAMS"
    assert [c.id for c in await alice.get_pinned_chats()] == pinned

    # Someone else's chat does not exist for Bob: he can neither pin nor archive it.
    for call in (bob.pin_chat(chats[0]), bob.archive_chat(chats[0])):
        with pytest.raises(ApiError) as hidden:
            await call
        assert hidden.value.code == "CHAT_NOT_FOUND"
    assert await bob.get_pinned_chats() == []

    # A chat one has left drops out of the pinned list.
    await alice.leave_chat(chats[0])
    assert [c.id for c in await alice.get_pinned_chats()] == pinned[:-1]
