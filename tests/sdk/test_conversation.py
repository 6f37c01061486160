"""Several users, each on two or three devices, chatting through a real server (SQLite and
PostgreSQL): every device sees every change live, in order, once."""

from __future__ import annotations

import asyncio

from heliograph.sdk import Client, Update
from heliograph.server import Server
from tests.conftest import base_url
from tests.sdk.helpers import Devices, consecutive, next_event, quiet, take, take_until


async def _connect(*clients: Client) -> None:
    await asyncio.gather(*(c.connect() for c in clients))


async def test_every_device_of_both_sides_gets_every_change_once_in_order(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    # A lost push would be noticed only after this long, far past the test's time limits:
    # so what arrives, arrives live.
    live = {"gap_timeout": 30.0}
    alice = [await devices.sign_up(url, "alice", "alice-phone", **live)]
    alice += [
        await devices.sign_in(url, "alice", f"alice-{n}", **live) for n in ("laptop", "tablet")
    ]
    bob = [await devices.sign_up(url, "bob", "bob-phone", **live)]
    bob.append(await devices.sign_in(url, "bob", "bob-laptop", **live))
    carol = [await devices.sign_up(url, "carol", "carol-phone", **live)]
    carol.append(await devices.sign_in(url, "carol", "carol-laptop", **live))
    everyone = alice + bob + carol
    await _connect(*everyone)

    bob_id = (await alice[0].resolve_username("@bob")).id
    chat = (await alice[0].get_private_chat(bob_id)).id
    carol_chat = (await carol[1].get_private_chat(alice[0].user_id or 0)).id

    async def alice_talks() -> None:
        for n in range(4):
            await alice[n % 3].send_message(chat, f"a{n}")

    async def bob_talks() -> None:
        for n in range(3):
            await bob[n % 2].send_message(chat, f"b{n}")

    async def carol_talks() -> None:
        for n in range(3):
            await carol[n % 2].send_message(carol_chat, f"c{n}")

    await asyncio.gather(alice_talks(), bob_talks(), carol_talks())
    history = await bob[1].get_history(chat)
    sent = [m.text for m in history]
    assert sorted(sent) == ["a0", "a1", "a2", "a3", "b0", "b1", "b2"]

    def news(updates: list[Update], chat_id: int) -> list[str]:
        return [
            u.message.text
            for u in updates
            if u.type == "new_message" and u.message and u.chat_id == chat_id
        ]

    seen: dict[str, list[Update]] = {}
    for device in alice:
        got = await take(device, 10)  # 7 in the chat with bob, 3 from carol
        assert consecutive(got)
        assert news(got, chat) == sent  # the chat's order, the same on every device
        assert news(got, carol_chat) == ["c0", "c1", "c2"]
        seen[device.device_name] = got
    for device in bob:
        got = await take(device, 7)
        assert consecutive(got) and news(got, chat) == sent
    for device in carol:
        got = await take(device, 3)
        assert consecutive(got) and news(got, carol_chat) == ["c0", "c1", "c2"]
    # Every device of a user saw the very same sequence.
    first = [(u.pts, u.type, u.message.id if u.message else None) for u in seen["alice-phone"]]
    for got in seen.values():
        assert [(u.pts, u.type, u.message.id if u.message else None) for u in got] == first

    # A reply, an edit, a reaction, a deletion and a read mark reach the other devices.
    by_text = {m.text: m for m in history}
    reply = await bob[0].send_message(chat, "re: a0", reply_to_message_id=by_text["a0"].id)
    await alice[1].edit_message(chat, by_text["a1"].id, "a1 (fixed)")
    await bob[1].set_reaction(chat, by_text["a1"].id, "👍")
    await alice[2].delete_messages(chat, [by_text["b0"].id], for_everyone=True)
    read = await alice[0].read_history(chat, reply.message.id)
    assert read.changed

    kinds = ["new_message", "edit_message", "message_reactions", "delete_messages"]
    for device in alice:
        got = await take(device, 5)
        assert [u.type for u in got] == [*kinds, "read_inbox"]
        assert consecutive(got)
        new, edit, reaction, deletion, read_mark = got
        assert new.message and new.message.reply_to_message_id == by_text["a0"].id
        assert edit.message and edit.message.text == "a1 (fixed)" and edit.message.edit_date
        assert reaction.message_id == by_text["a1"].id
        assert [(r.emoji, r.count) for r in reaction.reactions] == [("👍", 1)]
        assert deletion.message_ids == [by_text["b0"].id]
        assert read_mark.max_id == reply.message.id and read_mark.unread_count == 0
    for device in bob:
        got = await take(device, 5)
        assert [u.type for u in got] == [*kinds, "read_outbox"]
        assert consecutive(got) and got[4].max_id == reply.message.id
    for device in everyone:
        assert await quiet(device, 0.3) == []


async def test_typing_reaches_the_other_side(server: Server, devices: Devices) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    bob_laptop = await devices.sign_in(url, "bob", "bob-laptop")
    await _connect(alice, bob, bob_laptop)
    chat = (await alice.get_private_chat(bob.user_id or 0)).id
    await alice.send_message(chat, "hi")
    await alice.set_typing(chat)
    for device in (bob, bob_laptop):
        event = await next_event(device, lambda e: e.type == "typing")
        assert (event.chat_id, event.user_id, event.action) == (chat, alice.user_id, "typing")
    # The update stream is not disturbed by events.
    assert [u.type for u in await take(bob, 1)] == ["new_message"]


async def test_saved_messages_and_drafts_sync_between_own_devices(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    phone = await devices.sign_up(url, "alice")
    laptop = await devices.sign_in(url, "alice", "laptop")
    await _connect(phone, laptop)
    saved = (await phone.get_private_chat(phone.user_id or 0)).id
    await phone.save_draft(saved, "half a thought")
    await phone.send_message(saved, "a whole thought")
    got = await take_until(laptop, lambda g: any(u.type == "new_message" for u in g))
    drafts = [u for u in got if u.type == "draft"]
    assert drafts[0].draft is not None and drafts[0].draft.text == "half a thought"
    assert got[-1].message is not None and got[-1].message.text == "a whole thought"
    # Sending cleared the draft of that chat, and only of that chat.
    bob = await devices.sign_up(url, "bob")
    direct = (await phone.get_private_chat(bob.user_id or 0)).id
    await phone.save_draft(direct, "for bob, later")
    await phone.send_message(saved, "another thought")
    assert (await laptop.get_chat(saved)).draft is None
    kept = (await laptop.get_chat(direct)).draft
    assert kept is not None and kept.text == "for bob, later"
    await phone.send_message(direct, "now")
    assert (await laptop.get_chat(direct)).draft is None
