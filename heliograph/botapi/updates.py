"""A bot's updates: its own update box (the one every account has), read through the Bot
API. `update_id` is the box's pts, so updates are durable, ordered and gap-aware exactly as
for any client, and `offset` acknowledges them (`bots.acked_pts`)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from heliograph.botapi import objects
from heliograph.botapi.members import chat_member
from heliograph.domain.entities import ChatKind, Message
from heliograph.domain.permissions import AdminRights, MemberRights
from heliograph.services.chats import peer_of
from heliograph.services.context import App, Caller
from heliograph.services.sync import _hydrate_page
from heliograph.store import bots, chats, messages, updates, users
from heliograph.store.db import Conn, Row

# Telegram's default when a bot names no allowed_updates: all but these
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
ALL_KINDS = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "callback_query",
        "inline_query",
        "chosen_inline_result",
        "my_chat_member",
        "chat_member",
        "message_reaction",
    }
)
# Kinds written only into bots' boxes: clients never see them (bots have no client sessions).
BOT_ONLY_KINDS = frozenset(
    {"callback_query", "inline_query", "chosen_inline_result", "chat_member"}
)
# a page of the box read at once; filtered updates (privacy mode) are skipped
_SCAN = 200


class Peers:
    """Users, chats and messages as Bot API objects, each looked up once per page."""

    def __init__(self, conn: Conn, bot_id: int) -> None:
        self.conn = conn
        self.bot_id = bot_id
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, tuple[dict[str, Any], Row]] = {}
        self._roles: dict[int, str | None] = {}

    async def user(self, user_id: int) -> dict[str, Any]:
        found = self._users.get(user_id)
        if found is None:
            row = await users.get(self.conn, user_id)
            if row is None or row["deleted"]:
                found = objects.tg_user(user_id, "Deleted Account", None, False)
            else:
                found = objects.tg_user(
                    user_id, row["display_name"] or " ", row["username"], bool(row["is_bot"])
                )
            self._users[user_id] = found
        return found

    async def chat(self, chat_id: int) -> tuple[dict[str, Any], Row]:
        found = self._chats.get(chat_id)
        if found is None:
            row = await chats.get(self.conn, chat_id)
            assert row is not None
            kind = ChatKind(row["kind"])
            if kind is ChatKind.PRIVATE:
                peer = peer_of(row["private_key"], self.bot_id)
                user = await self.user(peer)
                chat = objects.tg_chat(
                    kind,
                    objects.bot_chat_id(kind, chat_id, peer),
                    first_name=user["first_name"],
                    username=user.get("username"),
                )
            else:
                chat = objects.tg_chat(
                    kind,
                    objects.bot_chat_id(kind, chat_id, None),
                    title=row["title"],
                    username=row["username"],
                )
            found = (chat, row)
            self._chats[chat_id] = found
        return found

    async def role(self, chat_id: int) -> str | None:
        if chat_id not in self._roles:
            row = await chats.member_row(self.conn, chat_id, self.bot_id)
            self._roles[chat_id] = None if row is None else row["role"]
        return self._roles[chat_id]

    async def message(self, message: Message, *, nested: bool = True) -> dict[str, Any]:
        chat, _ = await self.chat(message.chat_id)
        sender = None if message.sender_id is None else await self.user(message.sender_id)
        sender_chat = chat if message.sender_id is None else None
        mentioned = {
            user_id: await self.user(user_id) for user_id in objects.referenced_user_ids(message)
        }
        forward_chat = None
        origin = message.forward_origin
        if origin is not None and origin.sender_id is None:
            forward_chat, _ = await self.chat(origin.chat_id)
        reply_to = None
        if nested and message.reply_to_message_id is not None:
            rows = await messages.get_rows(
                self.conn, message.chat_id, [message.reply_to_message_id], self.bot_id
            )
            if rows:
                [original] = await messages.hydrate(self.conn, message.chat_id, rows)
                reply_to = await self.message(original, nested=False)
        return objects.tg_message(
            message,
            chat=chat,
            sender=sender,
            sender_chat=sender_chat,
            reply_to=reply_to,
            users=mentioned,
            reply_markup=message.reply_markup,
            forward_chat=forward_chat,
        )


def _command_for(message: Message, username: str) -> bool:
    """A command at the start of the message, for every bot or named for this one."""
    for e in message.entities:
        if e.type == "bot_command" and e.offset == 0:
            command = message.text[: e.length]  # ASCII: UTF-16 units are characters here
            _, _, target = command.partition("@")
            return not target or target.lower() == username.lower()
    return False


async def _addressed(peers: Peers, message: Message, username: str) -> bool:
    """What a bot in privacy mode receives in a group: commands, replies to its own
    messages, mentions of it, and service messages."""
    if message.service is not None or _command_for(message, username):
        return True
    mention = f"@{username}".lower()
    for e in message.entities:
        if e.type == "mention":
            raw = message.text.encode("utf-16-le")[e.offset * 2 : (e.offset + e.length) * 2]
            if raw.decode("utf-16-le", errors="replace").lower() == mention:
                return True
        if e.type == "text_mention" and e.user_id == peers.bot_id:
            return True
    if message.reply_to_message_id is not None:
        author = await messages.sender_of(peers.conn, message.chat_id, message.reply_to_message_id)
        return author == peers.bot_id
    return False


async def to_bot_update(
    peers: Peers, bot: Row, update: dict[str, Any], now: int
) -> tuple[str, dict[str, Any]] | None:
    """The Bot API update for one update of the box: (its kind, its object), or None for
    what bots do not receive."""
    kind = update["type"]
    if kind in ("new_message", "edit_message"):
        message: Message | None = update.get("message")
        if message is None or message.sender_id == peers.bot_id:
            return None
        _, row = await peers.chat(message.chat_id)
        chat_kind = ChatKind(row["kind"])
        if (
            chat_kind is ChatKind.GROUP
            and bot["privacy"]
            and await peers.role(message.chat_id) not in ("admin", "owner")
            and not await _addressed(peers, message, bot["username"])
        ):
            return None
        if chat_kind is ChatKind.CHANNEL:
            field = "channel_post" if kind == "new_message" else "edited_channel_post"
        else:
            field = "message" if kind == "new_message" else "edited_message"
        return field, await peers.message(message)
    if kind in ("callback_query", "inline_query", "chosen_inline_result"):
        query: dict[str, Any] = update["query"]
        return kind, query
    if kind == "chat_membership":
        return "my_chat_member", await _member_change(peers, update, peers.bot_id, now)
    if kind == "chat_member":
        return "chat_member", await _member_change(peers, update, update["user_id"], now)
    if kind == "message_reactions" and "user_id" in update:
        chat, _ = await peers.chat(update["chat_id"])
        return "message_reaction", {
            "chat": chat,
            "message_id": update["message_id"],
            "user": await peers.user(update["user_id"]),
            "date": update.get("date", now),
            "old_reaction": [{"type": "emoji", "emoji": e} for e in update.get("old", [])],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in update.get("new", [])],
        }
    return None


async def _member_change(
    peers: Peers, update: dict[str, Any], user_id: int, now: int
) -> dict[str, Any]:
    """ChatMemberUpdated: a member's status before and after, with their rights as now."""
    chat, row = await peers.chat(update["chat_id"])
    user = await peers.user(user_id)
    actor_id = update.get("actor_id")
    is_channel = row["kind"] == ChatKind.CHANNEL.value
    old = update.get("old_role") or ("left" if update["role"] != "left" else "member")
    member = await chats.member_row(peers.conn, update["chat_id"], user_id)
    admin = rights = None
    if member is not None:
        admin = AdminRights.from_mapping(orjson.loads(member["admin_rights"] or "{}"))
        rights = MemberRights.from_mapping(orjson.loads(member["restrictions"] or "{}"))
    return {
        "chat": chat,
        "from": await peers.user(actor_id) if actor_id else user,
        "date": update.get("date", now),
        "old_chat_member": chat_member(old, user, is_channel=is_channel),
        "new_chat_member": chat_member(
            update["role"], user, admin=admin, rights=rights, is_channel=is_channel
        ),
    }


def allowed_kinds(stored: str | None) -> frozenset[str]:
    if not stored:
        return ALL_KINDS - NOT_BY_DEFAULT
    chosen = frozenset(orjson.loads(stored))
    return (chosen & ALL_KINDS) or (ALL_KINDS - NOT_BY_DEFAULT)


async def read(
    app: App, bot_id: int, after_pts: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Up to `limit` Bot API updates after `after_pts`, and the pts the read reached."""
    found: list[dict[str, Any]] = []
    reached = after_pts
    caller = Caller(user_id=bot_id, session_id=0)
    async with app.db.read() as conn:
        bot = await bots.get(conn, bot_id)
        assert bot is not None
        allowed = allowed_kinds(bot["allowed_updates"])
        peers = Peers(conn, bot_id)
        while len(found) < limit:
            rows = await updates.since(conn, bot_id, reached, _SCAN)
            if not rows:
                break
            for row, update in zip(rows, await _hydrate_page(conn, caller, rows), strict=True):
                if len(found) == limit:
                    break
                reached = row["pts"]
                update["date"] = row["date"]
                translated = await to_bot_update(peers, bot, update, app.now())
                if translated is not None and translated[0] in allowed:
                    found.append({"update_id": row["pts"], translated[0]: translated[1]})
            if len(rows) < _SCAN:
                break
    return found, reached


async def get_updates(
    app: App, state: Any, bot_id: int, offset: int, limit: int, wait: float
) -> list[dict[str, Any]]:
    """Telegram's getUpdates: acknowledge what is before `offset`, then return what
    follows, waiting up to `wait` seconds for something to arrive."""
    async with app.db.transaction() as tx:
        bot = await bots.get(tx, bot_id)
        assert bot is not None
        if offset < 0:  # the last -offset updates; everything before is forgotten
            head = await updates.head(tx, bot_id)
            await bots.acknowledge(tx, bot_id, max(0, head + offset))
        elif offset > 0:
            await bots.acknowledge(tx, bot_id, offset - 1)
        start = await tx.fetchval("SELECT acked_pts FROM bots WHERE user_id = ?", bot_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        async with state.listening(bot_id) as woke:
            found, reached = await read(app, bot_id, int(start), limit)
            if found:
                return found
            if reached > start:
                # Only updates this bot does not receive: nothing to deliver before `reached`.
                async with app.db.transaction() as tx:
                    await bots.acknowledge(tx, bot_id, reached)
                start = reached
            if loop.time() >= deadline or state.closing:
                return []
            try:
                async with asyncio.timeout_at(deadline):
                    await woke.wait()
            except TimeoutError:
                pass
