"""Calls pipelined on one socket (gateway/pipeline.py): sends sent without waiting for their
answers go into one batch, and still take effect and are answered in the order sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from heliograph.gateway.pipeline import MAX_UNDER_WAY
from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api, Ws
from tests.sdk.helpers import eventually
from tests.services.test_send_batch import CountingBatcher


class GatedBatcher(CountingBatcher):
    """Holds its first batch until `gate` is set, so that the sends behind it queue up."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.gate = asyncio.Event()

    async def _store(self, batch):  # type: ignore[no-untyped-def]
        await self.gate.wait()
        return await super()._store(batch)


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async with Api(base_url(server)) as client:
        yield client


async def _answers(ws: Ws, ids: list[int]) -> list[dict[str, Any]]:
    """The answers to these calls, in the order they arrived."""
    wanted = set(ids)
    got = []
    while len(got) < len(ids):
        got.append(await ws.next(lambda f: f.get("id") in wanted, within=5.0))
    return got


async def test_pipelined_sends_are_batched_and_keep_their_order(api: Api, server: Server) -> None:
    alice, bob = await api.make_user("alice"), await api.make_user("bob")
    chat = await api.ok("getPrivateChat", alice.token, user_id=bob.user_id)
    ws = await api.ws_connect(alice.token)
    first = await ws.result("sendMessage", chat_id=chat["id"], text="before")

    batcher = server.app.send_batcher = GatedBatcher(server.app)
    frames: list[dict[str, Any]] = [
        {"id": n, "method": "sendMessage", "params": {"chat_id": chat["id"], "text": f"m{n}"}}
        for n in range(1, 13)
    ]
    # a send the batch does not take (a reply), between plain ones
    frames[5]["params"]["reply_to_message_id"] = first["message"]["id"]
    # and a read after them all, sent before any answer came
    frames.append({"id": 13, "method": "getHistory", "params": {"chat_id": chat["id"]}})
    for frame in frames:
        await ws.send(frame)
    # m1 is held in the first batch; m2 to m5 start, one after another, and wait behind it
    await eventually(lambda: batcher.waiting == 4)
    batcher.gate.set()

    answers = await _answers(ws, [f["id"] for f in frames])
    assert [a["id"] for a in answers] == list(range(1, 14))  # answered in order
    assert all("result" in a for a in answers), answers
    sent_ids = [a["result"]["message"]["id"] for a in answers[:12]]
    assert sent_ids == sorted(sent_ids) and len(set(sent_ids)) == 12  # stored in order
    assert answers[5]["result"]["message"]["reply_to_message_id"] == first["message"]["id"]
    history = [m["text"] for m in answers[12]["result"]]
    assert history[-12:] == [f"m{n}" for n in range(1, 13)]  # the read saw every send
    # one socket's sends shared batches: m1; m2-m5; m6 (a reply) alone; then the rest
    assert batcher.taken[:2] == [1, 4] and sum(batcher.taken) == 11


async def test_other_calls_wait_for_the_call_before(api: Api) -> None:
    alice, bob = await api.make_user("alice"), await api.make_user("bob")
    chat = await api.ok("getPrivateChat", alice.token, user_id=bob.user_id)
    ws = await api.ws_connect(alice.token)
    await ws.send(
        {"id": 1, "method": "sendMessage", "params": {"chat_id": chat["id"], "text": "hi"}}
    )
    await ws.send(
        {"id": 2, "method": "deleteMessages", "params": {"chat_id": chat["id"], "message_ids": [1]}}
    )
    await ws.send({"id": 3, "method": "getHistory", "params": {"chat_id": chat["id"]}})
    sent, deleted, history = await _answers(ws, [1, 2, 3])
    assert sent["result"]["message"]["id"] == 1
    assert "result" in deleted, deleted
    assert history["result"] == []


async def test_a_socket_has_at_most_so_many_calls_under_way(api: Api, server: Server) -> None:
    alice, bob = await api.make_user("alice"), await api.make_user("bob")
    chat = await api.ok("getPrivateChat", alice.token, user_id=bob.user_id)
    ws = await api.ws_connect(alice.token)
    batcher = server.app.send_batcher = GatedBatcher(server.app)
    count = MAX_UNDER_WAY + 4
    for n in range(1, count + 1):
        await ws.send(
            {"id": n, "method": "sendMessage", "params": {"chat_id": chat["id"], "text": f"{n}"}}
        )
    # one send held in the batch, the others under way waiting for the next; no more start
    await eventually(lambda: batcher.waiting == MAX_UNDER_WAY - 1)
    await asyncio.sleep(0.2)
    assert batcher.waiting == MAX_UNDER_WAY - 1
    batcher.gate.set()
    answers = await _answers(ws, list(range(1, count + 1)))
    assert [a["id"] for a in answers] == list(range(1, count + 1))
    assert [a["result"]["message"]["text"] for a in answers] == [
        f"{n}" for n in range(1, count + 1)
    ]
