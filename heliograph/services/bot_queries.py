"""The user's side of talking to bots: pressing a callback button, asking a bot for inline
results and sending one, and opening a bot by a deep link.

A callback or inline query is a row of `bot_queries` and an update in the bot's own box; the
user's request then waits for the bot's answer, which comes back over the bus (the bot may
answer on another node). The answer is stored too (a second row, `<query id>:answer`): so a
query is answered once, and an inline answer's results can be sent later from any node."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import weakref
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from pydantic import TypeAdapter

from heliograph.botapi.state import BotApiState, publish_answer
from heliograph.botapi.updates import Peers
from heliograph.bus import Bus
from heliograph.domain.entities import ChatKind, MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import Media
from heliograph.services import messaging
from heliograph.services.chats import load_access, open_private_chat, peer_of
from heliograph.services.context import App, Caller, Outbox
from heliograph.store import bots
from heliograph.store.db import Conn, Row

# How long a user's request waits for the bot (Telegram's clients give up after about 10 s).
ANSWER_WAIT_SECONDS = 10.0
# A bot answers within this; later the query is "too old", as Telegram words it.
ANSWER_WINDOW_SECONDS = 30
# An inline answer's results can be sent this long after the bot gave them.
RESULTS_SECONDS = 3600
CALLBACK = "callback"
INLINE = "inline"
# Update kinds written to bots' boxes only (no user's client ever reads them); the Bot API
# gives them as they are (see botapi.updates.to_bot_update).
CALLBACK_QUERY = "callback_query"
INLINE_QUERY = "inline_query"
CHOSEN_INLINE_RESULT = "chosen_inline_result"
_ANSWER_SUFFIX = ":answer"
_MEDIA = TypeAdapter(Media)
_ENTITIES = TypeAdapter(list[MessageEntity])

# The long polls and answer waiters of a server: one per bus (so one per server, also with
# several servers in a process), shared by the Bot API and the client API's button presses.
_WAITERS: weakref.WeakKeyDictionary[Bus, BotApiState] = weakref.WeakKeyDictionary()


def waiters(app: App) -> BotApiState:
    """The server's registry, subscribed to its bus on first use."""
    state = _WAITERS.get(app.bus)
    if state is None:
        state = BotApiState()
        app.bus.subscribe(state.on_bus)
        _WAITERS[app.bus] = state
    return state


@dataclass(slots=True)
class CallbackAnswer:
    """The bot's answer to a button press: `text` to show briefly (with `show_alert`, in a
    dialog to dismiss), or a `url` to open. Both may be absent: the press is acknowledged.
    Clients may reuse the answer for the same button for `cache_time` seconds."""

    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int = 0


@dataclass(slots=True)
class InlineResults:
    """A bot's results for an inline query, as Bot API InlineQueryResult objects (`type`,
    `id`, `title`, `description`, `thumbnail_url`, ...). Send one with sendInlineResult and
    its `id`. For more results ask again with `next_offset` as `offset` (empty: no more).
    `button`, when set, offers to open the bot's private chat with `start_parameter`."""

    query_id: str
    results: list[dict[str, Any]]
    next_offset: str = ""
    cache_time: int = 300
    is_personal: bool = False
    button: dict[str, Any] | None = None


@dataclass(slots=True)
class InlineMessage:
    """What sending one inline result posts: text (a caption with media), its entities,
    and the keyboard. Made by the Bot API layer from the bot's result, checked there."""

    text: str
    entities: list[MessageEntity] = field(default_factory=list)
    media: Media | None = None
    reply_markup: dict[str, Any] | None = None
    no_link_preview: bool = False


def _new_query_id() -> str:
    return str(secrets.randbits(63))


def chat_instance(bot_id: int, chat_id: int) -> str:
    """Telegram's chat_instance: the same for every button of one chat, for one bot."""
    digest = hashlib.sha256(f"{bot_id}:{chat_id}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big", signed=True))


def inline_message_id(chat_id: int, message_id: int) -> str:
    """The id a bot knows a message sent through it in inline mode by."""
    return base64.urlsafe_b64encode(f"{chat_id}:{message_id}".encode()).decode().rstrip("=")


def parse_inline_message_id(value: str) -> tuple[int, int]:
    """(chat id, message id) of an inline_message_id; MESSAGE_NOT_FOUND if it names none."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        chat, _, message = raw.partition(":")
        return int(chat), int(message)
    except (ValueError, UnicodeDecodeError):
        raise HeliographError(ErrorCode.MESSAGE_NOT_FOUND, "message not found") from None


def _has_callback_button(markup: dict[str, Any] | None, data: str) -> bool:
    rows = (markup or {}).get("inline_keyboard")
    if not isinstance(rows, list):
        return False
    return any(
        isinstance(button, dict) and button.get("callback_data") == data
        for row in rows
        if isinstance(row, list)
        for button in row
    )


async def _live_bot(conn: Conn, bot_id: int) -> Row:
    row = await bots.get(conn, bot_id)
    if row is None or row["deleted"] or row["disabled"]:
        raise HeliographError(ErrorCode.BOT_NOT_FOUND, "no such bot")
    return row


async def _ask(
    app: App,
    caller: Caller,
    bot_id: int,
    kind: str,
    query_id: str,
    record: dict[str, Any],
    update: tuple[str, dict[str, Any]],
) -> dict[str, Any]:
    """Store a query, put it in the bot's box, and wait for the bot's answer."""
    async with waiters(app).expecting(query_id) as answer:  # before the bot can possibly answer
        outbox = Outbox()
        now = app.now()
        async with app.db.transaction() as tx:
            encoded = orjson.dumps(record).decode()
            await bots.insert_query(tx, query_id, bot_id, caller.user_id, kind, encoded, now)
            stored = {"query": update[1]}
            await outbox.add(tx, [bot_id], update[0], None, stored, stored, now)
        outbox.publish(app.bus)
        try:
            async with asyncio.timeout(ANSWER_WAIT_SECONDS):
                return await answer
        except TimeoutError:
            raise HeliographError(
                ErrorCode.BOT_RESPONSE_TIMEOUT, "the bot did not answer in time"
            ) from None


# --- callback buttons -----------------------------------------------------------------------


async def press_button(
    app: App, caller: Caller, chat_id: int, message_id: int, data: str
) -> CallbackAnswer:
    """Press an inline keyboard button carrying callback data: the bot that sent the message
    (or the bot it was sent through) gets a callback query and answers it."""
    async with app.db.read() as conn:
        await load_access(conn, caller, chat_id)
        message = await messaging.visible_message(conn, caller, chat_id, message_id)
        if not _has_callback_button(message.reply_markup, data):
            raise HeliographError(
                ErrorCode.BAD_REQUEST, "the message has no button with this callback data"
            )
        bot_id = message.via_bot_id or message.sender_id
        if bot_id is None:
            raise HeliographError(ErrorCode.BOT_NOT_FOUND, "no bot sent this message")
        await _live_bot(conn, bot_id)
        peers = Peers(conn, bot_id)
        query_id = _new_query_id()
        query: dict[str, Any] = {"id": query_id, "from": await peers.user(caller.user_id)}
        if message.via_bot_id is not None:
            # the bot may not be in this chat: it knows the message by an opaque id only
            query["inline_message_id"] = inline_message_id(chat_id, message_id)
        else:
            query["message"] = await peers.message(message)
        query["chat_instance"] = chat_instance(bot_id, chat_id)
        query["data"] = data
    record = {"chat_id": chat_id, "message_id": message_id, "data": data}
    answer = await _ask(app, caller, bot_id, CALLBACK, query_id, record, (CALLBACK_QUERY, query))
    return CallbackAnswer(**answer)


# --- the bot's answers ----------------------------------------------------------------------


async def _open_query(tx: Conn, bot: Caller, query_id: str, kind: str, now: int) -> Row:
    """The bot's unanswered query, young enough to answer."""
    row = await bots.get_query(tx, query_id)
    if (
        row is None
        or row["bot_id"] != bot.user_id
        or row["kind"] != kind
        or row["created_at"] + ANSWER_WINDOW_SECONDS < now
        or await bots.get_query(tx, query_id + _ANSWER_SUFFIX) is not None
    ):
        raise HeliographError(ErrorCode.QUERY_NOT_FOUND, "query is too old or its id invalid")
    return row


async def _answer(
    app: App, bot: Caller, query_id: str, kind: str, stored: dict[str, Any], sent: dict[str, Any]
) -> None:
    now = app.now()
    async with app.db.transaction() as tx:
        row = await _open_query(tx, bot, query_id, kind, now)
        encoded = orjson.dumps(stored).decode()
        answer_id = query_id + _ANSWER_SUFFIX
        await bots.insert_query(
            tx, answer_id, bot.user_id, row["user_id"], f"{kind}_answer", encoded, now
        )
    publish_answer(app.bus, query_id, sent)


async def answer_callback(app: App, bot: Caller, query_id: str, answer: CallbackAnswer) -> None:
    """A bot's answer to a button press, sent to the user waiting for it."""
    if answer.text is not None and len(answer.text) > 200:
        raise HeliographError(ErrorCode.INVALID_PARAMS, "text has at most 200 characters")
    body = asdict(answer)
    await _answer(app, bot, query_id, CALLBACK, body, body)


async def answer_inline(
    app: App, bot: Caller, answer: InlineResults, messages: dict[str, InlineMessage]
) -> None:
    """A bot's inline results (checked by the Bot API layer): what the user sees, and what
    sending each one posts."""
    shown = asdict(answer)
    shown.pop("query_id")
    sendable = {rid: orjson.loads(orjson.dumps(m)) for rid, m in messages.items()}
    stored = {**shown, "messages": sendable}
    await _answer(app, bot, answer.query_id, INLINE, stored, shown)


# --- inline mode ----------------------------------------------------------------------------


async def _chat_type(conn: Conn, caller: Caller, chat_id: int, bot_id: int) -> str:
    access = await load_access(conn, caller, chat_id)
    if access.kind is ChatKind.PRIVATE:
        peer = peer_of(access.row["private_key"], caller.user_id)
        return "sender" if peer == bot_id else "private"
    return "channel" if access.kind is ChatKind.CHANNEL else "supergroup"


async def get_inline_results(
    app: App, caller: Caller, bot_id: int, query: str, chat_id: int | None, offset: str
) -> InlineResults:
    """Ask a bot in inline mode for results for `query` (typed after `@botname`), to send in
    `chat_id` if given."""
    async with app.db.read() as conn:
        chat_type = None if chat_id is None else await _chat_type(conn, caller, chat_id, bot_id)
        bot = await _live_bot(conn, bot_id)
        if bot["inline_placeholder"] is None:
            raise HeliographError(ErrorCode.BOT_METHOD_FORBIDDEN, "this bot has no inline mode")
        asker = await Peers(conn, bot_id).user(caller.user_id)
    query_id = _new_query_id()
    inline: dict[str, Any] = {"id": query_id, "from": asker, "query": query, "offset": offset}
    if chat_type is not None:
        inline["chat_type"] = chat_type
    record = {"query": query, "chat_id": chat_id}
    answer = await _ask(app, caller, bot_id, INLINE, query_id, record, (INLINE_QUERY, inline))
    return InlineResults(query_id=query_id, **answer)


async def send_inline_result(
    app: App,
    caller: Caller,
    chat_id: int,
    query_id: str,
    result_id: str,
    reply_to_message_id: int | None = None,
) -> messaging.Sent:
    """Send one of a bot's inline results as the caller's message, marked as sent through
    the bot; the bot learns which one was chosen."""
    async with app.db.read() as conn:
        await load_access(conn, caller, chat_id)  # a chat not the caller's does not exist
        query = await bots.get_query(conn, query_id)
        answer = await bots.get_query(conn, query_id + _ANSWER_SUFFIX)
    if (
        query is None
        or answer is None
        or query["kind"] != INLINE
        or query["user_id"] != caller.user_id
        or answer["created_at"] + RESULTS_SECONDS < app.now()
    ):
        raise HeliographError(ErrorCode.QUERY_NOT_FOUND, "no such inline query, or it is too old")
    spec = orjson.loads(answer["data"])["messages"].get(result_id)
    if spec is None:
        raise HeliographError(ErrorCode.QUERY_NOT_FOUND, "no such result in the bot's answer")
    bot_id: int = query["bot_id"]
    media = None if spec["media"] is None else _MEDIA.validate_python(spec["media"])
    sent = await messaging.send_message(
        app,
        caller,
        chat_id,
        spec["text"],
        _ENTITIES.validate_python(spec["entities"]),
        reply_to_message_id,
        media=media,
        no_link_preview=spec["no_link_preview"],
        reply_markup=spec["reply_markup"],
        via_bot_id=bot_id,
    )
    await _chosen(app, caller, bot_id, orjson.loads(query["data"])["query"], result_id, sent)
    return sent


async def _chosen(
    app: App, caller: Caller, bot_id: int, query: str, result_id: str, sent: messaging.Sent
) -> None:
    """Tell the bot which result was sent (Telegram's chosen_inline_result)."""
    if sent.pts is None:  # a retried send: told the first time
        return
    outbox = Outbox()
    async with app.db.transaction() as tx:
        if await bots.get(tx, bot_id) is None:
            return
        chosen: dict[str, Any] = {
            "result_id": result_id,
            "from": await Peers(tx, bot_id).user(caller.user_id),
            "query": query,
        }
        if sent.message.reply_markup:
            chosen["inline_message_id"] = inline_message_id(sent.message.chat_id, sent.message.id)
        stored = {"query": chosen}
        now = app.now()
        await outbox.add(tx, [bot_id], CHOSEN_INLINE_RESULT, None, stored, stored, now)
    outbox.publish(app.bus)


# --- deep links -----------------------------------------------------------------------------


async def start_bot(app: App, caller: Caller, bot_id: int, parameter: str = "") -> messaging.Sent:
    """What a `t.me/<bot>?start=<parameter>` link does: open the private chat with the bot
    and send `/start <parameter>` there."""
    async with app.db.read() as conn:
        await _live_bot(conn, bot_id)
    chat_id = await open_private_chat(app, caller, bot_id)
    text = f"/start {parameter}" if parameter else "/start"
    command = [MessageEntity("bot_command", 0, len("/start"))]
    return await messaging.send_message(app, caller, chat_id, text, command)


async def forget_expired(app: App) -> None:
    """Queries past any use: answered or not, and their inline results, after an hour."""
    async with app.db.transaction() as tx:
        await bots.forget_queries(tx, app.now() - RESULTS_SECONDS)
