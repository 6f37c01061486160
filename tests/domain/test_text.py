"""Message text rules: what users see when they format, link, tag, search and pick usernames."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliograph.domain.entities import MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.limits import Limits
from heliograph.domain.text import (
    ENTITY_TYPES,
    USERNAME_RE,
    canonical_username,
    detect_entities,
    escape_like,
    hashtags,
    merge_entities,
    normalize_for_search,
    utf16_len,
    validate_entities,
)

LIMITS = Limits()
ZWNJ = "\u200c"


def covered(text: str, entity: MessageEntity) -> str:
    """The text an entity covers, sliced the way a client does: in UTF-16 units."""
    units = text.encode("utf-16-le")
    return units[2 * entity.offset : 2 * (entity.offset + entity.length)].decode("utf-16-le")


def spans(text: str) -> list[tuple[str, str]]:
    return [(e.type, covered(text, e)) for e in detect_entities(text)]


# --- utf16_len ---------------------------------------------------------------------------------


def test_utf16_len_counts_astral_characters_as_two_units() -> None:
    assert utf16_len("") == 0
    assert utf16_len("hello") == 5
    assert utf16_len("på") == 2
    assert utf16_len("سلام") == 4
    assert utf16_len("😀") == 2
    assert utf16_len("👨\u200d👩\u200d👧") == 8  # three emoji and two joiners


@given(st.text())
def test_utf16_len_matches_utf16_encoding(text: str) -> None:
    assert utf16_len(text) == len(text.encode("utf-16-le")) // 2


# --- validate_entities -------------------------------------------------------------------------


def test_entity_types_are_the_supported_set() -> None:
    assert {
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "pre",
        "text_link",
        "mention",
        "text_mention",
        "hashtag",
        "url",
        "bot_command",
        "blockquote",
    } == ENTITY_TYPES


def test_valid_entities_come_back_sorted_outer_first() -> None:
    text = "hello bold world"
    entities = [
        MessageEntity("bold", 6, 4),
        MessageEntity("italic", 0, 16),
        MessageEntity("underline", 6, 10),
    ]
    result = validate_entities(text, entities, LIMITS)
    assert [(e.type, e.offset, e.length) for e in result] == [
        ("italic", 0, 16),
        ("underline", 6, 10),
        ("bold", 6, 4),
    ]


def test_validate_returns_copies() -> None:
    entity = MessageEntity("bold", 0, 2)
    [result] = validate_entities("hi", [entity], LIMITS)
    result.length = 1
    assert entity.length == 2


def test_offsets_after_an_emoji_count_utf16_units() -> None:
    text = "😀 bold"
    [bold] = validate_entities(text, [MessageEntity("bold", 3, 4)], LIMITS)
    assert covered(text, bold) == "bold"


def test_accepted_attributes() -> None:
    text = "link code mention"
    entities = [
        MessageEntity("text_link", 0, 4, url="https://example.com/x?y=1"),
        MessageEntity("text_link", 0, 4, url="HTTP://Example.com"),
        MessageEntity("text_link", 0, 4, url="tg://resolve?domain=heliograph"),
        MessageEntity("text_link", 0, 4, url="mailto:alice@example.com"),
        MessageEntity("pre", 5, 4, language="c++"),
        MessageEntity("text_mention", 10, 7, user_id=42),
    ]
    assert len(validate_entities(text, entities, LIMITS)) == 6
    for language in ("python", "c#", "objective-c", "f.sharp", "x_y", "a" * 32):
        validate_entities("x", [MessageEntity("pre", 0, 1, language=language)], LIMITS)


def test_empty_pre_language_means_none() -> None:
    [pre] = validate_entities("x = 1", [MessageEntity("pre", 0, 5, language="")], LIMITS)
    assert pre.language is None


def test_formatting_may_overlap_freely_and_contain_code() -> None:
    text = "bold italic code"
    entities = [
        MessageEntity("bold", 0, 11),
        MessageEntity("italic", 5, 11),  # crosses the end of bold: fine
        MessageEntity("code", 12, 4),  # inside italic: fine
        MessageEntity("spoiler", 12, 4),  # exactly the code's span: fine
        MessageEntity("text_link", 0, 16, url="https://example.com"),
        MessageEntity("blockquote", 0, 16),
    ]
    assert len(validate_entities(text, entities, LIMITS)) == 6


TEXT = "Hello 😀 world, this is a test"  # the emoji takes UTF-16 units 6 and 7

BAD_ENTITIES = [
    pytest.param(MessageEntity("cashtag", 0, 5), "unknown type", id="unknown type"),
    pytest.param(MessageEntity("email", 0, 5), "unknown type", id="email not supported"),
    pytest.param(MessageEntity("bold", -1, 3), "negative", id="negative offset"),
    pytest.param(MessageEntity("bold", 0, 0), "positive", id="zero length"),
    pytest.param(MessageEntity("bold", 0, -2), "positive", id="negative length"),
    pytest.param(MessageEntity("bold", 20, 11), "past the end", id="past the end"),
    pytest.param(MessageEntity("bold", 7, 3), "surrogate pair", id="starts mid-emoji"),
    pytest.param(MessageEntity("bold", 0, 7), "surrogate pair", id="ends mid-emoji"),
    pytest.param(MessageEntity("text_link", 0, 5), "needs a url", id="text_link no url"),
    pytest.param(
        MessageEntity("text_link", 0, 5, url="javascript:alert(1)"), "must start", id="js url"
    ),
    pytest.param(MessageEntity("text_link", 0, 5, url="ftp://x.org"), "must start", id="ftp"),
    pytest.param(MessageEntity("text_link", 0, 5, url="example.com"), "must start", id="no scheme"),
    pytest.param(MessageEntity("text_link", 0, 5, url="https://"), "no host", id="no host"),
    pytest.param(MessageEntity("text_link", 0, 5, url="http://[::1"), "no host", id="bad ipv6"),
    pytest.param(
        MessageEntity("text_link", 0, 5, url="https://example.com/" + "a" * 2029),
        "longer than 2048",
        id="url too long",
    ),
    pytest.param(
        MessageEntity("text_link", 0, 5, url="https://example.com/a b"), "spaces", id="space"
    ),
    pytest.param(
        MessageEntity("text_link", 0, 5, url="https://evil.com/\u202egnp.exe"),
        "control",
        id="bidi override",
    ),
    pytest.param(MessageEntity("pre", 0, 5, language="a" * 33), "longer than 32", id="long lang"),
    pytest.param(MessageEntity("pre", 0, 5, language="c c"), "may only contain", id="lang space"),
    pytest.param(
        MessageEntity("pre", 0, 5, language="<script>"), "may only contain", id="lang markup"
    ),
    pytest.param(MessageEntity("pre", 0, 5, language="پایتون"), "may only contain", id="lang fa"),
    pytest.param(MessageEntity("text_mention", 0, 5), "user_id", id="text_mention no user"),
    pytest.param(MessageEntity("text_mention", 0, 5, user_id=0), "user_id", id="user_id zero"),
    pytest.param(MessageEntity("bold", 0, 5, url="https://x.org"), "url is only", id="url on bold"),
    pytest.param(MessageEntity("url", 0, 5, url="https://x.org"), "url is only", id="url on url"),
    pytest.param(MessageEntity("code", 0, 5, language="py"), "language is only", id="lang code"),
    pytest.param(MessageEntity("mention", 0, 5, user_id=7), "user_id is only", id="uid mention"),
]


@pytest.mark.parametrize(("bad", "problem"), BAD_ENTITIES)
def test_each_bad_entity_is_rejected_by_index(bad: MessageEntity, problem: str) -> None:
    good = MessageEntity("italic", 0, 5)
    with pytest.raises(HeliographError) as caught:
        validate_entities(TEXT, [good, bad], LIMITS)
    err = caught.value
    assert err.code is ErrorCode.ENTITIES_INVALID
    assert err.message.startswith(f"entity 1 ({bad.type}): ")
    assert problem in err.message
    assert err.to_dict()["index"] == 1


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(MessageEntity("bold", 3, 6), id="bold crosses code start"),
        pytest.param(MessageEntity("bold", 6, 6), id="bold crosses code end"),
        pytest.param(MessageEntity("bold", 5, 2), id="bold inside code"),
        pytest.param(MessageEntity("code", 5, 2), id="code inside code"),
        pytest.param(MessageEntity("pre", 4, 6), id="pre on the same span"),
        pytest.param(MessageEntity("hashtag", 5, 3), id="hashtag inside code"),
    ],
)
def test_nothing_may_cross_or_nest_inside_code(other: MessageEntity) -> None:
    text = "see print(x) now"  # "print(x)" is units 4..12
    with pytest.raises(HeliographError) as caught:
        validate_entities(text, [MessageEntity("code", 4, 8), other], LIMITS)
    assert caught.value.code is ErrorCode.ENTITIES_INVALID
    assert "overlaps entity" in caught.value.message


def test_too_many_entities() -> None:
    limits = Limits(entities_per_message=3)
    four = [MessageEntity("bold", i, 1) for i in range(4)]
    validate_entities("abcd", four[:3], limits)
    with pytest.raises(HeliographError) as caught:
        validate_entities("abcd", four, limits)
    assert caught.value.code is ErrorCode.ENTITIES_INVALID
    assert "too many entities" in caught.value.message


# --- detect_entities ---------------------------------------------------------------------------


def test_persian_hashtag_with_zwnj_and_mention_after_an_emoji() -> None:
    text = f"😀 #تست{ZWNJ}ها @alice"
    entities = detect_entities(text)
    assert [(e.type, e.offset, e.length) for e in entities] == [
        ("hashtag", 3, 7),  # emoji = 2 units, space = 1; ZWNJ stays inside the tag
        ("mention", 11, 6),
    ]
    assert covered(text, entities[0]) == f"#تست{ZWNJ}ها"
    assert covered(text, entities[1]) == "@alice"


@pytest.mark.parametrize(
    "tag",
    [
        "#سلام",
        "#مرحبا_بالعالم",
        "#你好世界",
        "#привет",
        "#blåbærsyltetøy",
        "#Ærlig_Østfold",
        "#हिन्दी",  # vowel signs and virama are combining marks
        "#ทดสอบ",
        "#1st",
        "#tag_2024",
    ],
)
def test_hashtags_in_any_script_are_found_whole(tag: str) -> None:
    text = f"x {tag}, y"
    assert spans(text) == [("hashtag", tag)]


@pytest.mark.parametrize("text", ["#123", "C#dev", "abc#tag", "# tag", "#", "issue #42", "##"])
def test_not_hashtags(text: str) -> None:
    assert [kind for kind, _ in spans(text)] == []


def test_zwnj_is_not_kept_at_the_end_of_a_tag() -> None:
    assert spans(f"#foo{ZWNJ} bar") == [("hashtag", "#foo")]


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("see https://example.com/a?b=c. ok", "https://example.com/a?b=c"),
        ("(https://example.com/x)", "https://example.com/x"),
        ("https://en.wikipedia.org/wiki/Foo_(bar)!", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("HTTPS://EXAMPLE.COM", "HTTPS://EXAMPLE.COM"),
        ("read www.nrk.no/nyheter, now", "www.nrk.no/nyheter"),
        ("example.com/path?q=1!", "example.com/path?q=1"),
        ("example.com:8080/x", "example.com:8080/x"),
        ("go to heliograph.dev.", "heliograph.dev"),
        ("Example.com is", "Example.com"),
        ("сайт пример.рф", "пример.рф"),
        ("看https://example.com/a。下", "https://example.com/a"),
        ("x.com/#tag @bob", "x.com/#tag"),
    ],
)
def test_urls(text: str, url: str) -> None:
    assert ("url", url) in spans(text)


def test_no_hashtag_or_mention_inside_a_url() -> None:
    text = "https://example.com/page?q=#tag&u=@alice"
    assert spans(text) == [("url", text)]


@pytest.mark.parametrize(
    "text",
    [
        "readme.txt",
        "e.g. this",
        "pi is 3.14",
        "alice@example.com",  # e-mail addresses are not detected at all
        "the end.Start again",  # a missing space, not a domain
        "Hi.My name",
        "https://",
        "ftp://example.org",
        "example.com.evil",
    ],
)
def test_not_urls(text: str) -> None:
    assert [kind for kind, _ in spans(text) if kind == "url"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi @alice!", [("mention", "@alice")]),
        ("@Bob_99 and @carol", [("mention", "@Bob_99"), ("mention", "@carol")]),
        ("@" + "a" * 32, [("mention", "@" + "a" * 32)]),
        ("@" + "a" * 33, []),  # too long: not cut short
        ("@al", []),
        ("@1abc", []),
        ("@_abc", []),
        ("mail@alice", []),
    ],
)
def test_mentions(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", ["/start"]),
        ("/start@heliobot now", ["/start@heliobot"]),
        ("hi /help me\n/stop", ["/help", "/stop"]),
        ("and/or", []),
        ("/usr/bin/python", []),
        ("/" + "c" * 33, []),
    ],
)
def test_bot_commands(text: str, expected: list[str]) -> None:
    assert spans(text) == [("bot_command", command) for command in expected]


# Pieces that make up urls, tags, mentions and commands, so random texts hit the edge cases.
PIECES = [*"ab1_#@/.:-()! \n😀\u200c\u0301اس你å", "com", "no", "рф", "https://", "www."]
DETECTABLE = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@given(DETECTABLE)
def test_detected_entities_are_always_valid_sorted_and_disjoint(text: str) -> None:
    detected = detect_entities(text)
    limits = Limits(entities_per_message=len(detected))
    assert validate_entities(text, detected, limits) == detected
    for before, after in pairwise(detected):
        assert before.offset + before.length <= after.offset


# --- merge_entities ----------------------------------------------------------------------------


def test_merge_adds_detected_entities_inside_formatting() -> None:
    text = "meet @alice at #cafe"
    merged = merge_entities(text, [MessageEntity("bold", 0, utf16_len(text))], LIMITS)
    assert [(e.type, covered(text, e)) for e in merged] == [
        ("bold", text),
        ("mention", "@alice"),
        ("hashtag", "#cafe"),
    ]


def test_merge_detects_nothing_inside_code_or_links() -> None:
    text = "run #notatag then example.com and @bob"
    given_entities = [
        MessageEntity("code", 4, 9),
        MessageEntity("text_link", 18, 11, url="https://other.example"),
    ]
    merged = merge_entities(text, given_entities, LIMITS)
    assert [(e.type, covered(text, e)) for e in merged] == [
        ("code", "#notatag "),
        ("text_link", "example.com"),
        ("mention", "@bob"),
    ]


def test_merge_keeps_given_entities_and_drops_detected_beyond_the_limit() -> None:
    text = "#a #b #c #d"
    limits = Limits(entities_per_message=3)
    merged = merge_entities(text, [MessageEntity("italic", 9, 2)], limits)
    assert [(e.type, covered(text, e)) for e in merged] == [
        ("hashtag", "#a"),
        ("hashtag", "#b"),
        ("italic", "#d"),
    ]


def test_merge_rejects_invalid_given_entities() -> None:
    with pytest.raises(HeliographError) as caught:
        merge_entities("#tag", [MessageEntity("bold", 0, 9)], LIMITS)
    assert caught.value.code is ErrorCode.ENTITIES_INVALID


# --- normalize_for_search and hashtags ---------------------------------------------------------


def matches(query: str, text: str) -> bool:
    return normalize_for_search(query) in normalize_for_search(text)


def test_search_is_case_insensitive_for_norwegian_and_german() -> None:
    assert matches("GRÜNERLØKKA", "Kaffe på Grünerløkka")
    assert matches("ærlig", "Ærlig Østfold Å")
    assert matches("østfold å", "Ærlig Østfold Å")
    assert matches("strasse", "Hauptstraße 5")
    # Accents are letters, not decoration: "år" (year) is not "ar".
    assert not matches("ar", "år")


def test_composed_and_decomposed_letters_match() -> None:
    assert matches("Grünerløkka", "Gru\u0308nerløkka")


def test_arabic_letter_forms_match_persian_ones() -> None:
    assert matches("علی", "علي")  # Arabic yeh in the text, Persian yeh in the query
    assert matches("علي", "علی")
    assert matches("کتاب", "كتاب")  # Arabic kaf
    assert matches("مدرسه", "مدرسة")  # teh marbuta
    assert matches("اسلام", "إسلام")  # alef with hamza below
    assert matches("رویا", "رؤیا")  # waw with hamza
    assert matches("خانه", "خانۀ")  # ezafe heh


def test_persian_zwnj_diacritics_tatweel_and_digits_are_ignored() -> None:
    assert matches("میروم", f"من می{ZWNJ}روم")
    assert matches(f"می{ZWNJ}روم", "میروم")
    assert matches("محمد", "مُحَمَّد")
    assert matches("سلام", "ســـلام")
    assert normalize_for_search("۱۴۰۳ و ١٤٤٥") == "1403 و 1445"
    assert matches("1403", "سال ۱۴۰۳")


def test_whitespace_is_collapsed_and_stripped() -> None:
    assert normalize_for_search("  hello \t\n  world\u00a0 ") == "hello world"


def test_chinese_and_emoji_pass_through() -> None:
    assert normalize_for_search("你好世界") == "你好世界"
    assert matches("世界", "你好世界")
    assert normalize_for_search("😀") == "😀"


def test_full_width_and_compatibility_forms_fold() -> None:
    assert normalize_for_search("ＨＥＬＬＯ") == "hello"
    assert normalize_for_search("\ufefb") == "لا"  # lam-alef ligature


@given(st.text())
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize_for_search(text)
    assert normalize_for_search(once) == once


def test_hashtags_are_normalized_unique_and_ordered() -> None:
    text = f"#Tag #tag #تست #كتاب #کتاب #می{ZWNJ}روم #Grünerløkka #123 https://x.com/#frag"
    assert hashtags(text) == ["tag", "تست", "کتاب", "میروم", "grünerløkka"]


# --- usernames ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("alice", "alice"),
        ("@Alice_Bob", "alice_bob"),
        ("A1b", "a1b"),
        ("x" * 32, "x" * 32),
        ("Heliograph_Bot_2", "heliograph_bot_2"),
    ],
)
def test_canonical_username(name: str, canonical: str) -> None:
    assert canonical_username(name, LIMITS) == canonical


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", "3 to 32 characters"),
        ("x" * 33, "3 to 32 characters"),
        ("", "3 to 32 characters"),
        ("@", "3 to 32 characters"),
        ("1alice", "start with a latin letter"),
        ("_alice", "start with a latin letter"),
        ("élise", "start with a latin letter"),
        ("alicé", "latin letters, digits and underscores"),
        ("alice bob", "latin letters, digits and underscores"),
        ("alice-bob", "latin letters, digits and underscores"),
        ("@@alice", "start with a latin letter"),
        ("ali__ce", "two underscores"),
        ("alice_", "end with an underscore"),
    ],
)
def test_invalid_usernames(name: str, problem: str) -> None:
    with pytest.raises(HeliographError) as caught:
        canonical_username(name, LIMITS)
    assert caught.value.code is ErrorCode.USERNAME_INVALID
    assert problem in caught.value.message


def test_username_length_follows_limits() -> None:
    limits = Limits(username_min=5, username_max=8)
    assert canonical_username("Alice", limits) == "alice"
    for name in ("Bob", "Alexandra"):
        with pytest.raises(HeliographError):
            canonical_username(name, limits)


@given(st.from_regex(USERNAME_RE, fullmatch=True).filter(lambda n: 3 <= len(n) <= 32))
def test_every_username_re_match_is_accepted(name: str) -> None:
    assert canonical_username(name, LIMITS) == name.lower()
    assert canonical_username("@" + name.upper(), LIMITS) == name.lower()


# --- escape_like -------------------------------------------------------------------------------


def test_escape_like() -> None:
    assert escape_like(r"50%_off\now") == r"50\%\_off\\now"
    assert escape_like("plain") == "plain"


@pytest.mark.parametrize(
    ("term", "text", "found"),
    [
        ("100%", "it is 100% done", True),
        ("100%", "it is 1000 done", False),
        ("a_b", "a_b", True),
        ("a_b", "axb", False),
        ("c:\\temp", "path c:\\temp here", True),
        ("c:\\temp", "path c:temp here", False),
    ],
)
def test_escaped_terms_match_literally_in_sql_like(term: str, text: str, found: bool) -> None:
    with closing(sqlite3.connect(":memory:")) as db:
        row = db.execute(
            "SELECT ? LIKE '%' || ? || '%' ESCAPE '\\'", (text, escape_like(term))
        ).fetchone()
    assert bool(row[0]) is found
