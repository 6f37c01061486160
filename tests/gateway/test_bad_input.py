"""Bad input, for every method: each wrong request gets a 4xx with a stable UPPER_SNAKE code and
a message, and changes nothing.

The generic checks are derived from each method's parameter schema (missing fields, wrong
types, unknown fields, strings and lists over their limits, numbers out of range, unknown ids),
so a new method or field is covered as soon as it is registered; the only hand-written part is
a table of valid sample parameters, which must name every method. The rules of particular
fields (message length in UTF-16, entities, reactions, usernames, passwords) and of the
transport (JSON, body size, unknown methods, flood limits) have tests of their own."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest

from heliograph.domain.limits import Limits
from heliograph.gateway.methods import load_all
from heliograph.gateway.ratelimit import Rate
from heliograph.server import Server
from tests.conftest import TEST_RATES, base_url
from tests.gateway.api import Api, User, assert_error, error_problem

UNKNOWN = 999999
LIMITS = Limits()


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async with Api(base_url(server)) as client:
        yield client


# --- a small world every sample refers to ------------------------------------------------


@dataclass
class World:
    alice: User  # the caller
    alice2: User  # her second device
    bob: User
    carol: User
    chat: int  # alice <-> bob
    saved: int  # alice's Saved Messages
    alice_msg: int
    bob_msg: int
    approve_code: str
    check_code: str
    check_secret: str

    @property
    def users(self) -> list[User]:
        return [self.alice, self.bob, self.carol]


@pytest.fixture
async def world(api: Api) -> World:
    alice = await api.make_user("alice")
    alice2 = await api.sign_in(alice)
    bob = await api.make_user("bob")
    carol = await api.make_user("carol")
    chat = (await api.ok("getPrivateChat", alice.token, user_id=bob.user_id))["id"]
    alice_msg = (await api.ok("sendMessage", alice.token, chat_id=chat, text="hello from alice"))
    bob_msg = (await api.ok("sendMessage", bob.token, chat_id=chat, text="hello from bob"))
    saved = (await api.ok("getPrivateChat", alice.token, user_id=alice.user_id))["id"]
    await api.ok("sendMessage", alice.token, chat_id=saved, text="note to self")
    await api.ok("addContact", alice.token, user_id=bob.user_id)
    approve = await api.ok("requestLoginCode", device_name="tablet")
    check = await api.ok("requestLoginCode", device_name="tv")
    return World(
        alice, alice2, bob, carol, chat, saved, alice_msg["message"]["id"],
        bob_msg["message"]["id"], approve["code"], check["code"], check["secret"],
    )


# Valid parameters for every method, called by Alice. Each bad request below differs from one
# of these in exactly one respect, and the test ends by calling the sample itself, so a sample
# that stopped being valid is noticed.
SAMPLES: dict[str, Callable[[World], dict[str, Any]]] = {
    "signUp": lambda w: {"username": "dave", "password": "dave-pass-word", "display_name": "D"},
    "signIn": lambda w: {"username": "alice", "password": w.alice.password},
    "signOut": lambda w: {},
    "requestLoginCode": lambda w: {"device_name": "watch", "client": "test"},
    "approveLoginCode": lambda w: {"code": w.approve_code},
    "checkLoginCode": lambda w: {"code": w.check_code, "secret": w.check_secret},
    "getSessions": lambda w: {},
    "endSession": lambda w: {"session_id": w.alice2.session_id},
    "endOtherSessions": lambda w: {},
    "changePassword": lambda w: {
        "old_password": w.alice.password, "new_password": "a-new-pass-word"
    },
    "deleteAccount": lambda w: {"password": w.alice.password},
    "getMe": lambda w: {},
    "updateProfile": lambda w: {"display_name": "Alice Two", "bio": "hi"},
    "setUsername": lambda w: {"username": "alice_two"},
    "setPrivacy": lambda w: {"last_seen": "contacts", "private_chats": "contacts"},
    "getPrivateChat": lambda w: {"user_id": w.carol.user_id},
    "getChats": lambda w: {"limit": 10},
    "getChat": lambda w: {"chat_id": w.chat},
    "getHistory": lambda w: {"chat_id": w.chat, "limit": 10},
    "getMessages": lambda w: {"chat_id": w.chat, "message_ids": [w.alice_msg]},
    "searchMessages": lambda w: {"query": "hello", "chat_id": w.chat},
    "sendMessage": lambda w: {"chat_id": w.chat, "text": "hi bob"},
    "forwardMessages": lambda w: {
        "from_chat_id": w.chat, "message_ids": [w.bob_msg], "to_chat_id": w.saved
    },
    "editMessage": lambda w: {"chat_id": w.chat, "message_id": w.alice_msg, "text": "edited"},
    "deleteMessages": lambda w: {"chat_id": w.chat, "message_ids": [w.alice_msg]},
    "pinMessage": lambda w: {"chat_id": w.chat, "message_id": w.bob_msg},
    "setReaction": lambda w: {"chat_id": w.chat, "message_id": w.bob_msg, "emoji": "👍"},
    "readHistory": lambda w: {"chat_id": w.chat, "max_id": w.bob_msg},
    "setTyping": lambda w: {"chat_id": w.chat, "action": "typing"},
    "saveDraft": lambda w: {"chat_id": w.chat, "text": "draft text"},
    "getUsers": lambda w: {"user_ids": [w.bob.user_id]},
    "resolveUsername": lambda w: {"username": "bob"},
    "searchUsers": lambda w: {"query": "bo"},
    "getContacts": lambda w: {},
    "addContact": lambda w: {"user_id": w.carol.user_id},
    "removeContact": lambda w: {"user_id": w.bob.user_id},
    "getState": lambda w: {},
    "getDifference": lambda w: {"pts": 0},
}

# Values for list items and objects a sample leaves out.
ITEM_SAMPLES: dict[str, Any] = {
    "MessageEntity": {"type": "bold", "offset": 0, "length": 1},
    "integer": 1,
    "string": "x",
}

# Fields whose unknown value is not an error, by their documented meaning.
NOT_IDS = {
    # "Messages by id (missing or deleted ones are left out)."
    ("getMessages", "message_ids"),
}

# The documented limits that are tighter than the schema's, one past each.
_TEXT_OVER = "x" * (LIMITS.message_length + 1)
_MANY_ENTITIES = [{"type": "bold", "offset": 0, "length": 1}] * (LIMITS.entities_per_message + 1)
DOCUMENTED_LIMITS: list[tuple[str, str, Any, str]] = [
    ("sendMessage", "text", _TEXT_OVER, "MESSAGE_TOO_LONG"),
    ("editMessage", "text", _TEXT_OVER, "MESSAGE_TOO_LONG"),
    ("saveDraft", "text", "x" * (LIMITS.draft_length + 1), "MESSAGE_TOO_LONG"),
    ("sendMessage", "entities", _MANY_ENTITIES, "ENTITIES_INVALID"),
    ("editMessage", "entities", _MANY_ENTITIES, "ENTITIES_INVALID"),
    ("saveDraft", "entities", _MANY_ENTITIES, "ENTITIES_INVALID"),
    ("signUp", "username", "a" * (LIMITS.username_max + 1), "USERNAME_INVALID"),
    ("setUsername", "username", "a" * (LIMITS.username_max + 1), "USERNAME_INVALID"),
    ("signUp", "password", "p" * (LIMITS.password_max + 1), "PASSWORD_TOO_WEAK"),
    ("changePassword", "new_password", "p" * (LIMITS.password_max + 1), "PASSWORD_TOO_WEAK"),
    ("signUp", "display_name", "D" * (LIMITS.display_name_max + 1), "INVALID_PARAMS"),
    ("updateProfile", "display_name", "D" * (LIMITS.display_name_max + 1), "INVALID_PARAMS"),
    ("updateProfile", "bio", "b" * (LIMITS.bio_max + 1), "INVALID_PARAMS"),
    ("searchUsers", "query", "a" * (LIMITS.username_max + 1), "INVALID_PARAMS"),
    ("searchMessages", "query", "q" * (LIMITS.search_query_max + 1), "INVALID_PARAMS"),
    ("setTyping", "action", "dancing", "INVALID_PARAMS"),
    ("setReaction", "emoji", "ok", "REACTION_INVALID"),
]


# --- reading the parameter schemas -------------------------------------------------------

JSON_SAMPLES: dict[str, Any] = {
    "string": "x",
    "integer": 7,
    "number": 1.5,
    "boolean": True,
    "array": ["x"],
    "object": {"x": 1},
    "null": None,
}


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    return {**defs[ref.rsplit("/", 1)[-1]], "$ref_name": ref.rsplit("/", 1)[-1]}


def _alternatives(schema: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [_resolve(o, defs) for o in options]


def _json_types(alt: dict[str, Any]) -> set[str]:
    kind = alt.get("type")
    if isinstance(kind, list):
        return set(kind)
    if kind is not None:
        return {kind}
    values = alt.get("enum", [alt["const"]] if "const" in alt else [])
    names = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
    return {names[type(v)] for v in values}


def _allowed(schema: dict[str, Any], defs: dict[str, Any]) -> set[str]:
    allowed: set[str] = set()
    for alt in _alternatives(schema, defs):
        allowed |= _json_types(alt)
    if "number" in allowed:
        allowed.add("integer")
    return allowed


def _wrong_values(schema: dict[str, Any], defs: dict[str, Any]) -> list[Any]:
    """A value of each JSON type the schema does not allow. (JSON true for an integer has a
    test of its own, so one mistake does not fail every method.)"""
    allowed = _allowed(schema, defs)
    skip = {"boolean"} if "integer" in allowed else set()
    return [v for t, v in JSON_SAMPLES.items() if t not in allowed and t not in skip]


def _item_sample(items: dict[str, Any], defs: dict[str, Any]) -> Any:
    alt = _resolve(items, defs)
    name = alt.get("$ref_name") or next(iter(_json_types(alt)), "string")
    return ITEM_SAMPLES[name]


@dataclass
class Bad:
    label: str
    params: Any
    # A specific code, or None for "any proper 4xx"; `ok_allowed`: a 200 is acceptable too
    # (the value is odd, not wrong), but never a 5xx.
    code: str | None = "INVALID_PARAMS"
    field: str | None = None
    ok_allowed: bool = False


def _id_kind(method: str, field: str) -> tuple[Any, str] | None:
    """The unknown value and the expected code for a field that names an object by id."""
    if (method, field) in NOT_IDS or field.startswith("before_"):
        return None
    if field.endswith("chat_id"):
        return UNKNOWN, "CHAT_NOT_FOUND"
    if field.endswith("message_id"):
        return UNKNOWN, "MESSAGE_NOT_FOUND"
    if field == "message_ids":
        return [UNKNOWN], "MESSAGE_NOT_FOUND"
    if field == "user_id":
        return UNKNOWN, "USER_NOT_FOUND"
    if field == "user_ids":
        return [UNKNOWN], "USER_NOT_FOUND"
    if field == "session_id":
        return UNKNOWN, "SESSION_NOT_FOUND"
    return None


def bad_requests(name: str, sample: dict[str, Any]) -> list[Bad]:
    """Every generic bad variant of a valid sample of method `name`."""
    model = load_all()[name].params
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    bad: list[Bad] = [Bad("unknown extra field", {**sample, "unexpected_field": 1},
                          field="unexpected_field")]

    def with_(field: str, value: Any) -> dict[str, Any]:
        return {**sample, field: value}

    for field in sorted(required):
        rest = {k: v for k, v in sample.items() if k != field}
        bad.append(Bad(f"missing {field}", rest, field=field))

    for field, prop in props.items():
        for value in _wrong_values(prop, defs):
            bad.append(Bad(f"{field} = {json.dumps(value)}", with_(field, value), field=field))
        for alt in _alternatives(prop, defs):
            kinds = _json_types(alt)
            if "string" in kinds and "enum" not in alt:
                if "maxLength" in alt:
                    long = "x" * (alt["maxLength"] + 1)
                    bad.append(Bad(f"{field} over maxLength", with_(field, long), field=field))
                else:  # no limit in the schema: the server must still refuse a huge string
                    bad.append(Bad(f"{field} huge", with_(field, "x" * 70_000), code=None))
                if alt.get("minLength", 0) >= 1:
                    bad.append(Bad(f"{field} empty", with_(field, ""), field=field))
            if "string" in kinds and "enum" in alt:
                bad.append(Bad(f"{field} not one of {alt['enum']}",
                               with_(field, "no-such-value"), field=field))
            if "integer" in kinds:
                for bound, step in (("minimum", -1), ("maximum", 1)):
                    if bound in alt:
                        value = alt[bound] + step
                        bad.append(Bad(f"{field} = {bound}{step:+d}", with_(field, value),
                                       field=field))
                # Past a 64-bit signed integer (what the database stores) where the schema
                # sets no bound: a refusal or an empty answer is fine, a crash is not.
                if "maximum" not in alt:
                    bad.append(Bad(f"{field} = 2**63", with_(field, 2**63), code=None,
                                   ok_allowed=True))
                if "minimum" not in alt:
                    bad.append(Bad(f"{field} = -2**63-1", with_(field, -(2**63) - 1),
                                   code=None, ok_allowed=True))
            if "array" in kinds:
                items = alt.get("items", {})
                item = (sample.get(field) or [None])[0]
                if item is None:
                    item = _item_sample(items, defs)
                for value in _wrong_values(items, defs):
                    bad.append(Bad(f"{field} item = {json.dumps(value)}",
                                   with_(field, [value]), field=field))
                if "maxItems" in alt:
                    over = [item] * (alt["maxItems"] + 1)
                    bad.append(Bad(f"{field} over maxItems", with_(field, over), field=field))
                else:
                    bad.append(Bad(f"{field} huge list", with_(field, [item] * 10_001),
                                   code=None))
                if alt.get("minItems", 0) >= 1:
                    bad.append(Bad(f"{field} empty list", with_(field, []), field=field))
                bad += _bad_items(field, sample, _resolve(items, defs), item, defs)
        unknown = _id_kind(name, field)
        if unknown is not None:
            value, code = unknown
            bad.append(Bad(f"unknown {field}", with_(field, value), code=code))

    for method, field, value, code in DOCUMENTED_LIMITS:
        if method == name:
            bad.append(Bad(f"{field} over the documented limit", with_(field, value), code=code))
    return bad


def _bad_items(
    field: str, sample: dict[str, Any], items: dict[str, Any], item: Any, defs: dict[str, Any]
) -> list[Bad]:
    """For lists of objects (entities): each item field missing, mistyped or unknown."""
    if "properties" not in items or not isinstance(item, dict):
        return []
    bad: list[Bad] = []
    for sub in items.get("required", []):
        rest = {k: v for k, v in item.items() if k != sub}
        bad.append(Bad(f"{field}[0] missing {sub}", {**sample, field: [rest]}, field=field))
    for sub, prop in items["properties"].items():
        for value in _wrong_values(prop, defs):
            bad.append(Bad(f"{field}[0].{sub} = {json.dumps(value)}",
                           {**sample, field: [{**item, sub: value}]}, field=field))
    bad.append(Bad(f"{field}[0] unknown field", {**sample, field: [{**item, "bogus": 1}]},
                   field=field))
    return bad


# --- checking answers and state -----------------------------------------------------------


async def _everything(api: Api, w: World) -> dict[str, Any]:
    """All that the users can read, and which user ids exist (a sign-up would add one)."""
    views = {u.username: await api.snapshot(u) for u in w.users}
    status, body = await api.call(
        "getUsers", w.bob.token, user_ids=list(range(1, 12))
    )
    views["users"] = body["result"] if status == 200 else body
    return views


def _mentions(body: dict[str, Any], field: str) -> bool:
    error = body["error"]
    fields = [str(p.get("field", "")) for p in error.get("problems", [])]
    return field in error["message"] or any(field in f for f in fields)


async def _check(
    api: Api, w: World, name: str, token: str, bad: Bad, pts: list[int]
) -> tuple[list[str], list[int]]:
    """Make one bad request; what is wrong with the answer, and the users' pts after it."""
    status, body, _ = await api.request(name, bad.params, token)
    where = f"{name} [{bad.label}]"
    failures = []
    if not (status == 200 and bad.ok_allowed):
        problem = error_problem(status, body)
        if problem:
            failures.append(f"{where}: {problem}")
        elif bad.code is not None and body["error"]["code"] != bad.code:
            error = body["error"]
            failures.append(f"{where}: {error['code']} ({error['message']}), want {bad.code}")
        elif (body["error"]["code"] == "INVALID_PARAMS" and bad.field
              and not _mentions(body, bad.field)):
            failures.append(f"{where}: the error does not name {bad.field}: {body['error']}")
    now = [await api.pts(u) for u in w.users]
    if now != pts:
        failures.append(f"{where}: changed the users' pts {pts} -> {now} ({status})")
    return failures, now


def test_the_sample_table_names_every_method() -> None:
    methods = set(load_all())
    assert set(SAMPLES) == methods, (
        f"add samples for {sorted(methods - set(SAMPLES))}; "
        f"remove {sorted(set(SAMPLES) - methods)}"
    )
    for name, sample in SAMPLES.items():
        # The samples are valid as far as the schema can tell (the test calls them too).
        placeholder = World(*(User("u", "p" * 8, "t", 1, 1) for _ in range(4)),
                            1, 2, 1, 2, "CODE", "CODE", "SECRET")  # type: ignore[arg-type]
        load_all()[name].params.model_validate(sample(placeholder))


@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_every_bad_request_is_refused_and_changes_nothing(
    api: Api, world: World, name: str
) -> None:
    sample = SAMPLES[name](world)
    token = world.alice.token
    before = await _everything(api, world)
    pts = [await api.pts(u) for u in world.users]
    failures = []
    for bad in bad_requests(name, sample):
        # The baseline moves with each call, so a change is blamed on the call that made it.
        found, pts = await _check(api, world, name, token, bad, pts)
        failures += found
    after = await _everything(api, world)
    if after != before:
        changed = sorted(k for k in before if before[k] != after.get(k))
        failures.append(f"{name}: the bad requests changed what {changed} see")
    assert not failures, "\n".join(failures)
    # The sample itself is valid, so each bad request above failed for its one defect.
    await api.ok(name, token, **sample)


async def test_json_true_is_not_an_integer(api: Api, world: World) -> None:
    """The validators' lax mode must not read `true` as 1 (the entity rules say so too)."""
    token = world.alice2.token  # not session 1, which `session_id: true` would name
    failures = []
    for name in sorted(SAMPLES):
        sample = SAMPLES[name](world)
        schema = load_all()[name].params.model_json_schema()
        defs = schema.get("$defs", {})
        for field, prop in schema.get("properties", {}).items():
            variants = []
            alts = _alternatives(prop, defs)
            if any("integer" in _json_types(a) for a in alts):
                variants.append((field, {**sample, field: True}))
            for alt in alts:
                items = _resolve(alt.get("items", {}), defs)
                if items.get("type") == "integer":
                    variants.append((f"{field}[0]", {**sample, field: [True]}))
                for sub, sub_prop in items.get("properties", {}).items():
                    if any("integer" in _json_types(a) for a in _alternatives(sub_prop, defs)):
                        entity = {**ITEM_SAMPLES["MessageEntity"], sub: True}
                        variants.append((f"{field}[0].{sub}", {**sample, field: [entity]}))
            for label, params in variants:
                status, body, _ = await api.request(name, params, token)
                if error_problem(status, body) or body["error"]["code"] != "INVALID_PARAMS":
                    failures.append(f"{name} {label}=true: {status} {str(body)[:160]}")
    assert not failures, f"{len(failures)} integer fields took `true`:\n" + "\n".join(failures)


# --- the transport ------------------------------------------------------------------------


async def test_malformed_bodies(api: Api, world: World) -> None:
    before = await _everything(api, world)
    token = world.alice.token
    cases: list[tuple[bytes, str]] = [
        (b'{"chat_id": 1, "text": "hi"', "INVALID_JSON"),
        (b"{'chat_id': 1}", "INVALID_JSON"),
        (b'{"chat_id": 1, "text": "hi",}', "INVALID_JSON"),
        (b"\xff\xfe\x00{", "INVALID_JSON"),
        (b'{"text": "\xed\xa0\x80"}', "INVALID_JSON"),  # a UTF-8 encoded lone surrogate
        (b"[" * 5000 + b"]" * 5000, "INVALID_JSON"),
        (b"undefined", "INVALID_JSON"),
        (json.dumps([{"chat_id": world.chat, "text": "hi"}]).encode(), "INVALID_PARAMS"),
        (b'"sendMessage"', "INVALID_PARAMS"),
        (b"42", "INVALID_PARAMS"),
        (b"true", "INVALID_PARAMS"),
    ]
    for method, auth in (("sendMessage", token), ("signUp", None)):
        for body, code in cases:
            status, answer, _ = await api.request(method, token=auth, body=body)
            assert_error(status, answer, code)
            assert status == 400
    assert await _everything(api, world) == before


async def test_unknown_method(api: Api, world: World) -> None:
    for name in ("noSuchMethod", "sendmessage", "SendMessage", "load_all", "getMe.json"):
        for token in (world.alice.token, None):
            status, body = await api.call(name, token)
            assert_error(status, body, "METHOD_NOT_FOUND")
            assert status == 404
            assert name in body["error"]["message"]


async def test_body_over_the_limit_is_refused_before_it_is_read(
    server: Server, api: Api, world: World
) -> None:
    limit = LIMITS.body_bytes
    # Declared too large: answered at once, while the client is still "sending" 50 MB.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(
            b"POST /api/sendMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Authorization: Bearer " + world.alice.token.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
            b'{"chat_id": 1, "text": "' + b"x" * 4096
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
        status_line, *header_lines = head.decode().split("\r\n")
        assert status_line.split()[1] == "413", status_line
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
        body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 2.0)
        assert_error(413, json.loads(body), "BODY_TOO_LARGE")
    finally:
        writer.close()

    # Streamed without a declared length: stopped at the limit as well.
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"chat_id": 1, "text": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    before = await _everything(api, world)
    assert api.http is not None
    try:
        async with api.http.post(
            "/api/sendMessage", data=chunks(),
            headers={"Authorization": f"Bearer {world.alice.token}"},
        ) as r:
            assert_error(r.status, await r.json(), "BODY_TOO_LARGE")
    except aiohttp.ClientOSError:
        pass  # the server may close before the client finishes streaming; fine
    # Exactly at the limit is not "too large" (here it fails for its content instead).
    padding = limit - len(json.dumps({"chat_id": world.chat, "text": ""}))
    exact = json.dumps({"chat_id": world.chat, "text": "x" * padding}).encode()
    assert len(exact) == limit
    status, answer, _ = await api.request("sendMessage", token=world.alice.token, body=exact)
    assert_error(status, answer, "INVALID_PARAMS")
    assert await _everything(api, world) == before


# --- the rules of particular fields -------------------------------------------------------


async def test_message_length_counts_utf16_units(api: Api, world: World) -> None:
    """4,096 UTF-16 code units: an emoji outside the BMP counts twice."""
    token, chat = world.alice.token, world.chat
    too_long = {
        "2,049 emoji (4,098 units, 2,049 code points)": "👍" * 2049,
        "4,095 x and an emoji (4,097 units, 4,096 code points)": "x" * 4095 + "👍",
        "4,097 x": "x" * 4097,
    }
    fits = {"2,048 emoji": "👍" * 2048, "4,096 x": "x" * 4096, "4,094 x + emoji": "x" * 4094 + "😀"}
    before = await _everything(api, world)
    for label, text in too_long.items():
        for name, params in (
            ("sendMessage", {"chat_id": chat, "text": text}),
            ("editMessage", {"chat_id": chat, "message_id": world.alice_msg, "text": text}),
            ("saveDraft", {"chat_id": chat, "text": text}),
        ):
            status, body = await api.call(name, token, **params)
            assert error_problem(status, body) is None, f"{name} {label}: {status} {body}"
            assert body["error"]["code"] == "MESSAGE_TOO_LONG", f"{name} {label}: {body}"
    assert await _everything(api, world) == before
    for label, text in fits.items():
        sent = await api.ok("sendMessage", token, chat_id=chat, text=text)
        assert sent["message"]["text"] == text, label
        other = text.replace("x", "y") if "x" in text else "😀" * 2048  # same length
        await api.ok("editMessage", token, chat_id=chat, message_id=sent["message"]["id"],
                     text=other)
        await api.ok("saveDraft", token, chat_id=chat, text=text)


async def test_bad_entities(api: Api, world: World) -> None:
    text = "hello 👍 world"  # the emoji takes UTF-16 units 6 and 7; 14 units in all
    bad_entities: dict[str, list[dict[str, Any]]] = {
        "past the end": [{"type": "bold", "offset": 0, "length": 15}],
        "starts inside the emoji": [{"type": "bold", "offset": 7, "length": 2}],
        "ends inside the emoji": [{"type": "bold", "offset": 0, "length": 7}],
        "unknown type": [{"type": "blink", "offset": 0, "length": 5}],
        "negative offset": [{"type": "bold", "offset": -1, "length": 2}],
        "zero length": [{"type": "bold", "offset": 0, "length": 0}],
        "url on bold": [{"type": "bold", "offset": 0, "length": 5, "url": "https://a.org"}],
        "text_link without url": [{"type": "text_link", "offset": 0, "length": 5}],
        "javascript url": [
            {"type": "text_link", "offset": 0, "length": 5, "url": "javascript:alert(1)"}
        ],
        "bidi override in url": [
            {"type": "text_link", "offset": 0, "length": 5, "url": "https://exa\u202eelpm.com"}
        ],
        "bad language": [{"type": "pre", "offset": 0, "length": 5, "language": "c plus plus"}],
        "text_mention without user": [{"type": "text_mention", "offset": 0, "length": 5}],
        "bold crossing code": [
            {"type": "code", "offset": 0, "length": 8},
            {"type": "bold", "offset": 6, "length": 8},
        ],
        "too many": [{"type": "italic", "offset": 0, "length": 1}] * 101,
    }
    token, chat = world.alice.token, world.chat
    before = await _everything(api, world)
    failures = []
    for label, entities in bad_entities.items():
        for name, params in (
            ("sendMessage", {"chat_id": chat, "text": text}),
            ("editMessage", {"chat_id": chat, "message_id": world.alice_msg, "text": text}),
            ("saveDraft", {"chat_id": chat, "text": text}),
        ):
            status, body = await api.call(name, token, entities=entities, **params)
            if error_problem(status, body) or body["error"]["code"] != "ENTITIES_INVALID":
                failures.append(f"{name} {label}: {status} {body}")
    assert not failures, "\n".join(failures)
    assert await _everything(api, world) == before
    # The emoji itself may be bold, and a link may be https.
    sent = await api.ok(
        "sendMessage", token, chat_id=chat, text=text,
        entities=[{"type": "bold", "offset": 6, "length": 2},
                  {"type": "text_link", "offset": 0, "length": 5, "url": "https://a.org/x"}],
    )
    assert {"type": "bold", "offset": 6, "length": 2} in [
        {k: e[k] for k in ("type", "offset", "length")} for e in sent["message"]["entities"]
    ]


async def test_bad_reactions(api: Api, world: World) -> None:
    bad = {
        "a letter": "a",
        "a word": "ok",
        "a digit": "1",
        "a space": " ",
        "emoji and letter": "👍a",
        "two emoji": "👍👍",
        "a joiner alone": "\u200d",
        "a variation selector alone": "\ufe0f",
        "emoji and space": "👍 ",
    }
    token, chat = world.alice.token, world.chat
    before = await _everything(api, world)
    failures = []
    for label, emoji in bad.items():
        status, body = await api.call(
            "setReaction", token, chat_id=chat, message_id=world.bob_msg, emoji=emoji
        )
        if error_problem(status, body) or body["error"]["code"] != "REACTION_INVALID":
            failures.append(f"{label} {emoji!r}: {status} {body}")
    after = await _everything(api, world)
    assert not failures, "\n".join(failures)
    assert after == before


async def test_every_single_emoji_is_a_valid_reaction(api: Api, world: World) -> None:
    good = ["👍", "❤️", "👍🏽", "🇳🇴", "❤️‍🔥", "👨‍👩‍👧", "©️", "1️⃣", "#️⃣"]
    failures = []
    for emoji in good:
        status, body = await api.call(
            "setReaction", world.bob.token, chat_id=world.chat, message_id=world.alice_msg,
            emoji=emoji,
        )
        if status != 200:
            failures.append(f"{emoji!r} ({emoji.encode('unicode_escape').decode()}): {body}")
    assert not failures, "\n".join(failures)


async def test_usernames(api: Api, world: World) -> None:
    invalid = ["ab", "1abc", "_abc", "a__b", "abc_", "ab-c", "ab c", "алиса", "ab@c", "a" * 33,
               "@", "@@alice"]
    token = world.bob.token
    before = await _everything(api, world)
    for name in invalid:
        status, body = await api.call(
            "signUp", username=name, password="pass-word-ok", display_name="X"
        )
        assert_error(status, body, "USERNAME_INVALID")
        status, body = await api.call("setUsername", token, username=name)
        assert_error(status, body, "USERNAME_INVALID")
    # Taken, in any case and with or without @.
    for name in ("alice", "ALICE", "Alice", "aLiCe", "@alice", "@ALICE"):
        status, body = await api.call(
            "signUp", username=name, password="pass-word-ok", display_name="X"
        )
        assert_error(status, body, "USERNAME_OCCUPIED")
        assert status == 409
        status, body = await api.call("setUsername", token, username=name)
        assert_error(status, body, "USERNAME_OCCUPIED")
    assert await _everything(api, world) == before
    # The holder may change the case of their own name; the limits themselves are fine.
    assert (await api.ok("setUsername", world.alice.token, username="ALICE"))["username"] == (
        "ALICE"
    )
    await api.ok("setUsername", token, username="b" * 32)
    await api.ok("signUp", username="abc", password="pass-word-ok", display_name="X")


async def test_passwords(api: Api, world: World) -> None:
    alice = world.alice
    before = await _everything(api, world)
    for weak in ("", "short", "1234567", "p" * 257):
        status, body = await api.call(
            "signUp", username="dave", password=weak, display_name="Dave"
        )
        assert error_problem(status, body) is None
        assert body["error"]["code"] in (
            ("INVALID_PARAMS", "PASSWORD_TOO_WEAK") if weak == "" else ("PASSWORD_TOO_WEAK",)
        ), (weak, body)
        if weak:
            status, body = await api.call(
                "changePassword", alice.token, old_password=alice.password, new_password=weak
            )
            assert_error(status, body, "PASSWORD_TOO_WEAK")
    # Wrong passwords: the same answer for an unknown user, so nothing leaks.
    status, wrong = await api.call("signIn", username="alice", password="wrong-password")
    assert_error(status, wrong, "PASSWORD_INVALID")
    assert status == 401
    status, unknown = await api.call("signIn", username="nobody", password="wrong-password")
    assert (status, unknown) == (401, wrong)
    status, invalid = await api.call("signIn", username="no way!", password="wrong-password")
    assert (status, invalid) == (401, wrong)
    status, body = await api.call(
        "changePassword", alice.token, old_password="wrong-password", new_password="n3w-pass-word"
    )
    assert_error(status, body, "PASSWORD_INVALID")
    assert await _everything(api, world) == before
    # The old password still works; the refused ones never took.
    await api.ok("signIn", username="alice", password=alice.password)
    status, body = await api.call("signIn", username="alice", password="n3w-pass-word")
    assert_error(status, body, "PASSWORD_INVALID")
    await api.ok("signUp", username="dave", password="12345678", display_name="Dave")


async def test_flood_wait(make_config) -> None:  # type: ignore[no-untyped-def]
    # make_config(rates=...) clashes with the rates the fixture sets itself (conftest.py:93),
    # so the low rates are applied to the config it returns.
    rates = {**TEST_RATES, "send": Rate(4, 3), "auth": Rate(0.001, 3)}
    srv = Server(replace(make_config(), rates=rates))
    await srv.start()
    try:
        async with Api(base_url(srv)) as api:
            # This server's store is not emptied first: names of its own.
            tag = uuid.uuid4().hex[:8]
            alice = await api.make_user(f"alice{tag}")
            bob = await api.make_user(f"bob{tag}")
            chat = (await api.ok("getPrivateChat", alice.token, user_id=bob.user_id))["id"]
            for i in range(3):
                await api.ok("sendMessage", alice.token, chat_id=chat, text=f"burst {i}")
            before = [await api.snapshot(u) for u in (alice, bob)]

            status, body, headers = await api.request(
                "sendMessage", {"chat_id": chat, "text": "one too many"}, alice.token
            )
            error = assert_error(status, body, "FLOOD_WAIT")
            assert status == 429
            assert isinstance(error["retry_after"], int) and error["retry_after"] >= 1
            assert headers["Retry-After"] == str(error["retry_after"])
            assert [await api.snapshot(u) for u in (alice, bob)] == before

            # Buckets are per user: Bob is not slowed down by Alice.
            await api.ok("sendMessage", bob.token, chat_id=chat, text="bob is fine")
            # Once the bucket refills (well within retry_after) Alice may send again.
            deadline = time.monotonic() + error["retry_after"] + 0.5
            while True:
                status, body = await api.call(
                    "sendMessage", alice.token, chat_id=chat, text="after waiting"
                )
                if status == 200 or time.monotonic() > deadline:
                    break
                assert_error(status, body, "FLOOD_WAIT")
                await asyncio.sleep(0.05)
            assert status == 200, body
            history = await api.ok("getHistory", alice.token, chat_id=chat)
            assert [m["text"] for m in history] == [
                "burst 0", "burst 1", "burst 2", "bob is fine", "after waiting"
            ]

            # Signing in is limited per address (2 sign-ups and 1 sign-in fill the bucket).
            await api.ok("signIn", username=alice.username, password=alice.password)
            sessions = await api.ok("getSessions", alice.token)
            status, body, headers = await api.request(
                "signIn", {"username": alice.username, "password": alice.password}
            )
            error = assert_error(status, body, "FLOOD_WAIT")
            assert headers["Retry-After"] == str(error["retry_after"])
            assert error["retry_after"] >= 1
            assert await api.ok("getSessions", alice.token) == sessions
    finally:
        await srv.stop()
