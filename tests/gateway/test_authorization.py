"""Who may do what: chats are invisible to outsiders, messages are edited only by their
senders, every authenticated method needs a live session, ended sessions stop at once (on
HTTP and on sockets already open), privacy settings hold, and deleted or disabled accounts
are gone."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from heliograph.bus.local import LocalBus
from heliograph.gateway.methods import load_all
from heliograph.server import Server
from heliograph.services import accounts
from heliograph.services.context import Caller
from tests.conftest import base_url
from tests.gateway.api import Api, Ws, assert_error, error_problem, is_update
from tests.gateway.test_bad_input import SAMPLES, build_world

UNKNOWN = 999999


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async with Api(base_url(server)) as client:
        yield client


def _is_chat_field(name: str) -> bool:
    return (name.endswith("chat_id") and not name.startswith("before_")) or name in (
        "channel_id",
        "group_id",
    )


async def _marker_frames(ws: Ws) -> list[dict[str, Any]]:
    """Frames pushed to `ws` up to the next new message (the marker), marker excluded."""
    frames = await ws.updates_until(lambda f: is_update(f) and f["update"]["type"] == "new_message")
    return frames[:-1]


async def test_outsider_can_neither_read_nor_change_a_chat(api: Api) -> None:
    """Every method that names a chat, tried by someone who is not in it, on a private chat,
    a group and a channel: each answers CHAT_NOT_FOUND exactly as for a chat that does not
    exist, and no member's view changes (history, pins, reactions, read marks, drafts,
    members, links, join requests, the admin log)."""
    w = await build_world(api)
    alice, bob = w.alice, w.bob
    await api.ok("pinMessage", alice.token, chat_id=w.chat, message_id=w.alice_msg)
    await api.ok("setReaction", bob.token, chat_id=w.chat, message_id=w.alice_msg, emoji="👍")
    await api.ok("readHistory", alice.token, chat_id=w.chat, max_id=w.bob_msg)
    await api.ok("saveDraft", bob.token, chat_id=w.chat, text="bob's unsent words")
    mallory = await api.make_user(f"mallory{w.tag}")
    own = (await api.ok("getPrivateChat", mallory.token, user_id=mallory.user_id))["id"]
    mine = (await api.ok("sendMessage", mallory.token, chat_id=own, text="mine"))["message"]
    watcher = await api.ws_connect(alice.token)
    everyone = [*w.users, mallory]
    before = {u.username: await api.snapshot(u) for u in everyone}

    attempts: list[tuple[str, dict[str, Any]]] = []
    for name, method in sorted(load_all().items()):
        fields = [f for f in method.params.model_fields if _is_chat_field(f)]
        for target in (w.chat, w.group, w.channel) if fields else ():
            params = {**SAMPLES[name](w), **dict.fromkeys(fields, target)}
            if "password" in params:  # the outsider's own: only the chat may stop them
                params["password"] = mallory.password
            attempts.append((name, params))
    for target in (w.chat, w.group, w.channel):
        attempts += [
            ("forwardMessages", {"from_chat_id": target, "message_ids": [1], "to_chat_id": own}),
            ("forwardMessages",
             {"from_chat_id": own, "message_ids": [mine["id"]], "to_chat_id": target}),
            ("deleteMessages", {"chat_id": target, "message_ids": [1, 2], "for_everyone": True}),
            ("pinMessage", {"chat_id": target, "message_id": 1, "pinned": False}),
            ("setReaction", {"chat_id": target, "message_id": 1, "emoji": None}),
            ("setTyping", {"chat_id": target, "action": "cancel"}),
            ("saveDraft", {"chat_id": target, "text": ""}),
            ("sendMessage", {"chat_id": target, "text": "intrusion", "random_id": 42}),
            ("searchMessages", {"query": "hello", "chat_id": target}),
        ]  # fmt: skip

    failures = []
    for name, params in attempts:
        status, body = await api.call(name, mallory.token, **params)
        problem = error_problem(status, body)
        if problem or body["error"]["code"] != "CHAT_NOT_FOUND":
            failures.append(f"{name} {params}: {status} {body}")
            continue
        # Indistinguishable from a chat that does not exist: nothing leaks.
        unknown = {k: UNKNOWN if _is_chat_field(k) and v != own else v for k, v in params.items()}
        status2, body2 = await api.call(name, mallory.token, **unknown)
        if (status2, body2) != (status, body):
            failures.append(f"{name}: a chat of others {body} vs no chat {status2} {body2}")
    assert not failures, "\n".join(failures)

    # Search across all of the outsider's chats finds nothing of the others' either.
    assert await api.ok("searchMessages", mallory.token, query="hello") == []
    after = {u.username: await api.snapshot(u) for u in everyone}
    for name in before:
        assert after[name] == before[name], f"{name}'s view changed"
    # Not even an ephemeral event (typing) reached a member.
    await api.ok("sendMessage", bob.token, chat_id=w.chat, text="marker")
    assert await _marker_frames(watcher) == []


async def test_only_the_sender_can_edit_a_message(api: Api) -> None:
    alice = await api.make_user("alice")
    bob = await api.make_user("bob")
    chat = (await api.ok("getPrivateChat", alice.token, user_id=bob.user_id))["id"]
    sent = await api.ok("sendMessage", alice.token, chat_id=chat, text="alice wrote this")
    message_id = sent["message"]["id"]
    before = [await api.snapshot(u) for u in (alice, bob)]

    status, body = await api.call(
        "editMessage", bob.token, chat_id=chat, message_id=message_id, text="bob rewrote it"
    )
    assert_error(status, body, "MESSAGE_EDIT_FORBIDDEN")
    assert status == 403

    assert [await api.snapshot(u) for u in (alice, bob)] == before
    for user in (alice, bob):
        [message] = await api.ok("getMessages", user.token, chat_id=chat, message_ids=[message_id])
        assert message["text"] == "alice wrote this"
        assert message["edit_date"] is None
    # The sender still can.
    await api.ok("editMessage", alice.token, chat_id=chat, message_id=message_id, text="edited")


async def test_every_authenticated_method_needs_a_live_session(api: Api) -> None:
    alice = await api.make_user("alice")
    methods = load_all()
    cases = [
        (None, "AUTH_REQUIRED"),
        ("Basic YWxpY2U6c2VjcmV0", "AUTH_REQUIRED"),
        (alice.token, "AUTH_REQUIRED"),  # the token without the Bearer scheme
        ("Bearer not-a-token", "SESSION_REVOKED"),
        ("Bearer " + alice.token[:-2] + "xx", "SESSION_REVOKED"),
        ("Bearer " + "x" * 300, "SESSION_REVOKED"),
    ]
    failures = []
    for name, method in sorted(methods.items()):
        if not method.auth:
            # Open methods never ask for a session.
            status, body = await api.call(name)
            if status == 401 and body["error"]["code"] == "AUTH_REQUIRED":
                failures.append(f"{name} is open but asked for a session")
            continue
        for header, code in cases:
            headers = {"Authorization": header} if header is not None else {}
            status, body, _ = await api.request(name, {}, headers=headers)
            problem = error_problem(status, body)
            if problem or status != 401 or body["error"]["code"] != code:
                failures.append(f"{name} with {header!r}: {status} {body} (want {code})")
    assert not failures, "\n".join(failures)
    # The real token still works: nothing above touched the session.
    assert (await api.ok("getMe", alice.token))["id"] == alice.user_id


ENDINGS = ["endSession", "signOut", "changePassword", "endOtherSessions", "deleteAccount"]


@pytest.mark.parametrize("ending", ENDINGS)
async def test_an_ended_session_stops_at_once_on_http_and_open_sockets(
    api: Api, ending: str
) -> None:
    alice = await api.make_user("alice")
    phone = await api.sign_in(alice, "phone")
    # Two sockets of the ended session: one idle, one making a call right after the end.
    idle_ws = await api.ws_connect(phone.token)
    busy_ws = await api.ws_connect(phone.token, header=True)
    laptop_ws = await api.ws_connect(alice.token, header=True)
    assert (await api.ok("getMe", phone.token))["id"] == alice.user_id

    if ending == "endSession":
        await api.ok("endSession", alice.token, session_id=phone.session_id)
    elif ending == "signOut":
        await api.ok("signOut", phone.token)
    elif ending == "changePassword":
        ended = await api.ok(
            "changePassword",
            alice.token,
            old_password=alice.password,
            new_password="a-brand-new-password",
            end_other_sessions=True,
        )
        assert ended == {"count": 1}
    elif ending == "endOtherSessions":
        assert await api.ok("endOtherSessions", alice.token) == {"count": 1}
    else:
        await api.ok("deleteAccount", alice.token, password=alice.password)
    ended_at = time.monotonic()

    # Refused over HTTP at once.
    status, body = await api.call("getMe", phone.token)
    assert_error(status, body, "SESSION_REVOKED")
    assert status == 401
    # A call on a socket that was already open is refused...
    with contextlib.suppress(ConnectionError):
        await busy_ws.send({"id": "after-end", "method": "getMe", "params": {}})
    assert await busy_ws.wait_closed(1.0) == 4001
    answers = [f for f in busy_ws.inbox if f.get("id") == "after-end"]
    assert all("result" not in f for f in answers), answers
    # ...and a socket that sends nothing is closed with 4001 too, promptly.
    assert await idle_ws.wait_closed(1.0) == 4001
    assert time.monotonic() - ended_at < 1.0

    if ending == "deleteAccount":
        # Every session of a deleted account ends, the one that deleted it included.
        assert await laptop_ws.wait_closed(1.0) == 4001
        status, body = await api.call("getMe", alice.token)
        assert_error(status, body, "SESSION_REVOKED")
        return
    # The other session is untouched, on HTTP and on its socket.
    assert (await api.ok("getMe", alice.token))["id"] == alice.user_id
    assert (await laptop_ws.result("getMe"))["id"] == alice.user_id
    sessions = await api.ok("getSessions", alice.token)
    assert [s["id"] for s in sessions] == [alice.session_id]


@pytest.mark.parametrize("trust", [0.0, 0.3])
async def test_a_call_is_refused_even_where_the_end_was_not_announced(
    server: Server, make_config: Any, trust: float
) -> None:
    """A second node on a bus of its own never hears that the session ended (as when a bus
    message is lost): a call on its socket must still be refused, and the socket closed; at
    once where the node trusts no session without reading the store (`trust` 0), and once
    its trust in the session has run out otherwise (`SESSION_TRUST_SECONDS` by default)."""
    other = Server(make_config())  # the same store as `server`
    other.bus = other.app.bus = LocalBus(f"isolated-{uuid.uuid4().hex}")
    other.app.live_sessions.ttl = trust
    await other.start()
    try:
        async with Api(base_url(server)) as here, Api(base_url(other)) as there:
            alice = await here.make_user("alice")
            phone = await here.sign_in(alice, "phone")
            ws = await there.ws_connect(phone.token)
            assert (await ws.result("getMe"))["id"] == alice.user_id
            assert other.app.live_sessions.fresh(phone.session_id) == (trust > 0)
            await here.ok("endSession", alice.token, session_id=phone.session_id)
            await asyncio.sleep(trust)
            await ws.send({"id": "after-end", "method": "getMe", "params": {}})
            assert await ws.wait_closed(1.0) == 4001
            answers = [f for f in ws.inbox if f.get("id") == "after-end"]
            assert all("result" not in f for f in answers), answers
            status, body = await there.call("getMe", phone.token)
            assert_error(status, body, "SESSION_REVOKED")
    finally:
        await other.stop()


async def test_a_session_ended_on_another_node_is_refused_there_once_announced(
    server: Server, make_config: Any
) -> None:
    """Two nodes on one bus, each trusting the sessions it has seen alive: a session ended on
    one node is forgotten by the other as the revocation arrives, its socket there closed."""
    other = Server(make_config())  # the same store, and the same (in-process) bus channel
    await other.start()
    try:
        async with Api(base_url(server)) as here, Api(base_url(other)) as there:
            alice = await here.make_user("alice")
            phone = await here.sign_in(alice, "phone")
            phone_ws = await there.ws_connect(phone.token)
            laptop_ws = await there.ws_connect(alice.token)
            for ws in (phone_ws, laptop_ws):
                assert (await ws.result("getMe"))["id"] == alice.user_id
            live = other.app.live_sessions
            assert live.fresh(phone.session_id) and live.fresh(alice.session_id)
            await here.ok("endSession", alice.token, session_id=phone.session_id)
            # The bus has delivered by the time the answer is back: the other node no
            # longer trusts the session, nor does the store say it is alive.
            assert not live.fresh(phone.session_id)
            assert not await accounts.session_alive(other.app, phone.session_id)
            with contextlib.suppress(ConnectionError):
                await phone_ws.send({"id": "after-end", "method": "getMe", "params": {}})
            assert await phone_ws.wait_closed(1.0) == 4001
            answers = [f for f in phone_ws.inbox if f.get("id") == "after-end"]
            assert all("result" not in f for f in answers), answers
            # The session that was not ended is still trusted, and works.
            assert live.fresh(alice.session_id)
            assert (await laptop_ws.result("getMe"))["id"] == alice.user_id
    finally:
        await other.stop()


async def test_a_session_ended_on_this_node_is_refused_before_the_call_returns(
    server: Server, api: Api
) -> None:
    """The node that ends a session stops trusting it before the ending call returns, not
    when its own bus brings the revocation back."""
    alice = await api.make_user("alice")
    phone = await api.sign_in(alice, "phone")
    ws = await api.ws_connect(phone.token)
    assert (await ws.result("getMe"))["id"] == alice.user_id
    live = server.app.live_sessions
    assert live.fresh(phone.session_id)
    delivered: list[bytes] = []
    server.bus.subscribe(delivered.append)
    caller = Caller(user_id=alice.user_id, session_id=alice.session_id)
    await accounts.end_session(server.app, caller, phone.session_id)
    assert not live.fresh(phone.session_id)
    if isinstance(server.bus, LocalBus):  # the bus delivers only on a later turn of the loop
        assert delivered == []
    assert not await accounts.session_alive(server.app, phone.session_id)
    assert await ws.wait_closed(1.0) == 4001


async def test_changing_the_password_alone_keeps_other_sessions(api: Api) -> None:
    alice = await api.make_user("alice")
    phone = await api.sign_in(alice, "phone")
    phone_ws = await api.ws_connect(phone.token)
    ended = await api.ok(
        "changePassword",
        alice.token,
        old_password=alice.password,
        new_password="a-brand-new-password",
    )
    assert ended == {"count": 0}
    assert (await api.ok("getMe", phone.token))["id"] == alice.user_id
    assert (await phone_ws.result("getMe"))["id"] == alice.user_id
    status, body = await api.call("signIn", username="alice", password=alice.password)
    assert_error(status, body, "PASSWORD_INVALID")
    await api.ok("signIn", username="alice", password="a-brand-new-password")


async def test_a_user_cannot_end_another_users_session(api: Api) -> None:
    alice = await api.make_user("alice")
    bob = await api.make_user("bob")
    bob_ws = await api.ws_connect(bob.token)
    sessions = await api.ok("getSessions", alice.token)
    assert [s["id"] for s in sessions] == [alice.session_id]

    status, body = await api.call("endSession", alice.token, session_id=bob.session_id)
    error = assert_error(status, body, "SESSION_NOT_FOUND")
    status2, body2 = await api.call("endSession", alice.token, session_id=UNKNOWN)
    assert (status2, body2["error"]) == (status, error)  # indistinguishable from unknown
    assert (await api.ok("getMe", bob.token))["id"] == bob.user_id
    assert (await bob_ws.result("getMe"))["id"] == bob.user_id


async def test_private_chats_from_contacts_only(api: Api) -> None:
    alice = await api.make_user("alice")
    bob = await api.make_user("bob")
    mallory = await api.make_user("mallory")
    account = await api.ok("setPrivacy", bob.token, private_chats="contacts")
    assert account["privacy"]["private_chats"] == "contacts"
    await api.ok("addContact", bob.token, user_id=alice.user_id)
    # Mallory having Bob as a contact does not make her Bob's contact.
    await api.ok("addContact", mallory.token, user_id=bob.user_id)
    before = [await api.snapshot(u) for u in (bob, mallory)]

    status, body = await api.call("getPrivateChat", mallory.token, user_id=bob.user_id)
    assert_error(status, body, "PRIVACY_RESTRICTED")
    assert status == 403
    assert [await api.snapshot(u) for u in (bob, mallory)] == before

    chat = await api.ok("getPrivateChat", alice.token, user_id=bob.user_id)
    assert chat["peer_user_id"] == bob.user_id
    await api.ok("sendMessage", alice.token, chat_id=chat["id"], text="hi bob")
    # Everybody may reach a user who allows it.
    await api.ok("setPrivacy", bob.token, private_chats="everybody")
    await api.ok("getPrivateChat", mallory.token, user_id=bob.user_id)


def _presence(user: dict[str, Any]) -> tuple[Any, Any]:
    return user["online"], user["last_seen"]


async def test_last_seen_is_hidden_by_privacy_but_not_from_oneself(api: Api) -> None:
    alice = await api.make_user("alice")
    bob = await api.make_user("bob")
    mallory = await api.make_user("mallory")
    chat = (await api.ok("getPrivateChat", alice.token, user_id=bob.user_id))["id"]
    await api.ok("addContact", alice.token, user_id=bob.user_id)
    await api.ok("setPrivacy", bob.token, last_seen="nobody")
    alice_ws = await api.ws_connect(alice.token)
    bob_ws = await api.ws_connect(bob.token)  # Bob comes online
    # A call on Bob's socket is handled only after his presence was recorded and published.
    await bob_ws.result("sendMessage", chat_id=chat, text="marker")

    [seen_by_self] = await api.ok("getUsers", bob.token, user_ids=[bob.user_id])
    assert seen_by_self["online"] is True
    assert isinstance(seen_by_self["last_seen"], int)
    for viewer in (alice, mallory):
        [user] = await api.ok("getUsers", viewer.token, user_ids=[bob.user_id])
        assert _presence(user) == (None, None), viewer.username
        resolved = await api.ok("resolveUsername", viewer.token, username="bob")
        assert _presence(resolved) == (None, None), viewer.username
        for found in await api.ok("searchUsers", viewer.token, query="bob"):
            assert _presence(found) == (None, None), viewer.username
    [contact] = await api.ok("getContacts", alice.token)
    assert _presence(contact) == (None, None)
    # Nor was it pushed: Alice got no status event for Bob before his message.
    statuses = [f for f in await _marker_frames(alice_ws) if f.get("type") == "event"]
    assert statuses == []

    # "contacts": Bob's contacts see it, others do not.
    await api.ok("setPrivacy", bob.token, last_seen="contacts")
    await api.ok("addContact", bob.token, user_id=alice.user_id)
    [user] = await api.ok("getUsers", alice.token, user_ids=[bob.user_id])
    assert user["online"] is True and isinstance(user["last_seen"], int)
    [user] = await api.ok("getUsers", mallory.token, user_ids=[bob.user_id])
    assert _presence(user) == (None, None)
    await bob_ws.close()


async def test_deleting_an_account_removes_its_messages_and_frees_its_name(api: Api) -> None:
    alice = await api.make_user("alice")
    bob = await api.make_user("bob")
    chat = (await api.ok("getPrivateChat", alice.token, user_id=bob.user_id))["id"]
    for text in ("from alice 1", "from alice 2"):
        await api.ok("sendMessage", alice.token, chat_id=chat, text=text)
    await api.ok("sendMessage", bob.token, chat_id=chat, text="from bob")
    await api.ok("sendMessage", alice.token, chat_id=chat, text="from alice 3")
    bob_ws = await api.ws_connect(bob.token)
    before = [await api.snapshot(u) for u in (alice, bob)]

    status, body = await api.call("deleteAccount", alice.token, password="not-her-password")
    assert_error(status, body, "PASSWORD_INVALID")
    assert [await api.snapshot(u) for u in (alice, bob)] == before

    await api.ok("deleteAccount", alice.token, password=alice.password)
    history = await api.ok("getHistory", bob.token, chat_id=chat)
    assert [m["text"] for m in history] == ["from bob"]
    assert await api.ok("searchMessages", bob.token, query="alice") == []
    [gone] = await api.ok("getUsers", bob.token, user_ids=[alice.user_id])
    assert gone["deleted"] is True and gone["username"] is None
    # Bob's devices were told the messages are gone.
    frames = await bob_ws.updates_until(
        lambda f: is_update(f) and f["update"]["type"] == "delete_messages"
    )
    assert len(frames[-1]["update"]["message_ids"]) == 3
    status, body = await api.call("sendMessage", bob.token, chat_id=chat, text="are you there?")
    assert_error(status, body, "CHAT_WRITE_FORBIDDEN")

    # The account cannot sign in, and its name is free again (in any case).
    status, body = await api.call("signIn", username="alice", password=alice.password)
    assert_error(status, body, "PASSWORD_INVALID")
    status, body = await api.call("resolveUsername", bob.token, username="alice")
    assert_error(status, body, "USER_NOT_FOUND")
    again = await api.ok(
        "signUp", username="ALICE", password="another-pass-word", display_name="New Alice"
    )
    assert again["account"]["id"] != alice.user_id
    assert (await api.ok("resolveUsername", bob.token, username="alice"))["id"] == (
        again["account"]["id"]
    )
    # The new owner of the name is not in the old chat.
    status, body = await api.call("getHistory", again["token"], chat_id=chat)
    assert_error(status, body, "CHAT_NOT_FOUND")


async def test_a_disabled_account_cannot_sign_in(server: Server, api: Api) -> None:
    carol = await api.make_user("carol")
    carol_ws = await api.ws_connect(carol.token)
    await accounts.admin_set_disabled(server.app, "carol", True)

    assert await carol_ws.wait_closed(1.0) == 4001
    status, body = await api.call("getMe", carol.token)
    assert status == 401 or status == 403, body
    assert error_problem(status, body) is None
    status, body = await api.call("signIn", username="carol", password=carol.password)
    assert_error(status, body, "USER_DISABLED")
    assert status == 403
    # A wrong password does not reveal that the account exists but is disabled.
    status, body = await api.call("signIn", username="carol", password="wrong-password!")
    assert_error(status, body, "PASSWORD_INVALID")

    await accounts.admin_set_disabled(server.app, "carol", False)
    again = await api.ok("signIn", username="carol", password=carol.password)
    assert again["account"]["id"] == carol.user_id
