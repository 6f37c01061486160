"""The OpenAPI 3.1 document of the client API, built from the method table.

Parameter schemas come from each method's pydantic model, result schemas from its result type
(the dataclasses clients receive), all through pydantic, so the schema says what the server
accepts and sends. The reference page (`docs.py`) is rendered from this document alone."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
from enum import Enum
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from typing_extensions import TypedDict, is_typeddict

from heliograph.domain.entities import Draft, Message, Reaction
from heliograph.domain.errors import ErrorCode
from heliograph.gateway.methods import Method, load_all

REF = "#/components/schemas/{model}"
JSON = "application/json"


class SchemaError(Exception):
    """The method table cannot be described as one consistent schema."""


# --- what the server pushes: the one list of update and event types -------------------------


class _ChatUpdate(TypedDict):
    pts: int
    pts_count: int
    chat_id: int


class NewMessageUpdate(_ChatUpdate):
    """A message was sent in one of your chats (also by you, on any device). From
    getDifference, `message` is null when it was deleted since; a later update says so."""

    type: Literal["new_message"]
    message: Message | None


class EditMessageUpdate(_ChatUpdate):
    """A message was edited: replace it. `message` as in `new_message`."""

    type: Literal["edit_message"]
    message: Message | None


class DeleteMessagesUpdate(_ChatUpdate):
    """Messages were deleted for everyone, or by you for yourself: remove them."""

    type: Literal["delete_messages"]
    message_ids: list[int]


class ReadInboxUpdate(_ChatUpdate):
    """You read the chat up to `max_id` (on some device): set its unread count."""

    type: Literal["read_inbox"]
    max_id: int
    unread_count: int


class ReadOutboxUpdate(_ChatUpdate):
    """Another member read the chat up to `max_id`: your messages up to it are read."""

    type: Literal["read_outbox"]
    max_id: int


class PinnedMessagesUpdate(_ChatUpdate):
    """Messages were pinned (`pinned` true) or unpinned in the chat."""

    type: Literal["pinned_messages"]
    message_ids: list[int]
    pinned: bool


class MessageReactionsUpdate(_ChatUpdate):
    """The reactions of a message changed: `reactions` is the complete new list."""

    type: Literal["message_reactions"]
    message_id: int
    reactions: list[Reaction]


class DraftUpdate(_ChatUpdate):
    """Your draft in the chat changed on another device; null: it was cleared."""

    type: Literal["draft"]
    draft: Draft | None


class TypingEvent(TypedDict):
    """A member is typing in a chat: show it for about 6 seconds unless renewed. `action` is
    the one given to `setTyping`; `cancel` ends it at once."""

    type: Literal["typing"]
    chat_id: int
    user_id: int
    action: str


class UserStatusEvent(TypedDict):
    """A user you may see came online or went offline."""

    type: Literal["user_status"]
    user_id: int
    online: bool
    last_seen: int


# fmt: off
UPDATE_TYPES: tuple[type, ...] = (
    NewMessageUpdate, EditMessageUpdate, DeleteMessagesUpdate, ReadInboxUpdate,
    ReadOutboxUpdate, PinnedMessagesUpdate, MessageReactionsUpdate, DraftUpdate,
)
# fmt: on
EVENT_TYPES: tuple[type, ...] = (TypingEvent, UserStatusEvent)


def type_tag(tp: type) -> str:
    """The `type` field value of an update or event TypedDict."""
    return str(get_args(get_type_hints(tp)["type"])[0])


# --- errors -----------------------------------------------------------------------------------

# Every code needs a meaning here; tests/gateway/test_docs.py checks that none is missing.
ERROR_MEANINGS: dict[ErrorCode, str] = {
    ErrorCode.BAD_REQUEST: "The request is malformed (a WebSocket call without `method`).",
    ErrorCode.INVALID_JSON: "The body is not valid JSON.",
    ErrorCode.INVALID_PARAMS: "A parameter is missing, unknown, of the wrong type or out of "
    "range; `problems` lists each as `{field, problem}`.",
    ErrorCode.BODY_TOO_LARGE: "The request body is larger than the server accepts.",
    ErrorCode.METHOD_NOT_FOUND: "There is no method of this name.",
    ErrorCode.MESSAGE_EMPTY: "The message text is empty or only white space.",
    ErrorCode.MESSAGE_TOO_LONG: "The text (or draft) is longer than allowed.",
    ErrorCode.ENTITIES_INVALID: "A formatting entity is invalid (unknown type, outside the "
    "text, splitting a surrogate pair, bad URL, too many); `index` names it.",
    ErrorCode.USERNAME_INVALID: "The username breaks the rules: 3-32 Latin letters, digits "
    "and underscores, starting with a letter.",
    ErrorCode.USERNAME_OCCUPIED: "Another account has this username (ignoring case).",
    ErrorCode.PASSWORD_TOO_WEAK: "The new password is too short (or too long).",
    ErrorCode.PASSWORD_INVALID: "The username or password is wrong.",
    ErrorCode.LOGIN_TOKEN_INVALID: "The login code is unknown or used, or the secret is wrong.",
    ErrorCode.LOGIN_TOKEN_EXPIRED: "The login code has expired: request a new one.",
    ErrorCode.REACTION_INVALID: "The reaction is not one emoji, or the message takes none.",
    ErrorCode.PTS_INVALID: "The `pts` given is negative or ahead of the server's: drop local "
    "state and start again from getState.",
    ErrorCode.AUTH_REQUIRED: "The method needs a session: send `Authorization: Bearer <token>`.",
    ErrorCode.SESSION_REVOKED: "The token's session has ended (signed out, ended from another "
    "device, password changed, account deleted): sign in again.",
    ErrorCode.USER_DISABLED: "An administrator has disabled this account.",
    ErrorCode.PRIVACY_RESTRICTED: "The user's privacy settings forbid this.",
    ErrorCode.CHAT_WRITE_FORBIDDEN: "You may not write in this chat (e.g. the other side "
    "deleted their account).",
    ErrorCode.MESSAGE_EDIT_FORBIDDEN: "Only the sender may edit a message; service and "
    "forwarded messages cannot be edited.",
    ErrorCode.MESSAGE_DELETE_FORBIDDEN: "Outside private chats only your own messages can be "
    "deleted for everyone.",
    ErrorCode.ADMIN_REQUIRED: "This needs an administrator right you do not have.",
    ErrorCode.USER_NOT_FOUND: "No such user, or not one you may see.",
    ErrorCode.CHAT_NOT_FOUND: "No such chat, or you are not a member.",
    ErrorCode.MESSAGE_NOT_FOUND: "No such message in the chat, or deleted for you.",
    ErrorCode.SESSION_NOT_FOUND: "No such session of your account.",
    ErrorCode.MESSAGE_NOT_MODIFIED: "The edit changes nothing.",
    ErrorCode.PEER_IS_SELF: "The action cannot target yourself.",
    ErrorCode.FLOOD_WAIT: "Too many requests: wait `retry_after` seconds (also the "
    "`Retry-After` header), then retry.",
    ErrorCode.INTERNAL: "An unexpected server error; retry later.",
    ErrorCode.UNAVAILABLE: "The server is starting, stopping or overloaded; retry later.",
}


# --- building the document --------------------------------------------------------------------

Mode = Literal["validation", "serialization"]
_OURS = object()  # names of the schemas this module writes itself
_UNTYPED_DICT = {"additionalProperties": True, "type": "object"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


class _Generator(GenerateJsonSchema):
    """Results carry every field: the gateway encodes dataclasses whole, defaults included."""

    def field_is_required(self, field: Any, total: bool) -> bool:
        return self.mode == "serialization" or super().field_is_required(field, total)


def _is_named(tp: Any) -> bool:
    return isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or is_typeddict(tp) or issubclass(tp, BaseModel | Enum)
    )


def _collect_names(tp: Any, found: dict[str, object]) -> None:
    """Walk every named type reachable from `tp`; fail on two different types of one name."""
    origin = get_origin(tp)
    if origin is Literal:
        return
    if origin is Annotated:
        return _collect_names(get_args(tp)[0], found)
    if origin is not None or isinstance(tp, types.UnionType):
        for arg in get_args(tp):
            _collect_names(arg, found)
        return
    if not _is_named(tp):
        return
    previous = found.get(tp.__name__)
    if previous is tp:
        return
    if previous is not None:
        where = getattr(previous, "__module__", __name__)
        raise SchemaError(
            f"two different types are named {tp.__name__!r}: in {where} and in {tp.__module__}"
        )
    found[tp.__name__] = tp
    if issubclass(tp, BaseModel):
        hints: list[Any] = [f.annotation for f in tp.model_fields.values()]
    else:
        hints = [] if issubclass(tp, Enum) else list(get_type_hints(tp).values())
    for hint in hints:
        _collect_names(hint, found)


def _schema(tp: Any, mode: Mode, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema of `tp`; named types go into `defs` (one schema per name) as references."""
    schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode, schema_generator=_Generator)
    found: dict[str, Any] = schema.pop("$defs", {})
    if _is_named(tp) and "$ref" not in schema:
        found[tp.__name__] = schema
        schema = _ref(tp.__name__)
    for name, value in found.items():
        if defs.setdefault(name, value) != value:
            raise SchemaError(f"two different {mode} schemas are named {name!r}")
    return schema


def _rename_refs(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, dict):
        ref = value.get("$ref")
        for old, new in renames.items():
            if ref == REF.format(model=old):
                return {**value, "$ref": REF.format(model=new)}
        return {k: _rename_refs(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_refs(v, renames) for v in value]
    return value


def _combine(outputs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, str]:
    """Merge the parameter schemas into the result schemas. A type that reads differently as
    input (unknown fields forbidden, defaults optional) is named `<Name>Input` there."""
    renames = {n: f"{n}Input" for n, s in inputs.items() if outputs.get(n, s) != s}
    for name, schema in inputs.items():
        new_name = renames.get(name, name)
        schema = _rename_refs(schema, renames)
        if outputs.setdefault(new_name, schema) != schema:
            raise SchemaError(f"the input schema {new_name!r} clashes with another")
    return renames


def _union(members: tuple[type, ...]) -> dict[str, Any]:
    return {
        "oneOf": [_ref(t.__name__) for t in members],
        "discriminator": {
            "propertyName": "type",
            "mapping": {type_tag(t): REF.format(model=t.__name__) for t in members},
        },
    }


def _error_schemas() -> dict[str, Any]:
    problem = {
        "type": "object",
        "required": ["field", "problem"],
        "properties": {"field": {"type": "string"}, "problem": {"type": "string"}},
    }
    return {
        "ErrorCode": {
            "type": "string",
            "description": "Stable error codes. `x-http-status` gives each one's HTTP status.",
            "enum": [c.name for c in ErrorCode],
            "x-enum-descriptions": [ERROR_MEANINGS.get(c, "") for c in ErrorCode],
            "x-http-status": {c.name: c.status for c in ErrorCode},
        },
        "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": _ref("ErrorCode"),
                "message": {"type": "string", "description": "For people; may change."},
                "retry_after": {"type": "integer", "description": "FLOOD_WAIT: seconds."},
                "problems": {"type": "array", "items": problem, "description": "INVALID_PARAMS"},
                "index": {"type": "integer", "description": "ENTITIES_INVALID: the entity."},
            },
        },
        "ErrorResponse": {
            "type": "object",
            "required": ["ok", "error"],
            "properties": {"ok": {"const": False}, "error": _ref("Error")},
        },
    }


def _error_responses() -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code in ErrorCode:
        by_status.setdefault(code.status, []).append(code.name)
    return {
        f"Error{status}": {
            "description": ", ".join(codes),
            "content": {JSON: {"schema": _ref("ErrorResponse")}},
        }
        for status, codes in sorted(by_status.items())
    }


def _describe(m: Method) -> tuple[str, str]:
    """Summary and description: the docstring's first paragraph, and the rest. (`m.summary` is
    only the first line, which cuts a summary that wraps mid-sentence.)"""
    if not m.handler.__doc__:
        return m.summary, m.doc
    first, _, rest = inspect.cleandoc(m.handler.__doc__).partition("\n\n")
    return " ".join(first.split()), rest.strip()


def _operation(m: Method, request: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    summary, description = _describe(m)
    envelope = {
        "type": "object",
        "required": ["ok", "result"],
        "properties": {"ok": {"const": True}, "result": result},
    }
    op: dict[str, Any] = {
        "operationId": m.name,
        "tags": [m.group],
        "summary": summary,
        "description": description,
        "security": [{"bearerAuth": []}] if m.auth else [],
        "x-rate-limit": m.rate,
        "requestBody": {
            "required": any(f.is_required() for f in m.params.model_fields.values()),
            "content": {JSON: {"schema": request}},
        },
        "responses": {"200": {"description": "Success", "content": {JSON: {"schema": envelope}}}},
    }
    for name in _error_responses():
        op["responses"][name.removeprefix("Error")] = {"$ref": f"#/components/responses/{name}"}
    if not description:
        del op["description"]
    return op


def build_openapi(methods: dict[str, Method], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `methods`. Raises SchemaError when two different types
    share a name (their schemas would overwrite each other)."""
    from heliograph.gateway.docs import guide  # the prose lives with the page

    names: dict[str, object] = {n: _OURS for n in ("Error", "ErrorResponse", "Update", "Event")}
    names["ErrorCode"] = ErrorCode
    for m in methods.values():
        _collect_names(m.params, names)
        _collect_names(m.result, names)
    for tp in UPDATE_TYPES + EVENT_TYPES:
        _collect_names(tp, names)

    outputs: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    results = {m.name: _schema(m.result, "serialization", outputs) for m in methods.values()}
    requests = {m.name: _schema(m.params, "validation", inputs) for m in methods.values()}
    for tp in UPDATE_TYPES + EVENT_TYPES:
        _schema(tp, "serialization", outputs)
    renames = _combine(outputs, inputs)
    difference = outputs.get("Difference", {}).get("properties", {}).get("updates", {})
    if difference.get("items") == _UNTYPED_DICT:  # typed `list[dict]` in services/sync.py
        difference["items"] = _ref("Update")
    outputs |= _error_schemas()
    outputs["Update"] = _union(UPDATE_TYPES)
    outputs["Event"] = _union(EVENT_TYPES)

    tags = list(dict.fromkeys(m.group for m in methods.values()))
    paths = {
        f"/api/{m.name}": {
            "post": _operation(m, _rename_refs(requests[m.name], renames), results[m.name])
        }
        for m in methods.values()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Heliograph client API",
            "version": version,
            "description": guide(),  # the guide of the reference page
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "tags": [{"name": t} for t in tags],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(outputs.items())),
            "responses": _error_responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The `token` of an Authorization (signUp, signIn, "
                    "checkLoginCode).",
                }
            },
        },
    }


@functools.cache
def openapi() -> dict[str, Any]:
    """The document of this server's methods, built once per process. Do not modify it."""
    from heliograph import __version__

    return build_openapi(load_all(), __version__)
