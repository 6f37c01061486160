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
import contextlib
import functools
import hashlib
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from PIL import Image

from heliograph.config import load_config
from heliograph.domain.limits import Limits
from heliograph.gateway.methods import load_all
from heliograph.gateway.ratelimit import Rate
from heliograph.server import Server
from tests.conftest import STORES, TEST_RATES, base_url
from tests.gateway.api import Api, User, assert_error, error_problem
from tests.media.files import upload

UNKNOWN = 999999
FUTURE = 4_102_444_800  # 2100-01-01, a date after everything stored
LIMITS = Limits()


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async with Api(base_url(server)) as client:
        yield client


# --- a small world every sample refers to ------------------------------------------------


@dataclass
class World:
    tag: str  # makes every name unique, so many worlds can share one server
    alice: User  # the caller: owner of `group` and `channel`
    alice2: User  # her second device
    bob: User  # in everything of Alice's; owner of `public` and `bobs`
    carol: User  # in nothing; has asked to join `group`
    erin: User  # banned from `group`
    chat: int  # Alice <-> Bob
    saved: int  # Alice's Saved Messages
    alice_msg: int  # in `chat`
    bob_msg: int  # in `chat`
    group: int  # Alice's group: Bob is a member, Erin is banned
    channel: int  # Alice's channel: Bob subscribes
    post: int  # in `channel`
    public: int  # Bob's public group "bobspublic"; Alice is not in it
    bobs: int  # Bob's private group with Alice as a plain member
    link: str  # an invite link of `group`
    approve_code: str  # a login code waiting for approval
    check_code: str  # another one, with its secret
    check_secret: str
    document: str  # a file Alice uploaded
    photo: str  # an image Alice uploaded
    upload: str  # Alice's finished upload of `document`
    sticker_file: str  # a sticker image Alice uploaded
    sticker_set: str  # the short name of Alice's sticker set of two stickers
    sticker: str  # the first sticker of that set
    sticker_set_id: int
    bot: int  # Alice's bot
    bot_token: str = ""
    # set by `equip_bot` for the methods that need a bot answering: Alice's chat with the
    # bot, a message of the bot there with an inline keyboard, and an inline query of hers
    bot_chat: int = 1
    keyboard_msg: int = 1
    inline_query: str = "Q" * 24

    @property
    def users(self) -> list[User]:
        return [self.alice, self.bob, self.carol, self.erin]

    @property
    def public_name(self) -> str:
        return f"bobspublic{self.tag}"


@functools.cache
def sticker_png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (512, 512), (shade, 100, 200, 255)).save(out, "PNG")
    return out.getvalue()


@functools.cache
def sample_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 150)).save(out, "JPEG")
    return out.getvalue()


async def build_world(api: Api) -> World:
    tag = uuid.uuid4().hex[:8]
    alice = await api.make_user(f"alice{tag}")
    alice2 = await api.sign_in(alice)
    bob = await api.make_user(f"bob{tag}")
    carol = await api.make_user(f"carol{tag}")
    erin = await api.make_user(f"erin{tag}")
    a, b = alice.token, bob.token
    chat = (await api.ok("getPrivateChat", a, user_id=bob.user_id))["id"]
    alice_msg = await api.ok("sendMessage", a, chat_id=chat, text="hello from alice")
    bob_msg = await api.ok("sendMessage", b, chat_id=chat, text="hello from bob")
    saved = (await api.ok("getPrivateChat", a, user_id=alice.user_id))["id"]
    await api.ok("sendMessage", a, chat_id=saved, text="note to self")
    await api.ok("addContact", a, user_id=bob.user_id)

    group = await api.ok("createGroup", a, title="Team", user_ids=[bob.user_id, erin.user_id])
    await api.ok("sendMessage", a, chat_id=group["id"], text="welcome to the team")
    await api.ok("banChatMember", a, chat_id=group["id"], user_id=erin.user_id)
    link = await api.ok("createInviteLink", a, chat_id=group["id"], title="friends")
    asking = await api.ok("createInviteLink", a, chat_id=group["id"], requires_approval=True)
    status, body = await api.call("joinChat", carol.token, invite_code=asking["code"])
    assert_error(status, body, "INVITE_REQUEST_SENT")
    channel = await api.ok("createChannel", a, title="News", about="all the news")
    await api.ok("addChatMembers", a, chat_id=channel["id"], user_ids=[bob.user_id])
    post = await api.ok("sendMessage", a, chat_id=channel["id"], text="first post #news")

    public = await api.ok("createGroup", b, title="Bob's public group")
    await api.ok("setChatUsername", b, chat_id=public["id"], username=f"bobspublic{tag}")
    await api.ok("sendMessage", b, chat_id=public["id"], text="hello world #news")
    bobs = await api.ok("createGroup", b, title="Bob and Alice", user_ids=[alice.user_id])
    await api.ok("sendMessage", b, chat_id=bobs["id"], text="hi alice")

    approve = await api.ok("requestLoginCode", device_name="tablet")
    check = await api.ok("requestLoginCode", device_name="tv")
    document_bytes = b"%PDF-1.4 minutes of the meeting"
    document = await upload(api, alice, document_bytes, "minutes.pdf")
    started = await api.ok(
        "startUpload",
        a,
        size=len(document_bytes),
        sha256=hashlib.sha256(document_bytes).hexdigest(),
    )
    photo = await upload(api, alice, sample_jpeg(), "photo.jpg")
    sticker_files = [
        await upload(api, alice, sticker_png(shade), f"s{shade}.png") for shade in (1, 2, 3)
    ]
    bot = await api.ok("createBot", a, name="Helper", username=f"helper{tag}bot")
    pack = await api.ok(
        "createStickerSet",
        a,
        title="Cats",
        short_name=f"cats{tag}",
        stickers=[{"file_id": f["id"], "emoji": ["😺"]} for f in sticker_files[:2]],
    )
    return World(
        tag=tag, alice=alice, alice2=alice2, bob=bob, carol=carol, erin=erin,
        chat=chat, saved=saved,
        alice_msg=alice_msg["message"]["id"], bob_msg=bob_msg["message"]["id"],
        group=group["id"], channel=channel["id"], post=post["message"]["id"],
        public=public["id"], bobs=bobs["id"], link=link["code"],
        approve_code=approve["code"], check_code=check["code"], check_secret=check["secret"],
        document=document["id"], photo=photo["id"], upload=started["upload_id"],
        sticker_file=sticker_files[2]["id"], sticker_set=pack["short_name"],
        sticker=pack["stickers"][0]["sticker"]["file_id"], sticker_set_id=pack["id"],
        bot=bot["id"], bot_token=bot["token"],
    )  # fmt: skip


@pytest.fixture
async def world(api: Api) -> World:
    return await build_world(api)


# The sweep over every method makes thousands of requests: it shares one server per store
# (each test still builds a world of its own, with names of its own), so that starting servers
# does not dominate its time. The server is real and configured as the `server` fixture's.
@pytest.fixture(scope="module", params=STORES)
def shared_store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_api(
    shared_store: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[Api]:
    database_url = request.getfixturevalue("postgres_url") if shared_store == "postgres" else ""
    base = load_config(
        env={},
        data_dir=str(tmp_path_factory.mktemp("shared")),
        port=0,
        database_url=database_url or None,
    )
    srv = Server(replace(base, rates=dict(TEST_RATES), shutdown_timeout=2.0))
    await srv.start()
    try:
        async with Api(base_url(srv)) as client:
            yield client
    finally:
        await srv.stop()


# Valid parameters for every method, called by Alice. Each bad request below differs from one
# of these in exactly one respect, and the test ends by calling the sample itself, so a sample
# that stopped being valid is noticed.
SAMPLES: dict[str, Callable[[World], dict[str, Any]]] = {
    # account
    "signUp": lambda w: {
        "username": f"dave{w.tag}",
        "password": "dave-pass-word",
        "display_name": "D",
    },
    "signIn": lambda w: {"username": w.alice.username, "password": w.alice.password},
    "signOut": lambda w: {},
    "requestLoginCode": lambda w: {"device_name": "watch", "client": "test"},
    "approveLoginCode": lambda w: {"code": w.approve_code},
    "checkLoginCode": lambda w: {"code": w.check_code, "secret": w.check_secret},
    "getSessions": lambda w: {},
    "endSession": lambda w: {"session_id": w.alice2.session_id},
    "endOtherSessions": lambda w: {},
    "changePassword": lambda w: {"old_password": w.alice.password, "new_password": "new-pass-1"},
    "deleteAccount": lambda w: {"password": w.alice.password},
    "getMe": lambda w: {},
    "updateProfile": lambda w: {"display_name": "Alice Two", "bio": "hi"},
    "setUsername": lambda w: {"username": f"alice_two{w.tag}"},
    "setPrivacy": lambda w: {"last_seen": "contacts", "private_chats": "contacts"},
    # users and contacts
    "getUsers": lambda w: {"user_ids": [w.bob.user_id]},
    "resolveUsername": lambda w: {"username": w.bob.username},
    "searchUsers": lambda w: {"query": w.bob.username},
    "getContacts": lambda w: {},
    "addContact": lambda w: {"user_id": w.carol.user_id},
    "removeContact": lambda w: {"user_id": w.bob.user_id},
    # chats and messages (paging cursors are used only when complete: samples give whole ones)
    "getPrivateChat": lambda w: {"user_id": w.carol.user_id},
    "getChats": lambda w: {"limit": 10, "before_activity": FUTURE, "before_chat_id": 1000},
    "getChat": lambda w: {"chat_id": w.chat},
    "getHistory": lambda w: {"chat_id": w.chat, "limit": 10},
    "getMessages": lambda w: {"chat_id": w.chat, "message_ids": [w.alice_msg]},
    "searchMessages": lambda w: {
        "query": "hello",
        "chat_id": w.chat,
        "before_date": FUTURE,
        "before_chat_id": 1000,
        "before_message_id": 1000,
    },
    "sendMessage": lambda w: {"chat_id": w.chat, "text": "hi bob"},
    "forwardMessages": lambda w: {
        "from_chat_id": w.chat,
        "message_ids": [w.bob_msg],
        "to_chat_id": w.saved,
    },
    "editMessage": lambda w: {"chat_id": w.chat, "message_id": w.alice_msg, "text": "edited"},
    "deleteMessages": lambda w: {"chat_id": w.chat, "message_ids": [w.alice_msg]},
    "pinMessage": lambda w: {"chat_id": w.chat, "message_id": w.bob_msg},
    "setReaction": lambda w: {"chat_id": w.chat, "message_id": w.bob_msg, "emoji": "👍"},
    "readHistory": lambda w: {"chat_id": w.chat, "max_id": w.bob_msg},
    "setTyping": lambda w: {"chat_id": w.chat, "action": "typing"},
    "saveDraft": lambda w: {"chat_id": w.chat, "text": "draft text"},
    "viewMessages": lambda w: {"chat_id": w.channel, "message_ids": [w.post]},
    # the chat list's arrangement
    "pinChat": lambda w: {"chat_id": w.chat},
    "reorderPinnedChats": lambda w: {"chat_ids": []},
    "archiveChat": lambda w: {"chat_id": w.group},
    "getPinnedChats": lambda w: {},
    # groups and channels
    "createGroup": lambda w: {"title": "Another group", "user_ids": [w.bob.user_id]},
    "createChannel": lambda w: {"title": "Another channel", "about": "more news"},
    "addChatMembers": lambda w: {"chat_id": w.group, "user_ids": [w.carol.user_id]},
    "editChatInfo": lambda w: {"chat_id": w.group, "title": "Team renamed"},
    "setChatUsername": lambda w: {"chat_id": w.group, "username": f"teamchat{w.tag}"},
    "promoteChatMember": lambda w: {
        "chat_id": w.group,
        "user_id": w.bob.user_id,
        "rights": {"pin_messages": True},
        "title": "Mod",
    },
    "restrictChatMember": lambda w: {
        "chat_id": w.group,
        "user_id": w.bob.user_id,
        "rights": {"send_messages": False},
        "until_date": FUTURE,
    },
    "banChatMember": lambda w: {"chat_id": w.group, "user_id": w.bob.user_id},
    "unbanChatMember": lambda w: {"chat_id": w.group, "user_id": w.erin.user_id},
    "removeChatMember": lambda w: {"chat_id": w.group, "user_id": w.bob.user_id},
    "leaveChat": lambda w: {"chat_id": w.bobs},
    "deleteChat": lambda w: {"chat_id": w.group},
    "transferChatOwnership": lambda w: {
        "chat_id": w.group,
        "user_id": w.bob.user_id,
        "password": w.alice.password,
    },
    "setChatDefaultRights": lambda w: {"chat_id": w.group, "rights": {"send_links": False}},
    "setChatSettings": lambda w: {"chat_id": w.group, "slow_mode_seconds": 10},
    "linkDiscussionGroup": lambda w: {"channel_id": w.channel, "group_id": w.group},
    "getChatMembers": lambda w: {"chat_id": w.group, "filter": "all", "limit": 10},
    "getAdminLog": lambda w: {"chat_id": w.group, "limit": 10},
    # invite links and discovery
    "createInviteLink": lambda w: {"chat_id": w.group, "title": "more", "usage_limit": 5},
    "getInviteLinks": lambda w: {"chat_id": w.group},
    "revokeInviteLink": lambda w: {"chat_id": w.group, "code": w.link},
    "exportPrimaryInviteLink": lambda w: {"chat_id": w.group},
    "getInviteLinkMembers": lambda w: {"chat_id": w.group, "code": w.link},
    "previewInvite": lambda w: {"code": w.link},
    "joinChat": lambda w: {"username": w.public_name},
    "getJoinRequests": lambda w: {"chat_id": w.group},
    "approveJoinRequest": lambda w: {"chat_id": w.group, "user_id": w.carol.user_id},
    "declineJoinRequest": lambda w: {"chat_id": w.group, "user_id": w.carol.user_id},
    "searchPublicChats": lambda w: {"query": w.public_name},
    "resolveChat": lambda w: {"username": w.public_name},
    "searchHashtag": lambda w: {"tag": "#news", "scope": "public"},
    "getPublicHistory": lambda w: {"chat_id": w.public, "limit": 10},
    # files and media
    "startUpload": lambda w: {"size": 10, "sha256": "ab" * 32, "name": "notes.txt"},
    "getUpload": lambda w: {"upload_id": w.upload},
    "finishUpload": lambda w: {"upload_id": w.upload},
    "getFile": lambda w: {"file_id": w.document},
    "sendMedia": lambda w: {
        "chat_id": w.chat,
        "media": {"type": "document", "file_id": w.document},
        "caption": "the minutes",
    },
    "sendAlbum": lambda w: {
        "chat_id": w.chat,
        "items": [
            {"media": {"type": "photo", "file_id": w.photo}, "caption": "one"},
            {"media": {"type": "photo", "file_id": w.photo}},
        ],
    },
    "setProfilePhoto": lambda w: {"file_id": w.photo},
    "setChatPhoto": lambda w: {"chat_id": w.group, "file_id": w.photo},
    # stickers
    "createStickerSet": lambda w: {
        "title": "Dogs",
        "short_name": f"dogs{w.tag}",
        "stickers": [{"file_id": w.sticker_file, "emoji": ["🐶"]}],
    },
    "addStickerToSet": lambda w: {
        "short_name": w.sticker_set,
        "sticker": {"file_id": w.sticker_file, "emoji": ["😸"]},
    },
    "removeStickerFromSet": lambda w: {"file_id": w.sticker},
    "setStickerPosition": lambda w: {"file_id": w.sticker, "position": 1},
    "setStickerEmoji": lambda w: {"file_id": w.sticker, "emoji": ["😻", "😺"]},
    "setStickerSetTitle": lambda w: {"set_id": w.sticker_set_id, "title": "Kittens"},
    "deleteStickerSet": lambda w: {"short_name": w.sticker_set},
    "getStickerSet": lambda w: {"short_name": w.sticker_set},
    "installStickerSet": lambda w: {"set_id": w.sticker_set_id},
    "uninstallStickerSet": lambda w: {"set_id": w.sticker_set_id},
    "getInstalledStickerSets": lambda w: {},
    "reorderStickerSets": lambda w: {"set_ids": [w.sticker_set_id]},
    "getStickerSuggestions": lambda w: {"emoji": "😺"},
    "searchStickerSets": lambda w: {"query": "cat"},
    # bots
    "createBot": lambda w: {"name": "Weather", "username": f"weather{w.tag}bot"},
    "getMyBots": lambda w: {},
    "editBot": lambda w: {
        "bot_id": w.bot,
        "description": "Forecasts",
        "commands": [{"command": "today", "description": "today's weather"}],
    },
    "revokeBotToken": lambda w: {"bot_id": w.bot},
    "deleteBot": lambda w: {"bot_id": w.bot},
    "getBotInfo": lambda w: {"bot_id": w.bot},
    # talking to bots
    "pressButton": lambda w: {"chat_id": w.bot_chat, "message_id": w.keyboard_msg, "data": "go"},
    "getInlineResults": lambda w: {"bot_id": w.bot, "query": "cats", "chat_id": w.chat},
    "sendInlineResult": lambda w: {
        "chat_id": w.chat,
        "query_id": w.inline_query,
        "result_id": "a1",
    },
    "startBot": lambda w: {"bot_id": w.bot, "parameter": "ref123"},
    # sync
    "getState": lambda w: {},
    "getDifference": lambda w: {"pts": 0},
    "getChannelDifference": lambda w: {"chat_id": w.channel, "pts": 0},
}

# Fields of which a request gives exactly one: a variant about one drops the other.
EXCLUSIVE: dict[str, tuple[str, str]] = {
    "joinChat": ("invite_code", "username"),
    "getPublicHistory": ("chat_id", "username"),
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
    # Views are counted for the posts that exist; the answer lists 0 for others.
    ("viewMessages", "message_ids"),
}
# Names that are looked up, and what an unknown one answers.
NAME_LOOKUPS = {
    "resolveUsername": "USER_NOT_FOUND",
    "resolveChat": "CHAT_NOT_FOUND",
    "joinChat": "CHAT_NOT_FOUND",
    "getPublicHistory": "CHAT_NOT_FOUND",
}
LOGIN_CODE_METHODS = {"approveLoginCode", "checkLoginCode"}

# The documented limits that are tighter than the schema's, one past each.
_TEXT_OVER = "x" * (LIMITS.message_length + 1)
_MANY_ENTITIES = [{"type": "bold", "offset": 0, "length": 1}] * (LIMITS.entities_per_message + 1)
_TITLE_OVER = "T" * (LIMITS.chat_title_max + 1)
_ABOUT_OVER = "a" * (LIMITS.chat_about_max + 1)
DOCUMENTED_LIMITS: list[tuple[str, str, Any, str]] = [
    ("sendMessage", "text", _TEXT_OVER, "MESSAGE_TOO_LONG"),
    ("editMessage", "text", _TEXT_OVER, "MESSAGE_TOO_LONG"),
    ("saveDraft", "text", "x" * (LIMITS.draft_length + 1), "MESSAGE_TOO_LONG"),
    ("sendMessage", "entities", _MANY_ENTITIES, "ENTITIES_INVALID"),
    ("editMessage", "entities", _MANY_ENTITIES, "ENTITIES_INVALID"),
    ("saveDraft", "entities", _MANY_ENTITIES, "ENTITIES_INVALID"),
    ("signUp", "username", "a" * (LIMITS.username_max + 1), "USERNAME_INVALID"),
    ("setUsername", "username", "a" * (LIMITS.username_max + 1), "USERNAME_INVALID"),
    ("setChatUsername", "username", "a" * (LIMITS.username_max + 1), "USERNAME_INVALID"),
    ("signUp", "password", "p" * (LIMITS.password_max + 1), "PASSWORD_TOO_WEAK"),
    ("changePassword", "new_password", "p" * (LIMITS.password_max + 1), "PASSWORD_TOO_WEAK"),
    ("signUp", "display_name", "D" * (LIMITS.display_name_max + 1), "INVALID_PARAMS"),
    ("updateProfile", "display_name", "D" * (LIMITS.display_name_max + 1), "INVALID_PARAMS"),
    ("updateProfile", "bio", "b" * (LIMITS.bio_max + 1), "INVALID_PARAMS"),
    ("searchUsers", "query", "a" * (LIMITS.username_max + 1), "INVALID_PARAMS"),
    ("searchMessages", "query", "q" * (LIMITS.search_query_max + 1), "INVALID_PARAMS"),
    ("setTyping", "action", "dancing", "INVALID_PARAMS"),
    ("setReaction", "emoji", "ok", "REACTION_INVALID"),
    ("createGroup", "title", _TITLE_OVER, "CHAT_TITLE_INVALID"),
    ("createChannel", "title", _TITLE_OVER, "CHAT_TITLE_INVALID"),
    ("editChatInfo", "title", _TITLE_OVER, "CHAT_TITLE_INVALID"),
    ("createGroup", "about", _ABOUT_OVER, "INVALID_PARAMS"),
    ("createChannel", "about", _ABOUT_OVER, "INVALID_PARAMS"),
    ("editChatInfo", "about", _ABOUT_OVER, "INVALID_PARAMS"),
    ("promoteChatMember", "title", "t" * (LIMITS.admin_title_max + 1), "INVALID_PARAMS"),
    ("createGroup", "user_ids", [1] * (LIMITS.members_per_request + 1), "INVALID_PARAMS"),
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
    name = ref.rsplit("/", 1)[-1]
    return {**defs[name], "$ref_name": name}


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
    # A specific code (or several), or None for "any proper 4xx". `ok_allowed`: a 200 is
    # acceptable too (the value is odd, not wrong), but never a 5xx.
    code: str | tuple[str, ...] | None = "INVALID_PARAMS"
    field: str | None = None
    ok_allowed: bool = False


USER_UNKNOWN = ("USER_NOT_FOUND", "USER_NOT_PARTICIPANT", "JOIN_REQUEST_NOT_FOUND")


def _unknown(method: str, field: str) -> tuple[Any, str | tuple[str, ...]] | None:
    """An unknown value for a field that names something, and what it must answer."""
    if (method, field) in NOT_IDS or field.startswith(("before_", "after_")):
        return None
    if field.endswith("chat_id") or field in ("channel_id", "group_id"):
        return UNKNOWN, "CHAT_NOT_FOUND"
    if field.endswith("message_id"):
        return UNKNOWN, "MESSAGE_NOT_FOUND"
    if field == "message_ids":
        return [UNKNOWN], "MESSAGE_NOT_FOUND"
    if field == "user_id":
        return UNKNOWN, USER_UNKNOWN
    if field == "user_ids":
        return [UNKNOWN], USER_UNKNOWN
    if field == "session_id":
        return UNKNOWN, "SESSION_NOT_FOUND"
    if field in ("code", "invite_code"):
        code = "LOGIN_TOKEN_INVALID" if method in LOGIN_CODE_METHODS else "INVITE_INVALID"
        return "NoSuchCode123", code
    if field == "username" and method in NAME_LOOKUPS:
        return "nosuchname", NAME_LOOKUPS[method]
    return None


def bad_requests(name: str, sample: dict[str, Any]) -> list[Bad]:
    """Every generic bad variant of a valid sample of method `name`."""
    model = load_all()[name].params
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    exclusive = EXCLUSIVE.get(name, ())

    def with_(field: str, value: Any) -> dict[str, Any]:
        others = [f for f in exclusive if f != field] if field in exclusive else []
        return {**{k: v for k, v in sample.items() if k not in others}, field: value}

    bad = [Bad("unknown extra field", {**sample, "unexpected_field": 1}, field="unexpected_field")]
    if exclusive:
        neither = {k: v for k, v in sample.items() if k not in exclusive}
        bad.append(Bad(f"neither of {exclusive}", neither))
        both = {**sample, **{f: sample.get(f, ITEM_SAMPLES["string"]) for f in exclusive}}
        bad.append(Bad(f"both of {exclusive}", both))

    for field in sorted(required):
        rest = {k: v for k, v in sample.items() if k != field}
        bad.append(Bad(f"missing {field}", rest, field=field))

    for field, prop in props.items():
        bad += [
            Bad(f"{field} = {json.dumps(v)}", with_(field, v), field=field)
            for v in _wrong_values(prop, defs)
        ]
        for alt in _alternatives(prop, defs):
            bad += _bad_values(field, alt, sample, with_, defs)
        unknown = _unknown(name, field)
        if unknown is not None:
            value, code = unknown
            bad.append(Bad(f"unknown {field}", with_(field, value), code=code))

    for method, field, value, code in DOCUMENTED_LIMITS:
        if method == name:
            bad.append(Bad(f"{field} over the documented limit", with_(field, value), code=code))
    return bad


def _bad_values(
    field: str,
    alt: dict[str, Any],
    sample: dict[str, Any],
    with_: Callable[[str, Any], dict[str, Any]],
    defs: dict[str, Any],
) -> list[Bad]:
    """Values of the right type that break the field's constraints."""
    kinds = _json_types(alt)
    bad: list[Bad] = []
    if "string" in kinds and "enum" in alt:
        bad.append(
            Bad(f"{field} not one of the choices", with_(field, "no-such-value"), field=field)
        )
    elif "string" in kinds:
        if "maxLength" in alt:
            long = "x" * (alt["maxLength"] + 1)
            bad.append(Bad(f"{field} over maxLength", with_(field, long), field=field))
        else:  # no limit in the schema: the server must still refuse a huge string
            bad.append(Bad(f"{field} huge", with_(field, "x" * 70_000), code=None))
        if alt.get("minLength", 0) >= 1:
            bad.append(Bad(f"{field} empty", with_(field, ""), field=field))
        if "pattern" in alt:
            bad.append(Bad(f"{field} against its pattern", with_(field, "no spaces!"), field=field))
    if "integer" in kinds and "enum" in alt:
        bad.append(Bad(f"{field} not one of the choices", with_(field, 7), field=field))
    elif "integer" in kinds:
        for bound, step in (("minimum", -1), ("maximum", 1)):
            if bound in alt:
                value = alt[bound] + step
                bad.append(Bad(f"{field} = {bound}{step:+d}", with_(field, value), field=field))
        # Past a 64-bit signed integer (what the database stores) where the schema sets no
        # bound: a refusal or an empty answer is fine, a crash is not.
        if "maximum" not in alt:
            bad.append(Bad(f"{field} = 2**63", with_(field, 2**63), code=None, ok_allowed=True))
        if "minimum" not in alt:
            big = -(2**63) - 1
            bad.append(Bad(f"{field} = -2**63-1", with_(field, big), code=None, ok_allowed=True))
    if "array" in kinds:
        items = alt.get("items", {})
        item = (sample.get(field) or [None])[0]
        if item is None:
            item = _item_sample(items, defs)
        for value in _wrong_values(items, defs):
            label = f"{field} item = {json.dumps(value)}"
            bad.append(Bad(label, with_(field, [value]), field=field))
        if "maxItems" in alt:
            over = [item] * (alt["maxItems"] + 1)
            bad.append(Bad(f"{field} over maxItems", with_(field, over), field=field))
        else:
            bad.append(Bad(f"{field} huge list", with_(field, [item] * 10_001), code=None))
        if alt.get("minItems", 0) >= 1:
            bad.append(Bad(f"{field} empty list", with_(field, []), field=field))
        resolved = _resolve(items, defs)
        if "properties" in resolved and isinstance(item, dict):
            bad += _bad_object(field, resolved, item, lambda o: with_(field, [o]), defs)
    if "object" in kinds and "properties" in alt:
        value = sample.get(field) or {}
        bad += _bad_object(field, alt, value, lambda o: with_(field, o), defs)
    return bad


def _bad_object(
    field: str,
    schema: dict[str, Any],
    value: dict[str, Any],
    put: Callable[[dict[str, Any]], dict[str, Any]],
    defs: dict[str, Any],
) -> list[Bad]:
    """For objects (entities, rights): each inner field missing, mistyped or unknown."""
    bad: list[Bad] = []
    for sub in schema.get("required", []):
        rest = {k: v for k, v in value.items() if k != sub}
        bad.append(Bad(f"{field} missing .{sub}", put(rest), field=field))
    for sub, prop in schema["properties"].items():
        for wrong in _wrong_values(prop, defs):
            label = f"{field}.{sub} = {json.dumps(wrong)}"
            bad.append(Bad(label, put({**value, sub: wrong}), field=field))
    bad.append(Bad(f"{field} with an unknown key", put({**value, "bogus": 1}), field=field))
    return bad


# --- checking answers and state -----------------------------------------------------------


async def _everything(api: Api, w: World) -> dict[str, Any]:
    """All that the users can read, and which user ids exist (a sign-up would add one)."""
    ids = [u.user_id for u in w.users]
    ids += [max(ids) + 1, max(ids) + 2]
    reads = {u.username: api.snapshot(u) for u in w.users}
    reads["users"] = api.read("getUsers", w.bob.token, user_ids=ids)
    reads["public"] = api.read("getPublicHistory", w.carol.token, username=w.public_name)
    views = dict(zip(reads, await asyncio.gather(*reads.values()), strict=True))
    if isinstance(views["users"], list):  # no order is promised (PostgreSQL varies it)
        views["users"].sort(key=lambda u: u["id"])
    return views


def _mentions(body: dict[str, Any], field: str) -> bool:
    error = body["error"]
    fields = [str(p.get("field", "")) for p in error.get("problems", [])]
    return field in error["message"] or any(field in f for f in fields)


async def _check(api: Api, name: str, token: str, bad: Bad) -> list[str]:
    """Make one bad request; what is wrong with the answer."""
    status, body, _ = await api.request(name, bad.params, token)
    where = f"{name} [{bad.label}]"
    failures = []
    wanted = (bad.code,) if isinstance(bad.code, str) else bad.code
    if not (status == 200 and bad.ok_allowed):
        problem = error_problem(status, body)
        if problem:
            failures.append(f"{where}: {problem}")
        elif wanted is not None and body["error"]["code"] not in wanted:
            error = body["error"]
            failures.append(f"{where}: {error['code']} ({error['message']}), want {bad.code}")
        elif (
            body["error"]["code"] == "INVALID_PARAMS"
            and bad.field
            and not _mentions(body, bad.field)
        ):
            failures.append(f"{where}: the error does not name {bad.field}: {body['error']}")
    return failures


def test_the_sample_table_names_every_method() -> None:
    methods = set(load_all())
    assert set(SAMPLES) == methods, (
        f"add samples for {sorted(methods - set(SAMPLES))}; remove {sorted(set(SAMPLES) - methods)}"
    )
    user = User("u", "p" * 8, "t", 1, 1)
    placeholder = World(
        "t", user, user, user, user, user, *range(1, 10), "CODE", "CODE", "CODE", "S",
        "F" * 24, "F" * 24, "U" * 24, "F" * 24, "cats", "F" * 24, 1, 1,
    )  # fmt: skip
    for name, sample in SAMPLES.items():
        # The samples are valid as far as the schema can tell (the test calls them too),
        # read as the server reads them: from JSON text.
        load_all()[name].params.model_validate_json(json.dumps(sample(placeholder)))


# Methods whose valid call waits for a bot's answer: a bot answers while they are tested.
NEEDS_ANSWERING_BOT = {"pressButton", "getInlineResults", "sendInlineResult"}


async def _bot_api(api: Api, token: str, method: str, **params: Any) -> Any:
    assert api.http is not None
    async with api.http.post(f"/bot{token}/{method}", json=params) as r:
        body = await r.json()
    assert body["ok"], body
    return body["result"]


async def _answer_every_query(api: Api, token: str) -> None:
    offset = 0
    while True:
        for update in await _bot_api(api, token, "getUpdates", offset=offset, timeout=1):
            offset = update["update_id"] + 1
            if "callback_query" in update:
                query = update["callback_query"]
                await _bot_api(api, token, "answerCallbackQuery", callback_query_id=query["id"])
            elif "inline_query" in update:
                article = {
                    "type": "article",
                    "id": "a1",
                    "title": "A",
                    "input_message_content": {"message_text": "from the bot"},
                }
                await _bot_api(
                    api,
                    token,
                    "answerInlineQuery",
                    inline_query_id=update["inline_query"]["id"],
                    results=[article],
                )


@contextlib.asynccontextmanager
async def answering_bot(api: Api, world: World) -> AsyncIterator[None]:
    """Alice's bot in inline mode, in a chat with her holding a keyboard, and answering."""
    a = world.alice.token
    await api.ok("editBot", a, bot_id=world.bot, inline=True)
    world.bot_chat = (await api.ok("startBot", a, bot_id=world.bot))["message"]["chat_id"]
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    sent = await _bot_api(
        api, world.bot_token, "sendMessage", chat_id=world.alice.user_id, text="press",
        reply_markup=keyboard,
    )  # fmt: skip
    world.keyboard_msg = sent["message_id"]
    responder = asyncio.create_task(_answer_every_query(api, world.bot_token))
    try:
        results = await api.ok("getInlineResults", a, bot_id=world.bot, query="x")
        world.inline_query = results["query_id"]
        yield
    finally:
        responder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await responder


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_every_bad_request_is_refused_and_changes_nothing(shared_api: Api, name: str) -> None:
    api = shared_api
    world = await build_world(api)
    async with contextlib.AsyncExitStack() as stack:
        if name in NEEDS_ANSWERING_BOT:
            await stack.enter_async_context(answering_bot(api, world))
        sample = SAMPLES[name](world)
        before = await _everything(api, world)
        failures = []
        for bad in bad_requests(name, sample):
            failures += await _check(api, name, world.alice.token, bad)
        if await _everything(api, world) != before:
            failures += await _find_changes(api, name)
        assert not failures, "\n".join(failures)
        # The sample itself is valid, so each bad request above failed for its one defect.
        await api.ok(name, world.alice.token, **sample)


async def _find_changes(api: Api, name: str) -> list[str]:
    """Something changed: replay the bad requests on a new world to name the requests that
    changed what. First cheaply (the pts of every box after each request); if that shows
    nothing, comparing everything after each request."""
    for thorough in (False, True):
        world = await build_world(api)
        look = _everything if thorough else _positions
        view = await look(api, world)
        changes = []
        for bad in bad_requests(name, SAMPLES[name](world)):
            status, _, _ = await api.request(name, bad.params, world.alice.token)
            now = await look(api, world)
            if now != view:
                where = first_difference(view, now).replace(world.tag, "")
                changes.append(f"{name} [{bad.label}] ({status}) changed {where}")
                view = now
        if changes:
            return changes
    return [f"{name}: the bad requests changed something (not seen on replay)"]


def first_difference(a: Any, b: Any, path: str = "") -> str:
    """Where two JSON values first differ, and how (shortened), for failure messages."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                return first_difference(a.get(key), b.get(key), f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path or '(all)'}: {json.dumps(a)[:120]} -> {json.dumps(b)[:120]}"


async def _positions(api: Api, w: World) -> dict[str, Any]:
    """The pts of each user's box and of the channel's."""
    users = await asyncio.gather(*(api.pts(u) for u in w.users))
    channel = await api.read("getChat", w.bob.token, chat_id=w.channel)
    return {**{u.username: p for u, p in zip(w.users, users, strict=True)}, "channel": channel}


@pytest.mark.asyncio(loop_scope="module")
async def test_json_true_is_not_an_integer(shared_api: Api) -> None:
    """The validators' lax mode must not read `true` as 1 (the entity rules say so too)."""
    api = shared_api
    world = await build_world(api)
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
            "/api/sendMessage",
            data=chunks(),
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
        await api.ok(
            "editMessage", token, chat_id=chat, message_id=sent["message"]["id"], text=other
        )
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
        "sendMessage",
        token,
        chat_id=chat,
        text=text,
        entities=[
            {"type": "bold", "offset": 6, "length": 2},
            {"type": "text_link", "offset": 0, "length": 5, "url": "https://a.org/x"},
        ],
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
            "setReaction",
            world.bob.token,
            chat_id=world.chat,
            message_id=world.alice_msg,
            emoji=emoji,
        )
        if status != 200:
            failures.append(f"{emoji!r} ({emoji.encode('unicode_escape').decode()}): {body}")
    assert not failures, "\n".join(failures)


async def test_usernames(api: Api, world: World) -> None:
    invalid = [
        "ab",
        "1abc",
        "_abc",
        "a__b",
        "abc_",
        "ab-c",
        "ab c",
        "алиса",
        "ab@c",
        "a" * 33,
        "@",
        "@@alice",
    ]
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
    taken = world.alice.username
    for name in (
        taken,
        taken.upper(),
        taken.title(),
        taken.swapcase(),
        f"@{taken}",
        f"@{taken}".upper(),
    ):
        status, body = await api.call(
            "signUp", username=name, password="pass-word-ok", display_name="X"
        )
        assert_error(status, body, "USERNAME_OCCUPIED")
        assert status == 409
        status, body = await api.call("setUsername", token, username=name)
        assert_error(status, body, "USERNAME_OCCUPIED")
    assert await _everything(api, world) == before
    # The holder may change the case of their own name; the limits themselves are fine.
    renamed = await api.ok("setUsername", world.alice.token, username=taken.upper())
    assert renamed["username"] == taken.upper()
    await api.ok("setUsername", token, username="b" * 32)
    await api.ok("signUp", username="abc", password="pass-word-ok", display_name="X")


async def test_passwords(api: Api, world: World) -> None:
    alice = world.alice
    before = await _everything(api, world)
    for weak in ("", "short", "1234567", "p" * 257):
        status, body = await api.call(
            "signUp", username=f"dave{world.tag}", password=weak, display_name="Dave"
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
    status, wrong = await api.call("signIn", username=alice.username, password="wrong-password")
    assert_error(status, wrong, "PASSWORD_INVALID")
    assert status == 401
    status, unknown = await api.call("signIn", username="nobody" + world.tag, password="wrong-pw1")
    assert (status, unknown) == (401, wrong)
    status, invalid = await api.call("signIn", username="no way!", password="wrong-password")
    assert (status, invalid) == (401, wrong)
    status, body = await api.call(
        "changePassword", alice.token, old_password="wrong-password", new_password="n3w-pass-word"
    )
    assert_error(status, body, "PASSWORD_INVALID")
    assert await _everything(api, world) == before
    # The old password still works; the refused ones never took.
    await api.ok("signIn", username=alice.username, password=alice.password)
    status, body = await api.call("signIn", username=alice.username, password="n3w-pass-word")
    assert_error(status, body, "PASSWORD_INVALID")
    await api.ok("signUp", username=f"dave{world.tag}", password="12345678", display_name="Dave")


async def test_flood_wait(make_config) -> None:  # type: ignore[no-untyped-def]
    # Low limits for sending and signing in; the rest as generous as everywhere else.
    # One send refilled every 2 s: a slow machine cannot refill the bucket mid-test.
    rates = {**TEST_RATES, "send": Rate(0.5, 3), "auth": Rate(0.001, 3)}
    srv = Server(make_config(rates=rates))
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
                "burst 0",
                "burst 1",
                "burst 2",
                "bob is fine",
                "after waiting",
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
