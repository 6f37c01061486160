"""The API schema and the reference page: valid, complete, and saying what the server does."""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from heliograph.botapi.updates import BOT_ONLY_KINDS
from heliograph.domain.errors import ErrorCode
from heliograph.gateway import docs, schema
from heliograph.gateway.methods import METHODS, Context, Method, NoParams, load_all
from heliograph.server import Server
from tests.conftest import _reset_postgres, base_url

load_all()
JSON = "application/json"


def validator(doc: dict[str, Any], subschema: dict[str, Any]) -> OAS31Validator:
    """A validator for a schema taken from `doc`, its `#/components/...` references intact."""
    return OAS31Validator({**subschema, "components": doc["components"]})


def request_schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][f"/api/{name}"]["post"]["requestBody"]["content"][JSON]
    return dict(found["schema"])


def success_schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][f"/api/{name}"]["post"]["responses"]["200"]
    return dict(found["content"][JSON]["schema"])


class Client:
    """Calls the API over HTTP and checks every answer against the schema."""

    def __init__(self, http: aiohttp.ClientSession, doc: dict[str, Any]) -> None:
        self.http, self.doc, self.token = http, doc, ""

    async def raw(
        self, method: str, params: dict[str, Any], check: bool = True
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.post(f"/api/{method}", json=params, headers=headers) as r:
            body: dict[str, Any] = await r.json()
        if not body["ok"]:
            error = {"$ref": "#/components/schemas/ErrorResponse"}
            validator(self.doc, error).validate(body)
            assert r.status == ErrorCode[body["error"]["code"]].status
        elif check:
            validator(self.doc, success_schema(self.doc, method)).validate(body)
        return r.status, body

    async def __call__(self, method: str, **params: Any) -> Any:
        status, body = await self.raw(method, params)
        assert status == 200, body
        return body["result"]

    async def unchecked(self, method: str, **params: Any) -> Any:
        """A call whose result is checked by the caller (it may hold known-bad updates)."""
        status, body = await self.raw(method, params, check=False)
        assert status == 200, body
        return body["result"]

    async def sign_up(self, username: str) -> dict[str, Any]:
        auth = await self(
            "signUp", username=username, password="pass-word-1", display_name=username
        )
        self.token = auth["token"]
        account: dict[str, Any] = auth["account"]
        return account


async def get_doc(http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get("/api/openapi.json") as r:
        assert r.status == 200
        assert r.content_type == JSON
        doc: dict[str, Any] = await r.json()
        return doc


async def test_openapi_document_is_valid_and_complete(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        doc = await get_doc(http)
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {f"/api/{name}" for name in METHODS}
    for name, method in METHODS.items():
        op = doc["paths"][f"/api/{name}"]["post"]
        assert op["operationId"] == name
        assert op["tags"] == [method.group]
        assert op["summary"].startswith(method.summary) and op["summary"]
        assert bool(op["security"]) is method.auth
        assert {"200", "400", "429", "500"} <= set(op["responses"])
    codes = doc["components"]["schemas"]["ErrorCode"]
    assert codes["enum"] == [code.name for code in ErrorCode]
    assert codes["x-http-status"] == {code.name: code.status for code in ErrorCode}
    description = doc["info"]["description"]
    for needle in ("/api/ws", "getDifference", "pts_count", "too_long", "random_id", "4008"):
        assert needle in description


def test_every_error_code_has_a_meaning() -> None:
    assert [c for c in ErrorCode if not schema.ERROR_MEANINGS.get(c)] == []


WRITERS = {"outbox.add", "outbox.add_to_chat", "fan_out"}


def _pushed_in_services() -> tuple[set[str], set[str]]:
    """The update kinds the services write (`outbox.add`, `add_to_chat`, `fan_out`), and
    the `type` of every other literal dict they build (events)."""
    updates: set[str] = set()
    others: set[str] = set()
    services = Path(schema.__file__).parent.parent / "services"
    for path in sorted(services.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in WRITERS:
                # the kind is the first string argument (none: passed through, as in fan_out)
                args = [a.value for a in node.args if isinstance(a, ast.Constant)]
                updates.update([a for a in args if isinstance(a, str)][:1])
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "type"
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        others.add(value.value)
    return updates, others


def test_every_update_and_event_the_services_make_is_documented() -> None:
    updates, others = _pushed_in_services()
    assert "new_message" in updates and "typing" in others  # the scan sees them
    assert updates - set(schema.UPDATE_TYPES) - BOT_ONLY_KINDS == set()
    frames = {"event", "update"}  # the WebSocket frames that carry them
    assert others - frames - set(schema.EVENT_TYPES) - set(schema.UPDATE_TYPES) == set()


def test_the_document_is_built_once() -> None:
    assert schema.openapi() is schema.openapi()
    assert docs.page() is docs.page()


def test_two_types_with_one_name_are_refused() -> None:
    @dataclass
    class Message:  # not heliograph.domain.entities.Message
        id: str

    async def handler(ctx: Context, p: NoParams) -> Message:
        return Message("x")

    fake = Method("fake", NoParams, Message, handler, "s", "", "Test", True, "default")
    with pytest.raises(schema.SchemaError, match="'Message'"):
        schema.build_openapi({**METHODS, "fake": fake}, "test")


def test_a_type_read_differently_as_input_gets_its_own_name() -> None:
    schemas = schema.openapi()["components"]["schemas"]
    entity = schemas["MessageEntityInput"]
    assert entity["additionalProperties"] is False
    assert set(entity["required"]) == {"type", "offset", "length"}
    assert set(schemas["MessageEntity"]["required"]) == set(schemas["MessageEntity"]["properties"])
    entities = schemas["SendMessage"]["properties"]["entities"]["anyOf"][0]
    assert entities["items"] == {"$ref": "#/components/schemas/MessageEntityInput"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for key, value in attrs:
            if key == "id" and value:
                self.ids.append(value)
            if key in ("href", "src", "action", "srcset", "poster", "data") and value is not None:
                self.links.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


async def test_docs_page_is_complete_and_self_contained(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        async with http.get("/api/docs") as r:
            assert r.status == 200
            assert r.content_type == "text/html"
            assert "default-src 'none'" in r.headers["Content-Security-Policy"]
            html = await r.text()
        doc = await get_doc(http)
    page = Page()
    page.feed(html)
    text = " ".join(" ".join(page.text).split())

    assert len(page.ids) == len(set(page.ids)), "ids are unique"
    for name in METHODS:
        assert f"method-{name}" in page.ids
    for code in ErrorCode:
        assert f"error-{code.name}" in page.ids
    for tag in doc["components"]["schemas"]["Update"]["discriminator"]["mapping"]:
        assert tag in text
    for tag in (
        "new_message",
        "read_outbox",
        "message_reactions",
        "draft",
        "typing",
        "user_status",
    ):
        assert tag in text
    assert "staying-in-sync" in page.ids
    sync = text[text.index("Staying in sync") :]
    for needle in ("getDifference", "pts_count", "getState", "more", "too_long", "random_id"):
        assert needle in sync
    for needle in ("Bearer", "4001", "4003", "4008", "JSON array", '"type": "auth"'):
        assert needle in text

    # Nothing is fetched from elsewhere, and every link goes somewhere on the page.
    assert not page.tags & {"script", "link", "img", "iframe", "object", "embed", "form"}
    assert re.search(r"https?:|//[a-z]|@import|url\(", html, re.IGNORECASE) is None
    for link in page.links:
        assert link == "openapi.json" or link[1:] in page.ids, link
    # Text is escaped: placeholders in prose did not become tags.
    assert "<token>" not in html and "&lt;token&gt;" in html


# (method, params, valid): checked against the schema and against the server alike.
SAMPLES: list[tuple[str, dict[str, Any], bool]] = [
    ("sendMessage", {"chat_id": 1}, False),
    ("sendMessage", {"text": "hi"}, False),
    ("sendMessage", {"chat_id": 0, "text": "hi"}, False),
    ("sendMessage", {"chat_id": 1, "text": "hi", "colour": "red"}, False),
    (
        "sendMessage",
        {"chat_id": 1, "text": "hi", "entities": [{"type": "bold", "offset": 0}]},
        False,
    ),
    (
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "entities": [{"type": "bold", "offset": 0, "length": 1, "x": 1}],
        },
        False,
    ),
    ("sendMessage", {"chat_id": 999, "text": "hi", "random_id": -5}, True),
    ("getHistory", {"chat_id": 1, "direction": "sideways"}, False),
    ("getHistory", {"chat_id": 1, "limit": 101}, False),
    ("getHistory", {"chat_id": 999, "direction": "newer", "limit": 100}, True),
    ("getHistory", {"chat_id": 999, "around_id": 5, "limit": 100}, True),
    ("getHistory", {"chat_id": 1, "around_id": 0}, False),
    ("getChats", {"limit": 0}, False),
    ("getChats", {"limit": 100}, True),
    ("getDifference", {"pts": -1}, False),
    ("getDifference", {"pts": 0, "limit": 1001}, False),
    ("getDifference", {"pts": 0, "limit": 1000}, True),
    ("setUsername", {"username": None}, True),
    ("setReaction", {"chat_id": 1, "message_id": 1}, False),
    ("setPrivacy", {"last_seen": "friends"}, False),
    ("setPrivacy", {"last_seen": "contacts"}, True),
    ("getUsers", {"user_ids": []}, False),
    ("getUsers", {"user_ids": [1]}, True),
    ("deleteMessages", {"chat_id": 1, "message_ids": list(range(1, 102))}, False),
    ("updateProfile", {"bio": "x" * 1025}, False),
    ("getMe", {}, True),
    ("signIn", {"username": "alice", "password": ""}, False),
    ("signIn", {"username": "nobody", "password": "wrong"}, True),
    ("setChatSettings", {"chat_id": 1, "slow_mode_seconds": 7}, False),
    ("setChatSettings", {"chat_id": 999, "slow_mode_seconds": 30}, True),
    ("promoteChatMember", {"chat_id": 1, "user_id": 2, "rights": {"fly": True}}, False),
    ("promoteChatMember", {"chat_id": 999, "user_id": 2, "rights": {"ban_users": True}}, True),
]


async def test_request_schemas_agree_with_the_server(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        api = Client(http, await get_doc(http))
        await api.sign_up("alice")
        # Hand-picked samples: the schema and the server give the same verdict.
        for method, params, valid in SAMPLES:
            check = validator(api.doc, request_schema(api.doc, method))
            assert check.is_valid(params) is valid, (method, params)
            status, body = await api.raw(method, params)
            code = None if body["ok"] else body["error"]["code"]
            assert (code != "INVALID_PARAMS") is valid, (method, params, body)
        # Every method: unknown fields are refused, and so are missing required ones.
        for method in METHODS:
            check = validator(api.doc, request_schema(api.doc, method))
            samples = [{"no_such_parameter": 1}] + ([{}] if not check.is_valid({}) else [])
            for params in samples:
                assert not check.is_valid(params)
                status, body = await api.raw(method, params)
                assert (status, body["error"]["code"]) == (400, "INVALID_PARAMS"), (method, body)


async def read_frames(ws: aiohttp.ClientWebSocketResponse, until: Any) -> list[dict[str, Any]]:
    """Frames (arrays unpacked) until `until(frames)` holds."""
    frames: list[dict[str, Any]] = []
    while not until(frames):
        data = await asyncio.wait_for(ws.receive_json(), timeout=5)
        frames += data if isinstance(data, list) else [data]
    return frames


def listed_updates(doc: dict[str, Any]) -> set[str]:
    return set(doc["components"]["schemas"]["Update"]["discriminator"]["mapping"])


async def test_private_chat_results_updates_and_events_match_the_schema(server: Server) -> None:
    """Every result, every update in getDifference and on the socket, and every event is
    valid per the schema."""
    async with aiohttp.ClientSession(base_url(server)) as http:
        doc = await get_doc(http)
        alice, bob = Client(http, doc), Client(http, doc)
        me = await alice.sign_up("alice")
        bob_id = (await bob.sign_up("bob"))["id"]
        chat = (await alice("getPrivateChat", user_id=bob_id))["id"]
        auth = {"Authorization": f"Bearer {alice.token}"}
        async with http.ws_connect("/api/ws", headers=auth) as ws:
            ready = await read_frames(ws, lambda f: f)
            assert ready[0]["type"] == "ready" and ready[0]["user_id"] == me["id"]
            start = ready[0]["state"]["pts"]
            # bob comes online (alice sees it: a user_status event), signing in by frame
            bob_ws = await http.ws_connect("/api/ws")
            await bob_ws.send_json({"type": "auth", "token": bob.token})
            assert (await read_frames(bob_ws, lambda f: f))[0]["type"] == "ready"
            sent = await alice("sendMessage", chat_id=chat, text="hello @bob", random_id=7)
            again = await alice("sendMessage", chat_id=chat, text="hello @bob", random_id=7)
            assert again["pts"] is None and again["message"] == sent["message"]
            first = sent["message"]["id"]
            await alice("editMessage", chat_id=chat, message_id=first, text="hello, bob")
            await alice("setReaction", chat_id=chat, message_id=first, emoji="👍")
            await alice("pinMessage", chat_id=chat, message_id=first)
            await alice("saveDraft", chat_id=chat, text="half a thought")
            await bob("readHistory", chat_id=chat, max_id=first)  # alice: read_outbox
            reply = await bob("sendMessage", chat_id=chat, text="hi alice")
            await alice("readHistory", chat_id=chat, max_id=reply["message"]["id"])
            await alice("deleteMessages", chat_id=chat, message_ids=[first], for_everyone=True)
            await bob("setTyping", chat_id=chat)
            await alice("getChats")
            await alice("getHistory", chat_id=chat)
            difference = await alice("getDifference", pts=0)
            head = difference["state"]["pts"]
            frames = await read_frames(
                ws,
                lambda f: (
                    {"typing", "user_status"} <= {x.get("event", {}).get("type") for x in f}
                    and any(x.get("update", {}).get("pts") == head for x in f)
                ),
            )
            await bob_ws.close()

    private = {"new_message", "edit_message", "delete_messages", "read_inbox", "read_outbox"}
    private |= {"pinned_messages", "message_reactions", "draft"}
    assert {u["type"] for u in difference["updates"]} == private
    update = validator(doc, {"$ref": "#/components/schemas/Update"})
    event = validator(doc, {"$ref": "#/components/schemas/Event"})
    pushed = [f["update"] for f in frames if f.get("type") == "update"]
    assert [u["pts"] for u in pushed] == list(range(start + 1, head + 1))
    for item in pushed:
        update.validate(item)
    for item in [f["event"] for f in frames if f.get("type") == "event"]:
        event.validate(item)


@pytest.fixture
async def small_chats_server(make_config, store: str) -> AsyncIterator[Server]:  # type: ignore[no-untyped-def]
    """A server on which a group of more than 2 members is a large chat."""
    config = make_config(large_chat_threshold=2)
    if store == "postgres":
        await _reset_postgres(config.database_url)
    srv = Server(config)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


MISNUMBERED: set[str] = set()


async def test_group_and_channel_updates_match_the_schema(small_chats_server: Server) -> None:
    """Groups and channels: updates of the common box and of large chats' boxes, pushed and
    fetched, are valid per the schema, and together cover every update type it lists."""
    async with aiohttp.ClientSession(base_url(small_chats_server)) as http:
        doc = await get_doc(http)
        alice, bob, carol = Client(http, doc), Client(http, doc), Client(http, doc)
        await alice.sign_up("alice")
        bob_id = (await bob.sign_up("bob"))["id"]
        carol_id = (await carol.sign_up("carol"))["id"]
        auth = {"Authorization": f"Bearer {bob.token}"}
        async with http.ws_connect("/api/ws", headers=auth) as ws:
            await read_frames(ws, lambda f: f)  # ready
            group = (await alice("createGroup", title="Team", user_ids=[bob_id]))["id"]
            await alice("addChatMembers", chat_id=group, user_ids=[carol_id])  # now large
            sent = await alice("sendMessage", chat_id=group, text="hi @bob")  # bob: mention
            assert sent["box"] == group
            first = sent["message"]["id"]
            await alice("editChatInfo", chat_id=group, title="Team 2")
            await alice("setChatSettings", chat_id=group, slow_mode_seconds=10)
            await alice("pinMessage", chat_id=group, message_id=first)
            await alice("setReaction", chat_id=group, message_id=first, emoji="🎉")
            await alice("editMessage", chat_id=group, message_id=first, text="hi all")
            await bob("readHistory", chat_id=group, max_id=first)
            await bob("saveDraft", chat_id=group, text="later")
            await bob("pinChat", chat_id=group)
            await bob("archiveChat", chat_id=group)
            await alice("deleteMessages", chat_id=group, message_ids=[first])
            channel = (await alice("createChannel", title="News"))["id"]
            await alice("addChatMembers", chat_id=channel, user_ids=[bob_id])
            await alice("sendMessage", chat_id=channel, text="first post")
            await alice("linkDiscussionGroup", channel_id=channel, group_id=group)
            post = await alice("sendMessage", chat_id=channel, text="second post")
            copy = post["message"]["discussion"]["message_id"]
            await bob("sendMessage", chat_id=group, text="a comment", reply_to_message_id=copy)
            await bob("getChats")
            await bob("getChatMembers", chat_id=group)
            fetched = (await bob.unchecked("getDifference", pts=0))["updates"]
            heads = {None: fetched[-1]["pts"]}
            for box in (group, channel):
                chat_updates = (await bob("getChannelDifference", chat_id=box, pts=0))["updates"]
                assert chat_updates and {u["box"] for u in chat_updates} == {box}
                fetched += chat_updates
                heads[box] = chat_updates[-1]["pts"]
            pushed = [
                f["update"]
                for f in await read_frames(
                    ws,
                    lambda f: all(
                        any(
                            x.get("update", {}).get("box") == box and x["update"]["pts"] == pts
                            for x in f
                        )
                        for box, pts in heads.items()
                        if box is not None
                    ),
                )
                if f.get("type") == "update"
            ]

    update = validator(doc, {"$ref": "#/components/schemas/Update"})
    for item in fetched + pushed:
        if item["type"] not in MISNUMBERED:
            update.validate(item)
    # join_request_declined: see test_join_requests_match_the_schema
    assert {u["type"] for u in fetched} == listed_updates(doc) - {"join_request_declined"}


async def test_join_requests_match_the_schema(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        doc = await get_doc(http)
        alice, bob = Client(http, doc), Client(http, doc)
        await alice.sign_up("alice")
        bob_id = (await bob.sign_up("bob"))["id"]
        group = (await alice("createGroup", title="Club"))["id"]
        link = await alice("createInviteLink", chat_id=group, requires_approval=True)
        auth = {"Authorization": f"Bearer {alice.token}"}
        async with http.ws_connect("/api/ws", headers=auth) as ws:
            await read_frames(ws, lambda f: f)  # ready
            status, body = await bob.raw("joinChat", {"invite_code": link["code"]})
            assert (status, body["error"]["code"]) == (409, "INVITE_REQUEST_SENT")
            assert body["error"]["chat_id"] == group
            await alice("getJoinRequests", chat_id=group)
            await alice("declineJoinRequest", chat_id=group, user_id=bob_id)
            frames = await read_frames(
                ws,
                lambda f: (
                    {"join_request", "join_request_resolved"}
                    <= {x.get("event", {}).get("type") for x in f}
                ),
            )
        updates = (await bob("getDifference", pts=0))["updates"]
    assert [u["type"] for u in updates] == ["join_request_declined"]
    event = validator(doc, {"$ref": "#/components/schemas/Event"})
    for item in [f["event"] for f in frames if f.get("type") == "event"]:
        event.validate(item)


async def test_membership_updates_keep_their_own_pts(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        doc = await get_doc(http)
        alice, bob = Client(http, doc), Client(http, doc)
        await alice.sign_up("alice")
        bob_id = (await bob.sign_up("bob"))["id"]
        await alice("createGroup", title="Team", user_ids=[bob_id])
        updates = (await bob.unchecked("getDifference", pts=0))["updates"]
    assert [u["pts"] for u in updates] == list(range(1, len(updates) + 1))
    membership = validator(doc, {"$ref": "#/components/schemas/ChatMembershipUpdate"})
    for item in updates:
        if item["type"] == "chat_membership":
            membership.validate(item)


async def test_chat_info_signatures_is_a_boolean(server: Server) -> None:
    async with aiohttp.ClientSession(base_url(server)) as http:
        doc = await get_doc(http)
        alice = Client(http, doc)
        await alice.sign_up("alice")
        channel = (await alice("createChannel", title="News"))["id"]
        await alice("setChatSettings", chat_id=channel, signatures=True)
        updates = (await alice.unchecked("getChannelDifference", chat_id=channel, pts=0))["updates"]
    info = validator(doc, {"$ref": "#/components/schemas/ChatInfoUpdate"})
    for item in updates:
        if item["type"] == "chat_info":
            info.validate(item)
