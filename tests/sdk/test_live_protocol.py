"""The live connection against a scripted server: gap handling, batched frames, duplicates,
too-long gaps, reconnection, close codes, retries of cut-off calls, large-chat boxes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from heliograph.sdk import TOO_LONG, Client, ConnectionLost, SessionEnded
from heliograph.sdk.session import SessionData, load_session, save_session
from tests.sdk.fake import TOKEN, FakeServer, running
from tests.sdk.helpers import (
    FAST,
    eventually,
    exists,
    file_mode,
    names_in,
    next_event,
    quiet,
    read_json,
    take,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeServer]:
    async for server in running(FakeServer()):
        yield server


@pytest.fixture
def session_file(tmp_path: Path, fake: FakeServer) -> Path:
    path = tmp_path / "session.json"
    save_session(path, SessionData(server=fake.url, token=TOKEN, user_id=1, session_id=1, pts=0))
    return path


@pytest.fixture
async def client(fake: FakeServer, session_file: Path) -> AsyncIterator[Client]:
    async with Client(fake.url, session_file=session_file, **FAST) as c:  # type: ignore[arg-type]
        yield c


def pts(updates: list) -> list[int]:  # type: ignore[type-arg]
    return [u.pts for u in updates]


async def test_a_gap_is_filled_by_get_difference_after_a_short_wait(
    fake: FakeServer, client: Client
) -> None:
    await client.connect()
    one, _two, three = fake.add(3)
    await fake.push(one)
    await fake.push(three)  # two is lost on the way
    started = time.monotonic()
    got = await take(client, 3)
    assert pts(got) == [1, 2, 3]
    assert time.monotonic() - started >= 0.4  # it waited for the missing update first
    assert fake.methods(fake.ws_calls) == ["getDifference", "getDifference"]
    assert fake.ws_calls[1][1]["pts"] == 1
    assert await quiet(client) == []


async def test_reordered_pushes_within_the_wait_need_no_difference(
    fake: FakeServer, client: Client
) -> None:
    await client.connect()
    one, two, three = fake.add(3)
    await fake.push(one)
    await fake.push(three, two, array=True)  # one frame holding a JSON array, out of order
    assert pts(await take(client, 3)) == [1, 2, 3]
    await asyncio.sleep(0.6)
    assert fake.methods(fake.ws_calls) == ["getDifference"]  # only the one on connecting


async def test_duplicates_are_applied_once(fake: FakeServer, client: Client) -> None:
    await client.connect()
    one, two = fake.add(2)
    await fake.push(one, two, array=True)
    await fake.push(one)
    await fake.push(two, one, array=True)
    got = await take(client, 2)
    assert pts(got) == [1, 2]
    assert got[0].message is not None and got[0].message.text == "m1"
    assert got[0].raw["another_future_field"] is True  # unknown fields are kept aside
    assert await quiet(client) == []


async def test_catching_up_on_connect_pages_through_the_difference(
    fake: FakeServer, session_file: Path
) -> None:
    fake.add(250)
    async with Client(fake.url, session_file=session_file, **FAST) as client:  # type: ignore[arg-type]
        got = await take(client, 250)
    assert pts(got) == list(range(1, 251))
    assert fake.methods(fake.ws_calls) == ["getDifference"] * 3  # 100 + 100 + 50
    stored = load_session(session_file)
    assert stored is not None and stored.pts == 250


async def test_too_long_gap_yields_a_reset_marker_then_continues(
    fake: FakeServer, client: Client, session_file: Path
) -> None:
    fake.add(40)
    fake.too_long_once = True
    await client.connect()
    marker = (await take(client, 1))[0]
    assert marker.type == TOO_LONG and marker.pts == 40
    (nxt,) = fake.add(1)
    await fake.push(nxt)
    assert pts(await take(client, 1)) == [41]
    stored = load_session(session_file)
    assert stored is not None and stored.pts == 41


async def test_a_pts_past_the_server_head_resets_too(fake: FakeServer, tmp_path: Path) -> None:
    fake.add(3)
    path = tmp_path / "ahead.json"
    save_session(path, SessionData(server=fake.url, token=TOKEN, user_id=1, pts=70))
    async with Client(fake.url, session_file=path, **FAST) as client:  # type: ignore[arg-type]
        marker = (await take(client, 1))[0]
    assert marker.type == TOO_LONG and marker.pts == 3


async def test_reconnects_after_a_drop_and_catches_up(fake: FakeServer, client: Client) -> None:
    await client.connect()
    await fake.close_sockets(1001, b"going away")
    fake.add(2)  # committed while the client was away: never pushed
    assert pts(await take(client, 2)) == [1, 2]
    assert fake.connections == 2
    (three,) = fake.add(1)
    await eventually(lambda: client.is_connected)
    await fake.push(three)
    assert pts(await take(client, 1)) == [3]


async def test_close_code_4001_ends_the_session(
    fake: FakeServer, client: Client, session_file: Path
) -> None:
    await client.connect()
    (one,) = fake.add(1)
    await fake.push(one)
    fake.revoked = True
    await fake.close_sockets(4001, b"SESSION_REVOKED")
    stream = client.updates()
    assert (await anext(stream)).pts == 1  # what arrived before still comes out
    with pytest.raises(SessionEnded) as caught:
        await asyncio.wait_for(anext(stream), 3)
    assert caught.value.code == "SESSION_REVOKED"
    await asyncio.sleep(0.3)
    assert fake.connections == 1  # it does not try again
    assert not client.is_signed_in
    assert not exists(session_file)
    with pytest.raises(SessionEnded):
        await client.get_chats()


async def test_a_refused_token_fails_connect(fake: FakeServer, client: Client) -> None:
    fake.revoked = True
    with pytest.raises(SessionEnded):
        await client.connect()
    assert not client.is_signed_in


async def test_calls_use_the_socket_when_connected(fake: FakeServer, client: Client) -> None:
    chats = await client.get_chats()
    assert fake.methods(fake.http_calls) == ["getChats"]
    await client.connect()
    chats = await client.get_chats()
    assert fake.methods(fake.ws_calls) == ["getDifference", "getChats"]
    assert chats[0].title == "Bob"


TYPING = {
    "type": "event",
    "event": {"type": "typing", "chat_id": 1, "user_id": 2, "action": "typing"},
}


async def test_closing_as_a_reconnect_handshake_completes_ends_the_connection(
    fake: FakeServer, client: Client
) -> None:
    # The hang seen after server restarts: close() cancelled the connection's task the moment
    # "ready" arrived; the wait for it ate the cancellation and the task went on to wait on
    # the new socket for good, with close() waiting for it.
    await client.connect()
    fake.with_ready = [TYPING]  # handled in the same step as "ready", on the reconnect

    async def close_on_the_event() -> None:
        async for _ in client.events():
            await client.close()

    closing = asyncio.create_task(close_on_the_event())
    await fake.close_sockets(1012, b"service restart")
    # A hang fails the test instead of stopping the run; a close takes milliseconds.
    async with asyncio.timeout(10):
        await closing
    assert fake.connections == 2
    assert not client.is_connected
    await eventually(lambda: not fake.sockets)  # the new socket was closed, not left open


async def test_closing_while_the_first_connect_waits_for_ready_ends_both(
    fake: FakeServer, client: Client
) -> None:
    gate = fake.ready_gate = asyncio.Event()
    connecting = asyncio.create_task(client.connect())
    await eventually(lambda: fake.connections == 1)  # in the handshake
    try:
        async with asyncio.timeout(10):  # a hang fails the test instead of stopping the run
            await client.close()
            await connecting  # returns: nothing to connect any more
    finally:
        gate.set()
    assert not client.is_connected


async def test_a_call_cancelled_as_its_answer_arrives_is_not_left_running(
    fake: FakeServer, client: Client
) -> None:
    await client.connect()
    fake.with_answer["getChats"] = [TYPING]
    calling = asyncio.create_task(client.get_chats())
    await next_event(client, lambda e: e.type == "typing")  # in the step of the answer
    accepted = calling.cancel()
    await asyncio.wait([calling])
    # A cancellation the task accepted is never swallowed by the wait for the answer.
    assert calling.cancelled() or not accepted


async def test_a_read_cut_off_by_a_drop_is_retried_after_reconnecting(
    fake: FakeServer, client: Client
) -> None:
    await client.connect()
    fake.cut_ws_on["getChats"] = 1
    chats = await client.get_chats()
    assert chats[0].id == 1
    assert (
        fake.methods(fake.ws_calls).count("getChats")
        + fake.methods(fake.http_calls).count("getChats")
        == 2
    )


async def test_a_send_cut_off_is_retried_with_the_same_random_id(
    fake: FakeServer, client: Client
) -> None:
    fake.cut_http_on["sendMessage"] = 1
    sent = await client.send_message(1, "hello")
    assert sent.message.text == "hello"
    sends = [p for m, p in fake.http_calls if m == "sendMessage"]
    assert len(sends) == 2
    assert sends[0]["random_id"] == sends[1]["random_id"]
    assert 0 <= sends[0]["random_id"] < 2**63
    fake.cut_http_on["sendMessage"] = 1
    await client.call("sendMessage", chat_id=1, text="raw")  # the raw call gets one too
    raw = [p for m, p in fake.http_calls if m == "sendMessage"][2:]
    assert len(raw) == 2 and raw[0]["random_id"] == raw[1]["random_id"] is not None


async def test_an_unsafe_call_cut_off_is_not_repeated(fake: FakeServer, client: Client) -> None:
    fake.cut_http_on["forwardMessages"] = 1
    with pytest.raises(ConnectionLost):
        await client.forward_messages(1, [1], 2)
    assert fake.methods(fake.http_calls) == ["forwardMessages"]


async def test_large_chat_boxes_are_sequenced_on_their_own(
    fake: FakeServer, client: Client, session_file: Path
) -> None:
    await client.connect()
    (common,) = fake.add(1)
    first = fake.add_to_chat(7, 10)
    fake.add_to_chat(7, 11)  # lost
    third = fake.add_to_chat(7, 12)
    await fake.push(first, common, third)
    got = await take(client, 4)
    assert [(u.box, u.pts) for u in got] == [(7, 10), (None, 1), (7, 11), (7, 12)]
    assert ("getChannelDifference", {"chat_id": 7, "pts": 10, "limit": 100}) in fake.ws_calls
    await client.close()
    stored = read_json(session_file)
    assert stored["pts"] == 1 and stored["boxes"] == {"7": 12}


async def test_events_arrive_apart_from_updates(fake: FakeServer, client: Client) -> None:
    await client.connect()
    await fake.push_event({"type": "typing", "chat_id": 1, "user_id": 2, "action": "typing"})
    event = await next_event(client, lambda e: e.type == "typing")
    assert (event.chat_id, event.user_id, event.action) == (1, 2, "typing")
    assert await quiet(client, 0.2) == []


async def test_the_session_file_is_private_and_replaced_atomically(
    fake: FakeServer, client: Client, session_file: Path
) -> None:
    await client.connect()
    fake.add(1)
    await fake.close_sockets(1001)
    await take(client, 1)
    assert file_mode(session_file) == 0o600
    assert names_in(session_file.parent) == ["session.json"]  # no temp left
