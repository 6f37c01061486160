"""Is a string exactly one emoji? Enough of Unicode's emoji grammar (UTS #51) to accept
every emoji a keyboard produces (ZWJ families, skin tones, flags, keycaps, tag flags) and
refuse text, lone joiners and strings of several emoji, without a table of every emoji."""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"
VS16 = "\ufe0f"
KEYCAP = "\u20e3"
KEYCAP_BASES = frozenset("0123456789#*")
SKIN_TONES = frozenset(chr(c) for c in range(0x1F3FB, 0x1F400))
TAGS = frozenset(chr(c) for c in range(0xE0020, 0xE0080))
REGIONAL = frozenset(chr(c) for c in range(0x1F1E6, 0x1F200))


def _is_pictograph(char: str) -> bool:
    return unicodedata.category(char) == "So" and char not in REGIONAL


def _segment_is_emoji(segment: str) -> bool:
    """One element of a ZWJ sequence: a pictograph with optional VS16, skin tone and tags;
    a flag (two regional indicators); or a keycap."""
    if len(segment) == 2 and all(c in REGIONAL for c in segment):
        return True
    if segment and segment[0] in KEYCAP_BASES:
        return segment[1:] in (VS16 + KEYCAP, KEYCAP)
    if not segment or not _is_pictograph(segment[0]):
        return False
    rest = segment[1:]
    if rest.startswith(VS16):
        rest = rest[1:]
    if rest and rest[0] in SKIN_TONES:
        rest = rest[1:]
    return all(c in TAGS for c in rest)


def is_single_emoji(text: str) -> bool:
    if not text or text.startswith(ZWJ) or text.endswith(ZWJ):
        return False
    return all(_segment_is_emoji(segment) for segment in text.split(ZWJ))
