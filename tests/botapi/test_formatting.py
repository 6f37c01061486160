"""Bot API parse modes: the text and entities a bot's markup gives, and the errors it gets,
as on Telegram (many cases are tdlib's own test vectors)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heliograph.botapi.formatting import checked_link, link_user_id, parse
from heliograph.domain.entities import MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits
from heliograph.domain.text import validate_entities

E = MessageEntity


def covered(text: str, entity: MessageEntity) -> str:
    """The text an entity covers, sliced the way a client does: in UTF-16 units."""
    units = text.encode("utf-16-le", "surrogatepass")
    return units[2 * entity.offset : 2 * (entity.offset + entity.length)].decode("utf-16-le")


def spans(text: str, mode: str) -> tuple[str, list[tuple[str, str]]]:
    plain, entities = parse(text, mode)
    return plain, [(e.type, covered(plain, e)) for e in entities]


def error(text: str, mode: str) -> str:
    with pytest.raises(HeliographError) as caught:
        parse(text, mode)
    assert caught.value.code is ErrorCode.ENTITIES_INVALID
    prefix = "can't parse entities: "
    assert caught.value.message.startswith(prefix)
    return caught.value.message.removeprefix(prefix)


# ---------------------------------------------------------------------------------------------
# Modes


@pytest.mark.parametrize("mode", [None, ""])
def test_no_parse_mode_leaves_the_text_alone(mode: str | None) -> None:
    assert parse("<b>*x*</b> 1.0", mode) == ("<b>*x*</b> 1.0", [])


@pytest.mark.parametrize("mode", ["HTML", "html", "Html"])
def test_html_mode_is_case_insensitive(mode: str) -> None:
    assert parse("<b>x</b>", mode) == ("x", [E("bold", 0, 1)])


@pytest.mark.parametrize("mode", ["MarkdownV2", "markdownv2", "MARKDOWNV2"])
def test_markdown_v2_mode_is_case_insensitive(mode: str) -> None:
    assert parse("*x*", mode) == ("x", [E("bold", 0, 1)])


@pytest.mark.parametrize("mode", ["Markdown", "markdown"])
def test_markdown_mode_is_case_insensitive(mode: str) -> None:
    assert parse("*x*", mode) == ("x", [E("bold", 0, 1)])


def test_an_unknown_parse_mode_is_refused() -> None:
    with pytest.raises(HeliographError) as caught:
        parse("x", "BBCode")
    assert caught.value.code is ErrorCode.ENTITIES_INVALID
    assert caught.value.message == "unsupported parse_mode"


# ---------------------------------------------------------------------------------------------
# HTML


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("b", "bold"),
        ("strong", "bold"),
        ("i", "italic"),
        ("em", "italic"),
        ("u", "underline"),
        ("ins", "underline"),
        ("s", "strikethrough"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("tg-spoiler", "spoiler"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
    ],
)
def test_html_tags(tag: str, kind: str) -> None:
    assert parse(f"➡️ ➡️<{tag}>➡️ ➡️</{tag}>", "HTML") == ("➡️ ➡️➡️ ➡️", [E(kind, 5, 5)])


def test_html_span_spoiler() -> None:
    assert parse('a<span class="tg-spoiler">b</span>', "HTML") == ("ab", [E("spoiler", 1, 1)])
    assert parse("a<span class = 'tg-spoiler'>b</span>", "HTML") == ("ab", [E("spoiler", 1, 1)])


def test_html_tags_are_case_insensitive_and_close_by_name_or_bare() -> None:
    assert parse("<B>a</b><I>b</>", "HTML") == ("ab", [E("bold", 0, 1), E("italic", 1, 1)])


def test_html_nesting_follows_the_documented_example() -> None:
    markup = (
        "<b>bold <i>italic bold <s>italic bold strikethrough "
        '<span class="tg-spoiler">italic bold strikethrough spoiler</span></s> '
        "<u>underline italic bold</u></i> bold</b>"
    )
    text, found = spans(markup, "HTML")
    assert text == (
        "bold italic bold italic bold strikethrough italic bold strikethrough spoiler "
        "underline italic bold bold"
    )
    assert found == [
        ("bold", text),
        ("italic", text[5:-5]),
        ("strikethrough", "italic bold strikethrough italic bold strikethrough spoiler"),
        ("spoiler", "italic bold strikethrough spoiler"),
        ("underline", "underline italic bold"),
    ]


def test_html_offsets_count_utf16_units() -> None:
    text, entities = parse("😀 <b>🏟x</b> <i>é</i>", "HTML")
    assert text == "😀 🏟x é"
    assert entities == [E("bold", 3, 3), E("italic", 7, 1)]
    assert [covered(text, e) for e in entities] == ["🏟x", "é"]


def test_html_entities() -> None:
    assert parse("&lt;&gt;&amp;&quot;", "HTML") == ('<>&"', [])
    assert parse("&#65;&#x42;&#128512;<b>&lt</b>", "HTML") == ("AB😀<", [E("bold", 4, 1)])
    # only the four named entities are known; the rest stay as typed
    assert parse("&ge;&nbsp;&laquo;&#12345678;&#0;&Or;", "HTML")[0] == (
        "&ge;&nbsp;&laquo;&#12345678;&#0;&Or;"
    )


def test_html_stray_characters_are_text() -> None:
    assert parse("a > b & c", "HTML") == ("a > b & c", [])


@pytest.mark.parametrize("markup", ["&#57311;", "&#xDFDF;", "&#xD83D;&#xDE00;"])
def test_html_entities_must_not_decode_to_surrogates(markup: str) -> None:
    assert error(markup, "HTML") == (
        "Text contains invalid Unicode characters after decoding HTML entities, "
        "check for unmatched surrogate code units"
    )


def test_html_text_link() -> None:
    assert parse('<a href="https://example.com/x?y=1">a</a>', "HTML") == (
        "a",
        [E("text_link", 0, 1, url="https://example.com/x?y=1")],
    )
    # unquoted and single-quoted values, entities in values, a scheme added when missing
    assert parse("<a href=telegram.org> </a>", "HTML")[1] == [
        E("text_link", 0, 1, url="http://telegram.org/")
    ]
    assert parse("<a   href=  'telegram.org?&lt;'   > </a>", "HTML")[1] == [
        E("text_link", 0, 1, url="http://telegram.org/?<")
    ]


def test_html_link_without_href_links_its_text() -> None:
    assert parse("<a>telegram.org</a>", "HTML") == (
        "telegram.org",
        [E("text_link", 0, 12, url="http://telegram.org/")],
    )
    assert parse("<a>not a link</a>", "HTML") == ("not a link", [])


def test_html_bad_links_are_dropped_silently() -> None:
    assert parse('<a href="javascript:alert(1)">x</a>', "HTML") == ("x", [])
    assert parse('<a href="">x</a><a href="word">y</a>', "HTML") == ("xy", [])


def test_html_user_link_is_a_text_mention() -> None:
    assert parse('hi <a href="tg://user?id=123">Ann</a>', "HTML") == (
        "hi Ann",
        [E("text_mention", 3, 3, user_id=123)],
    )


def test_html_pre_with_language() -> None:
    markup = '<pre><code class="language-python">print("hi")</code></pre>'
    assert parse(markup, "HTML") == ('print("hi")', [E("pre", 0, 11, language="python")])
    # the other nesting order too
    markup = '<code class="language-fift"><pre>x</pre></code>'
    assert parse(markup, "HTML") == ("x", [E("pre", 0, 1, language="fift")])


def test_html_pre_code_without_language_is_one_pre() -> None:
    assert parse("<pre><code>x</code></pre>", "HTML") == ("x", [E("pre", 0, 1)])
    assert parse('<pre><code class="language-">x</code></pre>', "HTML") == ("x", [E("pre", 0, 1)])


def test_html_language_only_counts_on_pre() -> None:
    assert parse('<code class="language-python">x</code>', "HTML") == ("x", [E("code", 0, 1)])
    # code narrower than its pre: a plain pre; the code inside it is dropped
    markup = '<pre><code class="language-fift">a</code> </pre>'
    assert parse(markup, "HTML") == ("a ", [E("pre", 0, 2)])


def test_html_entities_inside_code_are_dropped_but_code_may_sit_in_bold() -> None:
    assert parse("<code><b>x</b> y</code>", "HTML") == ("x y", [E("code", 0, 3)])
    assert parse("<b>a <code>x</code></b>", "HTML") == (
        "a x",
        [E("bold", 0, 3), E("code", 2, 1)],
    )
    assert parse("<b><code>x</code></b>", "HTML") == ("x", [E("code", 0, 1), E("bold", 0, 1)])


def test_html_blockquotes() -> None:
    assert parse("<blockquote>q\nr</blockquote>s", "HTML") == ("q\nrs", [E("blockquote", 0, 3)])
    # no expandable blockquote entity here: it is a blockquote
    for markup in ("<blockquote expandable>q</blockquote>", "<blockquote expandable=x>q</>"):
        assert parse(markup, "HTML") == ("q", [E("blockquote", 0, 1)])


def test_html_custom_emoji_keeps_its_text_only() -> None:
    assert parse('a<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "HTML") == ("a👍", [])
    assert error('<tg-emoji emoji-id="x">👍</tg-emoji>', "HTML") == (
        "Invalid custom emoji identifier specified"
    )


def test_html_empty_and_unknown_attributes() -> None:
    assert parse("<b></b>x", "HTML") == ("x", [])
    assert parse("<b aba   =   caba>x</b>", "HTML") == ("x", [E("bold", 0, 1)])
    assert parse("<i    aba  =  190azAz-.   >a</i>", "HTML") == ("a", [E("italic", 0, 1)])


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba>", 'Can\'t find end tag corresponding to start tag "i"'),
        ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
        ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
        ("🏟 🏟&lt;<i>a</i   ", "Unclosed end tag at byte offset 17"),
        (
            "🏟 🏟&lt;<i>a</em   >",
            'Unmatched end tag at byte offset 17, expected "</i>", found "</em>"',
        ),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b/>", 'Unsupported start tag "b/" at byte offset 0'),
        ("a <", "Unclosed start tag at byte offset 2"),
    ],
)
def test_html_errors(markup: str, message: str) -> None:
    assert error(markup, "HTML") == message


# ---------------------------------------------------------------------------------------------
# MarkdownV2


def test_markdown_v2_styles() -> None:
    assert spans("*b* _i_ __u__ ~s~ ||p|| `c`", "MarkdownV2") == (
        "b i u s p c",
        [
            ("bold", "b"),
            ("italic", "i"),
            ("underline", "u"),
            ("strikethrough", "s"),
            ("spoiler", "p"),
            ("code", "c"),
        ],
    )


def test_markdown_v2_nesting_follows_the_documented_example() -> None:
    markup = (
        ">*bold _italic bold ~italic bold strikethrough ||italic bold strikethrough spoiler||~ "
        "__underline italic bold___ bold*"
    )
    text, entities = parse(markup, "MarkdownV2")
    assert text == (
        "bold italic bold italic bold strikethrough italic bold strikethrough spoiler "
        "underline italic bold bold"
    )
    assert entities == [
        E("blockquote", 0, 103),
        E("bold", 0, 103),
        E("italic", 5, 93),
        E("strikethrough", 17, 59),
        E("spoiler", 43, 33),
        E("underline", 77, 21),
    ]


def test_markdown_v2_underline_is_read_greedily() -> None:
    # "___" would be ambiguous: an empty bold separates italic from underline
    assert parse("___a_**__", "MarkdownV2") == ("a", [E("italic", 0, 1), E("underline", 0, 1)])
    assert parse("_a __b___", "MarkdownV2") == ("a b", [E("italic", 0, 3), E("underline", 2, 1)])


def test_markdown_v2_offsets_count_utf16_units() -> None:
    assert parse("🏟 🏟_🏟 \\.🏟_", "MarkdownV2") == ("🏟 🏟🏟 .🏟", [E("italic", 5, 6)])
    assert parse("➡️ ➡️_➡️ ➡️_*➡️ ➡️*", "MarkdownV2") == (
        "➡️ ➡️➡️ ➡️➡️ ➡️",
        [E("italic", 5, 5), E("bold", 10, 5)],
    )


@pytest.mark.parametrize("char", list("]()>#+-=|{}.!"))
def test_markdown_v2_reserved_characters_must_be_escaped(char: str) -> None:
    assert error(f"a{char}b", "MarkdownV2") == (
        f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
    )
    assert parse(f"a\\{char}b", "MarkdownV2") == (f"a{char}b", [])


@pytest.mark.parametrize(
    ("char", "kind"),
    [("_", "Italic"), ("*", "Bold"), ("~", "Strikethrough"), ("`", "Code"), ("[", "TextUrl")],
)
def test_markdown_v2_lone_entity_characters_must_be_escaped(char: str, kind: str) -> None:
    assert error(f"a{char}b", "MarkdownV2") == f"Can't find end of {kind} entity at byte offset 1"
    assert parse(f"a\\{char}b", "MarkdownV2") == (f"a{char}b", [])


def test_markdown_v2_every_reserved_character_is_covered() -> None:
    for char in "_*[]()~`>#+-=|{}.!":
        with pytest.raises(HeliographError):
            parse(f"x{char}y", "MarkdownV2")


def test_markdown_v2_escapes() -> None:
    # any ASCII character may be escaped; a backslash before anything else stays
    assert parse("\\\\\\a\\b\\c\\d\\1\\➡️\\", "MarkdownV2") == ("\\abcd1\\➡️\\", [])
    assert parse("*bold \\*text*", "MarkdownV2") == ("bold *text", [E("bold", 0, 10)])
    assert parse("_italic \\*text_", "MarkdownV2") == ("italic *text", [E("italic", 0, 12)])


def test_markdown_v2_code_needs_only_backquote_and_backslash_escaped() -> None:
    assert parse("`a.b_c*d \\` \\\\ (x)`", "MarkdownV2") == (
        "a.b_c*d ` \\ (x)",
        [E("code", 0, 15)],
    )


def test_markdown_v2_pre() -> None:
    assert parse("```\npre-formatted.\n```", "MarkdownV2") == (
        "pre-formatted.\n",
        [E("pre", 0, 15)],
    )
    assert parse('```python\nprint("a.b")\n```', "MarkdownV2") == (
        'print("a.b")\n',
        [E("pre", 0, 13, language="python")],
    )
    # a language ends at a space, and only one line break after it is skipped
    assert parse("🏟 🏟```🏟 🏟```", "MarkdownV2") == ("🏟 🏟 🏟", [E("pre", 5, 3, language="🏟")])
    assert parse("```py\n\nx```", "MarkdownV2") == ("\nx", [E("pre", 0, 2, language="py")])
    assert parse("```py\r\nx```", "MarkdownV2") == ("x", [E("pre", 0, 1, language="py")])


def test_markdown_v2_inline_links() -> None:
    assert parse("[inline URL](http://www.example.com/)", "MarkdownV2") == (
        "inline URL",
        [E("text_link", 0, 10, url="http://www.example.com/")],
    )
    assert parse("[a](https://x.org/\\)\\\\(q)", "MarkdownV2")[1] == [
        E("text_link", 0, 1, url="https://x.org/)\\(q")
    ]
    # the URL needs no escaping of ., - or _ inside (...)
    assert parse("[a](https://x-y.org/a_b.c)", "MarkdownV2")[1] == [
        E("text_link", 0, 1, url="https://x-y.org/a_b.c")
    ]


def test_markdown_v2_link_forms() -> None:
    assert parse("[telegram\\.org]", "MarkdownV2") == (
        "telegram.org",
        [E("text_link", 0, 12, url="http://telegram.org/")],
    )
    assert parse("[telegram\\.org](https://telegram.dog?)", "MarkdownV2")[1] == [
        E("text_link", 0, 12, url="https://telegram.dog/?")
    ]
    assert parse("[](telegram.org)", "MarkdownV2") == ("", [])
    assert parse("[ ](as)", "MarkdownV2") == (" ", [])
    assert parse("[*bold link*](t.me)", "MarkdownV2") == (
        "bold link",
        [E("text_link", 0, 9, url="http://t.me/"), E("bold", 0, 9)],
    )


def test_markdown_v2_user_mention() -> None:
    assert parse("[inline mention of a user](tg://user?id=123456789)", "MarkdownV2") == (
        "inline mention of a user",
        [E("text_mention", 0, 24, user_id=123456789)],
    )
    assert parse("[x](tg:user?id=7)", "MarkdownV2")[1] == [E("text_mention", 0, 1, user_id=7)]


def test_markdown_v2_custom_emoji_keeps_its_text_only() -> None:
    assert parse("🏟 🏟![👍](TG://EMoJI/?test=1231&id=25#id=32)a", "MarkdownV2") == ("🏟 🏟👍a", [])


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("🏟 🏟![👍]", "Custom emoji entity must contain a tg://emoji URL"),
        ("🏟 🏟![👍](tg://emoji?id=1234", "Can't find end of a custom emoji URL at byte offset 17"),
        ("🏟 🏟![👍](t://emoji?id=1234)", "Custom emoji URL must have scheme tg"),
        ("🏟 🏟![👍](tg:emojis?id=1234)", 'Custom emoji URL must have host "emoji"'),
        ("🏟 🏟![👍](tg://emoji#test)", "Custom emoji URL must have an emoji identifier"),
        ("🏟 🏟![👍](tg://emoji?id=025)", "Invalid custom emoji identifier specified"),
        ("🏟 🏟![👍", "Can't find end of CustomEmoji entity at byte offset 9"),
    ],
)
def test_markdown_v2_custom_emoji_errors(markup: str, message: str) -> None:
    assert error(markup, "MarkdownV2") == message


def test_markdown_v2_blockquotes() -> None:
    assert parse(">Block quotation started\n>continued\nafter", "MarkdownV2") == (
        "Block quotation started\ncontinued\nafter",
        [E("blockquote", 0, 34)],  # with the line break that ended it
    )
    assert parse("abc\n>def\n>def\n\r>ghi2\njkl", "MarkdownV2") == (
        "abc\ndef\ndef\n\rghi2\njkl",
        [E("blockquote", 4, 8), E("blockquote", 13, 5)],
    )
    assert parse(">a", "MarkdownV2") == ("a", [E("blockquote", 0, 1)])
    assert parse(">", "MarkdownV2") == ("", [])
    assert parse(">*b\n>ld*\nx", "MarkdownV2") == (
        "b\nld\nx",
        [E("blockquote", 0, 5), E("bold", 0, 4)],
    )


def test_markdown_v2_expandable_blockquote_is_a_blockquote() -> None:
    markup = ">asd\n**>q||e||w||\nasdad"
    text, entities = parse(markup, "MarkdownV2")
    assert text == "asd\nqew\nasdad"
    assert entities == [E("blockquote", 0, 4), E("blockquote", 4, 4), E("spoiler", 5, 1)]
    assert parse(">asd\r\n>q||e||w||", "MarkdownV2") == (
        "asd\r\nqew",
        [E("blockquote", 0, 8), E("spoiler", 6, 1)],
    )


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("🏟 🏟_abacaba", "Can't find end of Italic entity at byte offset 9"),
        ("🏟 🏟_abac * asd ", "Can't find end of Bold entity at byte offset 15"),
        ("🏟 🏟`", "Can't find end of Code entity at byte offset 9"),
        ("🏟 🏟```", "Can't find end of Pre entity at byte offset 9"),
        ("🏟 🏟```a ", "Can't find end of PreCode entity at byte offset 9"),
        ("🏟 🏟__", "Can't find end of Underline entity at byte offset 9"),
        ("🏟 🏟||test\\|", "Can't find end of Spoiler entity at byte offset 9"),
        ("🏟 🏟```🏟 🏟`", "Can't find end of Code entity at byte offset 21"),
        ("[telegram\\.org](asd\\)", "Can't find end of a URL at byte offset 16"),
        (">*b\n>ld \n>bo\nld*\nasd", "Can't find end of Bold entity at byte offset 1"),
        (">\n*a*>2", "Character '>' is reserved and must be escaped with the preceding '\\'"),
        ("a|b", "Character '|' is reserved and must be escaped with the preceding '\\'"),
        ("Version 1.0", "Character '.' is reserved and must be escaped with the preceding '\\'"),
    ],
)
def test_markdown_v2_errors(markup: str, message: str) -> None:
    assert error(markup, "MarkdownV2") == message


def test_markdown_v2_empty_entities_vanish() -> None:
    assert parse("a****b``c____", "MarkdownV2") == ("abc", [])
    assert parse("||test||", "MarkdownV2") == ("test", [E("spoiler", 0, 4)])


def test_markdown_v2_an_unescaped_backquote_in_pre_opens_code_which_is_dropped() -> None:
    assert parse("```\na`b`c```", "MarkdownV2") == ("abc", [E("pre", 0, 3)])


# ---------------------------------------------------------------------------------------------
# Markdown (legacy)


def test_markdown_styles() -> None:
    markup = "*bold text* _italic text_ `code` [URL](http://www.example.com/) [m](tg://user?id=9)"
    assert spans(markup, "Markdown") == (
        "bold text italic text code URL m",
        [
            ("bold", "bold text"),
            ("italic", "italic text"),
            ("code", "code"),
            ("text_link", "URL"),
            ("text_mention", "m"),
        ],
    )


def test_markdown_pre() -> None:
    assert parse("```\nblock\n```", "Markdown") == ("block\n", [E("pre", 0, 6)])
    assert parse("```python\nx = 1```", "Markdown") == (
        "x = 1",
        [E("pre", 0, 5, language="python")],
    )


def test_markdown_does_not_nest_or_reserve() -> None:
    assert parse("*a _b_ c* 1.0 (x) #t", "Markdown") == ("a _b_ c 1.0 (x) #t", [E("bold", 0, 7)])


def test_markdown_escapes_only_outside_entities() -> None:
    assert parse("\\_ \\* \\` \\[ \\. \\\\", "Markdown") == ("_ * ` [ \\. \\\\", [])
    # to write snake_case in italics, close the entity, escape, reopen
    assert parse("_snake_\\__case_", "Markdown") == (
        "snake_case",
        [E("italic", 0, 5), E("italic", 6, 4)],
    )


def test_markdown_links() -> None:
    assert parse("[example.com]", "Markdown") == (
        "example.com",
        [E("text_link", 0, 11, url="http://example.com/")],
    )
    assert parse("[](http://a.b)", "Markdown") == ("(http://a.b)", [])
    assert parse("[x](notalink)", "Markdown") == ("x", [])


def test_markdown_offsets_count_utf16_units() -> None:
    assert parse("🏟 *🏟*", "Markdown") == ("🏟 🏟", [E("bold", 3, 2)])


@pytest.mark.parametrize(
    ("markup", "offset"), [("*bold", 0), ("a _b", 2), ("🏟 `x", 5), ("```x", 0), ("[a", 0)]
)
def test_markdown_unclosed_entities(markup: str, offset: int) -> None:
    assert error(markup, "Markdown") == (
        f"Can't find end of the entity starting at byte offset {offset}"
    )


# ---------------------------------------------------------------------------------------------
# Links


@pytest.mark.parametrize(
    ("url", "checked"),
    [
        ("https://example.com/a?b#c", "https://example.com/a?b#c"),
        ("example.com", "http://example.com/"),
        ("example.com:8080/x", "http://example.com:8080/x"),
        ("https://t.me?x=1", "https://t.me/?x=1"),
        ("tg://resolve?domain=x", "tg://resolve?domain=x"),
        ("tg:resolve?domain=x", "tg://resolve?domain=x"),
        ("mailto:a@b.org", "mailto:a@b.org"),
        ("javascript:alert(1)", None),
        ("ftp://example.com", None),
        ("word", None),
        ("", None),
        ("http://", None),
    ],
)
def test_checked_link(url: str, checked: str | None) -> None:
    assert checked_link(url) == checked


@pytest.mark.parametrize(
    ("url", "user_id"),
    [
        ("tg://user?id=123", 123),
        ("tg:user?id=123", 123),
        ("TG://USER?ID=5", 5),
        ("tg://user/?x=1&id=7#z", 7),
        ("tg://user?id=0", None),
        ("tg://user?id=abc", None),
        ("tg://user?id=01", None),
        ("tg://resolve?domain=x", None),
        ("https://t.me/user?id=1", None),
    ],
)
def test_link_user_id(url: str, user_id: int | None) -> None:
    assert link_user_id(url) == user_id


# ---------------------------------------------------------------------------------------------
# Whatever the markup, the result is text the services accept, or ENTITIES_INVALID


_MARKUP = st.text(alphabet=[*"ab \n*_~|`[]()>\\.!#<>/&;=\"'-", "🏟", "é", "\r"], max_size=40)
_TAGS = st.lists(
    st.sampled_from(
        [
            *("<b>", "</b>", "<i>", "</i>", "<pre>", "</pre>", '<code class="language-x">'),
            *("</code>", "<a href='t.me'>", "</a>", "<blockquote>", "</>", "&lt;", "&#128512;"),
            *("x", "🏟", "\n"),
        ]
    ),
    max_size=12,
)


def _accepted(text: str, entities: list[MessageEntity]) -> None:
    # languages are checked by the services on their own terms
    plain = [replace(e, language=None) for e in entities]
    assert validate_entities(text, plain, Limits()) == plain


@settings(max_examples=300, deadline=None)
@given(markup=_MARKUP, mode=st.sampled_from(["HTML", "MarkdownV2", "Markdown"]))
def test_any_markup_parses_to_valid_entities_or_fails_cleanly(markup: str, mode: str) -> None:
    try:
        text, entities = parse(markup, mode)
    except HeliographError as e:
        assert e.code is ErrorCode.ENTITIES_INVALID
        return
    _accepted(text, entities)


@settings(max_examples=300, deadline=None)
@given(parts=_TAGS)
def test_any_tag_soup_parses_to_valid_entities_or_fails_cleanly(parts: list[str]) -> None:
    try:
        text, entities = parse("".join(parts), "HTML")
    except HeliographError as e:
        assert e.code is ErrorCode.ENTITIES_INVALID
        return
    _accepted(text, entities)
