"""The WebSocket protocol: authentication, RPC framing, pushed updates and typing events."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.gateway.hub import CLOSE_GOING_AWAY
from heliograph.server import Server
from tests.conftest import base_url
from tests.gateway.api import Api, Ws, is_update
from tests.sdk.helpers import eventually


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async with Api(base_url(server)) as client:
        yield client


async def test_auth_by_first_frame(api: Api) -> None:
    alice = await api.make_user("alice")
    state = await api.ok("getState", alice.token)
    ws = await api.ws_connect(alice.token)
    assert ws.ready is not None
    assert ws.ready["user_id"] == alice.user_id
    assert ws.ready["session_id"] == alice.session_id
    assert ws.ready["state"]["pts"] == state["pts"]
    me = await ws.result("getMe")
    assert me["id"] == alice.user_id


async def test_auth_by_header(api: Api) -> None:
    alice = await api.make_user("alice")
    ws = await api.ws_connect(alice.token, header=True)
    assert ws.ready is not None
    assert ws.ready["user_id"] == alice.user_id
    assert ws.ready["session_id"] == alice.session_id
    assert (await ws.result("getMe"))["username"] == "alice"


@pytest.mark.parametrize(
    "how",
    [
        "garbage token in frame",
        "garbage token in header",
        "bearer without a token",
        "basic scheme",
        "call first",
        "token not a string",
        "not JSON first",
    ],
)
async def test_bad_authentication_closes_with_4003(api: Api, how: str) -> None:
    if how == "garbage token in header":
        ws = await api.ws_open({"Authorization": "Bearer not-a-real-token"})
    elif how == "bearer without a token":
        ws = await api.ws_open({"Authorization": "Bearer "})
    elif how == "basic scheme":
        ws = await api.ws_open({"Authorization": "Basic YWxpY2U6c2VjcmV0"})
    else:
        ws = await api.ws_open()
        first = {
            "garbage token in frame": '{"type": "auth", "token": "not-a-real-token"}',
            "call first": '{"id": 1, "method": "getMe", "params": {}}',
            "token not a string": '{"type": "auth", "token": 12345}',
            "not JSON first": "hello?",
        }[how]
        await ws.send_raw(first)
    frame = await ws.next(lambda f: True)
    assert frame["type"] == "error", frame
    expected = {
        "garbage token in frame": "SESSION_REVOKED",
        "garbage token in header": "SESSION_REVOKED",
        "bearer without a token": "AUTH_REQUIRED",
        "basic scheme": "AUTH_REQUIRED",
        "call first": "AUTH_REQUIRED",
        "token not a string": "AUTH_REQUIRED",
        "not JSON first": "INVALID_JSON",
    }[how]
    assert frame["error"]["code"] == expected
    assert frame["error"]["message"]
    assert await ws.wait_closed(1.0) == 4003


async def test_non_json_frame_gets_an_error_and_the_socket_stays_usable(api: Api) -> None:
    alice = await api.make_user("alice")
    ws = await api.ws_connect(alice.token)
    await ws.send_raw("this is not json {")
    error = await ws.next(lambda f: "error" in f)
    assert error["error"]["code"] == "INVALID_JSON"
    assert error["error"]["message"]
    await ws.send_raw('["a", "call", "is", "an", "object"]')
    error = await ws.next(lambda f: "error" in f)
    assert error["error"]["code"] == "BAD_REQUEST"
    await ws.send_raw('{"id": 5, "params": {}}')
    error = await ws.next(lambda f: "error" in f)
    assert error["error"]["code"] == "BAD_REQUEST"
    # Still open and serving calls.
    assert (await ws.result("getMe"))["id"] == alice.user_id
    chat = await ws.result("getPrivateChat", user_id=alice.user_id)
    sent = await ws.result("sendMessage", chat_id=chat["id"], text="still here")
    assert sent["message"]["text"] == "still here"


async def test_rpc_ids_are_echoed(api: Api) -> None:
    alice = await api.make_user("alice")
    ws = await api.ws_connect(alice.token)
    ids: list[object] = [7, "call-a", 0, -3, 2**40, "ünïcødé", 1.5, {"nested": [1, 2]}, [1, "x"]]
    methods = ["getMe", "getState", "noSuchMethod", "getChat"]
    for i, call_id in enumerate(ids):
        await ws.send(
            {
                "id": call_id,
                "method": methods[i % 4],
                "params": {"chat_id": 999999} if methods[i % 4] == "getChat" else {},
            }
        )
    # Answered in order, each with its own id, whether it succeeded or not.
    responses = [await ws.next(lambda f: "result" in f or "error" in f) for _ in ids]
    assert [r["id"] for r in responses] == ids
    for i, response in enumerate(responses):
        method = methods[i % 4]
        if method == "noSuchMethod":
            assert response["error"]["code"] == "METHOD_NOT_FOUND"
        elif method == "getChat":
            assert response["error"]["code"] == "CHAT_NOT_FOUND"
        else:
            assert "result" in response, response
    # Bad parameters are answered with the id too.
    bad = await ws.rpc("sendMessage", call_id="bad-params", chat_id="nope")
    assert bad["id"] == "bad-params"
    assert bad["error"]["code"] == "INVALID_PARAMS"
    # A call without an id is answered with a null id.
    await ws.send({"method": "getMe", "params": {}})
    anonymous = await ws.next(lambda f: "result" in f)
    assert anonymous["id"] is None


async def _new_message_updates(ws: Ws, count: int) -> list[dict[str, Any]]:
    updates = []
    while len(updates) < count:
        frame = await ws.next(is_update)
        if frame["update"]["type"] == "new_message":
            updates.append(frame["update"])
    return updates


async def test_every_device_of_both_users_receives_updates_with_consecutive_pts(api: Api) -> None:
    alice = await api.make_user("alice")
    alice2 = await api.sign_in(alice)
    bob = await api.make_user("bob")
    chat = await api.ok("getPrivateChat", alice.token, user_id=bob.user_id)
    a1 = await api.ws_connect(alice.token)
    a2 = await api.ws_connect(alice2.token, header=True)
    b1 = await api.ws_connect(bob.token)
    start = {
        "alice": (await api.ok("getState", alice.token))["pts"],
        "bob": (await api.ok("getState", bob.token))["pts"],
    }
    texts = ["one", "two 👍", "three"]
    sent = []
    for i, text in enumerate(texts):
        # Alternate transports and senders: HTTP and WebSocket go through the same path.
        if i == 1:
            sent.append(await b1.result("sendMessage", chat_id=chat["id"], text=text))
        else:
            sent.append(await api.ok("sendMessage", alice.token, chat_id=chat["id"], text=text))
    for name, ws in (("alice", a1), ("alice", a2), ("bob", b1)):
        updates = await _new_message_updates(ws, len(texts))
        assert [u["message"]["text"] for u in updates] == texts, name
        assert [u["pts"] for u in updates] == [start[name] + i for i in (1, 2, 3)], name
        assert all(u["pts_count"] == 1 for u in updates)
        assert all(u["chat_id"] == chat["id"] for u in updates)
        assert [u["message"]["id"] for u in updates] == [s["message"]["id"] for s in sent]
    # The senders' results carry the same pts as their updates.
    assert sent[0]["pts"] == start["alice"] + 1
    assert sent[1]["pts"] == start["bob"] + 2
    assert sent[2]["pts"] == start["alice"] + 3
    # And getDifference replays exactly what was pushed.
    diff = await api.ok("getDifference", bob.token, pts=start["bob"])
    assert [u["pts"] for u in diff["updates"]] == [start["bob"] + i for i in (1, 2, 3)]


async def test_typing_reaches_the_other_user_only(api: Api) -> None:
    alice = await api.make_user("alice")
    alice2 = await api.sign_in(alice)
    bob = await api.make_user("bob")
    carol = await api.make_user("carol")
    chat = await api.ok("getPrivateChat", alice.token, user_id=bob.user_id)
    carol_chat = await api.ok("getPrivateChat", alice.token, user_id=carol.user_id)
    a1 = await api.ws_connect(alice.token)
    a2 = await api.ws_connect(alice2.token)
    b1 = await api.ws_connect(bob.token)
    c1 = await api.ws_connect(carol.token)

    assert await a1.result("setTyping", chat_id=chat["id"]) == {"ok": True}
    event = await b1.next(lambda f: f.get("type") == "event")
    assert event["event"] == {
        "type": "typing",
        "chat_id": chat["id"],
        "user_id": alice.user_id,
        "action": "typing",
    }

    # Frames reach each socket in order, so a marker sent after the typing call shows that
    # nothing else came before it: the typist's own devices and outsiders get no event.
    await api.ok("sendMessage", bob.token, chat_id=chat["id"], text="marker")
    await api.ok("sendMessage", alice.token, chat_id=carol_chat["id"], text="marker")

    def marker(frame: dict[str, Any]) -> bool:
        return is_update(frame) and frame["update"]["type"] == "new_message"

    def typing(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [f for f in frames if f.get("type") == "event" and f["event"]["type"] == "typing"]

    for name, ws in (("alice's typing device", a1), ("alice's other device", a2), ("carol", c1)):
        before = await ws.updates_until(marker)
        assert not typing(before), f"{name} received {typing(before)}"
    assert not typing(b1.inbox)


async def test_a_socket_closed_during_authentication_is_let_go_quietly(
    server: Server, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # The handler used to take the close for a bad auth frame and fail to write its error
    # frame to the closing socket: "Error handling request", with a traceback, each time.
    caplog.set_level(logging.ERROR)
    sockets = [await api.ws_open() for _ in range(3)]
    await eventually(lambda: len(server.gateway.sockets) == 3)
    for ws in sockets:
        await ws.ws.close()
    await eventually(lambda: not server.gateway.sockets)
    await asyncio.sleep(0.1)  # whatever the handlers would log comes right after
    assert [r.getMessage() for r in caplog.records] == []
    alice = await api.make_user("alice")  # and the next socket is served as ever
    assert (await (await api.ws_connect(alice.token)).result("getMe"))["id"] == alice.user_id


async def test_shutting_down_closes_every_socket_at_once_with_going_away(
    server: Server, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    alice = await api.make_user("alice")
    ready = [await api.ws_connect(alice.token) for _ in range(3)]
    waiting = [await api.ws_open() for _ in range(3)]  # no auth frame yet
    await eventually(lambda: len(server.gateway.sockets) == 6)
    began = time.monotonic()
    await server.gateway.close_sockets(5.0)
    assert time.monotonic() - began < 1.0
    for ws in ready + waiting:
        assert await ws.wait_closed(1.0) == CLOSE_GOING_AWAY
    await eventually(lambda: not server.gateway.sockets and not server.gateway.hub.by_user)
    # A socket that comes in now is closed at once, the same way.
    late = await api.ws_open()
    assert await late.wait_closed(1.0) == CLOSE_GOING_AWAY
    await asyncio.sleep(0.1)
    assert [r.getMessage() for r in caplog.records] == []


async def test_shutting_down_waits_for_no_client_past_its_time_limit(
    server: Server, api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A socket whose handler is busy (here: still checking its token) waits for the client
    # to answer the close; this client never reads, so never answers, and is cut.
    caplog.set_level(logging.ERROR)
    checking = asyncio.Event()

    async def slow_authenticate(header: str, ip: str) -> Any:
        checking.set()
        await asyncio.sleep(0.5)
        raise HeliographError(ErrorCode.SESSION_REVOKED, "too late anyway")

    monkeypatch.setattr(server.gateway.dispatcher, "authenticate", slow_authenticate)
    await api.ws_open({"Authorization": "Bearer some-token"})
    await checking.wait()
    began = time.monotonic()
    await server.gateway.close_sockets(0.2)
    assert 0.15 < time.monotonic() - began < 0.45
    await eventually(lambda: not server.gateway.sockets)
    await asyncio.sleep(0.1)
    assert [r.getMessage() for r in caplog.records] == []
