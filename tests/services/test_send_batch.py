"""Plain sends made at the same time are written as one batch (services/send_batch.py): what
each sender and member sees is what sending one by one would have given them, on both
stores; what the batch cannot take is sent alone, with the same answers and errors."""

from __future__ import annotations

import asyncio
import random

import pytest

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.kinds import ChatKind
from heliograph.server import Server
from heliograph.services import accounts, chats, groups, interactions, messaging, reading, sync
from heliograph.services.context import App, Caller
from heliograph.services.messaging import Sent
from heliograph.services.send_batch import SendBatcher, batcher_of


async def _people(app: App, n: int) -> list[Caller]:
    found = []
    for i in range(n):
        signed = await accounts.sign_up(
            app, f"user{i}", "correct horse battery", f"User {i}", "d", "c", "127.0.0.1"
        )
        found.append(Caller(signed.account.id, signed.session_id))
    return found


class CountingBatcher(SendBatcher):
    """Counts the sends each batch took, to show the batches formed."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.taken: list[int] = []

    async def _store(self, batch):  # type: ignore[no-untyped-def]
        stored = await super()._store(batch)
        self.taken.append(len(stored))
        return stored


async def test_sends_at_once_are_numbered_in_order_with_no_gaps(server: Server) -> None:
    app = server.app
    counting = app.send_batcher = CountingBatcher(app)
    alice, bob, carol, dave = await _people(app, 4)
    private = await chats.open_private_chat(app, alice, bob.user_id)
    group = await groups.create_chat(
        app, carol, ChatKind.GROUP, "g", member_ids=[alice.user_id, bob.user_id, dave.user_id]
    )
    before = {
        c: len(await reading.get_history(app, carol if c == group else alice, c))
        for c in (private, group)
    }
    starts = {c.user_id: (await sync.get_state(app, c)).pts for c in (alice, bob, carol, dave)}

    sends = [
        (alice, private, "a1"),
        (bob, private, "b1"),
        (carol, group, "c1"),
        (alice, group, "a2"),
        (alice, private, "a3"),
        (dave, group, "d1"),
    ] * 5
    sent = await asyncio.gather(
        *(
            messaging.send_message(app, who, chat, f"{text}/{n}", random_id=random.getrandbits(62))
            for n, (who, chat, text) in enumerate(sends)
        )
    )
    assert sum(counting.taken) == len(sends)  # every one went through a batch
    assert max(counting.taken) > 1  # and they were written together
    for chat in (private, group):
        mine = [s.message for s in sent if s.message.chat_id == chat]
        # ids follow the order the sends were made in, after what the chat held, no gaps
        first = before[chat] + 1
        assert [m.id for m in mine] == list(range(first, first + len(mine)))
        history = await reading.get_history(app, bob, chat, limit=100)
        assert [(m.id, m.text) for m in history[before[chat] :]] == [(m.id, m.text) for m in mine]

    for member in (alice, bob, carol, dave):
        state = await sync.get_difference(app, member, starts[member.user_id], limit=1000)
        pts = [u["pts"] for u in state.updates]
        assert pts == list(range(starts[member.user_id] + 1, starts[member.user_id] + 1 + len(pts)))
        texts = [u["message"].text for u in state.updates if u["type"] == "new_message"]
        expected = [
            s.message.text
            for s in sent
            if (s.message.chat_id == private and member in (alice, bob))
            or (s.message.chat_id == group and member in (alice, bob, carol, dave))
        ]
        assert texts == expected
    # each sender's answer carries the pts of its own update
    for (who, _, _), s in zip(sends, sent, strict=True):
        assert s.pts is not None and s.pts > starts[who.user_id]


async def test_what_the_batch_cannot_take_is_sent_alone(server: Server) -> None:
    app = server.app
    counting = app.send_batcher = CountingBatcher(app)
    alice, bob, carol, stranger = await _people(app, 4)
    private = await chats.open_private_chat(app, alice, bob.user_id)
    slow = await groups.create_chat(
        app, alice, ChatKind.GROUP, "slow", member_ids=[bob.user_id, carol.user_id]
    )
    await groups.set_chat_settings(app, alice, slow, slow_mode_seconds=60)
    await interactions.save_draft(app, bob, private, "draft")

    taken_before = sum(counting.taken)
    results = await asyncio.gather(
        messaging.send_message(app, alice, private, "plain"),
        messaging.send_message(app, bob, private, "clears bob's draft"),
        messaging.send_message(app, carol, slow, "first in slow mode"),
        messaging.send_message(app, stranger, private, "not a member"),
        messaging.send_message(app, alice, private, "#tagged"),
        return_exceptions=True,
    )
    assert sum(counting.taken) - taken_before == 1  # only the plain one was batched
    plain, drafted, slowed, refused, tagged = results
    assert isinstance(plain, Sent) and isinstance(drafted, Sent) and isinstance(tagged, Sent)
    assert isinstance(slowed, Sent)
    assert isinstance(refused, HeliographError) and refused.code is ErrorCode.CHAT_NOT_FOUND
    assert (await reading.get_chat(app, bob, private)).draft is None
    with pytest.raises(HeliographError) as e:  # slow mode still holds for carol
        await messaging.send_message(app, carol, slow, "too soon")
    assert e.value.code is ErrorCode.SLOW_MODE_WAIT
    history = await reading.get_history(app, alice, private, limit=10)
    assert sorted(m.text for m in history) == ["#tagged", "clears bob's draft", "plain"]


async def test_a_retried_random_id_gets_the_first_message(server: Server) -> None:
    app = server.app
    alice, bob = await _people(app, 2)
    private = await chats.open_private_chat(app, alice, bob.user_id)
    first = await messaging.send_message(app, alice, private, "once", random_id=7)
    # The retry in a batch with a new send: the batch is rolled back and both are sent alone.
    again, fresh = await asyncio.gather(
        messaging.send_message(app, alice, private, "once", random_id=7),
        messaging.send_message(app, bob, private, "new", random_id=8),
    )
    assert again.message.id == first.message.id and again.pts is None
    assert fresh.message.text == "new" and fresh.pts is not None
    # The same send twice in one batch: stored once, both answered with it.
    twin_a, twin_b = await asyncio.gather(
        messaging.send_message(app, alice, private, "twin", random_id=9),
        messaging.send_message(app, alice, private, "twin", random_id=9),
    )
    assert twin_a.message.id == twin_b.message.id
    history = await reading.get_history(app, alice, private, limit=10)
    assert [m.text for m in history] == ["once", "new", "twin"]


async def test_a_batcher_is_made_once_per_node(server: Server) -> None:
    assert batcher_of(server.app) is batcher_of(server.app)
