"""The built-in @bots account: users make and manage their bots by chatting with it, as with
Telegram's BotFather.

It is a bot account like any other (its own update box, read through the Bot API's reader)
driven in-process: a bus subscriber wakes it when its box grows, and it reads on from the last
pts it handled (its `acked_pts`), so a restart resumes where it stopped. With several nodes,
only the node holding the lease of its row (the webhook lease columns) answers. Each update is
acknowledged before it is handled: a crash in between loses one message (the user sends it
again) rather than handling it twice (a second /revoke would replace the token just shown).

The account is its own owner (`bots.owner_id = user_id`): nothing else can be, since bots
cannot own bots, so that marks it without a flag column. It has no token: its token hash is
random bytes that no secret hashes to."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from heliograph.botapi import updates
from heliograph.botapi.webhooks import LEASE_SECONDS, RENEW_SECONDS, claim_lease, release_leases
from heliograph.domain.bots import Bot, BotCommand
from heliograph.domain.entities import MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.text import utf16_len
from heliograph.services import bots
from heliograph.services.chats import open_private_chat
from heliograph.services.context import UPDATE, App, Caller, parse_envelope
from heliograph.services.messaging import send_message
from heliograph.store import bots as bot_rows
from heliograph.store import users

log = logging.getLogger("heliograph.system_bot")

USERNAME = "bots"
# taken only if a person already has "bots" (a server older than the system bot)
FALLBACK_USERNAMES = ("system_bots", f"bots_{secrets.token_hex(3)}")
DISPLAY_NAME = "Bots"
_LOCK = 7461002  # the advisory lock that makes nodes create the account one at a time
BATCH = 50
# a conversation left half-way is forgotten after a day
DIALOG_SECONDS = 86400
EMPTY = "/empty"

MENU = [
    BotCommand("newbot", "create a new bot"),
    BotCommand("mybots", "list your bots"),
    BotCommand("token", "about a bot's token"),
    BotCommand("revoke", "give a bot a new token"),
    BotCommand("setname", "change a bot's name"),
    BotCommand("setdescription", "change a bot's description"),
    BotCommand("setabouttext", "change a bot's about text"),
    BotCommand("setcommands", "change a bot's command menu"),
    BotCommand("setprivacy", "what a bot sees in groups"),
    BotCommand("setinline", "turn inline mode on or off"),
    BotCommand("deletebot", "delete a bot"),
    BotCommand("cancel", "cancel the current operation"),
]
HELP = "I can help you create and manage your bots.\n\nYou can control me with these commands:\n\n"
HELP += "\n".join(f"/{c.command} - {c.description}" for c in MENU)
HINT = "Send me a command, like /newbot. /help lists them all."
DESCRIPTION = "I can help you create and manage your bots. Send /newbot to start."
ABOUT = "Makes and manages bots."


# --- the account ------------------------------------------------------------------------------


async def ensure_account(app: App) -> int:
    """The system bot's user id; the account is made on first use."""
    async with app.db.transaction() as tx:
        if app.db.dialect == "postgres":
            # Several nodes may start at once: one creates, the others find it.
            await tx.execute(f"SELECT pg_advisory_xact_lock({_LOCK})")
        found = await tx.fetchval(
            "SELECT b.user_id FROM bots b JOIN users u ON u.id = b.user_id"
            " WHERE b.owner_id = b.user_id AND u.deleted = 0 ORDER BY b.user_id LIMIT 1"
        )
        if found is not None:
            return int(found)
        username = USERNAME
        for candidate in (USERNAME, *FALLBACK_USERNAMES):
            username = candidate
            if await users.get_by_username(tx, candidate) is None:
                break
        now = app.now()
        bot_id = await users.insert(tx, username, username, DISPLAY_NAME, "", now)
        await bot_rows.insert(tx, bot_id, bot_id, secrets.token_bytes(32), now)
        await bot_rows.update(tx, bot_id, description=DESCRIPTION, short_description=ABOUT)
        await bots.set_commands_in(tx, bot_id, bots.DEFAULT_SCOPE, "", MENU)
    log.info("made the system bot @%s", username)
    return bot_id


# --- conversations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    # a part of the text shown as code (a token, easy to copy)
    code: str | None = None
    # buttons offered in place of the keyboard
    buttons: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Dialog:
    """Where a user is: `step` is "<command>" or "<command>:<phase>" (newbot:name,
    newbot:username, <command>:choose); `data` what earlier steps gave."""

    step: str
    data: dict[str, Any]

    @property
    def command(self) -> str:
        return self.step.partition(":")[0]


async def _dialog(app: App, user_id: int) -> Dialog | None:
    async with app.db.read() as conn:
        row = await conn.fetchrow(
            "SELECT step, data, updated_at FROM system_bot_dialogs WHERE user_id = ?", user_id
        )
    if row is None or row["updated_at"] < app.now() - DIALOG_SECONDS:
        return None
    return Dialog(row["step"], orjson.loads(row["data"]))


async def _save(app: App, user_id: int, step: str, **data: Any) -> None:
    async with app.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO system_bot_dialogs (user_id, step, data, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET step = excluded.step, data = excluded.data,"
            " updated_at = excluded.updated_at",
            user_id,
            step,
            orjson.dumps(data).decode(),
            app.now(),
        )


async def _end(app: App, user_id: int) -> None:
    async with app.db.transaction() as tx:
        await tx.execute("DELETE FROM system_bot_dialogs WHERE user_id = ?", user_id)


def _split_command(text: str) -> tuple[str | None, str]:
    """("newbot", "") for "/newbot", ("token", "@x") for "/token@bots @x"; None: not one."""
    if not text.startswith("/"):
        return None, text
    word, _, rest = text.partition(" ")
    return word[1:].partition("@")[0].lower(), rest.strip()


def _find(mine: list[Bot], text: str) -> Bot | None:
    wanted = text.strip().removeprefix("@").lower()
    return next((b for b in mine if b.username.lower() == wanted), None)


def _choice(mine: list[Bot]) -> list[str]:
    return [f"@{b.username}" for b in mine]


def _explain(e: HeliographError) -> str:
    """What went wrong, in the conversation's words."""
    again = "Try again, or /cancel."
    if e.code is ErrorCode.BOT_USERNAME_INVALID:
        return f"Sorry, the username must end in 'bot', like TetrisBot or tetris_bot. {again}"
    if e.code is ErrorCode.USERNAME_INVALID:
        return f"Sorry, this username is invalid: the {e.message}. {again}"
    if e.code is ErrorCode.USERNAME_OCCUPIED:
        return f"Sorry, this username is already taken. {again}"
    if e.code is ErrorCode.BOTS_TOO_MANY:
        return "That I cannot do: you have the most bots allowed. /deletebot one first."
    if e.code is ErrorCode.BOT_COMMANDS_INVALID:
        return (
            f"Sorry, I can't use that list ({e.message}). Send one command a line, like:\n\n"
            "start - Start the bot\nhelp - Show what it can do\n\n"
            f"A command has 1 to 32 latin letters, digits and underscores. {again}"
        )
    if e.code is ErrorCode.BOT_NOT_FOUND:
        return "That bot is gone. /mybots lists yours."
    if e.code is ErrorCode.BOT_METHOD_FORBIDDEN:
        return "Bots cannot own bots."
    return f"Sorry, {e.message}. {again}"


def _parse_commands(text: str) -> list[BotCommand]:
    """Lines "command - description", as BotFather takes them."""
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        command, dash, description = line.partition("-")
        if not dash:
            raise HeliographError(
                ErrorCode.BOT_COMMANDS_INVALID, f"no description for {line.strip()!r}"
            )
        found.append(BotCommand(command.strip(), description.strip()))
    return found


class Conversation:
    """One message of a user to the system bot, and the answer."""

    def __init__(self, app: App, user_id: int) -> None:
        self.app = app
        self.user = Caller(user_id=user_id, session_id=0)

    async def respond(self, text: str) -> Reply:
        text = text.strip()
        command, args = _split_command(text)
        dialog = await _dialog(self.app, self.user.user_id)
        try:
            if command is not None and text != EMPTY:
                return await self._command(command, args, dialog)
            if dialog is None:
                return Reply(HINT)
            return await self._step(dialog, text)
        except HeliographError as e:
            if e.code in (ErrorCode.BOT_NOT_FOUND, ErrorCode.BOTS_TOO_MANY):
                await _end(self.app, self.user.user_id)
            return Reply(_explain(e))

    async def _command(self, command: str, args: str, dialog: Dialog | None) -> Reply:
        if command == "cancel":
            if dialog is None:
                return Reply("No active command to cancel. I wasn't doing anything anyway.")
            await _end(self.app, self.user.user_id)
            return Reply(
                f"The command /{dialog.command} has been cancelled. Anything else I can do for "
                "you?\n\nSend /help for a list of commands."
            )
        simple: dict[str, Callable[[], Awaitable[Reply]]] = {
            "start": self._help,
            "help": self._help,
            "newbot": self._newbot,
            "mybots": self._mybots,
        }
        if command not in simple and command not in _CHOSEN:
            return Reply("Unrecognized command. Say what? /help lists what I understand.")
        if dialog is not None:  # a new command leaves the one under way
            await _end(self.app, self.user.user_id)
        if command in simple:
            return await simple[command]()
        return await self._pick(command, args)

    async def _help(self) -> Reply:
        return Reply(HELP)

    async def _newbot(self) -> Reply:
        if len(await bots.my_bots(self.app, self.user)) >= self.app.limits.bots_per_owner:
            raise HeliographError(ErrorCode.BOTS_TOO_MANY, "too many bots")
        await _save(self.app, self.user.user_id, "newbot:name")
        return Reply(
            "Alright, a new bot. How are we going to call it? Please choose a name for your bot."
        )

    async def _mybots(self) -> Reply:
        mine = await bots.my_bots(self.app, self.user)
        if not mine:
            return Reply("You have no bots yet. Use /newbot to make one.")
        lines = "\n".join(f"@{b.username} - {b.name}" for b in mine)
        return Reply(f"Your bots:\n\n{lines}\n\nChange one with the commands in /help.")

    async def _pick(self, command: str, args: str) -> Reply:
        """The bot a command is for: named after it, or asked for with a button each."""
        mine = await bots.my_bots(self.app, self.user)
        if not mine:
            return Reply("You have no bots yet. Use /newbot to make one.")
        if args:
            chosen = _find(mine, args)
            if chosen is not None:
                return await self._chosen(command, chosen)
        await _save(self.app, self.user.user_id, f"{command}:choose")
        return Reply("Choose a bot:", buttons=_choice(mine))

    async def _step(self, dialog: Dialog, text: str) -> Reply:
        command, _, phase = dialog.step.partition(":")
        if dialog.step == "newbot:name":
            name = " ".join(text.split())
            if not 0 < len(name) <= self.app.limits.display_name_max or name.startswith("/"):
                return Reply("Sorry, that name won't do. Please choose another one.")
            await _save(self.app, self.user.user_id, "newbot:username", name=name)
            return Reply(
                "Good. Now let's choose a username for your bot. It must end in 'bot'. Like "
                "this, for example: TetrisBot or tetris_bot."
            )
        if dialog.step == "newbot:username":
            bot = await bots.create_bot(self.app, self.user, dialog.data["name"], text)
            await _end(self.app, self.user.user_id)
            assert bot.token is not None
            return Reply(
                f"Done! Congratulations on your new bot. You will find it at @{bot.username}. "
                "You can now add a description, about text and commands for it: see /help.\n\n"
                f"Use this token to access the HTTP API:\n{bot.token}\n\n"
                "Keep your token secure and store it safely: anyone who has it controls your "
                "bot. I keep only a fingerprint of it, so I cannot show it again (/revoke "
                "gives a new one).",
                code=bot.token,
            )
        mine = await bots.my_bots(self.app, self.user)
        if phase == "choose":
            chosen = _find(mine, text)
            if chosen is None:
                return Reply("Please choose one of your bots.", buttons=_choice(mine))
            return await self._chosen(command, chosen)
        subject = next((b for b in mine if b.id == dialog.data["bot_id"]), None)
        if subject is None:
            raise HeliographError(ErrorCode.BOT_NOT_FOUND, "no such bot")
        return await self._apply(command, subject, text)

    async def _chosen(self, command: str, bot: Bot) -> Reply:
        """A command's first answer once its bot is known."""
        await _end(self.app, self.user.user_id)
        at = f"@{bot.username}"
        if command == "token":
            return Reply(
                f"I keep only a fingerprint of {at}'s token, so I cannot show it again. If you "
                f"lost it, /revoke {at} gives the bot a new one (the old one stops working)."
            )
        if command == "revoke":
            fresh = await bots.revoke_token(self.app, self.user, bot.id)
            assert fresh.token is not None
            return Reply(
                f"The token of {at} was replaced; the old one no longer works. New token:\n\n"
                f"{fresh.token}",
                code=fresh.token,
            )
        await _save(self.app, self.user.user_id, command, bot_id=bot.id)
        prompt, buttons = _PROMPTS[command](bot)
        return Reply(prompt, buttons=buttons)

    async def _apply(self, command: str, bot: Bot, text: str) -> Reply:
        """The answer to a command's question about a bot."""
        at = f"@{bot.username}"
        value = "" if text == EMPTY else text
        edit = bots.edit_bot
        if command == "setname":
            await edit(self.app, self.user, bot.id, name=text)
            done = f"Success! {at} is now called {' '.join(text.split())}."
        elif command == "setdescription":
            await edit(self.app, self.user, bot.id, description=value)
            done = f"Success! Description of {at} updated."
        elif command == "setabouttext":
            await edit(self.app, self.user, bot.id, about=value)
            done = f"Success! About text of {at} updated."
        elif command == "setcommands":
            menu = _parse_commands(value)
            await edit(self.app, self.user, bot.id, commands=menu)
            done = f"Success! Command list of {at} updated." if menu else "Command list cleared."
        elif command == "setprivacy":
            choice = text.lower()
            if choice not in ("enable", "disable"):
                return Reply("Please choose Enable or Disable.", buttons=["Enable", "Disable"])
            await edit(self.app, self.user, bot.id, privacy=choice == "enable")
            done = f"Success! The new status is: {choice.upper()}D."
        elif command == "setinline":
            if value:
                await edit(self.app, self.user, bot.id, inline=True, inline_placeholder=text[:64])
                done = f"Success! Inline mode of {at} is on."
            else:
                await edit(self.app, self.user, bot.id, inline=False)
                done = f"Success! Inline mode of {at} is off."
        else:  # deletebot
            if text.removeprefix("@").lower() != bot.username.lower():
                return Reply(f"To delete the bot, send its username {at}; or /cancel.")
            await bots.delete_bot(self.app, self.user, bot.id)
            done = f"Done! {at} is gone."
        await _end(self.app, self.user.user_id)
        return Reply(f"{done} /help")


def _ask(text: str) -> Callable[[Bot], tuple[str, list[str]]]:
    return lambda bot: (text.format(at=f"@{bot.username}"), [])


_PROMPTS: dict[str, Callable[[Bot], tuple[str, list[str]]]] = {
    "setname": _ask("OK. Send me the new name for {at}."),
    "setdescription": _ask(
        "OK. Send me the new description for {at}. People see it when they open a chat with "
        "the bot, under 'What can this bot do?'. /empty clears it."
    ),
    "setabouttext": _ask(
        "OK. Send me the new about text for {at}. People see it on the bot's profile. "
        "/empty clears it."
    ),
    "setcommands": _ask(
        "OK. Send me the list of commands of {at}, one a line, in this format:\n\n"
        "command1 - Description\ncommand2 - Another description\n\n/empty clears the list."
    ),
    "setprivacy": lambda bot: (
        "'Enable' - your bot will only receive messages that either start with the '/' symbol "
        "or mention the bot by username.\n'Disable' - your bot will receive all messages that "
        "people send to groups.\n\nCurrent status is: "
        + ("ENABLED" if bot.privacy else "DISABLED"),
        ["Enable", "Disable"],
    ),
    "setinline": lambda bot: (
        f"Inline mode of @{bot.username} is "
        + (f"on ('{bot.inline_placeholder}')" if bot.inline_placeholder else "off")
        + ". Send me a placeholder for the input field (like 'Search...') to turn it on, or "
        "/empty to turn it off.",
        [],
    ),
    "deletebot": _ask(
        "You are about to delete {at}: its token stops working and it shows as a deleted "
        "account. Send its username {at} to confirm, or /cancel."
    ),
}
# the commands about one bot: the user names it, or chooses it from buttons
_CHOSEN = frozenset({"token", "revoke", *_PROMPTS})


# --- the worker -------------------------------------------------------------------------------


def _markup(buttons: list[str]) -> dict[str, Any] | None:
    if not buttons:
        return None
    rows = [[{"text": b} for b in buttons[i : i + 2]] for i in range(0, len(buttons), 2)]
    return {"keyboard": rows, "one_time_keyboard": True, "resize_keyboard": True}


class SystemBot:
    """Answers the system bot's messages on the node that holds its lease."""

    def __init__(self, app: App, node: str) -> None:
        self.app = app
        self.node = node
        self.bot_id = 0
        self._needle = b""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._adopt(await ensure_account(self.app))
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is None:
            return  # never started
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        try:
            await release_leases(self.app, self.node, self.bot_id)
        except Exception:
            log.exception("releasing the system bot's lease failed")

    def _adopt(self, bot_id: int) -> None:
        self.bot_id = bot_id
        self._needle = f"[{bot_id},".encode()

    def on_bus(self, payload: bytes) -> None:
        """Wake up when the system bot's box grows."""
        if payload[:1] != UPDATE or not self._needle:
            return
        # A cheap look at the header first: nearly every update is for someone else.
        if payload.find(self._needle, 0, payload.find(b"\n")) < 0:
            return
        _, header, _ = parse_envelope(payload)
        if any(user_id == self.bot_id for user_id, _pts in header["to"]):
            self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                if await claim_lease(self.app, self.bot_id, self.node):
                    await self.drain()
            except Exception:
                log.exception("the system bot failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RENEW_SECONDS):
                    await self._wake.wait()

    async def drain(self) -> None:
        """Handle everything after the last handled pts."""
        while True:
            async with self.app.db.read() as conn:
                acked = int(
                    await conn.fetchval("SELECT acked_pts FROM bots WHERE user_id = ?", self.bot_id)
                )
            found, reached = await updates.read(self.app, self.bot_id, acked, BATCH)
            if not found and reached == acked:
                return
            for update in found:
                if not await self._take(update["update_id"]):
                    return
                await self._handle(update)
            last = found[-1]["update_id"] if found else acked
            # updates it does not receive (its own messages) are acknowledged too
            if reached > last and not await self._take(reached):
                return

    async def _take(self, pts: int) -> bool:
        """Acknowledge up to `pts` while still holding the lease (and renew it); False when
        another node has taken over."""
        async with self.app.db.transaction() as tx:
            changed: int = await tx.execute(
                "UPDATE bots SET acked_pts = ?, webhook_lease_until = ?"
                " WHERE user_id = ? AND webhook_lease_owner = ? AND acked_pts < ?",
                pts,
                self.app.now() + LEASE_SECONDS,
                self.bot_id,
                self.node,
                pts,
            )
        return changed > 0

    async def _handle(self, update: dict[str, Any]) -> None:
        message = update.get("message")
        if message is None or message["chat"]["type"] != "private":
            return
        sender = message.get("from") or {}
        if sender.get("is_bot") or "id" not in sender:
            return  # bots do not make bots, and two bots must not talk forever
        text = message.get("text")
        try:
            reply = await Conversation(self.app, sender["id"]).respond(text) if text else None
        except Exception:
            log.exception("the system bot failed on update %d", update["update_id"])
            reply = Reply("Sorry, something went wrong. Please try again.")
        await self._send(sender["id"], reply or Reply(HINT))

    async def _send(self, user_id: int, reply: Reply) -> None:
        me = Caller(user_id=self.bot_id, session_id=0)
        entities = []
        if reply.code is not None and reply.code in reply.text:
            start = reply.text.index(reply.code)
            entities.append(
                MessageEntity("code", utf16_len(reply.text[:start]), utf16_len(reply.code))
            )
        try:
            chat_id = await open_private_chat(self.app, me, user_id)
            await send_message(
                self.app,
                me,
                chat_id,
                reply.text,
                entities,
                no_link_preview=True,
                reply_markup=_markup(reply.buttons),
            )
        except HeliographError as e:
            log.info("the system bot could not answer user %d: %s", user_id, e)
