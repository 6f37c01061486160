"""Sticker packs as clients see them, and the rules for their names and emoji.

A pack is shared by its link, `<server>/addstickers/<short_name>`; anyone signed in
may preview it and install it. Only its creator changes it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from heliograph.domain.emoji import SKIN_TONES, VS16, is_single_emoji
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import Sticker

SHORT_NAME_MAX = 64
SHORT_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(slots=True)
class SetSticker:
    """A sticker in its pack: `sticker` as a message holds it (its `emoji` is the first
    one) and every emoji it stands for, in the order its creator gave them."""

    sticker: Sticker
    emoji: list[str]


@dataclass(slots=True)
class StickerSetInfo:
    """A pack in a list (installed, found): enough to draw its row. `cover` is its first
    sticker. `version` grows with every change: call `getStickerSet` when it differs from
    the copy you hold. `is_creator`: you made it and may change it."""

    id: int
    short_name: str
    title: str
    version: int
    count: int
    install_count: int
    installed: bool
    is_creator: bool
    cover: Sticker | None


@dataclass(slots=True)
class StickerSet:
    """A whole pack, its stickers in order. Its share link is
    `<server>/addstickers/<short_name>`."""

    id: int
    short_name: str
    title: str
    version: int
    install_count: int
    installed: bool
    is_creator: bool
    stickers: list[SetSticker]


def short_name_key(name: str) -> str:
    """Check a pack's short name and return the form uniqueness uses: "Cats" and "cats"
    are the same pack."""
    if not 1 <= len(name) <= SHORT_NAME_MAX:
        raise HeliographError(
            ErrorCode.SHORT_NAME_INVALID,
            f"a short name has 1 to {SHORT_NAME_MAX} characters",
        )
    if not SHORT_NAME_RE.fullmatch(name):
        raise HeliographError(
            ErrorCode.SHORT_NAME_INVALID,
            "a short name starts with a latin letter and has only latin letters, digits and"
            " underscores",
        )
    return name.lower()


def emoji_key(emoji: str) -> str:
    """The form suggestions match on: "❤️" and "❤", "👍🏽" and "👍" are one emoji to
    someone looking for a sticker."""
    return "".join(c for c in emoji if c != VS16 and c not in SKIN_TONES)


def check_emoji(emoji: list[str], most: int) -> list[str]:
    """1 to `most` emoji, each exactly one emoji; repeats (as suggestions see them) dropped."""
    if not emoji:
        raise HeliographError(ErrorCode.STICKER_EMOJI_INVALID, "a sticker needs at least one emoji")
    kept: dict[str, str] = {}
    for index, item in enumerate(emoji):
        if not is_single_emoji(item):
            raise HeliographError(
                ErrorCode.STICKER_EMOJI_INVALID,
                f"emoji {index} is not a single emoji: {item[:32]!r}",
                index=index,
            )
        kept.setdefault(emoji_key(item), item)
    if len(kept) > most:
        raise HeliographError(
            ErrorCode.STICKER_EMOJI_INVALID,
            f"a sticker has at most {most} emoji",
            limit=most,
        )
    return list(kept.values())
