"""Bots: making and managing them (their owners), and what users see of them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from heliograph.domain.bots import Bot, BotCommand, BotInfo
from heliograph.gateway.methods import Context, NoParams, Params, method
from heliograph.gateway.methods.account import Ok
from heliograph.services import bots

BotId = Annotated[int, Field(ge=1, le=2**53)]
Name = Annotated[str, Field(min_length=1, max_length=256)]


class CreateBot(Params):
    name: Name
    username: Annotated[str, Field(max_length=64)]


@method("createBot", CreateBot, Bot, group="Bots")
async def create_bot(ctx: Context, p: CreateBot) -> Bot:
    """Make a bot; you own it. Its username ends in `bot` (`BOT_USERNAME_INVALID`).

    The answer carries the bot's token `<bot_id>:<secret>`, shown only now: the server keeps
    only its hash. Point any Telegram bot library at this server with that token. Bots can
    also be made by talking to the built-in `@bots` account."""
    return await bots.create_bot(ctx.app, ctx.user, p.name, p.username)


@method("getMyBots", NoParams, list[Bot], group="Bots")
async def get_my_bots(ctx: Context, p: NoParams) -> list[Bot]:
    """The bots you own (without their tokens)."""
    return await bots.my_bots(ctx.app, ctx.user)


class EditBot(Params):
    bot_id: BotId
    name: Name | None = None
    description: Annotated[str, Field(max_length=4096)] | None = None
    about: Annotated[str, Field(max_length=1024)] | None = None
    privacy: bool | None = None
    inline: bool | None = None
    inline_placeholder: Annotated[str, Field(max_length=64)] | None = None
    commands: Annotated[list[BotCommand], Field(max_length=1000)] | None = None


@method("editBot", EditBot, Bot, group="Bots")
async def edit_bot(ctx: Context, p: EditBot) -> Bot:
    """Change a bot of yours: its name, description (shown before a chat starts), about
    text, privacy mode (on: in groups it sees only commands, replies to it and mentions of
    it), inline mode and its command menu. Absent fields stay as they are."""
    return await bots.edit_bot(
        ctx.app,
        ctx.user,
        p.bot_id,
        name=p.name,
        description=p.description,
        about=p.about,
        privacy=p.privacy,
        inline=p.inline,
        inline_placeholder=p.inline_placeholder,
        commands=p.commands,
    )


class BotRef(Params):
    bot_id: BotId


@method("revokeBotToken", BotRef, Bot, group="Bots")
async def revoke_bot_token(ctx: Context, p: BotRef) -> Bot:
    """Give a bot of yours a new token; the old one stops working at once."""
    return await bots.revoke_token(ctx.app, ctx.user, p.bot_id)


@method("deleteBot", BotRef, Ok, group="Bots")
async def delete_bot(ctx: Context, p: BotRef) -> Ok:
    """Delete a bot of yours: its token stops working, and it shows as a deleted account."""
    await bots.delete_bot(ctx.app, ctx.user, p.bot_id)
    return Ok()


@method("getBotInfo", BotRef, BotInfo, group="Bots")
async def get_bot_info(ctx: Context, p: BotRef) -> BotInfo:
    """What a bot says about itself: description, about text, command menu, and whether it
    answers inline queries (`inline_placeholder`)."""
    return await bots.bot_info(ctx.app, p.bot_id)
