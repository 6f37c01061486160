"""A bot's command menus (per scope and language), its name and its descriptions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import Field

from heliograph.botapi.chats import resolve_chat
from heliograph.botapi.errors import bad_request
from heliograph.botapi.methods import BotContext, BotParams, bot_method
from heliograph.domain.bots import BotCommand
from heliograph.services import bots as bot_accounts
from heliograph.store import bots, users

# Telegram's limits for names and descriptions
NAME_MAX = 64
DESCRIPTION_MAX = 512
SHORT_DESCRIPTION_MAX = 120
Language = Annotated[str, Field(pattern=r"^([a-z]{2})?$")]
_LOCALIZED = (
    "Names and descriptions are kept in one language: with a `language_code` setting one "
    "is accepted and ignored, and reading one gives the default."
)


class Scope(BotParams):
    """BotCommandScope: who sees a menu. Chat scopes name a chat as every method does."""

    type: Literal[
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    ] = "default"
    chat_id: int | str | None = None
    user_id: int | None = None


async def scope_key(ctx: BotContext, scope: Scope | None) -> str:
    """The stored name of a scope: "default", "all_group_chats", "chat:<our chat id>",
    "chat_member:<our chat id>:<user id>", ..."""
    if scope is None or scope.type == "default":
        return bot_accounts.DEFAULT_SCOPE
    if scope.type not in ("chat", "chat_administrators", "chat_member"):
        return scope.type
    if scope.chat_id is None:
        raise bad_request("chat_id is required for this scope")
    chat_id = await resolve_chat(ctx, scope.chat_id)
    if scope.type != "chat_member":
        return f"{scope.type}:{chat_id}"
    if scope.user_id is None:
        raise bad_request("user_id is required for this scope")
    return f"chat_member:{chat_id}:{scope.user_id}"


class SetMyCommands(BotParams):
    commands: Annotated[list[BotCommand], Field(max_length=100)]
    scope: Scope | None = None
    language_code: Language = ""


@bot_method("setMyCommands", SetMyCommands)
async def set_my_commands(ctx: BotContext, p: SetMyCommands) -> bool:
    """The command menu for a scope and language; an empty list removes it."""
    checked = bot_accounts.check_commands(ctx.app, p.commands)
    key = await scope_key(ctx, p.scope)
    async with ctx.app.db.transaction() as tx:
        await bot_accounts.set_commands_in(tx, ctx.bot_id, key, p.language_code, checked)
    return True


class CommandsOf(BotParams):
    scope: Scope | None = None
    language_code: Language = ""


@bot_method("getMyCommands", CommandsOf)
async def get_my_commands(ctx: BotContext, p: CommandsOf) -> list[dict[str, str]]:
    """The command menu set for exactly this scope and language (none: an empty list)."""
    key = await scope_key(ctx, p.scope)
    async with ctx.app.db.read() as conn:
        encoded = await bots.commands(conn, ctx.bot_id, key, p.language_code)
    if encoded is None:
        return []
    stored = orjson.loads(encoded)
    return [{"command": c["command"], "description": c["description"]} for c in stored]


@bot_method("deleteMyCommands", CommandsOf)
async def delete_my_commands(ctx: BotContext, p: CommandsOf) -> bool:
    """Remove the command menu of a scope and language."""
    key = await scope_key(ctx, p.scope)
    async with ctx.app.db.transaction() as tx:
        await bot_accounts.set_commands_in(tx, ctx.bot_id, key, p.language_code, [])
    return True


class LanguageOnly(BotParams):
    language_code: Language = ""


class SetMyName(BotParams):
    name: Annotated[str, Field(max_length=NAME_MAX)] = ""
    language_code: Language = ""


async def _bot(ctx: BotContext) -> Any:
    async with ctx.app.db.read() as conn:
        row = await bots.get(conn, ctx.bot_id)
    assert row is not None
    return row


@bot_method("setMyName", SetMyName, differences=_LOCALIZED)
async def set_my_name(ctx: BotContext, p: SetMyName) -> bool:
    """The bot's name, shown to users instead of its username. An empty name keeps the
    current one (a bot always has a name)."""
    name = " ".join(p.name.split())
    if p.language_code or not name:
        return True
    if len(name) > ctx.app.limits.display_name_max:
        raise bad_request("bot name is too long")
    async with ctx.app.db.transaction() as tx:
        await users.update_fields(tx, ctx.bot_id, display_name=name)
    return True


@bot_method("getMyName", LanguageOnly, differences=_LOCALIZED)
async def get_my_name(ctx: BotContext, p: LanguageOnly) -> dict[str, str]:
    """The bot's name (BotName)."""
    return {"name": (await _bot(ctx))["display_name"]}


class SetMyDescription(BotParams):
    description: Annotated[str, Field(max_length=DESCRIPTION_MAX)] = ""
    language_code: Language = ""


@bot_method("setMyDescription", SetMyDescription, differences=_LOCALIZED)
async def set_my_description(ctx: BotContext, p: SetMyDescription) -> bool:
    """What users see in an empty chat with the bot; empty removes it."""
    if not p.language_code:
        async with ctx.app.db.transaction() as tx:
            await bots.update(tx, ctx.bot_id, description=p.description)
    return True


@bot_method("getMyDescription", LanguageOnly, differences=_LOCALIZED)
async def get_my_description(ctx: BotContext, p: LanguageOnly) -> dict[str, str]:
    """The bot's description (BotDescription)."""
    return {"description": (await _bot(ctx))["description"]}


class SetMyShortDescription(BotParams):
    short_description: Annotated[str, Field(max_length=SHORT_DESCRIPTION_MAX)] = ""
    language_code: Language = ""


@bot_method("setMyShortDescription", SetMyShortDescription, differences=_LOCALIZED)
async def set_my_short_description(ctx: BotContext, p: SetMyShortDescription) -> bool:
    """The about text on the bot's profile; empty removes it."""
    if not p.language_code:
        async with ctx.app.db.transaction() as tx:
            await bots.update(tx, ctx.bot_id, short_description=p.short_description)
    return True


@bot_method("getMyShortDescription", LanguageOnly, differences=_LOCALIZED)
async def get_my_short_description(ctx: BotContext, p: LanguageOnly) -> dict[str, str]:
    """The bot's about text (BotShortDescription)."""
    return {"short_description": (await _bot(ctx))["short_description"]}
