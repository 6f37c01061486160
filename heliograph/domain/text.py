"""Message text rules: UTF-16 lengths, entity validation and auto-detection, search
normalization, usernames. Pure functions; services call them before writing anything."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import urlsplit

from heliograph.domain.entities import MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit clients count entity offsets in (an emoji is 2)."""
    # surrogatepass: a lone surrogate, which a Python str may hold, counts as one unit
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_offsets(text: str) -> list[int]:
    """offsets[i] is the UTF-16 offset of code point i (and offsets[len(text)] the total)."""
    offsets = [0] * (len(text) + 1)
    pos = 0
    for i, ch in enumerate(text):
        pos += 2 if ord(ch) > 0xFFFF else 1
        offsets[i + 1] = pos
    return offsets


# ---------------------------------------------------------------------------------------------
# Entity validation

ENTITY_TYPES: frozenset[str] = frozenset(
    {"bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link"}
    | {"mention", "text_mention", "hashtag", "url", "bot_command", "blockquote"}
)

# Each optional field and the one entity type that may carry it.
_FIELD_OWNERS = {"url": "text_link", "language": "pre", "user_id": "text_mention"}
_CODE_TYPES = frozenset({"code", "pre"})
_URL_MAX = 2048
_LANGUAGE_MAX = 32
_LANGUAGE_RE = re.compile(r"[A-Za-z0-9+#._-]+")


def _sort_key(entity: MessageEntity) -> tuple[int, int]:
    # Outer entities first at equal offsets, so clients can nest them while rendering.
    return (entity.offset, -entity.length)


def _invalid(index: int, entity: MessageEntity, problem: str) -> HeliographError:
    return HeliographError(
        ErrorCode.ENTITIES_INVALID, f"entity {index} ({entity.type}): {problem}", index=index
    )


def _is_int(value: object) -> bool:
    # bool is an int subclass; JSON true must not pass as an offset or user id
    return isinstance(value, int) and not isinstance(value, bool)


def _url_problem(url: str | None) -> str | None:
    if not url:
        return "text_link needs a url"
    if len(url) > _URL_MAX:
        return f"url is longer than {_URL_MAX} characters"
    # Cf covers bidi overrides, which could make a link display as a different address.
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in url):
        return "url must not contain spaces or control characters"
    scheme, _, rest = url.partition(":")
    scheme = scheme.lower()
    if scheme == "mailto" and rest:
        return None
    if scheme == "tg" and rest.startswith("//") and len(rest) > 2:
        return None
    if scheme in ("http", "https"):
        try:
            host = urlsplit(url).hostname
        except ValueError:  # e.g. an unclosed IPv6 bracket
            host = None
        return None if host else "url has no host"
    return "url must start with http://, https://, tg:// or mailto:"


def _entity_problem(e: MessageEntity, size: int, splits: set[int]) -> str | None:
    """What is wrong with one entity on its own, or None."""
    if e.type not in ENTITY_TYPES:
        return f"unknown type {e.type!r}"
    if not (_is_int(e.offset) and _is_int(e.length)):
        return "offset and length must be integers"
    if e.offset < 0:
        return f"offset {e.offset} is negative"
    if e.length <= 0:
        return f"length {e.length} must be positive"
    end = e.offset + e.length
    if end > size:
        return f"ends at {end}, past the end of the text ({size} UTF-16 units)"
    for edge in (e.offset, end):
        if edge in splits:
            return f"position {edge} splits a surrogate pair (an emoji or other astral character)"
    for field_name, owner in _FIELD_OWNERS.items():
        if getattr(e, field_name) is not None and e.type != owner:
            return f"{field_name} is only allowed on {owner} entities"
    if e.type == "text_link":
        return _url_problem(e.url)
    if e.type == "pre" and e.language:
        if len(e.language) > _LANGUAGE_MAX:
            return f"language is longer than {_LANGUAGE_MAX} characters"
        if not _LANGUAGE_RE.fullmatch(e.language):
            return "language may only contain A-Z a-z 0-9 + # . _ -"
    if e.type == "text_mention" and not (_is_int(e.user_id) and (e.user_id or 0) > 0):
        return "text_mention needs a positive user_id"
    return None


def validate_entities(
    text: str, entities: list[MessageEntity], limits: Limits
) -> list[MessageEntity]:
    """Check client-sent entities against `text`; return copies sorted by (offset, -length).

    Raises ENTITIES_INVALID naming the first bad entity by its index in `entities`."""
    if len(entities) > limits.entities_per_message:
        raise HeliographError(
            ErrorCode.ENTITIES_INVALID,
            f"too many entities: {len(entities)}, at most {limits.entities_per_message}",
        )
    offsets = _utf16_offsets(text)
    # UTF-16 positions between the halves of a surrogate pair: no entity may start or end there
    splits = {offsets[i] + 1 for i, ch in enumerate(text) if ord(ch) > 0xFFFF}
    checked: list[tuple[int, MessageEntity]] = []
    for i, e in enumerate(entities):
        problem = _entity_problem(e, offsets[-1], splits)
        if problem:
            raise _invalid(i, e, problem)
        # Copies, so the caller's list can't change what was validated; "" language means none.
        copy = replace(e, language=e.language or None) if e.type == "pre" else replace(e)
        checked.append((i, copy))
    _check_code_spans(checked)
    checked.sort(key=lambda pair: _sort_key(pair[1]))
    return [e for _, e in checked]


def _check_code_spans(checked: list[tuple[int, MessageEntity]]) -> None:
    """Code and pre show their text verbatim: other entities may contain them whole, but may
    neither cross their edges nor sit inside them."""
    for i, c in checked:
        if c.type not in _CODE_TYPES:
            continue
        c_end = c.offset + c.length
        for j, e in checked:
            e_end = e.offset + e.length
            if j == i or e_end <= c.offset or c_end <= e.offset:
                continue
            if e.type not in _CODE_TYPES and e.offset <= c.offset and c_end <= e_end:
                continue  # e.g. code inside bold
            raise _invalid(
                i, c, f"overlaps entity {j} ({e.type}); nothing may cross or nest inside {c.type}"
            )


# ---------------------------------------------------------------------------------------------
# Entity detection

# Two-letter country codes that are real TLDs, and common generic ones: "readme.txt" or
# "end.Start" (a missing space) must not become links.
_TLD_NAMES = """
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br
    bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec
    ee eg er es et eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk
    hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la
    lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my
    mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro
    rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk
    tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw
    com org net edu gov mil int info biz name pro mobi aero asia coop jobs museum tel travel xxx
    app dev page xyz online site top shop store tech blog cloud live news art club design space
    website link digital social media world today life agency studio network group company
    email chat wiki zone team center solutions systems services games game music video
    рф укр бел срб қаз мкд ایران مصر"""
_TLDS = frozenset(_TLD_NAMES.split())
# Characters that end a URL: whitespace, <>", and CJK punctuation (Chinese text often follows
# a link without a space).
_URL_STOP = '\\s<>"\u3000-\u303f\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f'
# A scheme is unambiguous: it may follow CJK text directly, only not a latin word ("xhttp://").
_SCHEME_URL_RE = re.compile(
    rf"(?<![A-Za-z0-9])https?://[^{_URL_STOP}/?#][^{_URL_STOP}]*", re.IGNORECASE
)
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
# Not after @ (an e-mail address), nor after . / : # - (part of a longer name or path).
_BARE_URL_RE = re.compile(
    rf"(?<![^\W_])(?<![@./:#-])(?:{_LABEL}\.)+(?P<tld>[^\W\d_]{{2,63}})(?![\w-])"
    rf"(?::\d{{1,5}})?(?:[/?#][^{_URL_STOP}]*)?"
)
_TRAILING = ".,;:!?'\"…”’»"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_MENTION_RE = re.compile(r"(?<!\w)@[A-Za-z][A-Za-z0-9_]{2,31}(?!\w)")
# Not followed by "/" either: "/usr/bin" is a path, not a command.
_BOT_COMMAND_RE = re.compile(
    r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z][A-Za-z0-9_]{2,31})?(?![\w/@])"
)
_JOINERS = "\u200c\u200d"  # ZWNJ/ZWJ: Persian and Indic words need them mid-word
_LETTERS = frozenset({"Lu", "Ll", "Lt", "Lo"})


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a link, keeping balanced brackets as in
    https://en.wikipedia.org/wiki/Mercury_(planet)."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])):
            url = url[:-1]
        else:
            break
    return url


def _is_tag_char(ch: str) -> bool:
    # Letters and marks of any script (Devanagari vowel signs are marks), digits, underscore.
    category = unicodedata.category(ch)
    return ch == "_" or category[0] in "LM" or category == "Nd"


def _hashtag_spans(text: str) -> Iterator[tuple[int, int]]:
    n = len(text)
    start = text.find("#")
    while start != -1:
        if start == 0 or not (_is_tag_char(text[start - 1]) or text[start - 1] in _JOINERS):
            end = start + 1
            while end < n and (
                _is_tag_char(text[end]) or (text[end] in _JOINERS and end > start + 1)
            ):
                end += 1
            while text[end - 1] in _JOINERS:  # a joiner only counts between letters
                end -= 1
            # "#1" or "#2024" is a number, not a tag
            if any(unicodedata.category(c) in _LETTERS for c in text[start + 1 : end]):
                yield start, end
        start = text.find("#", start + 1)


# A send scans its text twice (its entities, then its hashtags): the second time is free.
@functools.lru_cache(maxsize=64)
def _scan(text: str) -> tuple[tuple[int, int, str], ...]:
    """Detected (start, end, type) spans in code points, sorted, never overlapping: URLs claim
    their text first so a "#fragment" or "/@user" inside one is not also a tag or mention."""
    taken = bytearray(len(text))
    found: list[tuple[int, int, str]] = []

    def claim(start: int, end: int, kind: str) -> None:
        if end > start and not any(taken[start:end]):
            taken[start:end] = b"\x01" * (end - start)
            found.append((start, end, kind))

    for m in _SCHEME_URL_RE.finditer(text):
        url = _trim_url(m.group())
        if url.partition("://")[2]:
            claim(m.start(), m.start() + len(url), "url")
    for m in _BARE_URL_RE.finditer(text):
        tld = m["tld"]
        # "Hi.My name" or "end.Start" is a missing space, not a domain: real ones are typed
        # in one case ("nrk.no", "NRK.NO").
        if tld.casefold() in _TLDS and not (tld[0].isupper() and not tld.isupper()):
            claim(m.start(), m.start() + len(_trim_url(m.group())), "url")
    for m in _MENTION_RE.finditer(text):
        claim(m.start(), m.end(), "mention")
    for start, end in _hashtag_spans(text):
        claim(start, end, "hashtag")
    for m in _BOT_COMMAND_RE.finditer(text):
        claim(m.start(), m.end(), "bot_command")
    found.sort()
    return tuple(found)


def detect_entities(text: str) -> list[MessageEntity]:
    """Find urls, @mentions, #hashtags and /commands, with offsets in UTF-16 units."""
    spans = _scan(text)
    if not spans:
        return []
    offsets = _utf16_offsets(text)
    return [
        MessageEntity(kind, offsets[start], offsets[end] - offsets[start])
        for start, end, kind in spans
    ]


# Given entities of these types already say what their text is; detection must not add
# another meaning to it (a hashtag inside code, a url inside a text_link).
_DETECTION_BLOCKERS = frozenset(
    {"code", "pre", "text_link", "url", "mention", "hashtag", "text_mention", "bot_command"}
)


def merge_entities(text: str, given: list[MessageEntity], limits: Limits) -> list[MessageEntity]:
    """Validate the client's entities and add detected ones where they don't conflict."""
    merged = validate_entities(text, given, limits)
    blockers = [(e.offset, e.offset + e.length) for e in merged if e.type in _DETECTION_BLOCKERS]
    room = limits.entities_per_message - len(merged)
    for found in detect_entities(text):
        if room <= 0:
            break  # what the client sent wins over what we guessed
        end = found.offset + found.length
        if any(found.offset < b_end and b_start < end for b_start, b_end in blockers):
            continue
        merged.append(found)
        room -= 1
    merged.sort(key=_sort_key)
    return merged


# ---------------------------------------------------------------------------------------------
# Search

# Arabic and Persian keyboards type different code points for the same letter; a search must
# find either, so both sides are folded to the Persian form.
_FOLD = {
    "\u064a": "\u06cc",  # Arabic yeh -> Farsi yeh
    "\u0649": "\u06cc",  # alef maksura -> Farsi yeh
    "\u0643": "\u06a9",  # Arabic kaf -> keheh
    "\u0629": "\u0647",  # teh marbuta -> heh
    "\u06c0": "\u0647",  # heh with yeh above (ezafe) -> heh
    "\u0623": "\u0627",  # alef with hamza above -> alef
    "\u0625": "\u0627",  # alef with hamza below -> alef
    "\u0622": "\u0627",  # alef with madda -> alef
    "\u0671": "\u0627",  # alef wasla -> alef
    "\u0624": "\u0648",  # waw with hamza -> waw
}
_FOLD.update({chr(0x0660 + d): str(d) for d in range(10)})  # Arabic-Indic digits
_FOLD.update({chr(0x06F0 + d): str(d) for d in range(10)})  # Persian digits
# Removed: Arabic diacritics (vowel marks are usually omitted when typing), tatweel (pure
# stretching), and invisible characters: soft hyphen, zero-width space/joiners, bidi marks.
# Dropping ZWNJ lets "می‌روم" match "میروم".
_DROP = (
    "".join(map(chr, range(0x064B, 0x0660)))
    + "\u0670\u0640\u00ad\u061c\u180e\u200b\u200c\u200d\u200e\u200f"
    + "\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)
_SEARCH_TABLE = str.maketrans({**_FOLD, **dict.fromkeys(_DROP)})


def normalize_for_search(text: str) -> str:
    """Fold text so that a substring test finds what a person means in any script.

    Apply it to both the stored text and the query. Accents are kept: in Norwegian "å" and
    "a" are different letters."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_SEARCH_TABLE)
    # NFKC again: casefold and the removals can leave a base letter and a mark to recompose.
    return " ".join(unicodedata.normalize("NFKC", folded).split())


def hashtags(text: str) -> list[str]:
    """The message's hashtags, normalized for search, without '#', unique, in order."""
    tags: dict[str, None] = {}
    for start, end, kind in _scan(text):
        if kind == "hashtag":
            tag = normalize_for_search(text[start + 1 : end])
            if tag:
                tags.setdefault(tag, None)
    return list(tags)


_LIKE_TABLE = str.maketrans({"\\": "\\\\", "%": "\\%", "_": "\\_"})


def escape_like(term: str) -> str:
    r"""Escape a term for SQL `LIKE ... ESCAPE '\'` so % and _ in it match themselves."""
    return term.translate(_LIKE_TABLE)


# ---------------------------------------------------------------------------------------------
# Usernames

# Use with fullmatch. Letter first; "_" only between letters/digits, so no "__" and no
# trailing "_". Length is checked against Limits separately because it is configurable.
USERNAME_RE = re.compile(r"[A-Za-z](?:_?[A-Za-z0-9])*")


def _username_problem(name: str, limits: Limits) -> str | None:
    if not limits.username_min <= len(name) <= limits.username_max:
        return f"must be {limits.username_min} to {limits.username_max} characters long"
    if USERNAME_RE.fullmatch(name):
        return None
    if not name or not (name[0].isascii() and name[0].isalpha()):
        return "must start with a latin letter"
    if not all(c.isascii() and (c.isalnum() or c == "_") for c in name):
        return "may only contain latin letters, digits and underscores"
    if "__" in name:
        return "must not contain two underscores in a row"
    return "must not end with an underscore"


def canonical_username(name: str, limits: Limits) -> str:
    """Check a username (a leading "@" is allowed) and return its lowercase form, which is
    what uniqueness and lookups use: "Alice" and "alice" are the same user."""
    bare = name[1:] if name.startswith("@") else name
    problem = _username_problem(bare, limits)
    if problem:
        raise HeliographError(ErrorCode.USERNAME_INVALID, f"username {problem}")
    return bare.lower()
