"""Our entities as Bot API objects: the JSON bot libraries parse, in Telegram's shapes."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heliograph.botapi.objects import (
    CHANNEL_ID_SHIFT,
    bot_chat_id,
    file_unique_id,
    parse_bot_chat_id,
    referenced_user_ids,
    tg_chat,
    tg_chat_photo,
    tg_entities,
    tg_forward_origin,
    tg_message,
    tg_user,
    tg_user_from,
)
from heliograph.domain.entities import ChatKind, ForwardOrigin, Message, MessageEntity, User
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import (
    Document,
    Media,
    MediaType,
    Photo,
    PhotoSize,
    ProfilePhoto,
    Sticker,
    Video,
    Voice,
)

ANN = tg_user(11, "Ann", "ann", False)
BOB = tg_user(12, "Bob", None, False)
HELPER_BOT = tg_user(90, "Helper", "helper_bot", True)
USERS = {11: ANN, 12: BOB, 90: HELPER_BOT}
GROUP = tg_chat(ChatKind.GROUP, -5, title="Team")
CHANNEL = tg_chat(ChatKind.CHANNEL, -(CHANNEL_ID_SHIFT + 6), title="News", username="news")
PRIVATE = tg_chat(ChatKind.PRIVATE, 11, first_name="Ann", username="ann")


def message(**fields: Any) -> Message:
    base: dict[str, Any] = {"id": 7, "chat_id": 5, "sender_id": 11, "date": 1_700_000_000}
    base.setdefault("text", "")
    return Message(**(base | fields))


def in_group(msg: Message, **extra: Any) -> dict[str, Any]:
    result = tg_message(msg, chat=GROUP, sender=ANN, sender_chat=None, users=USERS, **extra)
    orjson.dumps(result)  # what the gateway sends must encode
    return result


# ---------------------------------------------------------------------------------------------
# Chat ids


def test_chat_ids_follow_telegram_conventions() -> None:
    assert bot_chat_id(ChatKind.PRIVATE, 3, 42) == 42
    assert bot_chat_id(ChatKind.GROUP, 7, None) == -7
    assert bot_chat_id(ChatKind.CHANNEL, 7, None) == -1_000_000_000_007
    assert bot_chat_id(ChatKind.CHANNEL, 1234567890, None) == -1001234567890


def test_chat_ids_round_trip() -> None:
    assert parse_bot_chat_id(bot_chat_id(ChatKind.PRIVATE, 3, 42)) == ("user", 42)
    assert parse_bot_chat_id(bot_chat_id(ChatKind.GROUP, 7, None)) == ("group", 7)
    assert parse_bot_chat_id(bot_chat_id(ChatKind.CHANNEL, 7, None)) == ("channel", 7)


@given(st.integers(min_value=1, max_value=CHANNEL_ID_SHIFT - 1))
def test_every_chat_id_round_trips(chat_id: int) -> None:
    assert parse_bot_chat_id(bot_chat_id(ChatKind.GROUP, chat_id, None)) == ("group", chat_id)
    assert parse_bot_chat_id(bot_chat_id(ChatKind.CHANNEL, chat_id, None)) == ("channel", chat_id)
    assert parse_bot_chat_id(bot_chat_id(ChatKind.PRIVATE, 1, chat_id)) == ("user", chat_id)


@pytest.mark.parametrize("value", [0, -CHANNEL_ID_SHIFT])
def test_ids_naming_no_chat(value: int) -> None:
    with pytest.raises(HeliographError) as caught:
        parse_bot_chat_id(value)
    assert caught.value.code is ErrorCode.CHAT_NOT_FOUND


def test_chat_ids_bots_cannot_address() -> None:
    with pytest.raises(ValueError):
        bot_chat_id(ChatKind.PRIVATE, 3, None)
    with pytest.raises(ValueError):
        bot_chat_id(ChatKind.GROUP, CHANNEL_ID_SHIFT, None)


def test_file_unique_id_is_stable_short_and_url_safe() -> None:
    first = file_unique_id("f_abc")
    assert first == file_unique_id("f_abc")
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", first)
    assert file_unique_id("f_abd") != first


# ---------------------------------------------------------------------------------------------
# Users and chats


def test_users() -> None:
    assert tg_user(1, "Ann Lee", "ann", False) == {
        "id": 1,
        "is_bot": False,
        "first_name": "Ann Lee",
        "username": "ann",
    }
    assert tg_user(2, "", None, True, last_name="L", language_code="nb") == {
        "id": 2,
        "is_bot": True,
        "first_name": "Deleted Account",
        "last_name": "L",
        "language_code": "nb",
    }


def test_users_from_ours() -> None:
    assert tg_user_from(User(3, "cat", "Cat")) == tg_user(3, "Cat", "cat", False)
    assert tg_user_from(User(4, "helper_bot", "Helper", is_bot=True))["is_bot"] is True
    gone = User(5, "gone", "Gone", deleted=True)
    assert tg_user_from(gone) == {"id": 5, "is_bot": False, "first_name": "Deleted Account"}


def test_chats() -> None:
    assert PRIVATE == {"id": 11, "type": "private", "first_name": "Ann", "username": "ann"}
    assert GROUP == {"id": -5, "type": "supergroup", "title": "Team"}
    assert CHANNEL == {
        "id": -1_000_000_000_006,
        "type": "channel",
        "title": "News",
        "username": "news",
    }


def test_chat_photo() -> None:
    assert tg_chat_photo(ProfilePhoto("s1", "b1")) == {
        "small_file_id": "s1",
        "small_file_unique_id": file_unique_id("s1"),
        "big_file_id": "b1",
        "big_file_unique_id": file_unique_id("b1"),
    }


# ---------------------------------------------------------------------------------------------
# Messages


def test_text_message() -> None:
    entities = [
        MessageEntity("bold", 0, 5),
        MessageEntity("text_link", 6, 4, url="https://example.com/"),
        MessageEntity("pre", 11, 3, language="py"),
        MessageEntity("text_mention", 15, 3, user_id=12),
    ]
    result = in_group(message(text="Hello link pre Bob", entities=entities))
    assert result == {
        "message_id": 7,
        "from": ANN,
        "chat": GROUP,
        "date": 1_700_000_000,
        "text": "Hello link pre Bob",
        "entities": [
            {"type": "bold", "offset": 0, "length": 5},
            {"type": "text_link", "offset": 6, "length": 4, "url": "https://example.com/"},
            {"type": "pre", "offset": 11, "length": 3, "language": "py"},
            {"type": "text_mention", "offset": 15, "length": 3, "user": BOB},
        ],
    }


def test_a_text_mention_of_an_unknown_user_still_carries_a_user() -> None:
    [entity] = tg_entities([MessageEntity("text_mention", 0, 1, user_id=77)])
    assert entity["user"] == {"id": 77, "is_bot": False, "first_name": "Deleted Account"}


def test_edited_grouped_signed_message() -> None:
    msg = message(text="x", edit_date=1_700_000_100, grouped_id=99, signature="Ann")
    result = in_group(msg)
    assert result["edit_date"] == 1_700_000_100
    assert result["media_group_id"] == "99"
    assert result["author_signature"] == "Ann"


def test_channel_post_is_sent_as_the_chat() -> None:
    post = message(sender_id=None, sender_chat_id=6, text="news", views=3)
    result = tg_message(post, chat=CHANNEL, sender=None, sender_chat=CHANNEL)
    assert "from" not in result
    assert result["sender_chat"] == CHANNEL
    assert result["text"] == "news"


def _size(kind: str, side: int) -> PhotoSize:
    return PhotoSize(kind, side, side * 3 // 4, side * 100, f"f_{kind}")


def test_photo_message_lists_sizes_smallest_first() -> None:
    photo = Photo(1280, 960, [_size("x", 800), _size("s", 90), _size("y", 1280), _size("m", 320)])
    msg = message(
        text="caption!",
        entities=[MessageEntity("italic", 0, 7)],
        media=Media(MediaType.PHOTO, photo=photo),
        grouped_id=5,
    )
    result = in_group(msg)
    assert [s["width"] for s in result["photo"]] == [90, 320, 800, 1280]
    assert result["photo"][0] == {
        "file_id": "f_s",
        "file_unique_id": file_unique_id("f_s"),
        "width": 90,
        "height": 67,
        "file_size": 9000,
    }
    assert result["caption"] == "caption!"
    assert result["caption_entities"] == [{"type": "italic", "offset": 0, "length": 7}]
    assert "text" not in result and "entities" not in result
    assert result["media_group_id"] == "5"


def test_media_without_caption_has_no_caption() -> None:
    doc = Document("f_doc", "report.pdf", "application/pdf", 1234)
    result = in_group(message(media=Media(MediaType.DOCUMENT, document=doc)))
    assert "caption" not in result and "text" not in result
    assert result["document"] == {
        "file_id": "f_doc",
        "file_unique_id": file_unique_id("f_doc"),
        "file_name": "report.pdf",
        "mime_type": "application/pdf",
        "file_size": 1234,
    }


def test_voice_message_counts_whole_seconds() -> None:
    voice = Voice("f_v", "audio/ogg", 5000, 2.6, waveform=[1, 2, 3])
    result = in_group(message(media=Media(MediaType.VOICE, voice=voice)))
    assert result["voice"] == {
        "file_id": "f_v",
        "file_unique_id": file_unique_id("f_v"),
        "duration": 3,
        "mime_type": "audio/ogg",
        "file_size": 5000,
    }


def test_video_message() -> None:
    thumb = PhotoSize("s", 90, 50, 800, "f_thumb")
    video = Video("f_vid", "clip.mp4", "video/mp4", 90000, 12.2, 1280, 720, thumb)
    result = in_group(message(text="look", media=Media(MediaType.VIDEO, video=video)))
    assert result["video"] == {
        "file_id": "f_vid",
        "file_unique_id": file_unique_id("f_vid"),
        "width": 1280,
        "height": 720,
        "duration": 12,
        "thumbnail": {
            "file_id": "f_thumb",
            "file_unique_id": file_unique_id("f_thumb"),
            "width": 90,
            "height": 50,
            "file_size": 800,
        },
        "file_name": "clip.mp4",
        "mime_type": "video/mp4",
        "file_size": 90000,
    }
    assert result["caption"] == "look"


@pytest.mark.parametrize(("fmt", "is_video"), [("static", False), ("video", True)])
def test_sticker_message(fmt: str, is_video: bool) -> None:
    sticker = Sticker("f_st", 3, "cats", "😺", fmt, "image/webp", 512, 512, 20000)
    result = in_group(message(media=Media(MediaType.STICKER, sticker=sticker)))
    assert result["sticker"] == {
        "file_id": "f_st",
        "file_unique_id": file_unique_id("f_st"),
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": is_video,
        "emoji": "😺",
        "set_name": "cats",
        "file_size": 20000,
    }


def test_reply_nests_the_original() -> None:
    original = in_group(message(id=3, text="question"))
    result = in_group(message(text="answer", reply_to_message_id=3), reply_to=original)
    assert result["reply_to_message"]["message_id"] == 3
    assert result["reply_to_message"]["text"] == "question"


def test_via_bot_and_inline_keyboard() -> None:
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    msg = message(text="x", via_bot_id=90, reply_markup=keyboard)
    result = in_group(msg)
    assert result["via_bot"] == HELPER_BOT
    assert result["reply_markup"] == keyboard
    # an explicit via_bot and markup win over the message's
    other = {"inline_keyboard": [[{"text": "Other", "url": "https://example.com/"}]]}
    result = in_group(msg, via_bot=ANN, reply_markup=other)
    assert result["via_bot"] == ANN
    assert result["reply_markup"] == other


def test_only_inline_keyboards_are_part_of_a_message() -> None:
    reply_keyboard = {"keyboard": [[{"text": "Yes"}]], "resize_keyboard": True}
    assert "reply_markup" not in in_group(message(text="x", reply_markup=reply_keyboard))
    assert "reply_markup" not in in_group(message(text="x", reply_markup={"remove_keyboard": True}))


# ---------------------------------------------------------------------------------------------
# Forwards


def _forwarded(origin: ForwardOrigin, **extra: Any) -> dict[str, Any]:
    return in_group(message(text="fwd", forward_origin=origin), **extra)


def test_forward_from_a_user() -> None:
    result = _forwarded(ForwardOrigin(12, "Bob", 3, 44, 1_600_000_000))
    assert result["forward_origin"] == {"type": "user", "date": 1_600_000_000, "sender_user": BOB}
    assert result["forward_from"] == BOB
    assert result["forward_date"] == 1_600_000_000
    assert "forward_from_chat" not in result


def test_forward_from_a_user_the_bot_may_not_see() -> None:
    result = _forwarded(ForwardOrigin(55, "Hidden Hal", 3, 44, 1_600_000_000))
    assert result["forward_origin"] == {
        "type": "hidden_user",
        "date": 1_600_000_000,
        "sender_user_name": "Hidden Hal",
    }
    assert result["forward_sender_name"] == "Hidden Hal"
    assert "forward_from" not in result


def test_forward_from_a_channel() -> None:
    result = _forwarded(ForwardOrigin(None, "News", 6, 44, 1_600_000_000), forward_chat=CHANNEL)
    assert result["forward_origin"] == {
        "type": "channel",
        "date": 1_600_000_000,
        "chat": CHANNEL,
        "message_id": 44,
    }
    assert result["forward_from_chat"] == CHANNEL
    assert result["forward_from_message_id"] == 44
    assert result["forward_date"] == 1_600_000_000


def test_forward_of_an_anonymous_admin_post() -> None:
    origin = tg_forward_origin(ForwardOrigin(None, "Team", 5, 9, 10), chat=GROUP)
    assert origin == {"type": "chat", "date": 10, "sender_chat": GROUP}
    result = _forwarded(ForwardOrigin(None, "Team", 5, 9, 10), forward_chat=GROUP)
    assert result["forward_from_chat"] == GROUP


def test_forward_from_a_chat_not_given_is_named_only() -> None:
    origin = tg_forward_origin(ForwardOrigin(None, "News", 6, 44, 10))
    assert origin == {"type": "hidden_user", "date": 10, "sender_user_name": "News"}


# ---------------------------------------------------------------------------------------------
# Service messages


def service(action: str, **fields: Any) -> dict[str, Any]:
    return in_group(message(service={"action": action, **fields}))


def test_service_messages_have_no_text() -> None:
    result = service("title_changed", title="New")
    assert "text" not in result and "entities" not in result
    assert result["from"] == ANN


def test_group_created() -> None:
    assert service("chat_created", title="Team")["group_chat_created"] is True


@pytest.mark.parametrize(
    "action",
    ["members_added", "member_joined", "member_joined_by_link", "member_joined_by_request"],
)
def test_members_joined(action: str) -> None:
    result = service(action, user_ids=[12, 90])
    assert result["new_chat_members"] == [BOB, HELPER_BOT]


@pytest.mark.parametrize("action", ["member_left", "member_removed"])
def test_member_left(action: str) -> None:
    assert service(action, user_id=12)["left_chat_member"] == BOB


def test_title_changed() -> None:
    assert service("title_changed", title="New name")["new_chat_title"] == "New name"


def test_photo_changed_and_removed() -> None:
    stored = {"small_file_id": "ps", "big_file_id": "pb", "date": 3}
    expected = [
        {"file_id": "ps", "file_unique_id": file_unique_id("ps"), "width": 160, "height": 160},
        {"file_id": "pb", "file_unique_id": file_unique_id("pb"), "width": 640, "height": 640},
    ]
    assert service("photo_changed", photo=stored)["new_chat_photo"] == expected
    # freshly made messages hold the dataclass, not its JSON
    result = tg_message(
        message(service={"action": "photo_changed", "photo": ProfilePhoto("ps", "pb", 3)}),
        chat=GROUP,
        sender=ANN,
        sender_chat=None,
    )
    assert result["new_chat_photo"] == expected
    assert service("photo_removed", photo=None)["delete_chat_photo"] is True


def test_pinned_message() -> None:
    assert service("pinned", message_id=3)["pinned_message"] == {
        "chat": GROUP,
        "message_id": 3,
        "date": 0,
    }
    full = in_group(message(id=3, text="the rules"))
    pin = message(service={"action": "pinned", "message_id": 3})
    assert in_group(pin, pinned_message=full)["pinned_message"] == full


def test_unknown_service_actions_add_nothing() -> None:
    result = service("something_new", x=1)
    assert set(result) == {"message_id", "from", "chat", "date"}


def test_referenced_user_ids() -> None:
    assert referenced_user_ids(
        message(service={"action": "members_added", "user_ids": [1, 2]})
    ) == {
        1,
        2,
    }
    assert referenced_user_ids(message(service={"action": "member_removed", "user_id": 3})) == {3}
    msg = message(
        text="hi x",
        entities=[MessageEntity("text_mention", 3, 1, user_id=4)],
        forward_origin=ForwardOrigin(5, "E", 1, 1, 1),
        via_bot_id=6,
    )
    assert referenced_user_ids(msg) == {4, 5, 6}
    assert referenced_user_ids(message(text="plain")) == set()
