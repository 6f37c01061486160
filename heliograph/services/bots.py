"""Bot accounts: made and managed by their owners, reached by a token `<bot_id>:<secret>`
whose secret the server keeps only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

import orjson

from heliograph.domain.bots import Bot, BotCommand, BotInfo
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.text import canonical_username
from heliograph.services.context import App, Caller
from heliograph.store import bots, users
from heliograph.store.db import Conn, Row

_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
DEFAULT_SCOPE = "default"


def _secret_hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def _new_token(bot_id: int) -> tuple[str, bytes]:
    secret = secrets.token_urlsafe(26)
    return f"{bot_id}:{secret}", _secret_hash(secret)


def check_bot_username(app: App, username: str) -> str:
    key = canonical_username(username, app.limits)
    if not key.endswith("bot"):
        raise HeliographError(ErrorCode.BOT_USERNAME_INVALID, "a bot's username must end in 'bot'")
    return key


def _check_name(app: App, name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > app.limits.display_name_max:
        raise HeliographError(
            ErrorCode.INVALID_PARAMS,
            f"a bot's name has 1 to {app.limits.display_name_max} characters",
        )
    return name


def check_commands(app: App, commands: list[BotCommand]) -> list[BotCommand]:
    if len(commands) > app.limits.bot_commands_max:
        raise HeliographError(ErrorCode.BOT_COMMANDS_INVALID, "too many commands")
    checked = []
    for c in commands:
        command = c.command.lstrip("/").lower()
        description = c.description.strip()
        if not _COMMAND.match(command) or not (
            0 < len(description) <= app.limits.bot_command_description_max
        ):
            raise HeliographError(
                ErrorCode.BOT_COMMANDS_INVALID, f"command {c.command!r} or its description"
            )
        checked.append(BotCommand(command, description))
    return checked


async def _commands(conn: Conn, bot_id: int, scope: str = DEFAULT_SCOPE) -> list[BotCommand]:
    encoded = await bots.commands(conn, bot_id, scope, "")
    return [] if encoded is None else [BotCommand(**c) for c in orjson.loads(encoded)]


async def _to_bot(conn: Conn, row: Row, token: str | None = None) -> Bot:
    return Bot(
        id=row["user_id"],
        username=row["username"],
        name=row["display_name"],
        description=row["description"],
        about=row["short_description"],
        privacy=bool(row["privacy"]),
        inline_placeholder=row["inline_placeholder"],
        commands=await _commands(conn, row["user_id"]),
        token=token,
    )


async def create_bot(app: App, caller: Caller, name: str, username: str) -> Bot:
    """Make a bot owned by the caller; the answer carries its token, shown only now."""
    key = check_bot_username(app, username)
    name = _check_name(app, name)
    now = app.now()
    async with app.db.transaction() as tx:
        owner = await users.get(tx, caller.user_id)
        if owner is None or owner["is_bot"]:
            raise HeliographError(ErrorCode.BOT_METHOD_FORBIDDEN, "bots cannot own bots")
        if len(await bots.owned_by(tx, caller.user_id)) >= app.limits.bots_per_owner:
            raise HeliographError(
                ErrorCode.BOTS_TOO_MANY,
                "you own the most bots allowed",
                limit=app.limits.bots_per_owner,
            )
        if await users.get_by_username(tx, key) is not None:
            raise HeliographError(ErrorCode.USERNAME_OCCUPIED, "this username is taken")
        bot_id = await users.insert(tx, username.lstrip("@"), key, name, "", now)
        token, hashed = _new_token(bot_id)
        await bots.insert(tx, bot_id, caller.user_id, hashed, now)
        row = await bots.get(tx, bot_id)
        assert row is not None
        return await _to_bot(tx, row, token)


async def _own_bot(conn: Conn, caller: Caller, bot_id: int) -> Row:
    row = await bots.get(conn, bot_id)
    if row is None or row["owner_id"] != caller.user_id or row["deleted"]:
        raise HeliographError(ErrorCode.BOT_NOT_FOUND, "no such bot of yours")
    return row


async def my_bots(app: App, caller: Caller) -> list[Bot]:
    async with app.db.read() as conn:
        return [await _to_bot(conn, r) for r in await bots.owned_by(conn, caller.user_id)]


async def get_bot(app: App, caller: Caller, bot_id: int) -> Bot:
    async with app.db.read() as conn:
        return await _to_bot(conn, await _own_bot(conn, caller, bot_id))


async def edit_bot(
    app: App,
    caller: Caller,
    bot_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    about: str | None = None,
    privacy: bool | None = None,
    inline_placeholder: str | None = None,
    inline: bool | None = None,
    commands: list[BotCommand] | None = None,
) -> Bot:
    """Change what the owner may change of a bot; None leaves a field as it is."""
    fields: dict[str, object] = {}
    if description is not None:
        if len(description) > app.limits.bot_description_max:
            raise HeliographError(ErrorCode.INVALID_PARAMS, "the description is too long")
        fields["description"] = description
    if about is not None:
        if len(about) > app.limits.bot_about_max:
            raise HeliographError(ErrorCode.INVALID_PARAMS, "the about text is too long")
        fields["short_description"] = about
    if privacy is not None:
        fields["privacy"] = int(privacy)
    if inline is not None:
        fields["inline_placeholder"] = (inline_placeholder or "Search…") if inline else None
    elif inline_placeholder is not None:
        fields["inline_placeholder"] = inline_placeholder[:64]
    checked = None if commands is None else check_commands(app, commands)
    async with app.db.transaction() as tx:
        await _own_bot(tx, caller, bot_id)
        if name is not None:
            await users.update_fields(tx, bot_id, display_name=_check_name(app, name))
        if fields:
            await bots.update(tx, bot_id, **fields)
        if checked is not None:
            await set_commands_in(tx, bot_id, DEFAULT_SCOPE, "", checked)
        row = await bots.get(tx, bot_id)
        assert row is not None
        return await _to_bot(tx, row)


async def set_commands_in(
    tx: Conn, bot_id: int, scope: str, language_code: str, commands: list[BotCommand]
) -> None:
    encoded = orjson.dumps(commands).decode() if commands else None
    await bots.set_commands(tx, bot_id, scope, language_code, encoded)


async def revoke_token(app: App, caller: Caller, bot_id: int) -> Bot:
    """A new token; the old one stops working at once."""
    async with app.db.transaction() as tx:
        await _own_bot(tx, caller, bot_id)
        token, hashed = _new_token(bot_id)
        await bots.update(tx, bot_id, token_hash=hashed)
        row = await bots.get(tx, bot_id)
        assert row is not None
        return await _to_bot(tx, row, token)


async def delete_bot(app: App, caller: Caller, bot_id: int) -> None:
    """Delete a bot: its token stops working and it shows as a deleted account."""
    async with app.db.transaction() as tx:
        await _own_bot(tx, caller, bot_id)
        await bots.delete(tx, bot_id)
        await users.erase_private_data(tx, bot_id)
        await users.mark_deleted(tx, bot_id)


async def authenticate(app: App, token: str) -> Caller:
    """The bot a token belongs to; BOT_TOKEN_INVALID for anything else."""
    left, sep, secret = token.partition(":")
    if not sep or not left.isdigit() or not secret or len(token) > 128:
        raise HeliographError(ErrorCode.BOT_TOKEN_INVALID, "Unauthorized")
    async with app.db.read() as conn:
        row = await bots.get(conn, int(left))
    if row is None or not hmac.compare_digest(bytes(row["token_hash"]), _secret_hash(secret)):
        raise HeliographError(ErrorCode.BOT_TOKEN_INVALID, "Unauthorized")
    if row["disabled"] or row["deleted"]:
        raise HeliographError(ErrorCode.BOT_TOKEN_INVALID, "Unauthorized")
    return Caller(user_id=row["user_id"], session_id=0)


async def bot_info(app: App, bot_id: int) -> BotInfo:
    """What any user sees of a bot: description, about text, menu, inline mode."""
    async with app.db.read() as conn:
        row = await bots.get(conn, bot_id)
        if row is None or row["deleted"]:
            raise HeliographError(ErrorCode.BOT_NOT_FOUND, "no such bot")
        return BotInfo(
            id=row["user_id"],
            username=row["username"],
            name=row["display_name"],
            description=row["description"],
            about=row["short_description"],
            commands=await _commands(conn, bot_id),
            inline_placeholder=row["inline_placeholder"],
        )
