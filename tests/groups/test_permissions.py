"""The permission matrix of groups and channels, end to end over the API.

Every action is tried by every kind of participant: the owner, an administrator holding
exactly one right (one per right), an administrator holding every right but the one the
action needs, a plain member (a subscriber in a channel), restricted members, a banned user,
one who left and a stranger (and, where it matters, a few more roles). The tables below say
what each of them gets: OK or the precise error code, with its documented HTTP status. A
refusal must change nothing: the owner's view of the chat (history, the chat, members,
banned users, admin log) and the common boxes of owner and actor are compared before and
after. An allowed call is checked for its effect.

All cases run on one server per store (users are shared; each case gets a fresh chat), so
the matrix takes seconds rather than a server per case."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from tests.conftest import STORES
from tests.groups.helpers import Api, User, assert_error, running_server

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN_RIGHTS = (
    "change_info",
    "delete_messages",
    "ban_users",
    "invite_users",
    "pin_messages",
    "manage_admins",
    "post_anonymously",
    "post_messages",
    "edit_messages",
)
# Groups with more members than this get a box of their own. The matrix chats stay below it
# (at most five members); the large group of the read tests goes above it.
LARGE_CHAT_THRESHOLD = 5

OK = "OK"
WRITE = "CHAT_WRITE_FORBIDDEN"
LINKS = "CHAT_SEND_LINKS_FORBIDDEN"
EDIT = "MESSAGE_EDIT_FORBIDDEN"
ADMIN = "ADMIN_REQUIRED"
RIGHT = "RIGHT_FORBIDDEN"
OWNER = "OWNER_REQUIRED"
SLOW = "SLOW_MODE_WAIT"
BANNED = "USER_BANNED_IN_CHAT"
GONE = "CHAT_NOT_FOUND"
SLOW_MODE = 60
# A restriction lists the rights a member keeps, and pin_messages and change_info default to
# false there: restricting anything also takes those two.
KEPT_NO_MORE = {"send_messages": ADMIN, "send_links": ADMIN}


# --- the shared server and its users ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cast:
    owner: User  # owns every chat
    actor: User  # plays the role under test
    target: User  # a plain member acted upon; the author of the message acted upon in groups
    peer: User  # another administrator; the author of the post acted upon in channels
    outsider: User  # in no chat: the one added
    fillers: tuple[User, ...]  # members that make a group large


@dataclass(frozen=True, slots=True)
class World:
    api: Api
    cast: Cast


@pytest.fixture(scope="module", params=STORES)
def store_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    store_name: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    url = request.getfixturevalue("postgres_url") if store_name == "postgres" else None
    data_dir = tmp_path_factory.mktemp(f"permissions-{store_name}")
    async with running_server(
        store_name, data_dir, url, large_chat_threshold=LARGE_CHAT_THRESHOLD
    ) as api:
        owner, actor, target, peer, outsider = [
            await api.make_user(name) for name in ("owner", "actor", "target", "peer", "outsider")
        ]
        fillers = tuple([await api.make_user(f"filler{i}") for i in range(3)])
        yield World(api, Cast(owner, actor, target, peer, outsider, fillers))


# --- roles -----------------------------------------------------------------------------------


def admin_rights(role: str) -> dict[str, bool]:
    """The rights of an `admin:...` role: `admin:a+b` holds a and b, `admin:all-but-x` every
    right but x."""
    spec = role.removeprefix("admin:")
    if spec.startswith("all-but-"):
        missing = spec.removeprefix("all-but-")
        return {r: r != missing for r in ADMIN_RIGHTS}
    held = set(spec.split("+"))
    assert held <= set(ADMIN_RIGHTS), role
    return {r: r in held for r in ADMIN_RIGHTS}


def group_roles(right: str | None) -> list[str]:
    return [
        "owner",
        *(f"admin:{r}" for r in ADMIN_RIGHTS),
        *([f"admin:all-but-{right}"] if right else []),
        "member",
        "restricted:send_messages",
        "restricted:send_links",
        "restricted:lapsed",  # send_messages and send_links taken until a date now past
        "banned",
        "left",
        "stranger",
    ]


def channel_roles(right: str | None) -> list[str]:
    return [
        "owner",
        *(f"admin:{r}" for r in ADMIN_RIGHTS),
        *([f"admin:all-but-{right}"] if right else []),
        "subscriber",
        "banned",
        "left",
        "stranger",
    ]


@dataclass(frozen=True, slots=True)
class Rule:
    """Who gets what. `right` is the administrator right the action needs (None: it needs no
    right, and `holder` applies to every administrator)."""

    right: str | None
    owner: str = OK
    holder: str = OK  # an administrator holding `right`
    lacking: str = ADMIN  # an administrator without it
    member: str = ADMIN  # a plain member or subscriber (and a restricted member, by default)
    restricted: dict[str, str] = field(default_factory=dict)  # restriction -> outcome
    extra: dict[str, str] = field(default_factory=dict)  # further roles for this action

    def expected(self, role: str) -> str:
        if role in self.extra:
            return self.extra[role]
        if role == "owner":
            return self.owner
        if role.startswith("admin:"):
            holds = self.right is None or admin_rights(role)[self.right]
            return self.holder if holds else self.lacking
        if role == "banned":
            return BANNED
        if role in ("left", "stranger"):
            return GONE
        if role.startswith("restricted:"):
            return self.restricted.get(role.removeprefix("restricted:"), self.member)
        return self.member


# --- a case: one role, one fresh chat --------------------------------------------------------


@dataclass(slots=True)
class Case:
    api: Api
    cast: Cast
    kind: str
    role: str
    actor: User
    chat_id: int
    message_id: int  # someone else's message (the target's) or post (the peer's)

    @property
    def owner(self) -> User:
        return self.cast.owner

    async def act(self, method: str, **params: Any) -> tuple[int, Any]:
        """The actor calls `method` on this chat."""
        return await self.api.call(method, self.actor, chat_id=self.chat_id, **params)

    async def as_owner(self, method: str, **params: Any) -> Any:
        return await self.api.ok(method, self.owner, chat_id=self.chat_id, **params)

    async def member(self, user: User, which: str = "all") -> dict[str, Any] | None:
        members = await self.as_owner("getChatMembers", filter=which, limit=200)
        return next((m for m in members if m["user_id"] == user.user_id), None)

    async def history(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.as_owner("getHistory", limit=100)
        return result


async def open_case(world: World, kind: str, role: str) -> Case:
    """A fresh group or channel of the owner, with the target, an administrator peer, someone
    else's message, and the actor in `role`."""
    api, cast = world.api, world.cast
    owner = cast.owner
    actor = owner if role == "owner" else cast.actor
    joined = role not in ("owner", "stranger")
    user_ids = [cast.target.user_id, cast.peer.user_id] + ([actor.user_id] if joined else [])
    if kind == "group":
        chat_id = (await api.ok("createGroup", owner, title="Matrix", user_ids=user_ids))["id"]
    else:
        chat_id = (await api.ok("createChannel", owner, title="Matrix"))["id"]
        await api.ok("addChatMembers", owner, chat_id=chat_id, user_ids=user_ids)
    peer_rights = {"change_info": True} if kind == "group" else {"post_messages": True}
    await api.ok(
        "promoteChatMember", owner, chat_id=chat_id, user_id=cast.peer.user_id, rights=peer_rights
    )
    author = cast.target if kind == "group" else cast.peer
    sent = await api.ok("sendMessage", author, chat_id=chat_id, text="someone else's words")
    chat = {"chat_id": chat_id, "user_id": actor.user_id}
    if role.startswith("admin:"):
        await api.ok("promoteChatMember", owner, **chat, rights=admin_rights(role))
    elif role in ("restricted:lapsed", "restricted:until_later"):
        taken = {"send_messages": False, "send_links": False}
        until = int(time.time()) + (3600 if role == "restricted:until_later" else -3600)
        await api.ok("restrictChatMember", owner, **chat, rights=taken, until_date=until)
    elif role.startswith("restricted:"):
        taken = {role.removeprefix("restricted:"): False}
        await api.ok("restrictChatMember", owner, **chat, rights=taken)
    elif role == "banned":
        await api.ok("banChatMember", owner, **chat)
    elif role == "left":
        await api.ok("leaveChat", actor, chat_id=chat_id)
    if role not in ("banned", "left", "stranger"):  # the actor stands where the role says
        stands = (await api.ok("getChat", actor, chat_id=chat_id))["role"]
        assert stands == {"subscriber": "member"}.get(role, role.partition(":")[0]), stands
        if kind == "group":
            assert (await api.ok("getChat", owner, chat_id=chat_id))["pts"] is None  # small
    return Case(api, cast, kind, role, actor, chat_id, sent["message"]["id"])


# --- actions ---------------------------------------------------------------------------------

Perform = Callable[[Case], Awaitable[tuple[int, Any]]]
Check = Callable[[Case, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    rule: Rule
    perform: Perform
    verify: Check | None = None  # the effect, when allowed
    prepare: Callable[[Case], Awaitable[None]] | None = None  # before the "before" view


def uid(user: User) -> dict[str, int]:
    return {"user_id": user.user_id}


async def sent_by_actor(case: Case, result: Any) -> None:
    message = result["message"]
    assert message["sender_id"] == case.actor.user_id and message["sender_chat_id"] is None
    assert (await case.history())[-1]["id"] == message["id"]


async def sent_with_link(case: Case, result: Any) -> None:
    await sent_by_actor(case, result)
    assert [e["type"] for e in result["message"]["entities"]] == ["url"]


async def sent_as_chat(case: Case, result: Any) -> None:
    """Posted as the chat: no sender, the chat as sender_chat_id, also as stored."""
    for message in (result["message"], (await case.history())[-1]):
        assert message["text"] == "as the chat"
        assert message["sender_id"] is None and message["sender_chat_id"] == case.chat_id


async def posted(case: Case, result: Any) -> None:
    await sent_as_chat(case, result)
    assert result["message"]["signature"] is None  # signatures are off


async def message_gone(case: Case, result: Any) -> None:
    assert await case.as_owner("getMessages", message_ids=[case.message_id]) == []


async def message_edited(case: Case, result: Any) -> None:
    (message,) = await case.as_owner("getMessages", message_ids=[case.message_id])
    assert message["text"] == "edited" and message["edit_date"] is not None


async def message_pinned(case: Case, result: Any) -> None:
    assert result["changed"]
    assert case.message_id in (await case.as_owner("getChat"))["pinned_message_ids"]


async def renamed(case: Case, result: Any) -> None:
    assert (await case.as_owner("getChat"))["title"] == "Renamed"


async def outsider_added(case: Case, result: Any) -> None:
    assert result["user_ids"] == [case.cast.outsider.user_id]
    assert (await case.member(case.cast.outsider)) is not None


async def target_back(case: Case, result: Any) -> None:
    assert result["user_ids"] == [case.cast.target.user_id]
    assert (await case.member(case.cast.target))["role"] == "member"  # type: ignore[index]
    assert await case.member(case.cast.target, "banned") is None


async def target_banned(case: Case, result: Any) -> None:
    assert await case.member(case.cast.target) is None
    assert await case.member(case.cast.target, "banned") is not None


async def peer_banned(case: Case, result: Any) -> None:
    assert await case.member(case.cast.peer, "banned") is not None


async def target_removed(case: Case, result: Any) -> None:
    assert await case.member(case.cast.target) is None
    assert await case.member(case.cast.target, "banned") is None


async def peer_removed(case: Case, result: Any) -> None:
    assert await case.member(case.cast.peer) is None
    assert await case.member(case.cast.peer, "banned") is None


async def target_restricted(case: Case, result: Any) -> None:
    member = await case.member(case.cast.target, "restricted")
    assert member is not None and member["restrictions"]["send_messages"] is False


async def target_unbanned(case: Case, result: Any) -> None:
    assert await case.member(case.cast.target, "banned") is None


async def target_promoted(case: Case, result: Any) -> None:
    member = await case.member(case.cast.target, "admins")
    assert member is not None and member["admin_rights"]["manage_admins"] is True


async def target_pin_admin(case: Case, result: Any) -> None:
    member = await case.member(case.cast.target, "admins")
    assert member is not None and member["admin_rights"]["pin_messages"] is True


async def peer_demoted(case: Case, result: Any) -> None:
    assert (await case.member(case.cast.peer))["role"] == "member"  # type: ignore[index]


async def members_muted(case: Case, result: Any) -> None:
    await case.api.error(
        WRITE, "sendMessage", case.cast.target, chat_id=case.chat_id, text="still here?"
    )


async def slow_mode_on(case: Case, result: Any) -> None:
    assert (await case.as_owner("getChat"))["slow_mode_seconds"] == 30


async def signatures_on(case: Case, result: Any) -> None:
    assert (await case.as_owner("getChat"))["signatures"] is True


async def ownership_moved(case: Case, result: Any) -> None:
    target = case.cast.target
    admins = await case.api.ok("getChatMembers", target, chat_id=case.chat_id, filter="admins")
    roles = {m["user_id"]: m["role"] for m in admins}
    assert roles[target.user_id] == "owner" and roles[case.owner.user_id] == "admin"


async def chat_deleted(case: Case, result: Any) -> None:
    for user in (case.owner, case.cast.target):
        await case.api.error(GONE, "getChat", user, chat_id=case.chat_id)


async def log_listed(case: Case, result: Any) -> None:
    assert result[-1]["action"] == "chat_created"


async def banned_listed(case: Case, result: Any) -> None:
    banned = [m["user_id"] for m in result]
    assert banned == ([case.actor.user_id] if case.role == "banned" else [])


async def subscribers_listed(case: Case, result: Any) -> None:
    assert case.cast.target.user_id in [m["user_id"] for m in result]


async def typing_ok(case: Case, result: Any) -> None:
    assert result == {"ok": True}


async def ban_target(case: Case) -> None:
    await case.as_owner("banChatMember", **uid(case.cast.target))


def members_may(right: str) -> Callable[[Case], Awaitable[None]]:
    async def prepare(case: Case) -> None:
        await case.as_owner("setChatDefaultRights", rights={right: True})

    return prepare


async def invite_off(case: Case) -> None:
    await case.as_owner("setChatDefaultRights", rights={"invite_users": False})


async def slow_mode_and_first_message(case: Case) -> None:
    await case.as_owner("setChatSettings", slow_mode_seconds=SLOW_MODE)
    status, body = await case.act("sendMessage", text="first")
    may_write = case.role not in ("restricted:send_messages", "banned", "left", "stranger")
    assert (status == 200) is may_write, body


def send(text: str, **extra: Any) -> Perform:
    return lambda case: case.act("sendMessage", text=text, **extra)


def on(method: str, whom: str, **extra: Any) -> Perform:
    """`method` with user_id = a member of the cast (or the owner)."""

    def perform(case: Case) -> Awaitable[tuple[int, Any]]:
        user = case.owner if whom == "owner" else getattr(case.cast, whom)
        return case.act(method, **uid(user), **extra)

    return perform


def on_message(method: str, **extra: Any) -> Perform:
    return lambda case: case.act(method, message_id=case.message_id, **extra)


def call(method: str, **extra: Any) -> Perform:
    return lambda case: case.act(method, **extra)


def transfer(case: Case) -> Awaitable[tuple[int, Any]]:
    return case.act("transferChatOwnership", **uid(case.cast.target), password=case.actor.password)


GROUP_ACTIONS = [
    Action(
        "sendMessage",
        Rule(
            None,
            member=OK,
            restricted={"send_messages": WRITE},
            extra={"restricted:until_later": WRITE},
        ),
        send("hello"),
        sent_by_actor,
    ),
    Action(
        "sendMessage(link)",
        Rule(
            None,
            member=OK,
            restricted={"send_messages": WRITE, "send_links": LINKS},
            extra={"restricted:until_later": WRITE},
        ),
        send("see https://example.com"),
        sent_with_link,
    ),
    Action(
        "sendMessage(anonymous)",
        Rule("post_anonymously", restricted={"send_messages": WRITE}),
        send("as the chat", anonymous=True),
        sent_as_chat,
    ),
    Action(
        "sendMessage(slow mode, second)",
        Rule(None, member=SLOW, restricted={"send_messages": WRITE}),
        send("second"),
        sent_by_actor,
        prepare=slow_mode_and_first_message,
    ),
    Action(
        "editMessage(someone else's)",
        Rule(None, owner=EDIT, holder=EDIT, member=EDIT),
        on_message("editMessage", text="edited"),
    ),
    Action(
        "deleteMessages(someone else's, for everyone)",
        Rule("delete_messages"),
        lambda case: case.act("deleteMessages", message_ids=[case.message_id], for_everyone=True),
        message_gone,
    ),
    Action("pinMessage", Rule("pin_messages"), on_message("pinMessage"), message_pinned),
    Action(
        "pinMessage(members may pin)",
        # What every member may do, an administrator may do too.
        Rule("pin_messages", lacking=OK, member=OK, restricted=KEPT_NO_MORE),
        on_message("pinMessage"),
        message_pinned,
        prepare=members_may("pin_messages"),
    ),
    Action("editChatInfo", Rule("change_info"), call("editChatInfo", title="Renamed"), renamed),
    Action(
        "editChatInfo(members may change it)",
        Rule("change_info", lacking=OK, member=OK, restricted=KEPT_NO_MORE),
        call("editChatInfo", title="Renamed"),
        renamed,
        prepare=members_may("change_info"),
    ),
    Action(
        "addChatMembers",
        Rule(
            "invite_users",
            lacking=OK,
            member=OK,
            extra={"restricted:invite_users": ADMIN},
        ),
        lambda case: case.act("addChatMembers", user_ids=[case.cast.outsider.user_id]),
        outsider_added,
    ),
    Action(
        "addChatMembers(members may not invite)",
        Rule("invite_users"),
        lambda case: case.act("addChatMembers", user_ids=[case.cast.outsider.user_id]),
        outsider_added,
        prepare=invite_off,
    ),
    Action(
        "addChatMembers(a banned user)",
        Rule("ban_users"),
        lambda case: case.act("addChatMembers", user_ids=[case.cast.target.user_id]),
        target_back,
        prepare=ban_target,
    ),
    Action("banChatMember", Rule("ban_users"), on("banChatMember", "target"), target_banned),
    Action(
        "banChatMember(an admin)",
        Rule("ban_users", holder=RIGHT, extra={"admin:ban_users+manage_admins": OK}),
        on("banChatMember", "peer"),
        peer_banned,
    ),
    Action(
        "banChatMember(the owner)",
        Rule(
            "ban_users", owner=RIGHT, holder=RIGHT, extra={"admin:ban_users+manage_admins": RIGHT}
        ),
        on("banChatMember", "owner"),
    ),
    Action("removeChatMember", Rule("ban_users"), on("removeChatMember", "target"), target_removed),
    Action(
        "removeChatMember(an admin)",
        Rule("ban_users", holder=RIGHT, extra={"admin:ban_users+manage_admins": OK}),
        on("removeChatMember", "peer"),
        peer_removed,
    ),
    Action(
        "removeChatMember(the owner)",
        Rule(
            "ban_users", owner=RIGHT, holder=RIGHT, extra={"admin:ban_users+manage_admins": RIGHT}
        ),
        on("removeChatMember", "owner"),
    ),
    Action(
        "restrictChatMember",
        Rule("ban_users"),
        on("restrictChatMember", "target", rights={"send_messages": False}),
        target_restricted,
    ),
    Action(
        "restrictChatMember(the owner)",
        Rule(
            "ban_users", owner=RIGHT, holder=RIGHT, extra={"admin:ban_users+manage_admins": RIGHT}
        ),
        on("restrictChatMember", "owner", rights={"send_messages": False}),
    ),
    Action(
        "unbanChatMember",
        Rule("ban_users"),
        on("unbanChatMember", "target"),
        target_unbanned,
        prepare=ban_target,
    ),
    Action(
        "promoteChatMember",
        Rule("manage_admins"),
        on("promoteChatMember", "target", rights={"manage_admins": True}),
        target_promoted,
    ),
    Action(
        "promoteChatMember(a right the promoter lacks)",
        Rule("manage_admins", holder=RIGHT),
        on("promoteChatMember", "target", rights={"pin_messages": True}),
        target_pin_admin,
    ),
    Action(
        "promoteChatMember(demote an admin)",
        Rule("manage_admins"),
        on("promoteChatMember", "peer", rights={}),
        peer_demoted,
    ),
    Action(
        "promoteChatMember(the owner)",
        Rule("manage_admins", owner=RIGHT, holder=RIGHT),
        on("promoteChatMember", "owner", rights={}),
    ),
    Action(
        "setChatDefaultRights",
        Rule("ban_users"),
        call("setChatDefaultRights", rights={"send_messages": False}),
        members_muted,
    ),
    Action(
        "setChatSettings(slow mode)",
        Rule("change_info"),
        call("setChatSettings", slow_mode_seconds=30),
        slow_mode_on,
    ),
    Action(
        "transferChatOwnership",
        Rule(None, holder=OWNER, member=OWNER),
        transfer,
        ownership_moved,
    ),
    Action("deleteChat", Rule(None, holder=OWNER, member=OWNER), call("deleteChat"), chat_deleted),
    Action("getAdminLog", Rule(None), call("getAdminLog"), log_listed),
    Action(
        "getChatMembers(banned)",
        Rule(None),
        call("getChatMembers", filter="banned"),
        banned_listed,
    ),
]

CHANNEL_ACTIONS = [
    Action(
        "sendMessage",
        Rule("post_messages", lacking=WRITE, member=WRITE),
        send("as the chat"),
        posted,
    ),
    Action(
        "editMessage(someone else's post)",
        Rule("edit_messages", lacking=EDIT, member=EDIT),
        on_message("editMessage", text="edited"),
        message_edited,
    ),
    Action(
        "deleteMessages(someone else's post)",
        Rule("delete_messages"),
        lambda case: case.act("deleteMessages", message_ids=[case.message_id], for_everyone=True),
        message_gone,
    ),
    Action("pinMessage", Rule("pin_messages"), on_message("pinMessage"), message_pinned),
    Action("setTyping", Rule(None, member=WRITE), call("setTyping", action="typing"), typing_ok),
    Action(
        "getChatMembers(subscribers)",
        Rule(None),
        call("getChatMembers", filter="all"),
        subscribers_listed,
    ),
    Action("editChatInfo", Rule("change_info"), call("editChatInfo", title="Renamed"), renamed),
    Action(
        "setChatSettings(signatures)",
        Rule("change_info"),
        call("setChatSettings", signatures=True),
        signatures_on,
    ),
    Action(
        "addChatMembers",
        Rule("invite_users"),
        lambda case: case.act("addChatMembers", user_ids=[case.cast.outsider.user_id]),
        outsider_added,
    ),
]


def matrix(actions: list[Action], roles: Callable[[str | None], list[str]]) -> list[Any]:
    """The table: one (action, role, expected) row per role the action is tried by."""
    rows = []
    for action in actions:
        extra = [r for r in action.rule.extra if r not in roles(action.rule.right)]
        for role in roles(action.rule.right) + extra:
            expected = action.rule.expected(role)
            rows.append(pytest.param(action, role, expected, id=f"{action.name}-{role}-{expected}"))
    return rows


async def run_case(world: World, kind: str, action: Action, role: str, expected: str) -> None:
    case = await open_case(world, kind, role)
    if action.prepare is not None:
        await action.prepare(case)
    if expected == OK:
        status, body = await action.perform(case)
        assert status == 200 and body["ok"], f"{case.role}: {action.name} -> {status} {body}"
        if action.verify is not None:
            await action.verify(case, body["result"])
        return
    before = await case.api.chat_view(case.owner, case.chat_id, case.actor)
    status, body = await action.perform(case)
    error = assert_error(status, body, expected)
    if expected == SLOW:
        assert 0 < error["retry_after"] <= SLOW_MODE, error
    assert await case.api.chat_view(case.owner, case.chat_id, case.actor) == before


@pytest.mark.parametrize(("action", "role", "expected"), matrix(GROUP_ACTIONS, group_roles))
async def test_group_matrix(world: World, action: Action, role: str, expected: str) -> None:
    await run_case(world, "group", action, role, expected)


@pytest.mark.parametrize(("action", "role", "expected"), matrix(CHANNEL_ACTIONS, channel_roles))
async def test_channel_matrix(world: World, action: Action, role: str, expected: str) -> None:
    await run_case(world, "channel", action, role, expected)


# --- out of the chat: banned, left, never in ------------------------------------------------


async def _outcast_chat(world: World, kind: str, who: str) -> tuple[int, User, list[int]]:
    """A chat with history before and after the actor was banned or left (or never joined);
    the actor's own message (a post of the owner in a channel) and the later one."""
    api, cast = world.api, world.cast
    owner, actor = cast.owner, cast.actor
    members = [cast.target, *((cast.peer, *cast.fillers) if kind == "large group" else ())]
    members += [actor] if who != "stranger" else []
    ids = [m.user_id for m in members]
    if kind == "channel":
        chat_id = (await api.ok("createChannel", owner, title="Outcasts"))["id"]
        await api.ok("addChatMembers", owner, chat_id=chat_id, user_ids=ids)
        own = await api.ok("sendMessage", owner, chat_id=chat_id, text="secret before")
    else:
        chat_id = (await api.ok("createGroup", owner, title="Outcasts", user_ids=ids))["id"]
        writer = actor if who != "stranger" else owner
        own = await api.ok("sendMessage", writer, chat_id=chat_id, text="secret before")
    large = (await api.ok("getChat", owner, chat_id=chat_id))["pts"] is not None
    assert large is (kind != "group")
    if who == "banned":
        await api.ok("banChatMember", owner, chat_id=chat_id, user_id=actor.user_id)
    elif who == "left":
        await api.ok("leaveChat", actor, chat_id=chat_id)
    later = await api.ok("sendMessage", owner, chat_id=chat_id, text="secret after")
    return chat_id, actor, [own["message"]["id"], later["message"]["id"]]


@pytest.mark.parametrize("who", ["banned", "left", "stranger"])
@pytest.mark.parametrize("kind", ["group", "large group", "channel"])
async def test_outcasts_read_and_write_nothing(world: World, kind: str, who: str) -> None:
    api, cast = world.api, world.cast
    chat_id, actor, (own_id, later_id) = await _outcast_chat(world, kind, who)
    saved = (await api.ok("getPrivateChat", actor, user_id=actor.user_id))["id"]
    code = BANNED if who == "banned" else GONE
    calls: list[tuple[str, dict[str, Any]]] = [
        # reads
        ("getHistory", {}),
        ("getChat", {}),
        ("getMessages", {"message_ids": [own_id, later_id]}),
        ("searchMessages", {"query": "secret"}),
        ("getChatMembers", {"filter": "admins"}),
        ("getAdminLog", {}),
        ("getInviteLinks", {}),
        # writes
        ("sendMessage", {"text": "let me back"}),
        ("editMessage", {"message_id": own_id, "text": "rewritten"}),
        ("deleteMessages", {"message_ids": [own_id]}),
        ("deleteMessages", {"message_ids": [own_id], "for_everyone": True}),
        ("pinMessage", {"message_id": own_id}),
        ("setReaction", {"message_id": later_id, "emoji": "👍"}),
        ("readHistory", {"max_id": later_id}),
        ("setTyping", {"action": "typing"}),
        ("saveDraft", {"text": "draft"}),
        ("viewMessages", {"message_ids": [later_id]}),
        ("addChatMembers", {"user_ids": [cast.outsider.user_id]}),
        ("createInviteLink", {}),
        ("editChatInfo", {"title": "Mine now"}),
        ("leaveChat", {}),
    ]
    if kind != "group":
        calls.append(("getChannelDifference", {"pts": 0}))
    before = await api.chat_view(cast.owner, chat_id, actor)
    for method, params in calls:
        status, body = await api.call(method, actor, chat_id=chat_id, **params)
        assert_error(status, body, code)
    status, body = await api.call(
        "forwardMessages", actor, from_chat_id=chat_id, message_ids=[own_id], to_chat_id=saved
    )
    assert_error(status, body, code)
    assert await api.chat_view(cast.owner, chat_id, actor) == before
    # Nor does the chat show anywhere else: not in the chat list, not in a search of all chats.
    assert chat_id not in [c["id"] for c in await api.ok("getChats", actor, limit=100)]
    found = await api.ok("searchMessages", actor, query="secret", limit=100)
    assert [m["text"] for m in found if m["chat_id"] == chat_id] == []


# --- what the tables cannot say ---------------------------------------------------------------


async def test_transfer_needs_the_owners_password(world: World) -> None:
    case = await open_case(world, "group", "owner")
    before = await case.api.chat_view(case.owner, case.chat_id)
    await case.api.error(
        "PASSWORD_INVALID",
        "transferChatOwnership",
        case.owner,
        chat_id=case.chat_id,
        user_id=case.cast.target.user_id,
        password="not-the-password-1",
    )
    assert await case.api.chat_view(case.owner, case.chat_id) == before


async def test_channel_signatures_name_the_author(world: World) -> None:
    case = await open_case(world, "channel", "admin:post_messages")
    api, owner, actor, subscriber = case.api, case.owner, case.actor, case.cast.target
    unsigned = await api.ok("sendMessage", actor, chat_id=case.chat_id, text="before signatures")
    assert unsigned["message"]["signature"] is None
    await case.as_owner("setChatSettings", signatures=True)
    assert (await api.ok("getChat", subscriber, chat_id=case.chat_id))["signatures"] is True
    by_actor = (await api.ok("sendMessage", actor, chat_id=case.chat_id, text="signed"))["message"]
    by_owner = (await api.ok("sendMessage", owner, chat_id=case.chat_id, text="mine"))["message"]
    assert by_actor["signature"] == actor.display_name
    assert by_owner["signature"] == owner.display_name
    # Subscribers see the signature but not the sender.
    history = await api.ok("getHistory", subscriber, chat_id=case.chat_id)
    seen = {m["text"]: m for m in history}
    for text, signature in [
        ("someone else's words", None),
        ("before signatures", None),
        ("signed", actor.display_name),
        ("mine", owner.display_name),
    ]:
        message = seen[text]
        assert message["signature"] == signature, message
        assert message["sender_id"] is None and message["sender_chat_id"] == case.chat_id
