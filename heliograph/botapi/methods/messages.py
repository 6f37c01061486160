"""Sending, forwarding, copying, editing and deleting messages; chat actions and reactions.
The helpers here (formatted text, reply targets, Message objects) serve the media methods
too."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from heliograph.botapi import formatting, keyboards
from heliograph.botapi.chats import resolve_chat
from heliograph.botapi.errors import bad_request
from heliograph.botapi.methods import BotContext, BotParams, bot_method
from heliograph.botapi.updates import Peers
from heliograph.domain.entities import Message, MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import MediaType
from heliograph.domain.text import ENTITY_TYPES
from heliograph.services import bot_edits, interactions, messaging
from heliograph.services.chats import load_access
from heliograph.store import messages

ChatRef = int | str
Ids = Annotated[list[int], Field(min_length=1, max_length=100)]

SEND_DIFFERENCES = (
    "`disable_notification`, `protect_content`, `message_effect_id`, `message_thread_id`, "
    "`allow_paid_broadcast` and `business_connection_id` are accepted and ignored. A reply "
    "to a message of another chat (`reply_parameters.chat_id`) and quotes are not "
    "supported: the reply is dropped when `allow_sending_without_reply` is set, else "
    "refused. Entity kinds Heliograph has no entity for (custom emoji, email, phone number, "
    "cashtag, bank card) are left as plain text."
)
EDIT_DIFFERENCES = (
    "Messages sent in inline mode (`inline_message_id`) can't be edited: the call is "
    'refused with "inline message editing is not supported".'
)
# Bot API kinds that are ours under another name
_ENTITY_ALIASES = {"expandable_blockquote": "blockquote"}


class LaxModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class InEntity(LaxModel):
    """A MessageEntity as a bot sends it."""

    type: str
    offset: int
    length: int
    url: str | None = None
    user: dict[str, Any] | None = None
    language: str | None = None


class ReplyParameters(LaxModel):
    message_id: int
    chat_id: ChatRef | None = None
    allow_sending_without_reply: bool = False


class LinkPreviewOptions(LaxModel):
    is_disabled: bool = False


class SendOptions(BotParams):
    """What every send method takes besides its content."""

    chat_id: ChatRef
    reply_parameters: ReplyParameters | None = None
    reply_to_message_id: int | None = None
    allow_sending_without_reply: bool = False
    reply_markup: Any = None
    # accepted and ignored (see SEND_DIFFERENCES)
    message_thread_id: int | None = None
    disable_notification: bool = False
    protect_content: bool = False
    message_effect_id: str | None = None
    business_connection_id: str | None = None
    allow_paid_broadcast: bool = False


# --- helpers ----------------------------------------------------------------------------------


def to_entities(entities: list[InEntity] | None) -> list[MessageEntity]:
    result = []
    for e in entities or []:
        kind = _ENTITY_ALIASES.get(e.type, e.type)
        if kind not in ENTITY_TYPES:
            continue  # custom emoji, email...: no such entity here, the text stays
        user_id = None
        if kind == "text_mention":
            raw = (e.user or {}).get("id")
            user_id = raw if isinstance(raw, int) else None
        result.append(
            MessageEntity(
                kind,
                e.offset,
                e.length,
                url=e.url if kind == "text_link" else None,
                language=e.language if kind == "pre" and e.language else None,
                user_id=user_id,
            )
        )
    return result


def formatted(
    text: str, parse_mode: str | None, entities: list[InEntity] | None
) -> tuple[str, list[MessageEntity]]:
    """Text and entities from a `parse_mode` (which wins, as on Telegram) or entities.
    Telegram's Bot API server takes "none" for no parse mode too."""
    if parse_mode and parse_mode.lower() != "none":
        return formatting.parse(text, parse_mode)
    return text, to_entities(entities)


async def reply_target(ctx: BotContext, chat_id: int, p: SendOptions) -> int | None:
    """The message to reply to, from `reply_parameters` or the older fields."""
    if p.reply_parameters is not None:
        message_id = p.reply_parameters.message_id
        lenient = p.reply_parameters.allow_sending_without_reply
        other = p.reply_parameters.chat_id
    elif p.reply_to_message_id:
        message_id, lenient, other = p.reply_to_message_id, p.allow_sending_without_reply, None
    else:
        return None
    found = False
    if other is None or await resolve_chat(ctx, other) == chat_id:
        async with ctx.app.db.read() as conn:
            await load_access(conn, ctx.bot, chat_id)
            found = bool(await messages.get_rows(conn, chat_id, [message_id], ctx.bot_id))
    if found:
        return message_id
    if lenient:
        return None
    raise bad_request("message to be replied not found")


def markup_of(p: SendOptions) -> dict[str, Any] | None:
    return keyboards.reply_markup(p.reply_markup)


async def to_bot_messages(ctx: BotContext, found: list[Message]) -> list[dict[str, Any]]:
    async with ctx.app.db.read() as conn:
        peers = Peers(conn, ctx.bot_id)
        return [await peers.message(m) for m in found]


async def to_bot_message(ctx: BotContext, message: Message) -> dict[str, Any]:
    [result] = await to_bot_messages(ctx, [message])
    return result


async def check_member(ctx: BotContext, chat_id: int) -> None:
    """Refuse a chat the bot is not in before storing files for it."""
    async with ctx.app.db.read() as conn:
        await load_access(conn, ctx.bot, chat_id)


async def visible(ctx: BotContext, chat_id: int, ids: list[int]) -> list[Message]:
    """The bot's view of messages of a chat it is in; missing ones are left out."""
    async with ctx.app.db.read() as conn:
        await load_access(conn, ctx.bot, chat_id)
        rows = await messages.get_rows(conn, chat_id, sorted(set(ids)), ctx.bot_id)
        return await messages.hydrate(conn, chat_id, rows)


# --- sending ----------------------------------------------------------------------------------


class SendMessage(SendOptions):
    text: str
    parse_mode: str | None = None
    entities: list[InEntity] | None = None
    link_preview_options: LinkPreviewOptions | None = None
    disable_web_page_preview: bool = False


def no_preview(p: SendMessage | EditMessageText) -> bool:
    options = p.link_preview_options
    return p.disable_web_page_preview or (options is not None and options.is_disabled)


@bot_method(
    "sendMessage",
    SendMessage,
    differences=SEND_DIFFERENCES
    + " Of `link_preview_options` only `is_disabled` counts: the server picks the link.",
)
async def send_message(ctx: BotContext, p: SendMessage) -> dict[str, Any]:
    """Send a text message, with formatting and a keyboard; the sent Message."""
    chat_id = await resolve_chat(ctx, p.chat_id)
    text, entities = formatted(p.text, p.parse_mode, p.entities)
    markup = markup_of(p)
    reply_to = await reply_target(ctx, chat_id, p)
    sent = await messaging.send_message(
        ctx.app,
        ctx.bot,
        chat_id,
        text,
        entities,
        reply_to,
        no_link_preview=no_preview(p),
        reply_markup=markup,
    )
    return await to_bot_message(ctx, sent.message)


# --- forwarding and copying -------------------------------------------------------------------


class ForwardMessage(BotParams):
    chat_id: ChatRef
    from_chat_id: ChatRef
    message_id: int
    message_thread_id: int | None = None
    disable_notification: bool = False
    protect_content: bool = False


async def _forward(
    ctx: BotContext, to: ChatRef, source: ChatRef, ids: list[int]
) -> list[messaging.Sent]:
    from_chat = await resolve_chat(ctx, source)
    to_chat = await resolve_chat(ctx, to)
    try:
        return await messaging.forward_messages(ctx.app, ctx.bot, from_chat, ids, to_chat)
    except HeliographError as e:
        if e.code is ErrorCode.MESSAGE_NOT_FOUND:
            raise bad_request("message to forward not found") from None
        raise


@bot_method(
    "forwardMessage",
    ForwardMessage,
    differences="`disable_notification`, `protect_content` and `message_thread_id` are ignored.",
)
async def forward_message(ctx: BotContext, p: ForwardMessage) -> dict[str, Any]:
    """Forward a message, with a link to where it came from; the new Message."""
    [sent] = await _forward(ctx, p.chat_id, p.from_chat_id, [p.message_id])
    return await to_bot_message(ctx, sent.message)


class ForwardMessages(BotParams):
    chat_id: ChatRef
    from_chat_id: ChatRef
    message_ids: Ids
    message_thread_id: int | None = None
    disable_notification: bool = False
    protect_content: bool = False


@bot_method(
    "forwardMessages",
    ForwardMessages,
    differences="Albums are forwarded as separate messages. `disable_notification`, "
    "`protect_content` and `message_thread_id` are ignored.",
)
async def forward_messages(ctx: BotContext, p: ForwardMessages) -> list[dict[str, int]]:
    """Forward several messages of one chat, in id order; missing ones are skipped. The
    MessageIds of the new messages."""
    sent = await _forward(ctx, p.chat_id, p.from_chat_id, p.message_ids)
    return [{"message_id": s.message.id} for s in sent]


class CopyMessage(SendOptions):
    from_chat_id: ChatRef
    message_id: int
    caption: str | None = None
    parse_mode: str | None = None
    caption_entities: list[InEntity] | None = None
    show_caption_above_media: bool = False


async def _copy(
    ctx: BotContext,
    original: Message,
    to_chat: int,
    caption: tuple[str, list[MessageEntity]] | None,
    reply_to: int | None,
    markup: dict[str, Any] | None,
) -> messaging.Sent:
    """Send a message again as the bot's own: the same content, no link to the original."""
    if original.service is not None:
        raise bad_request("message can't be copied")
    text, entities = original.text, original.entities
    media = original.media
    if media is not None and media.type is not MediaType.STICKER and caption is not None:
        text, entities = caption
    return await messaging.send_message(
        ctx.app,
        ctx.bot,
        to_chat,
        text,
        entities,
        reply_to,
        media=media,
        reply_markup=markup,
    )


@bot_method(
    "copyMessage",
    CopyMessage,
    differences=SEND_DIFFERENCES + " `show_caption_above_media` is ignored.",
)
async def copy_message(ctx: BotContext, p: CopyMessage) -> dict[str, int]:
    """Send a copy of a message, without a link to the original; a media message may get
    a new caption. The MessageId of the copy."""
    from_chat = await resolve_chat(ctx, p.from_chat_id)
    to_chat = await resolve_chat(ctx, p.chat_id)
    found = await visible(ctx, from_chat, [p.message_id])
    if not found:
        raise bad_request("message to copy not found")
    caption = None if p.caption is None else formatted(p.caption, p.parse_mode, p.caption_entities)
    markup = markup_of(p)
    reply_to = await reply_target(ctx, to_chat, p)
    sent = await _copy(ctx, found[0], to_chat, caption, reply_to, markup)
    return {"message_id": sent.message.id}


class CopyMessages(BotParams):
    chat_id: ChatRef
    from_chat_id: ChatRef
    message_ids: Ids
    remove_caption: bool = False
    message_thread_id: int | None = None
    disable_notification: bool = False
    protect_content: bool = False


@bot_method(
    "copyMessages",
    CopyMessages,
    differences="Albums are copied as separate messages, and the copies are sent one by one "
    "(not all or nothing). `disable_notification`, `protect_content` and "
    "`message_thread_id` are ignored.",
)
async def copy_messages(ctx: BotContext, p: CopyMessages) -> list[dict[str, int]]:
    """Copy several messages of one chat, in id order; missing ones and service messages
    are skipped. The MessageIds of the copies."""
    from_chat = await resolve_chat(ctx, p.from_chat_id)
    to_chat = await resolve_chat(ctx, p.chat_id)
    originals = [m for m in await visible(ctx, from_chat, p.message_ids) if m.service is None]
    if not originals:
        raise bad_request("message to copy not found")
    copied = []
    for original in originals:
        caption: tuple[str, list[MessageEntity]] | None = ("", []) if p.remove_caption else None
        sent = await _copy(ctx, original, to_chat, caption, None, None)
        copied.append({"message_id": sent.message.id})
    return copied


# --- editing ----------------------------------------------------------------------------------


class EditTarget(BotParams):
    chat_id: ChatRef | None = None
    message_id: int | None = None
    inline_message_id: str | None = None
    reply_markup: Any = None
    business_connection_id: str | None = None


async def edit_target(ctx: BotContext, p: EditTarget) -> tuple[int, int]:
    """The chat and message an edit is for."""
    if p.inline_message_id:
        raise bad_request("inline message editing is not supported")
    if p.chat_id is None:
        raise bad_request("chat_id is empty")
    if p.message_id is None:
        raise bad_request("message identifier is not specified")
    return await resolve_chat(ctx, p.chat_id), p.message_id


def edit_markup(p: EditTarget) -> dict[str, Any] | None:
    return keyboards.reply_markup(p.reply_markup, inline_only=True)


class EditMessageText(EditTarget):
    text: str
    parse_mode: str | None = None
    entities: list[InEntity] | None = None
    link_preview_options: LinkPreviewOptions | None = None
    disable_web_page_preview: bool = False


@bot_method("editMessageText", EditMessageText, differences=EDIT_DIFFERENCES)
async def edit_message_text(ctx: BotContext, p: EditMessageText) -> dict[str, Any]:
    """Change the text of a message the bot sent. Its inline keyboard is `reply_markup`:
    without one, the keyboard goes. The edited Message."""
    chat_id, message_id = await edit_target(ctx, p)
    text, entities = formatted(p.text, p.parse_mode, p.entities)
    edited = await bot_edits.edit_bot_message(
        ctx.app,
        ctx.bot,
        chat_id,
        message_id,
        "text",
        text=text,
        entities=entities,
        reply_markup=edit_markup(p),
        no_link_preview=no_preview(p),
    )
    return await to_bot_message(ctx, edited)


class EditMessageCaption(EditTarget):
    caption: str = ""
    parse_mode: str | None = None
    caption_entities: list[InEntity] | None = None
    show_caption_above_media: bool = False


@bot_method(
    "editMessageCaption",
    EditMessageCaption,
    differences=EDIT_DIFFERENCES + " `show_caption_above_media` is ignored.",
)
async def edit_message_caption(ctx: BotContext, p: EditMessageCaption) -> dict[str, Any]:
    """Change (or with none, remove) the caption of a media message the bot sent, and its
    inline keyboard. The edited Message."""
    chat_id, message_id = await edit_target(ctx, p)
    text, entities = formatted(p.caption, p.parse_mode, p.caption_entities)
    edited = await bot_edits.edit_bot_message(
        ctx.app,
        ctx.bot,
        chat_id,
        message_id,
        "caption",
        text=text,
        entities=entities,
        reply_markup=edit_markup(p),
    )
    return await to_bot_message(ctx, edited)


@bot_method("editMessageReplyMarkup", EditTarget, differences=EDIT_DIFFERENCES)
async def edit_message_reply_markup(ctx: BotContext, p: EditTarget) -> dict[str, Any]:
    """Change or remove the inline keyboard of a message the bot sent. The edited Message."""
    chat_id, message_id = await edit_target(ctx, p)
    edited = await bot_edits.edit_bot_message(
        ctx.app, ctx.bot, chat_id, message_id, "markup", reply_markup=edit_markup(p)
    )
    return await to_bot_message(ctx, edited)


# --- deleting ---------------------------------------------------------------------------------


async def _delete(ctx: BotContext, chat_ref: ChatRef, ids: list[int], *, skip: bool) -> bool:
    chat_id = await resolve_chat(ctx, chat_ref)
    try:
        await messaging.delete_messages(ctx.app, ctx.bot, chat_id, ids, for_everyone=True)
    except HeliographError as e:
        if e.code is not ErrorCode.MESSAGE_NOT_FOUND:
            raise
        if not skip:
            raise bad_request("message to delete not found") from None
    return True


class DeleteMessage(BotParams):
    chat_id: ChatRef
    message_id: int


@bot_method("deleteMessage", DeleteMessage)
async def delete_message(ctx: BotContext, p: DeleteMessage) -> bool:
    """Delete a message for everyone: the bot's own, any in a private chat, and others' in
    groups and channels where the bot may delete messages."""
    return await _delete(ctx, p.chat_id, [p.message_id], skip=False)


class DeleteMessages(BotParams):
    chat_id: ChatRef
    message_ids: Ids


@bot_method("deleteMessages", DeleteMessages)
async def delete_messages(ctx: BotContext, p: DeleteMessages) -> bool:
    """Delete up to 100 messages of a chat at once; those not found are skipped."""
    return await _delete(ctx, p.chat_id, p.message_ids, skip=True)


# --- chat actions and reactions ---------------------------------------------------------------

# Telegram's actions as ours; those with no match of their own show as the nearest one.
CHAT_ACTIONS = {
    "typing": "typing",
    "upload_photo": "uploading_photo",
    "record_video": "uploading_document",
    "upload_video": "uploading_document",
    "record_voice": "recording_voice",
    "upload_voice": "recording_voice",
    "upload_document": "uploading_document",
    "choose_sticker": "choosing_sticker",
    "find_location": "typing",
    "record_video_note": "uploading_document",
    "upload_video_note": "uploading_document",
}


class SendChatAction(BotParams):
    chat_id: ChatRef
    action: str
    message_thread_id: int | None = None
    business_connection_id: str | None = None


@bot_method(
    "sendChatAction",
    SendChatAction,
    differences="Actions with no status of their own here show as the nearest one: video "
    "actions as uploading a document, `upload_voice` as recording a voice note, "
    "`find_location` as typing.",
)
async def send_chat_action(ctx: BotContext, p: SendChatAction) -> bool:
    """Show the bot as typing (or uploading, recording...) in a chat for a few seconds."""
    action = CHAT_ACTIONS.get(p.action)
    if action is None:
        raise bad_request("wrong parameter action in request")
    chat_id = await resolve_chat(ctx, p.chat_id)
    await interactions.set_typing(ctx.app, ctx.bot, chat_id, action)
    return True


class SetMessageReaction(BotParams):
    chat_id: ChatRef
    message_id: int
    reaction: list[dict[str, Any]] | None = None
    is_big: bool = False


@bot_method(
    "setMessageReaction",
    SetMessageReaction,
    differences="Only emoji reactions; custom emoji and paid reactions are refused. `is_big` "
    "is ignored.",
)
async def set_message_reaction(ctx: BotContext, p: SetMessageReaction) -> bool:
    """Set the bot's reaction to a message (one emoji), or remove it with none."""
    emoji: str | None = None
    if p.reaction:
        if len(p.reaction) > 1:
            raise bad_request("REACTIONS_TOO_MANY")
        [chosen] = p.reaction
        if chosen.get("type") != "emoji" or not isinstance(chosen.get("emoji"), str):
            raise bad_request("REACTION_INVALID")
        emoji = chosen["emoji"]
    chat_id = await resolve_chat(ctx, p.chat_id)
    await interactions.set_reaction(ctx.app, ctx.bot, chat_id, p.message_id, emoji)
    return True
