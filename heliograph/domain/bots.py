"""Bots as their owners and users see them, and the keyboards bots attach to messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class BotCommand:
    command: str
    description: str


@dataclass(slots=True)
class Bot:
    """A bot, as its owner manages it. `token` is shown only when it is made (on creation
    and when revoked); the server keeps only its hash. `privacy`: in groups the bot sees
    only commands, replies to it and mentions of it. `inline_placeholder` set: the bot
    answers inline queries (`@bot query` in any chat)."""

    id: int
    username: str
    name: str
    description: str = ""
    about: str = ""
    privacy: bool = True
    inline_placeholder: str | None = None
    commands: list[BotCommand] = field(default_factory=list)
    token: str | None = None


@dataclass(slots=True)
class BotInfo:
    """What a user sees of a bot they talk to: its description, menu and inline mode."""

    id: int
    username: str
    name: str
    description: str
    about: str
    commands: list[BotCommand]
    inline_placeholder: str | None = None


# A keyboard is kept in the Bot API's own JSON form (`inline_keyboard`, `keyboard`,
# `remove_keyboard`, `force_reply` and their options): what bots send is what clients get.
ReplyMarkup = dict[str, Any]
