"""Bot API parse modes: HTML, MarkdownV2 and legacy Markdown to plain text and entities.

Each parser follows Telegram's own (tdlib's `parse_html`, `parse_markdown_v2` and
`parse_markdown` in MessageEntity.cpp) step for step, so markup gives the same text, the same
entities and the same errors as on Telegram: bots written against Telegram keep working.
Offsets count UTF-16 code units; error messages count UTF-8 bytes of the markup, as
Telegram's do. Two kinds Heliograph has no entity for are parsed but left out: custom emoji
(their text stays) and the expandable flag of a blockquote (it becomes a plain blockquote)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from heliograph.domain.entities import MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError

# The domain's own link rule, so a link accepted here is one the services accept.
from heliograph.domain.text import _url_problem

PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")

_END = "\0"  # what C strings read past their end; tdlib's scanners rely on it
_SPACES = frozenset(" \t\r\n\0\v")  # tdlib's is_space
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_NAME_TOKEN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")
_INT64_MAX = 2**63 - 1
_CODE_TYPES = frozenset({"code", "pre"})
# tdlib's order for entities of equal span: the outer one first
_PRIORITY = {
    "blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
}
_SIMPLE_TYPES = {
    "Bold": "bold",
    "Italic": "italic",
    "Underline": "underline",
    "Strikethrough": "strikethrough",
    "Spoiler": "spoiler",
    "Code": "code",
    "Pre": "pre",
    "BlockQuote": "blockquote",
    "ExpandableBlockQuote": "blockquote",
}


def parse(text: str, parse_mode: str | None) -> tuple[str, list[MessageEntity]]:
    """Apply a Bot API `parse_mode` (case-insensitive; None or "" means plain text).

    Returns the text without markup and its entities, sorted outer first. Raises
    ENTITIES_INVALID with Telegram's description ("can't parse entities: ...") for bad
    markup or an unknown mode."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return _HtmlParser(text).run()
    if mode == "markdownv2":
        return _MarkdownV2Parser(text).run()
    if mode == "markdown":
        return _MarkdownParser(text).run()
    raise HeliographError(ErrorCode.ENTITIES_INVALID, "unsupported parse_mode")


# ---------------------------------------------------------------------------------------------
# Shared pieces


@dataclass(slots=True)
class _Raw:
    """An entity as tdlib's parsers name it (PreCode, TextUrl, MentionName...), before
    translation to ours."""

    kind: str
    offset: int
    length: int
    argument: str = ""
    user_id: int | None = None


def _fail(problem: str) -> HeliographError:
    return HeliographError(ErrorCode.ENTITIES_INVALID, f"can't parse entities: {problem}")


def _units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _byte_offset(source: str, index: int) -> int:
    # surrogatepass: a lone surrogate in a Python str still has a length
    return len(source[:index].encode("utf-8", "surrogatepass"))


def _ascii_lower(value: str) -> str:
    # tdlib lowercases ASCII only; str.lower would also fold other scripts
    return value.translate(_ASCII_LOWER)


def _int64(value: str) -> int | None:
    """tdlib's to_integer_safe<int64>: digits with an optional '-', written canonically."""
    if not re.fullmatch(r"-?[0-9]+", value, re.ASCII):
        return None
    number = int(value)
    if str(number) != value or not -_INT64_MAX - 1 <= number <= _INT64_MAX:
        return None
    return number


class _Output:
    """The text being built, and its length in UTF-16 units (where the next entity starts)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, ch: str) -> None:
        self.parts.append(ch)
        self.size += _units(ch)

    def since(self, mark: int) -> str:
        return "".join(self.parts[mark:])

    def text(self) -> str:
        return "".join(self.parts)


# ---------------------------------------------------------------------------------------------
# Links


def link_user_id(url: str) -> int | None:
    """The user a `tg://user?id=123` link names (tdlib's get_link_user_id), else None."""
    link = _ascii_lower(url)
    if not link.startswith("tg:"):
        return None
    link = link[3:].removeprefix("//")
    if not link.startswith("user"):
        return None
    link = link[4:].removeprefix("/")
    if not link.startswith("?"):
        return None
    for parameter in link[1:].partition("#")[0].split("&"):
        key, _, value = parameter.partition("=")
        if key == "id":
            user_id = _int64(value)
            return user_id if user_id is not None and user_id > 0 else None
    return None


def checked_link(url: str) -> str | None:
    """A link as Telegram stores it, or None when it isn't one (then Telegram drops the
    entity silently). A link without a scheme is http; an http(s) link gets its "/" path;
    "tg:x" becomes "tg://x"."""
    url = url.strip("".join(_SPACES))
    scheme, colon, rest = url.partition(":")
    if not colon or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) or rest[:1].isdigit():
        scheme, rest = "http", "//" + url  # "example.com" or "example.com:8080/x"
    scheme = _ascii_lower(scheme)
    if scheme in ("http", "https"):
        if not rest.startswith("//"):
            return None
        authority_end = len(rest)
        for stop in "/?#":
            found = rest.find(stop, 2)
            if found != -1:
                authority_end = min(authority_end, found)
        host = rest[2:authority_end].rpartition("@")[2]
        # "localhost" or "word" is no link to Telegram: a host needs a dot (or is IPv6)
        if "." not in host.strip(".") and not host.startswith("["):
            return None
        if rest[authority_end : authority_end + 1] != "/":
            rest = rest[:authority_end] + "/" + rest[authority_end:]
    elif scheme == "tg" and not rest.startswith("//"):
        rest = "//" + rest
    result = f"{scheme}:{rest}"
    return None if _url_problem(result) else result


def _custom_emoji_id(url: str) -> int:
    """The id of a `tg://emoji?id=...` link; Telegram's errors when it is not one."""
    match = re.match(r"([^:/?#]*):(?://)?([^/?#]*)[^?#]*(?:\?([^#]*))?", url)
    if match is None or _ascii_lower(match[1]) != "tg":
        raise _fail("Custom emoji URL must have scheme tg")
    if _ascii_lower(match[2]) != "emoji":
        raise _fail('Custom emoji URL must have host "emoji"')
    for parameter in (match[3] or "").split("&"):
        key, _, value = parameter.partition("=")
        if key == "id":
            emoji_id = _int64(value)
            if not emoji_id:
                raise _fail("Invalid custom emoji identifier specified")
            return emoji_id
    raise _fail("Custom emoji URL must have an emoji identifier")


def _link_entity(span: tuple[int, int], url: str) -> _Raw | None:
    """An <a>/[...](...) span as a text_mention, a text_link, or nothing for a bad link."""
    offset, length = span
    user_id = link_user_id(url)
    if user_id is not None:
        return _Raw("MentionName", offset, length, user_id=user_id)
    checked = checked_link(url)
    return None if checked is None else _Raw("TextUrl", offset, length, checked)


# ---------------------------------------------------------------------------------------------
# Results


def _finish(text: str, raws: list[_Raw]) -> tuple[str, list[MessageEntity]]:
    """Our entities, sorted outer first (tdlib's order), without what code and pre would hide:
    code and pre show their text verbatim, so entities inside them are dropped, as Telegram
    does."""
    entities: list[MessageEntity] = []
    for raw in raws:
        if raw.length <= 0 or raw.kind == "CustomEmoji":
            continue
        if raw.kind == "MentionName":
            entity = MessageEntity("text_mention", raw.offset, raw.length, user_id=raw.user_id)
        elif raw.kind == "TextUrl":
            entity = MessageEntity("text_link", raw.offset, raw.length, url=raw.argument)
        elif raw.kind == "PreCode":
            entity = MessageEntity("pre", raw.offset, raw.length, language=raw.argument or None)
        else:
            entity = MessageEntity(_SIMPLE_TYPES[raw.kind], raw.offset, raw.length)
        entities.append(entity)
    entities.sort(key=lambda e: (e.offset, -e.length, _PRIORITY[e.type]))
    kept: list[MessageEntity] = []
    seen: set[tuple[object, ...]] = set()
    code: MessageEntity | None = None  # the code or pre span we are in: they never nest
    for entity in entities:
        if code is not None and entity.offset >= code.offset + code.length:
            code = None
        key = (entity.type, entity.offset, entity.length, entity.url, entity.language)
        if key in seen or (code is not None and _hidden_by(entity, code)):
            continue
        seen.add(key)
        kept.append(entity)
        if entity.type in _CODE_TYPES:
            code = entity
    return text, kept


def _hidden_by(entity: MessageEntity, code: MessageEntity) -> bool:
    if entity.offset + entity.length > code.offset + code.length:
        return False  # not inside it (parsers nest properly, so this does not happen)
    # bold around code of the same span is "code inside bold"; another code is not
    return entity.type in _CODE_TYPES or entity.length < code.length


# ---------------------------------------------------------------------------------------------
# HTML

_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins"}
    | {"tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote"}
)
_HTML_KINDS = {
    "b": "Bold",
    "strong": "Bold",
    "i": "Italic",
    "em": "Italic",
    "u": "Underline",
    "ins": "Underline",
    "s": "Strikethrough",
    "strike": "Strikethrough",
    "del": "Strikethrough",
    "tg-spoiler": "Spoiler",
    "span": "Spoiler",  # only class="tg-spoiler" gets this far
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass(slots=True)
class _Tag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the output
    mark: int  # output parts before it, for <a> without href


class _HtmlParser:
    """Telegram's HTML: only its tags; &lt; &gt; &amp; &quot; and numeric entities."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.out = _Output()
        self.raws: list[_Raw] = []
        self.open: list[_Tag] = []
        self.surrogate = False  # a decoded half of a surrogate pair: invalid text

    def at(self, index: int) -> str:
        return self.src[index] if index < len(self.src) else _END

    def fail_at(self, problem: str, index: int) -> HeliographError:
        return _fail(f"{problem} at byte offset {_byte_offset(self.src, index)}")

    def run(self) -> tuple[str, list[MessageEntity]]:
        while self.i < len(self.src):
            ch = self.src[self.i]
            if ch == "&" and self.decode_into_output():
                continue
            if ch != "<":
                self.out.add(ch)
                self.i += 1
            elif self.at(self.i + 1) != "/":
                self.start_tag()
            else:
                self.end_tag()
        if self.open:
            raise _fail(f'Can\'t find end tag corresponding to start tag "{self.open[-1].name}"')
        if self.surrogate:
            raise _fail(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        return _finish(self.out.text(), self.raws)

    def decode(self, pos: int) -> tuple[str, int] | None:
        """The character an HTML entity at `pos` stands for and where it ends, or None when
        the '&' is a plain character (tdlib's decode_html_entity)."""
        end = pos + 1
        if self.at(pos + 1) == "#":
            end += 1
            code = 0
            if self.at(pos + 2) == "x":
                end += 1
                while self.at(end) in _HEX:
                    code = code * 16 + int(self.src[end], 16)
                    end += 1
            else:
                while self.at(end) in _DIGITS:
                    code = code * 10 + int(self.src[end])
                    end += 1
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return None
            if 0xD800 <= code <= 0xDFFF:
                self.surrogate = True
            value = chr(code)
        else:
            while self.at(end).isascii() and self.at(end).isalpha():
                end += 1
            named = _NAMED_ENTITIES.get(self.src[pos + 1 : end])
            if named is None:
                return None
            value = named
        if self.at(end) == ";":
            end += 1
        return value, end

    def decode_into_output(self) -> bool:
        decoded = self.decode(self.i)
        if decoded is None:
            return False
        self.out.add(decoded[0])
        self.i = decoded[1]
        return True

    def skip_spaces(self) -> None:
        while self.at(self.i) != _END and self.at(self.i) in _SPACES:
            self.i += 1

    def start_tag(self) -> None:
        begin = self.i
        self.i += 1
        while self.at(self.i) not in _SPACES and self.at(self.i) != ">":
            self.i += 1
        if self.at(self.i) == _END:
            raise self.fail_at("Unclosed start tag", begin)
        name = _ascii_lower(self.src[begin + 1 : self.i])
        if name not in _HTML_TAGS:
            raise self.fail_at(f'Unsupported start tag "{name}"', begin)
        argument = ""
        while self.at(self.i) != ">":
            argument = self.attribute(name, begin, argument)
        if name == "span" and argument != "spoiler":
            raise self.fail_at('Tag "span" must have class "tg-spoiler"', begin)
        self.open.append(_Tag(name, argument, self.out.size, len(self.out.parts)))
        self.i += 1  # the '>'

    def attribute(self, tag: str, begin: int, argument: str) -> str:
        """Read one attribute of a start tag; return the tag's argument, updated if the
        attribute is one Telegram reads."""
        self.skip_spaces()
        if self.at(self.i) == ">":
            return argument
        name_begin = self.i
        while self.at(self.i) not in _SPACES and self.at(self.i) not in "=>/\"'":
            self.i += 1
        name = self.src[name_begin : self.i]
        if not name:
            raise self.fail_at(f'Empty attribute name in the tag "{tag}"', begin)
        self.skip_spaces()
        if self.at(self.i) != "=":
            if self.at(self.i) == _END:
                raise self.fail_at(f'Unclosed start tag "{tag}"', begin)
            return "1" if tag == "blockquote" and name == "expandable" else argument
        self.i += 1
        self.skip_spaces()
        if self.at(self.i) == _END:
            raise self.fail_at(f'Unclosed start tag "{tag}"', begin)
        if self.at(self.i) in "'\"":
            value = self.quoted_value()
        else:
            # a name token: letters, digits, '.' and '-', case-insensitive
            token_begin = self.i
            while self.at(self.i) in _NAME_TOKEN:
                self.i += 1
            value = _ascii_lower(self.src[token_begin : self.i])
            if self.at(self.i) not in _SPACES and self.at(self.i) != ">":
                raise self.fail_at("Unexpected end of name token", token_begin)
        if self.at(self.i) == _END:
            raise self.fail_at("Unclosed start tag", begin)
        if tag == "a" and name == "href":
            return value
        if tag == "code" and name == "class" and value.startswith("language-"):
            return value.removeprefix("language-")
        if tag == "span" and name == "class" and value.startswith("tg-"):
            return value.removeprefix("tg-")
        if tag == "tg-emoji" and name == "emoji-id":
            return value
        if tag == "blockquote" and name == "expandable":
            return "1"
        return argument

    def quoted_value(self) -> str:
        quote = self.src[self.i]
        self.i += 1
        chars: list[str] = []
        while self.at(self.i) != quote and self.at(self.i) != _END:
            if self.src[self.i] == "&":
                decoded = self.decode(self.i)
                if decoded is not None:
                    chars.append(decoded[0])
                    self.i = decoded[1]
                    continue
            chars.append(self.src[self.i])
            self.i += 1
        if self.at(self.i) == quote:
            self.i += 1
        return "".join(chars)

    def end_tag(self) -> None:
        begin = self.i
        if not self.open:
            raise self.fail_at("Unexpected end tag", begin)
        self.i += 1  # the '/'
        while self.at(self.i) not in _SPACES and self.at(self.i) != ">":
            self.i += 1
        name = _ascii_lower(self.src[begin + 2 : self.i])
        self.skip_spaces()
        if self.at(self.i) != ">":
            raise self.fail_at("Unclosed end tag", begin)
        self.i += 1
        tag = self.open.pop()
        if name and name != tag.name:
            where = _byte_offset(self.src, begin)
            raise _fail(
                f'Unmatched end tag at byte offset {where}, expected "</{tag.name}>", '
                f'found "</{name}>"'
            )
        if self.out.size > tag.offset:
            self.close(tag)

    def close(self, tag: _Tag) -> None:
        offset, length = tag.offset, self.out.size - tag.offset
        last = self.raws[-1] if self.raws else None
        same_span = last is not None and (last.offset, last.length) == (offset, length)
        if tag.name in _HTML_KINDS:
            self.raws.append(_Raw(_HTML_KINDS[tag.name], offset, length))
        elif tag.name == "tg-emoji":
            if not _int64(tag.argument):
                raise _fail("Invalid custom emoji identifier specified")
            self.raws.append(_Raw("CustomEmoji", offset, length))
        elif tag.name == "a":
            link = _link_entity((offset, length), tag.argument or self.out.since(tag.mark))
            if link is not None:
                self.raws.append(link)
        elif tag.name == "pre":
            # <pre><code class="language-x">: the code closed first and names the language
            if last is not None and same_span and last.kind == "Code" and last.argument:
                last.kind = "PreCode"
            else:
                self.raws.append(_Raw("Pre", offset, length))
        elif tag.name == "code":
            if last is not None and same_span and last.kind == "Pre" and tag.argument:
                last.kind, last.argument = "PreCode", tag.argument
            else:
                self.raws.append(_Raw("Code", offset, length, tag.argument))
        else:  # blockquote
            kind = "ExpandableBlockQuote" if tag.argument else "BlockQuote"
            self.raws.append(_Raw(kind, offset, length))


# ---------------------------------------------------------------------------------------------
# MarkdownV2

_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!\n")
_CODE_RESERVED = frozenset("`")  # inside code and pre, escapes aside
_CODE_KINDS = frozenset({"Code", "Pre", "PreCode"})


@dataclass(slots=True)
class _Open:
    kind: str
    argument: str
    offset: int  # UTF-16 offset in the output
    begin: int  # index of its markup in the source, for errors
    mark: int  # output parts before it, for [text] without (url)


def _escapable(ch: str) -> bool:
    return "\x01" <= ch <= "\x7e"


class _MarkdownV2Parser:
    """MarkdownV2: nesting entities, '\\' escapes, and '>' blockquotes at line starts."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.out = _Output()
        self.raws: list[_Raw] = []
        self.open: list[_Open] = []
        self.have_blockquote = False
        self.can_start_blockquote = True

    def at(self, index: int) -> str:
        return self.src[index] if index < len(self.src) else _END

    def reserved(self, ch: str) -> HeliographError:
        return _fail(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")

    def unclosed(self, entity: _Open) -> HeliographError:
        where = _byte_offset(self.src, entity.begin)
        return _fail(f"Can't find end of {entity.kind} entity at byte offset {where}")

    def run(self) -> tuple[str, list[MessageEntity]]:
        while self.i < len(self.src):
            self.step()
            self.i += 1
        if self.have_blockquote:
            kind = "BlockQuote"
            top = self.open[-1]
            # "||" closing the text marks the blockquote before it as expandable
            if top.kind == "Spoiler" and top.begin == len(self.src) - 2:
                self.open.pop()
                kind = "ExpandableBlockQuote"
            top = self.open[-1]
            if top.kind == "BlockQuote":
                self.open.pop()
                self.raws.append(_Raw(kind, top.offset, self.out.size - top.offset))
        if self.open:
            raise self.unclosed(self.open[-1])
        return _finish(self.out.text(), self.raws)

    def step(self) -> None:
        """Consume the character at `i` (and what it starts); `run` moves past the last."""
        ch = self.src[self.i]
        following = self.at(self.i + 1)
        if ch == "\\" and _escapable(following):
            self.i += 1
            self.out.add(following)
            if following != "\r":
                self.can_start_blockquote = following == "\n"
            return
        in_code = bool(self.open) and self.open[-1].kind in _CODE_KINDS
        if ch not in (_CODE_RESERVED if in_code else _MDV2_RESERVED):
            self.out.add(ch)
            if ch != "\r":
                self.can_start_blockquote = False
            return
        if self.ends_entity(ch):
            self.end_entity(ch)
        else:
            self.begin_entity(ch)

    def ends_entity(self, ch: str) -> bool:
        if not self.open:
            return False
        following = self.at(self.i + 1)
        if self.have_blockquote and ch == "\n" and following != ">":
            return True
        kind = self.open[-1].kind
        if kind in ("Bold", "Strikethrough"):
            return ch == ("*" if kind == "Bold" else "~")
        if kind == "Italic":
            return ch == "_" and following != "_"
        if kind == "Underline":
            return ch == "_" and following == "_"
        if kind == "Spoiler":
            return ch == "|" and following == "|"
        if kind == "Code":
            return ch == "`"
        if kind in ("Pre", "PreCode"):
            return ch == "`" and following == "`" and self.at(self.i + 2) == "`"
        if kind in ("TextUrl", "CustomEmoji"):
            return ch == "]"
        return False  # a blockquote ends only at a line not starting with '>'

    def begin_entity(self, ch: str) -> None:
        begin = self.i
        following = self.at(self.i + 1)
        argument = ""
        if ch == "_" and following == "_":
            kind = "Underline"
            self.i += 1
        elif ch in "_*~[":
            kind = {"_": "Italic", "*": "Bold", "~": "Strikethrough", "[": "TextUrl"}[ch]
        elif ch == "|" and following == "|":
            kind = "Spoiler"
            self.i += 1
        elif ch == "`" and following == "`" and self.at(self.i + 2) == "`":
            kind, argument = self.begin_pre()
        elif ch == "`":
            kind = "Code"
        elif ch == "!" and following == "[":
            kind = "CustomEmoji"
            self.i += 1
        elif ch == "\n":
            self.out.add("\n")
            self.can_start_blockquote = True
            return
        elif ch == ">" and self.can_start_blockquote:
            if self.have_blockquote:
                return  # the next line of the same blockquote
            kind = "BlockQuote"
            self.have_blockquote = True
        else:
            raise self.reserved(ch)
        self.open.append(_Open(kind, argument, self.out.size, begin, len(self.out.parts)))

    def begin_pre(self) -> tuple[str, str]:
        """After "```": an optional language up to the first space, then one line break."""
        self.i += 3
        kind, language = "Pre", ""
        end = self.i
        while self.at(end) not in _SPACES and self.at(end) != "`":
            end += 1
        if end != self.i and end < len(self.src) and self.src[end] != "`":
            kind, language = "PreCode", self.src[self.i : end]
            self.i = end
        first = self.at(self.i)
        if first in ("\n", "\r"):
            second = self.at(self.i + 1)
            self.i += 2 if second in ("\n", "\r") and second != first else 1
        self.i -= 1  # `run` steps past the last character consumed
        return kind, language

    def end_entity(self, ch: str) -> None:
        top = self.open.pop()
        kind = top.kind
        if ch == "\n" and kind != "BlockQuote":
            # "||" right before the line break that ends a blockquote: it is expandable
            after_cr = top.begin == self.i - 3 and self.out.parts[-1:] == ["\r"]
            if kind != "Spoiler" or not (top.begin == self.i - 2 or after_cr):
                raise self.unclosed(top)
            top = self.open.pop()
            if top.kind != "BlockQuote":
                raise self.unclosed(top)
            kind = "ExpandableBlockQuote"
        span = (top.offset, self.out.size - top.offset)
        entity: _Raw | None
        if kind == "TextUrl":
            # without "(url)", [example.com] links to its own text
            linked = self.at(self.i + 1) == "("
            url = self.read_url("a URL") if linked else self.out.since(top.mark)
            entity = _link_entity(span, url)
        elif kind == "CustomEmoji":
            if self.at(self.i + 1) != "(":
                raise _fail("Custom emoji entity must contain a tg://emoji URL")
            _custom_emoji_id(self.read_url("a custom emoji URL"))
            entity = None  # no such entity here: its emoji stays as text
        else:
            if kind in ("Underline", "Spoiler"):
                self.i += 1
            elif kind in ("Pre", "PreCode"):
                self.i += 2
            elif kind in ("BlockQuote", "ExpandableBlockQuote"):
                self.have_blockquote = False
                self.out.add(ch)  # the line break that ended it belongs to it
                self.can_start_blockquote = True
            entity = _Raw(kind, top.offset, self.out.size - top.offset, top.argument)
        if entity is not None and entity.length > 0:
            self.raws.append(entity)

    def read_url(self, what: str) -> str:
        """The "(...)" after "]": only ')' and '\\' need escaping inside."""
        self.i += 2
        begin = self.i
        chars: list[str] = []
        while self.i < len(self.src) and self.src[self.i] != ")":
            if self.src[self.i] == "\\" and _escapable(self.at(self.i + 1)):
                chars.append(self.src[self.i + 1])
                self.i += 2
                continue
            chars.append(self.src[self.i])
            self.i += 1
        if self.at(self.i) != ")":
            raise _fail(f"Can't find end of {what} at byte offset {_byte_offset(self.src, begin)}")
        return "".join(chars)


# ---------------------------------------------------------------------------------------------
# Markdown (legacy)


class _MarkdownParser:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting, and
    '\\' escapes only _ * ` [ outside entities."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.out = _Output()
        self.raws: list[_Raw] = []

    def at(self, index: int) -> str:
        return self.src[index] if index < len(self.src) else _END

    def run(self) -> tuple[str, list[MessageEntity]]:
        i = 0
        size = len(self.src)
        while i < size:
            ch = self.src[i]
            if ch == "\\" and self.at(i + 1) in ("_", "*", "`", "["):
                self.out.add(self.src[i + 1])
                i += 2
            elif ch not in "_*`[":
                self.out.add(ch)
                i += 1
            else:
                i = self.entity(i) + 1
        return _finish(self.out.text(), self.raws)

    def entity(self, begin: int) -> int:
        """Read the entity whose markup starts at `begin`; return the index of its last
        markup character."""
        ch = self.src[begin]
        end_char = "]" if ch == "[" else ch
        i = begin + 1
        is_pre = False
        language = ""
        if ch == "`" and self.at(i) == "`" and self.at(i + 1) == "`":
            i += 2
            is_pre = True
            end = i
            while self.at(end) not in _SPACES and self.at(end) != "`":
                end += 1
            if i != end and end < len(self.src) and self.src[end] != "`":
                language = self.src[i:end]
                i = end
            first = self.at(i)
            if first in ("\n", "\r"):
                second = self.at(i + 1)
                i += 2 if second in ("\n", "\r") and second != first else 1
        offset = self.out.size
        mark = len(self.out.parts)
        while i < len(self.src) and (
            self.src[i] != end_char or (is_pre and not (self.at(i + 1) == self.at(i + 2) == "`"))
        ):
            self.out.add(self.src[i])
            i += 1
        if i == len(self.src):
            where = _byte_offset(self.src, begin)
            raise _fail(f"Can't find end of the entity starting at byte offset {where}")
        length = self.out.size - offset
        if length:
            if ch == "[":
                if self.at(i + 1) == "(":
                    url_begin = i + 2
                    i = self.src.find(")", url_begin)
                    if i == -1:
                        i = len(self.src)
                    url = self.src[url_begin:i]
                else:
                    url = self.out.since(mark)
                link = _link_entity((offset, length), url)
                if link is not None:
                    self.raws.append(link)
            elif is_pre:
                self.raws.append(_Raw("PreCode" if language else "Pre", offset, length, language))
            else:
                self.raws.append(_Raw({"_": "Italic", "*": "Bold"}.get(ch, "Code"), offset, length))
        return i + 2 if is_pre else i
