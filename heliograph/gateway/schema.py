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
from typing_extensions import is_typeddict

from heliograph.domain.entities import Draft, Message, Reaction
from heliograph.domain.errors import ErrorCode
from heliograph.domain.media import ProfilePhoto
from heliograph.domain.permissions import MemberRights, Role
from heliograph.gateway.methods import Method, load_all

REF = "#/components/schemas/{model}"
JSON = "application/json"


class SchemaError(Exception):
    """The method table cannot be described as one consistent schema."""


# --- what the server pushes: every update and event type, once ------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Pushed:
    """One type of update or event: what it means and its fields, besides `type` and, for
    updates, `pts`, `pts_count` and `chat_id`. `chat_box`: it may be in a large chat's box."""

    doc: str
    fields: dict[str, Any]
    chat_box: bool = False
    optional: frozenset[str] = frozenset()


_CHAT_INFO = {
    "title": str,
    "photo": ProfilePhoto | None,
    "about": str,
    "username": str | None,
    "deleted": bool,
    "default_rights": MemberRights,
    "slow_mode_seconds": int,
    "signatures": bool,
    "linked_chat_id": int | None,
}
# Read off services/messaging.py, interactions.py, groups.py, membership.py and sync.py: every
# `outbox.add` and `fan_out` (updates), `outbox.event` and `chat_event` (events).
UPDATE_TYPES: dict[str, Pushed] = {
    "new_message": Pushed(
        "A message was sent in one of your chats (also by you, on any device). From "
        "getDifference, `message` is null when it was deleted since; a later update says so.",
        {"message": Message | None},
        chat_box=True,
    ),
    "edit_message": Pushed(
        "A message was edited: replace it. `message` as in `new_message`.",
        {"message": Message | None},
        chat_box=True,
    ),
    "delete_messages": Pushed(
        "Messages were deleted for everyone, or by you for yourself: remove them.",
        {"message_ids": list[int]},
        chat_box=True,
    ),
    "read_inbox": Pushed(
        "You read the chat up to `max_id` (on some device): set its unread count.",
        {"max_id": int, "unread_count": int},
    ),
    "read_outbox": Pushed(
        "Others read the chat up to `max_id`: your messages up to it are read.",
        {"max_id": int},
        chat_box=True,
    ),
    "pinned_messages": Pushed(
        "Messages were pinned (`pinned` true) or unpinned in the chat.",
        {"message_ids": list[int], "pinned": bool},
        chat_box=True,
    ),
    "message_reactions": Pushed(
        "The reactions of a message changed: `reactions` is the complete new list. "
        "`user_id` changed theirs from `old` to `new` (emoji lists), when known.",
        {
            "message_id": int,
            "reactions": list[Reaction],
            "user_id": int,
            "old": list[str],
            "new": list[str],
        },
        chat_box=True,
        optional=frozenset({"user_id", "old", "new"}),
    ),
    "draft": Pushed(
        "Your draft in the chat changed on another device; null: it was cleared.",
        {"draft": Draft | None},
    ),
    "pinned_chats": Pushed(
        "Your pinned chats changed, on any device: `chat_ids` in their order, first shown "
        "first. This update has no `chat_id`.",
        {"chat_ids": list[int]},
        optional=frozenset({"chat_id"}),
    ),
    "chat_archived": Pushed(
        "The chat moved into your archive (`archived` true) or out of it, on any device.",
        {"archived": bool},
    ),
    "chat_info": Pushed(
        "A group or channel changed; only the fields that changed are present. `deleted`: "
        "the chat is gone, remove it. `linked_chat_id`: the channel's discussion group, or "
        "the group's channel, was linked (null: unlinked).",
        _CHAT_INFO,
        chat_box=True,
        optional=frozenset(_CHAT_INFO),
    ),
    "comment_count": Pushed(
        "A channel post got a comment in its discussion group: `message_id` (the post, in "
        "this channel) now has `comment_count` comments (its `discussion.comment_count`).",
        {"message_id": int, "comment_count": int},
        chat_box=True,
    ),
    "chat_membership": Pushed(
        "Your place in a group or channel changed (added, promoted, restricted, banned, left). "
        "For a large chat `box_pts` is where to follow its box from; null for a small chat. "
        "`old_role` and `actor_id` (who changed it), when known. Your rights change with "
        "your role (restricted, unrestricted, promoted): getChat gives your `my_rights`.",
        {"role": Role, "box_pts": int | None, "old_role": Role, "actor_id": int},
        optional=frozenset({"old_role", "actor_id"}),
    ),
    "chat_became_large": Pushed(
        "The group now keeps a box of its own: follow it from `box_pts`.", {"box_pts": int}
    ),
    "mention": Pushed(
        "You were mentioned or replied to in a large chat: fetch it with `getMessages`.",
        {"message_id": int},
    ),
    "join_request_declined": Pushed(
        "The administrators declined your request to join the chat; you may ask again.",
        {"title": str},
    ),
}
EVENT_TYPES: dict[str, Pushed] = {
    "typing": Pushed(
        "A member is typing in a chat: show it for about 6 seconds unless renewed. `action` "
        "is the one given to `setTyping`; `cancel` ends it at once.",
        {"chat_id": int, "user_id": int, "action": str},
    ),
    "user_status": Pushed(
        "A user you may see came online or went offline.",
        {"user_id": int, "online": bool, "last_seen": int},
    ),
    "join_request": Pushed(
        "Someone asked to join a chat you answer join requests of (`approveJoinRequest`).",
        {"chat_id": int, "user_id": int, "display_name": str, "username": str | None}
        | {"date": int, "invite_code": str, "pending_count": int},
    ),
    "sticker_sets_changed": Pushed(
        "Your installed sticker sets changed on another device (installed, removed or "
        "reordered), or a set you had installed was deleted: fetch them again with "
        "`getInstalledStickerSets`.",
        {},
    ),
    "join_request_resolved": Pushed(
        "A join request was answered (by you or another administrator).",
        {"chat_id": int, "user_id": int, "approved": bool, "pending_count": int},
    ),
}
_POSITION = {
    "pts": {"type": "integer", "description": "The box's position after this update."},
    "pts_count": {"type": "integer", "description": "Positions the update takes (today 1)."},
    "chat_id": {"type": "integer"},
}
_BOX = {"type": "integer", "description": "In a large chat's box: the chat's id. Else absent."}


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
    ErrorCode.ADMIN_REQUIRED: "This needs a right (of an administrator) you do not have.",
    ErrorCode.RIGHT_FORBIDDEN: "You may not do this to this member (an owner, a peer "
    "administrator, yourself), or grant a right you lack.",
    ErrorCode.OWNER_REQUIRED: "Only the chat's owner may do this; an owner transfers ownership "
    "before leaving.",
    ErrorCode.USER_BANNED_IN_CHAT: "You are banned from this chat.",
    ErrorCode.CHAT_SEND_MEDIA_FORBIDDEN: "You may not send media in this chat.",
    ErrorCode.CHAT_SEND_STICKERS_FORBIDDEN: "You may not send stickers in this chat.",
    ErrorCode.CHAT_SEND_LINKS_FORBIDDEN: "You may not send links in this chat.",
    ErrorCode.CHAT_SEND_POLLS_FORBIDDEN: "You may not send polls in this chat.",
    ErrorCode.USER_NOT_FOUND: "No such user, or not one you may see.",
    ErrorCode.CHAT_NOT_FOUND: "No such chat, or you are not a member.",
    ErrorCode.MESSAGE_NOT_FOUND: "No such message in the chat, or deleted for you.",
    ErrorCode.SESSION_NOT_FOUND: "No such session of your account.",
    ErrorCode.MESSAGE_NOT_MODIFIED: "The edit changes nothing.",
    ErrorCode.PEER_IS_SELF: "The action cannot target yourself.",
    ErrorCode.USER_NOT_PARTICIPANT: "The user is not a member (or not banned, to unban).",
    ErrorCode.USER_ALREADY_PARTICIPANT: "The users are members already.",
    ErrorCode.USERS_TOO_MANY: "The group would exceed its member limit.",
    ErrorCode.INVITE_REQUEST_SENT: "Not a failure: the link needs approval, so a join request "
    "for `chat_id` was sent to the administrators.",
    ErrorCode.JOIN_REQUEST_NOT_FOUND: "No such pending join request.",
    ErrorCode.INVITE_INVALID: "No such invite link.",
    ErrorCode.INVITE_EXPIRED: (
        "The invite link was revoked, expired, used up, or its creator can no longer invite."
    ),
    ErrorCode.CHAT_TITLE_INVALID: "The chat title is empty or too long.",
    ErrorCode.CHAT_NOT_MODIFIED: "The change changes nothing.",
    ErrorCode.PINNED_CHATS_TOO_MANY: "As many chats as allowed are pinned already: unpin one "
    "first.",
    ErrorCode.FILE_TOO_LARGE: "The file is larger than the server's `limit` (bytes).",
    ErrorCode.FILE_PART_INVALID: "No such part of the upload, or it has the wrong length "
    "(`expected` bytes), or the upload is already finished.",
    ErrorCode.FILE_CHECKSUM_MISMATCH: "The uploaded bytes do not have the SHA-256 given to "
    "`startUpload` (`sha256` is what arrived): send the parts again.",
    ErrorCode.UPLOAD_INCOMPLETE: "Parts are still missing (`missing` lists them).",
    ErrorCode.UPLOAD_NOT_FOUND: "No such upload of yours, or it expired.",
    ErrorCode.FILE_NOT_FOUND: "No such file, or none you may see.",
    ErrorCode.RANGE_NOT_SATISFIABLE: "The requested byte range lies outside the file.",
    ErrorCode.MEDIA_INVALID: "The file is not of the kind it was sent as (a voice note must "
    "be OGG/Opus), or too large for that kind.",
    ErrorCode.PHOTO_INVALID: "The file is not an image the server can read, or too large.",
    ErrorCode.ALBUM_INVALID: "An album holds 2 to 10 photos and videos.",
    ErrorCode.STICKER_INVALID: "The sticker file breaks a rule the message names (format, "
    "512 px side, bytes, duration).",
    ErrorCode.STICKER_EMOJI_INVALID: "A sticker needs one or more emoji, and only emoji.",
    ErrorCode.STICKER_SET_NOT_FOUND: "No such sticker set.",
    ErrorCode.STICKER_SET_FULL: "The sticker set already has the most stickers allowed.",
    ErrorCode.STICKER_SETS_TOO_MANY: "You have the most sticker sets installed (`limit`): "
    "uninstall one first.",
    ErrorCode.STICKER_NOT_FOUND: "No such sticker.",
    ErrorCode.SHORT_NAME_INVALID: "A set's short name is 1 to 64 letters, digits and "
    "underscores, starting with a letter.",
    ErrorCode.SHORT_NAME_OCCUPIED: "Another sticker set has that short name.",
    ErrorCode.URL_FORBIDDEN: "The address may not be fetched by the server.",
    ErrorCode.BOT_USERNAME_INVALID: "A bot's username must end in `bot` (any case).",
    ErrorCode.BOTS_TOO_MANY: "You own the most bots allowed (`limit`).",
    ErrorCode.BOT_NOT_FOUND: "No such bot of yours.",
    ErrorCode.BOT_TOKEN_INVALID: "The bot token is wrong or was revoked.",
    ErrorCode.BOT_COMMANDS_INVALID: "A command is 1 to 32 lowercase letters, digits and "
    "underscores with a description of 1 to 256 characters; at most 100 commands.",
    ErrorCode.BOT_METHOD_FORBIDDEN: "Bots may not call this method (or only bots may).",
    ErrorCode.QUERY_NOT_FOUND: "No such callback or inline query, or it expired.",
    ErrorCode.BOT_RESPONSE_TIMEOUT: "The bot did not answer in time.",
    ErrorCode.REPLY_MARKUP_INVALID: "The keyboard is malformed or too large.",
    ErrorCode.LINK_PREVIEW_FAILED: "The page could not be fetched for a preview.",
    ErrorCode.FLOOD_WAIT: "Too many requests: wait `retry_after` seconds (also the "
    "`Retry-After` header), then retry.",
    ErrorCode.SLOW_MODE_WAIT: "The group is in slow mode: wait `retry_after` seconds before "
    "your next message.",
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
        if self.mode == "serialization" and field["type"] != "typed-dict-field":
            return True
        return super().field_is_required(field, total)

    def dataclass_schema(self, schema: Any) -> Any:
        # A dataclass refuses unknown keyword arguments whatever the pydantic version says
        # of it in the schema: as input, it takes no additional properties.
        result = super().dataclass_schema(schema)
        if self.mode == "validation" and result.get("type") == "object":
            result.setdefault("additionalProperties", False)
        return result


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


def _pushed_name(tag: str, kind: str) -> str:
    return "".join(word.title() for word in tag.split("_")) + kind  # new_message: NewMessageUpdate


def _pushed(table: dict[str, Pushed], kind: str, defs: dict[str, Any]) -> dict[str, Any]:
    """Schemas of an update or event table into `defs`; returns their union, told apart by
    `type`."""
    mapping = {}
    for tag, pushed in table.items():
        props: dict[str, Any] = {"type": {"type": "string", "const": tag}}
        if kind == "Update":
            props |= _POSITION | ({"box": _BOX} if pushed.chat_box else {})
        props |= {k: _schema(tp, "serialization", defs) for k, tp in pushed.fields.items()}
        name = mapping[tag] = _pushed_name(tag, kind)
        defs[name] = {
            "title": name,
            "description": pushed.doc,
            "type": "object",
            "properties": props,
            "required": [k for k in props if k not in pushed.optional | {"box"}],
        }
    return {
        "oneOf": [_ref(name) for name in mapping.values()],
        "discriminator": {
            "propertyName": "type",
            "mapping": {tag: REF.format(model=name) for tag, name in mapping.items()},
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
                "retry_after": {"type": "integer", "description": "*_WAIT: seconds to wait."},
                "problems": {"type": "array", "items": problem, "description": "INVALID_PARAMS"},
                "index": {"type": "integer", "description": "ENTITIES_INVALID: the entity."},
                "chat_id": {"type": "integer", "description": "INVITE_REQUEST_SENT: the chat."},
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

    ours = ["Error", "ErrorResponse", "Update", "Event"]
    ours += [_pushed_name(t, "Update") for t in UPDATE_TYPES]
    ours += [_pushed_name(t, "Event") for t in EVENT_TYPES]
    names: dict[str, object] = {n: _OURS for n in ours} | {"ErrorCode": ErrorCode}
    for m in methods.values():
        _collect_names(m.params, names)
        _collect_names(m.result, names)
    for pushed in [*UPDATE_TYPES.values(), *EVENT_TYPES.values()]:
        for tp in pushed.fields.values():
            _collect_names(tp, names)

    outputs: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    results = {m.name: _schema(m.result, "serialization", outputs) for m in methods.values()}
    requests = {m.name: _schema(m.params, "validation", inputs) for m in methods.values()}
    update, event = _pushed(UPDATE_TYPES, "Update", outputs), _pushed(EVENT_TYPES, "Event", outputs)
    renames = _combine(outputs, inputs)
    difference = outputs.get("Difference", {}).get("properties", {}).get("updates", {})
    if difference.get("items") == _UNTYPED_DICT:  # typed `list[dict]` in services/sync.py
        difference["items"] = _ref("Update")
    outputs |= _error_schemas()
    outputs |= {"Update": update, "Event": event}

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
