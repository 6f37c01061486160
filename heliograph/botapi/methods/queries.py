"""answerCallbackQuery and answerInlineQuery: a bot's answers to users who pressed one of its
buttons or typed `@bot query`. The user's request is waiting; the answer reaches it on
whichever node it waits (see services.bot_queries)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from heliograph.botapi import keyboards
from heliograph.botapi.errors import BotApiError, bad_request
from heliograph.botapi.methods import BotContext, BotParams, bot_method
from heliograph.botapi.methods.messages import InEntity, formatted
from heliograph.domain.entities import MessageEntity
from heliograph.domain.errors import HeliographError
from heliograph.domain.media import MediaType
from heliograph.services import bot_queries, media, messaging
from heliograph.services.bot_queries import CallbackAnswer, InlineMessage, InlineResults

MAX_RESULTS = 50
MAX_ID_BYTES = 64
MAX_OFFSET_BYTES = 64
# Cached media results: the field with the file id, and the kind of message it becomes.
_CACHED = {
    "photo": ("photo_file_id", MediaType.PHOTO),
    "document": ("document_file_id", MediaType.DOCUMENT),
    "video": ("video_file_id", MediaType.VIDEO),
    "voice": ("voice_file_id", MediaType.VOICE),
    "sticker": ("sticker_file_id", MediaType.STICKER),
}
_NOT_FETCHED = ("photo_url", "document_url", "video_url", "voice_url", "gif_url", "audio_url")


class AnswerCallbackQuery(BotParams):
    callback_query_id: Annotated[str, Field(max_length=64)]
    text: Annotated[str, Field(max_length=200)] | None = None
    show_alert: bool = False
    url: Annotated[str, Field(max_length=2048)] | None = None
    cache_time: Annotated[int, Field(ge=0)] = 0


@bot_method(
    "answerCallbackQuery",
    AnswerCallbackQuery,
    differences="Any `url` is passed to the user's client as it is (Telegram allows only "
    "game and `t.me/<bot>?start=` links). A query is answered within 30 seconds; the user "
    "waits for the answer 10 seconds.",
)
async def answer_callback_query(ctx: BotContext, p: AnswerCallbackQuery) -> bool:
    """Answer a callback query from an inline keyboard button: a notification or an alert
    for the user, or a URL to open."""
    answer = CallbackAnswer(p.text or None, p.show_alert, p.url or None, p.cache_time)
    await bot_queries.answer_callback(ctx.app, ctx.bot, p.callback_query_id, answer)
    return True


class AnswerInlineQuery(BotParams):
    inline_query_id: Annotated[str, Field(max_length=64)]
    results: Annotated[list[dict[str, Any]], Field(max_length=MAX_RESULTS)]
    cache_time: Annotated[int, Field(ge=0)] = 300
    is_personal: bool = False
    next_offset: str = ""
    button: dict[str, Any] | None = None
    # before Bot API 6.7
    switch_pm_text: str | None = None
    switch_pm_parameter: str | None = None


_IN_ENTITIES = TypeAdapter(list[InEntity])


def _text_and_entities(
    text: Any, parse_mode: Any, entities: Any
) -> tuple[str, list[MessageEntity]]:
    if not isinstance(text, str):
        raise bad_request("message text is empty")
    if parse_mode is not None and not isinstance(parse_mode, str):
        raise bad_request("unsupported parse_mode")
    try:
        given = None if entities is None else _IN_ENTITIES.validate_python(entities)
    except ValidationError:
        raise bad_request("can't parse entities") from None
    return formatted(text, parse_mode or None, given)


def _no_preview(content: dict[str, Any]) -> bool:
    options = content.get("link_preview_options")
    if isinstance(options, dict) and options.get("is_disabled") is True:
        return True
    return content.get("disable_web_page_preview") is True


async def _message_of(ctx: BotContext, result: dict[str, Any]) -> InlineMessage:
    """What sending a result posts, checked now so the bot hears of its mistakes."""
    kind = result.get("type")
    markup = keyboards.reply_markup(result.get("reply_markup"), inline_only=True)
    content = result.get("input_message_content")
    if content is not None and not isinstance(content, dict):
        raise bad_request("input_message_content must be an Object")
    if content is not None and "message_text" not in content:
        raise bad_request("only text input message content is supported")
    if content is not None:
        text, entities = _text_and_entities(
            content["message_text"], content.get("parse_mode"), content.get("entities")
        )
        checked = messaging.check_text(ctx.app, text, entities)
        return InlineMessage(text, checked, None, markup, _no_preview(content))
    if kind == "article":
        raise bad_request("input_message_content is required for an article")
    if kind not in _CACHED:
        if any(f in result for f in _NOT_FETCHED):
            raise bad_request("results by URL are not supported: send a file_id")
        raise bad_request(f"unsupported inline query result type {kind!r}")
    field, media_type = _CACHED[kind]
    file_id = result.get(field)
    if not isinstance(file_id, str):
        raise bad_request(f'field "{field}" must be of type String')
    caption, entities = _text_and_entities(
        result.get("caption", ""), result.get("parse_mode"), result.get("caption_entities")
    )
    checked = messaging.check_caption(ctx.app, caption, entities)
    try:
        prepared = await media.prepare(ctx.app, ctx.bot, media.MediaInput(media_type, file_id))
    except HeliographError:
        raise bad_request("wrong file identifier/HTTP URL specified") from None
    return InlineMessage(caption, checked, prepared, markup)


def _button(p: AnswerInlineQuery) -> dict[str, Any] | None:
    """InlineQueryResultsButton; a start_parameter button only (no web apps here)."""
    button = p.button
    if button is None and p.switch_pm_text:
        button = {"text": p.switch_pm_text, "start_parameter": p.switch_pm_parameter or ""}
    if button is None:
        return None
    text, start = button.get("text"), button.get("start_parameter")
    if not isinstance(text, str) or not text or len(text) > 64:
        raise bad_request("BUTTON_TEXT_INVALID")
    if not isinstance(start, str) or not _start_ok(start):
        raise bad_request("START_PARAM_INVALID")
    return {"text": text, "start_parameter": start}


def _start_ok(parameter: str) -> bool:
    """A deep-link parameter: 1-64 of A-Z, a-z, 0-9, _ and -."""
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
    return 0 < len(parameter) <= 64 and set(parameter) <= allowed


@bot_method(
    "answerInlineQuery",
    AnswerInlineQuery,
    differences="Results are articles with text content (`input_message_content` with "
    "`message_text`) and cached media by file id: `photo`, `document`, `video`, `voice`, "
    "`sticker` (a cached result may also carry text content instead). Results by URL, "
    "locations, venues, contacts, games and invoices are refused. `button` opens the "
    "bot's private chat with a `start_parameter`; web app buttons are refused. Results "
    "can be sent for an hour; the server does not cache answers (`cache_time` is passed "
    "to clients).",
)
async def answer_inline_query(ctx: BotContext, p: AnswerInlineQuery) -> bool:
    """Send results for an inline query; the user picks one to send."""
    if len(p.next_offset.encode()) > MAX_OFFSET_BYTES:
        raise bad_request("next_offset is too long")
    shown: list[dict[str, Any]] = []
    messages: dict[str, InlineMessage] = {}
    for result in p.results:
        result_id = result.get("id")
        if not isinstance(result_id, str) or not 0 < len(result_id.encode()) <= MAX_ID_BYTES:
            raise bad_request("RESULT_ID_INVALID")
        if result_id in messages:
            raise bad_request("RESULT_ID_DUPLICATE")
        if result.get("type") == "article" and not isinstance(result.get("title"), str):
            raise bad_request('field "title" must be of type String')
        try:
            messages[result_id] = await _message_of(ctx, result)
        except HeliographError as e:
            raise BotApiError(400, f"Bad Request: result {result_id}: {e.message}") from None
        # what clients show: the result with its keyboard as checked
        visible = {k: v for k, v in result.items() if k != "reply_markup"}
        if messages[result_id].reply_markup:
            visible["reply_markup"] = messages[result_id].reply_markup
        shown.append(visible)
    answer = InlineResults(
        query_id=p.inline_query_id,
        results=shown,
        next_offset=p.next_offset,
        cache_time=p.cache_time,
        is_personal=p.is_personal,
        button=_button(p),
    )
    await bot_queries.answer_inline(ctx.app, ctx.bot, answer, messages)
    return True
