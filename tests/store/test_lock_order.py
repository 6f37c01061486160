"""Sends to groups that share members, all at once, while presence is renewed: on PostgreSQL
each takes the members' rows in id order, so none waits for another in a circle (a deadlock
fails the transaction; the services are called here without the API's retries, so one
would show)."""

from __future__ import annotations

import asyncio
import random

from heliograph.domain.kinds import ChatKind
from heliograph.server import Server
from heliograph.services import accounts, groups, messaging, profiles, reading
from heliograph.services.context import Caller


async def test_sends_to_overlapping_groups_never_deadlock(server: Server) -> None:
    app = server.app
    people = []
    for i in range(24):
        signed = await accounts.sign_up(
            app, f"member{i}", "correct horse battery", f"Member {i}", "d", "c", "127.0.0.1"
        )
        people.append(Caller(signed.account.id, signed.session_id))
    ids = [p.user_id for p in people]
    # Each group holds a different window of the same people: every two groups share
    # members, and each send locks a different set of them.
    chats = [
        await groups.create_chat(app, people[0], ChatKind.GROUP, f"g{n}", member_ids=ids[1 : 4 + n])
        for n in range(20)
    ]

    async def send(chat_id: int, text: str, sender: Caller) -> None:
        await messaging.send_message(app, sender, chat_id, text, random_id=random.getrandbits(62))

    for round_ in range(3):
        await asyncio.gather(
            *(send(chat_id, f"{k}:{round_}", people[k % 3]) for k, chat_id in enumerate(chats)),
            profiles.renew_presence(app, list(reversed(ids))),
        )

    reader = people[3]  # a member of every group
    for k, chat_id in enumerate(chats):
        history = await reading.get_history(app, reader, chat_id, limit=3)
        assert [m.text for m in history] == [f"{k}:0", f"{k}:1", f"{k}:2"]
