"""The kinds of chat: its own module so that both entities and permissions can use it."""

from __future__ import annotations

from enum import StrEnum


class ChatKind(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    CHANNEL = "channel"
