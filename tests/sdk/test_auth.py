"""Signing up, in and out; login codes approved from another device; sessions ended from
elsewhere; errors; and sends made safe to retry by their random_id."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from heliograph.gateway.ratelimit import Rate
from heliograph.sdk import ApiError, Client, FloodWait, NotSignedIn, SessionEnded
from heliograph.sdk.session import load_session
from heliograph.server import Server
from tests.conftest import TEST_RATES, base_url
from tests.sdk.conftest import Restartable
from tests.sdk.helpers import FAST, PASSWORD, Devices, exists, file_mode, take


async def test_sign_up_in_and_out(server: Server, devices: Devices) -> None:
    url = base_url(server)
    phone = await devices.sign_up(url, "alice")
    me = await phone.get_me()
    assert (me.username, me.display_name, me.id) == ("alice", "Alice", phone.user_id)
    path = devices.path("alice")
    stored = load_session(path)
    assert stored is not None and stored.token == phone.token and stored.server == url
    assert stored.user_id == me.id and stored.pts is not None
    assert file_mode(path) == 0o600

    again = Client(url, session_file=path)
    devices.clients.append(again)
    assert again.is_signed_in and (await again.get_me()).id == me.id

    await phone.sign_out()
    assert not phone.is_signed_in and not exists(path)
    with pytest.raises(NotSignedIn):
        await phone.get_me()
    with pytest.raises(SessionEnded):  # the other client held the same token
        await again.get_me()


async def test_errors_carry_code_message_and_status(server: Server, devices: Devices) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    stranger = devices.new(url, "stranger")
    with pytest.raises(ApiError) as wrong:
        await stranger.sign_in("alice", "not the password")
    assert (wrong.value.code, wrong.value.status) == ("PASSWORD_INVALID", 401)
    with pytest.raises(ApiError) as taken:
        await stranger.sign_up("ALICE", PASSWORD, "Another")
    assert taken.value.code == "USERNAME_OCCUPIED"
    for transport in ("http", "socket"):
        if transport == "socket":
            await alice.connect()
        with pytest.raises(ApiError) as missing:
            await alice.get_chat(424242)
        assert (missing.value.code, missing.value.status) == ("CHAT_NOT_FOUND", 404)
        with pytest.raises(ApiError) as bad:
            await alice.call("getHistory", chat_id="not a number")
        assert bad.value.code == "INVALID_PARAMS" and bad.value.extra["problems"]
    raw = await alice.call("getState")
    assert isinstance(raw, dict) and raw["pts"] == (await alice.get_state()).pts


async def test_a_retried_send_with_the_same_random_id_is_stored_once(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    await bob.connect()
    chat = (await alice.get_private_chat(bob.user_id or 0)).id
    first = await alice.send_message(chat, "once", random_id=123456789)
    again = await alice.send_message(chat, "once", random_id=123456789)
    raw = await alice.call("sendMessage", chat_id=chat, text="once", random_id=123456789)
    assert first.message.id == again.message.id == raw["message"]["id"]
    assert first.pts is not None and again.pts is None
    assert [m.text for m in await bob.get_history(chat)] == ["once"]
    assert [u.type for u in await take(bob, 1)] == ["new_message"]


async def test_sends_racing_with_the_same_random_id_store_one_message(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    chat = (await alice.get_private_chat(bob.user_id or 0)).id
    sent = await asyncio.gather(
        *(alice.send_message(chat, "burst", random_id=987654321) for _ in range(6))
    )
    assert len({s.message.id for s in sent}) == 1
    assert [s.pts is not None for s in sent].count(True) == 1  # only one send stored it
    assert [m.text for m in await bob.get_history(chat)] == ["burst"]


async def test_a_retry_refused_by_slow_mode_still_gets_its_message(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    alice = await devices.sign_up(url, "alice")
    bob = await devices.sign_up(url, "bob")
    group = await alice.create_group("Slow", user_ids=[bob.user_id or 0])
    await alice.call("setChatSettings", chat_id=group.id, slow_mode_seconds=60)
    first = await bob.send_message(group.id, "hello", random_id=555)
    # The answer was lost; the client sends again, inside the slow-mode wait.
    again = await bob.send_message(group.id, "hello", random_id=555)
    assert again.message.id == first.message.id and again.pts is None
    with pytest.raises(ApiError) as refused:
        await bob.send_message(group.id, "another", random_id=556)
    assert refused.value.code == "SLOW_MODE_WAIT"
    assert [m.text for m in await alice.get_history(group.id)][-1] == "hello"


async def test_login_code_approved_from_another_device(server: Server, devices: Devices) -> None:
    url = base_url(server)
    phone = await devices.sign_up(url, "alice")
    laptop = devices.new(url, "new-laptop")
    code = await laptop.request_login_code()
    assert code.qr_svg.lstrip().startswith("<svg") and code.code in code.url
    waiting = asyncio.create_task(laptop.wait_for_login(code, 10, interval=0.1))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    approved = await phone.approve_login_code(code.code)
    assert approved.device_name == "new-laptop"
    account = await waiting
    assert account.id == phone.user_id and laptop.user_id == phone.user_id
    assert (await laptop.get_me()).username == "alice"
    assert laptop.session_id != phone.session_id
    stored = load_session(devices.path("new-laptop"))
    assert stored is not None and stored.token == laptop.token
    sessions = await phone.get_sessions()
    assert sorted(s.device_name for s in sessions) == ["alice", "new-laptop"]
    with pytest.raises(ApiError) as used:
        await phone.approve_login_code(code.code)
    assert used.value.code == "LOGIN_TOKEN_INVALID"


async def test_waiting_for_a_login_respects_flood_wait(
    restartable: Restartable, devices: Devices
) -> None:
    restartable.config = replace(restartable.config, rates={**TEST_RATES, "poll": Rate(1, 2)})
    await restartable.restart()
    url = restartable.url
    phone = await devices.sign_up(url, "alice")
    laptop = devices.new(url, "laptop")
    code = await laptop.request_login_code()
    with pytest.raises(FloodWait) as flood:
        for _ in range(5):
            await laptop.call("checkLoginCode", code=code.code, secret=code.secret)
    assert flood.value.retry_after >= 1 and flood.value.status == 429
    waiting = asyncio.create_task(laptop.wait_for_login(code, 8, interval=0.05))
    await asyncio.sleep(0.2)
    await phone.approve_login_code(code.code)
    assert (await waiting).id == phone.user_id


async def test_a_session_ended_from_another_device_stops_its_client(
    server: Server, devices: Devices
) -> None:
    url = base_url(server)
    phone = await devices.sign_up(url, "alice")
    laptop = await devices.sign_in(url, "alice", "laptop")
    tablet = await devices.sign_in(url, "alice", "tablet")
    await laptop.connect()

    async def listen() -> None:
        async for _ in laptop.updates():
            pass

    listening = asyncio.create_task(listen())
    await asyncio.sleep(0.1)
    await phone.end_session(laptop.session_id or 0)
    with pytest.raises(SessionEnded) as ended:
        await asyncio.wait_for(listening, 5)
    assert ended.value.code == "SESSION_REVOKED"
    assert not laptop.is_signed_in and not laptop.is_connected
    assert not exists(devices.path("laptop"))

    # A device ended while it was closed learns it when it opens its session file.
    await tablet.close()
    assert await phone.end_other_sessions() == 1
    reopened = Client(url, session_file=devices.path("tablet"), **FAST)  # type: ignore[arg-type]
    devices.clients.append(reopened)
    assert reopened.is_signed_in
    with pytest.raises(SessionEnded):
        await reopened.connect()
    assert not reopened.is_signed_in
    assert [s.device_name for s in await phone.get_sessions()] == ["alice"]
