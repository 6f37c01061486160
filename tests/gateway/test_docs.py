"""The API schema and the reference page: valid, complete, and saying what the server does."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import aiohttp
import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from heliograph.domain.errors import ErrorCode
from heliograph.gateway import docs, schema
from heliograph.gateway.methods import METHODS, Context, Method, NoParams, load_all
from heliograph.server import Server
from tests.conftest import base_url

load_all()
JSON = "application/json"


def validator(doc: dict[str, Any], subschema: dict[str, Any]) -> OAS31Validator:
    """A validator for a schema taken from `doc`, its `#/components/...` references intact."""
    return OAS31Validator({**subschema, "components": doc["components"]})


def request_schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][f"/api/{name}"]["post"]["requestBody"]["content"]
    return found[JSON]["schema"]


def success_schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["paths"][f"/api/{name}"]["post"]["responses"]["200"]
    return found["content"][JSON]["schema"]


class Client:
    """Calls the API over HTTP and checks every answer against the schema."""

    def __init__(self, http: aiohttp.ClientSession, doc: dict[str, Any]) -> None:
        self.http, self.doc, self.token = http, doc, ""

    async def raw(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.post(f"/api/{method}", json=params, headers=headers) as r:
            body: dict[str, Any] = await r.json()
        if body["ok"]:
            validator(self.doc, success_schema(self.doc, method)).validate(body)
        else:
            error = {"$ref": "#/components/schemas/ErrorResponse"}
            validator(self.doc, error).validate(body)
            assert r.status == ErrorCode[body["error"]["code"]].status
        return r.status, body

    async def __call__(self, method: str, **params: Any) -> Any:
        status, body = await self.raw(method, params)
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


async def test_results_updates_and_events_match_the_schema(server: Server) -> None:
    """Every result the server gives, every update in getDifference and on the socket, and
    every event is valid per the schema; every update type the schema lists occurs."""
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
            # bob comes online (alice sees it: a user_status event), then signs in by socket
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

    listed = set(doc["components"]["schemas"]["Update"]["discriminator"]["mapping"])
    assert {u["type"] for u in difference["updates"]} == listed
    update = validator(doc, {"$ref": "#/components/schemas/Update"})
    event = validator(doc, {"$ref": "#/components/schemas/Event"})
    pushed = [f["update"] for f in frames if f.get("type") == "update"]
    assert [u["pts"] for u in pushed] == list(range(start + 1, head + 1))
    for item in pushed:
        update.validate(item)
    for item in [f["event"] for f in frames if f.get("type") == "event"]:
        event.validate(item)
