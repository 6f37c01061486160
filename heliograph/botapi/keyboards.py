"""A bot's `reply_markup`, checked and normalised before it is stored on a message: an inline
keyboard, a reply keyboard, a request to remove one, or a forced reply. What is stored is
what users' clients show, so only known fields are kept and every value is checked.

Errors use Telegram's wording where it has one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from heliograph.botapi.errors import BotApiError, bad_request
from heliograph.domain.text import _url_problem, utf16_len

Markup = dict[str, Any]

MAX_BUTTONS = 100
MAX_ROW = 12
MAX_TEXT = 256  # UTF-16 units of a button's label; clients cut long labels anyway
MAX_CALLBACK_BYTES = 64
MAX_QUERY = 256
MAX_PLACEHOLDER = 64
MAX_COPY_TEXT = 256
# the stored JSON: a generous bound on what a message may carry
MAX_MARKUP_BYTES = 16 * 1024

_SWITCH_FIELDS = ("switch_inline_query", "switch_inline_query_current_chat")
_CHOSEN_CHAT_FLAGS = (
    "allow_user_chats",
    "allow_bot_chats",
    "allow_group_chats",
    "allow_channel_chats",
)
_REPLY_FLAGS = ("is_persistent", "resize_keyboard", "one_time_keyboard", "selective")
# Buttons whose feature is missing here and that mean nothing as a link.
_UNSUPPORTED = ("callback_game", "pay")
# What an inline button may do; other fields (a newer library's) are ignored.
_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "web_app",
    *_SWITCH_FIELDS,
    "switch_inline_query_chosen_chat",
    "copy_text",
    *_UNSUPPORTED,
)


def _malformed() -> BotApiError:
    return bad_request("can't parse reply keyboard markup JSON object")


def _button_error(why: str) -> BotApiError:
    return bad_request(f"can't parse inline keyboard button: {why}")


def _too_long() -> BotApiError:
    return bad_request("reply markup is too long")


def reply_markup(value: Any, *, inline_only: bool = False) -> Markup | None:
    """The markup to store, or None when there is none. `inline_only` for edits, which
    may carry an inline keyboard only."""
    if value is None:
        return None
    markup: Markup
    if not isinstance(value, dict):
        raise _malformed()
    if "inline_keyboard" in value:
        rows = _rows(value["inline_keyboard"], _inline_button, "inline_keyboard")
        if not rows:  # an empty inline keyboard is none (editMessageReplyMarkup removes so)
            return None
        markup = {"inline_keyboard": rows}
    elif inline_only:
        raise bad_request("reply markup must be an inline keyboard")
    elif "keyboard" in value:
        markup = _reply_keyboard(value)
    elif value.get("remove_keyboard") is True:
        markup = {"remove_keyboard": True, **_flags(value, ("selective",))}
    elif value.get("force_reply") is True:
        markup = {"force_reply": True, **_flags(value, ("selective",)), **_placeholder(value)}
    else:
        raise _malformed()
    if len(orjson.dumps(markup)) > MAX_MARKUP_BYTES:
        raise _too_long()
    return markup


def _rows(rows: Any, button: Callable[[Any], Markup], field: str) -> list[list[Markup]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(f'field "{field}" must be an Array of Arrays')
    if sum(len(r) for r in rows) > MAX_BUTTONS or any(len(r) > MAX_ROW for r in rows):
        raise _too_long()
    checked = [[button(b) for b in row] for row in rows]
    return [row for row in checked if row]  # Telegram drops empty rows


def _text(button: Any) -> str:
    if not isinstance(button, dict):
        raise _button_error("button must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise _button_error('field "text" must be of type String')
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    if utf16_len(text) > MAX_TEXT:
        raise bad_request("BUTTON_TEXT_INVALID")
    return text


def _url(url: Any) -> str:
    if not isinstance(url, str) or _url_problem(url) is not None or url.startswith("mailto:"):
        raise bad_request("BUTTON_URL_INVALID")
    return url


def _inline_button(button: Any) -> Markup:
    text = _text(button)
    actions = [k for k in _ACTIONS if button.get(k) not in (None, False)]
    if not actions:
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise _button_error("exactly one of the optional fields must be used")
    [kind] = actions
    value = button[kind]
    if kind == "callback_data":
        if not isinstance(value, str) or not 1 <= len(value.encode()) <= MAX_CALLBACK_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
        return {"text": text, "callback_data": value}
    if kind == "url":
        return {"text": text, "url": _url(value)}
    if kind in ("login_url", "web_app"):
        # No login widget or web apps here: the button opens its page as a link.
        if not isinstance(value, dict):
            raise _button_error(f'field "{kind}" must be an Object')
        return {"text": text, "url": _url(value.get("url"))}
    if kind in _SWITCH_FIELDS:
        if not isinstance(value, str) or len(value) > MAX_QUERY:
            raise _button_error(f'field "{kind}" must be of type String')
        return {"text": text, kind: value}
    if kind == "switch_inline_query_chosen_chat":
        return {"text": text, kind: _chosen_chat(value)}
    if kind == "copy_text":
        copied = value.get("text") if isinstance(value, dict) else None
        if not isinstance(copied, str) or not 1 <= len(copied) <= MAX_COPY_TEXT:
            raise _button_error('field "copy_text" must have a text of 1-256 characters')
        return {"text": text, "copy_text": {"text": copied}}
    raise _button_error(f"{kind} buttons are not supported")


def _chosen_chat(value: Any) -> Markup:
    if not isinstance(value, dict):
        raise _button_error('field "switch_inline_query_chosen_chat" must be an Object')
    query = value.get("query", "")
    if not isinstance(query, str) or len(query) > MAX_QUERY:
        raise _button_error('field "query" must be of type String')
    chosen: Markup = {"query": query}
    chosen.update(_flags(value, _CHOSEN_CHAT_FLAGS))
    return chosen


def _keyboard_button(button: Any) -> Markup:
    # Telegram accepts a bare string for a text-only button.
    if isinstance(button, str):
        button = {"text": button}
    checked: Markup = {"text": _text(button)}
    for flag in ("request_contact", "request_location"):
        if button.get(flag) is True:
            checked[flag] = True
    # Other kinds (polls, picking users or chats, web apps) stay plain text buttons.
    return checked


def _reply_keyboard(value: Markup) -> Markup:
    markup: Markup = {"keyboard": _rows(value["keyboard"], _keyboard_button, "keyboard")}
    if not markup["keyboard"]:
        raise bad_request("keyboard must be non-empty")
    markup.update(_flags(value, _REPLY_FLAGS))
    markup.update(_placeholder(value))
    return markup


def _flags(value: Markup, names: tuple[str, ...]) -> Markup:
    flags: Markup = {}
    for name in names:
        flag = value.get(name)
        if flag is None:
            continue
        if not isinstance(flag, bool):
            raise bad_request(f'field "{name}" must be of type Boolean')
        if flag:
            flags[name] = True
    return flags


def _placeholder(value: Markup) -> Markup:
    placeholder = value.get("input_field_placeholder")
    if placeholder is None or placeholder == "":
        return {}
    if not isinstance(placeholder, str) or len(placeholder) > MAX_PLACEHOLDER:
        raise bad_request('field "input_field_placeholder" must be 1-64 characters')
    return {"input_field_placeholder": placeholder}
