"""Chats and messages: the chat list, history, search, sending and changing messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, model_validator

from heliograph.domain.entities import Chat, Message, MessageEntity
from heliograph.gateway.methods import Context, Params, method
from heliograph.gateway.methods.account import Ok
from heliograph.services import chats, interactions, messaging, reading

Id = Annotated[int, Field(ge=1, le=2**53)]
Text = Annotated[str, Field(max_length=65536)]
Entities = Annotated[list[MessageEntity], Field(max_length=1000)]
Ids = Annotated[list[Id], Field(min_length=1, max_length=100)]


@dataclass(slots=True)
class SentMessage:
    """The stored message and the sender's new `pts` in the box the update went to: the
    common box, or with `box` set, that large chat's box. `pts` is null for a retried send
    that was already stored (its update was already delivered)."""

    message: Message
    pts: int | None
    pts_count: int
    box: int | None = None


@dataclass(slots=True)
class PtsChange:
    """The caller's new position after a change: in the common box, or in the box of the
    large chat named by `box`."""

    pts: int
    pts_count: int
    box: int | None = None


@dataclass(slots=True)
class MaybePtsChange:
    """`changed` false: nothing needed doing (already read, already pinned)."""

    changed: bool
    pts: int | None = None
    pts_count: int = 0
    box: int | None = None


def maybe_change(change: messaging.Changed | None) -> MaybePtsChange:
    if change is None:
        return MaybePtsChange(changed=False)
    return MaybePtsChange(True, change.pts, change.pts_count, change.box)


def _change(change: messaging.Changed) -> PtsChange:
    return PtsChange(change.pts, change.pts_count, change.box)


def _sent(sent: messaging.Sent) -> SentMessage:
    return SentMessage(sent.message, sent.pts, sent.pts_count, sent.box)


class GetPrivateChat(Params):
    user_id: Id


@method("getPrivateChat", GetPrivateChat, Chat, group="Chats")
async def get_private_chat(ctx: Context, p: GetPrivateChat) -> Chat:
    """The private chat with a user, created on first use if their privacy allows it.

    With your own user id, it is your Saved Messages."""
    chat_id = await chats.open_private_chat(ctx.app, ctx.user, p.user_id)
    return await reading.get_chat(ctx.app, ctx.user, chat_id)


class GetChats(Params):
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    before_activity: int | None = None
    before_chat_id: int | None = None


@method("getChats", GetChats, list[Chat], group="Chats")
async def get_chats(ctx: Context, p: GetChats) -> list[Chat]:
    """The chat list, by last activity, newest first, with unread counts and last messages.

    For the next page pass the `last_activity` and `id` of the last chat received as
    `before_activity` and `before_chat_id`."""
    before = None
    if p.before_activity is not None and p.before_chat_id is not None:
        before = (p.before_activity, p.before_chat_id)
    return await reading.get_chats(ctx.app, ctx.user, p.limit, before)


class ChatParams(Params):
    chat_id: Id


@method("getChat", ChatParams, Chat, group="Chats")
async def get_chat(ctx: Context, p: ChatParams) -> Chat:
    """One chat as it appears in the chat list."""
    return await reading.get_chat(ctx.app, ctx.user, p.chat_id)


class GetHistory(Params):
    chat_id: Id
    offset_id: Annotated[int, Field(ge=0)] | None = None
    direction: Literal["older", "newer"] = "older"
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    around_id: Id | None = None

    @model_validator(mode="after")
    def _one_anchor(self) -> GetHistory:
        if self.around_id is not None and {"offset_id", "direction"} & self.model_fields_set:
            raise ValueError("around_id goes without offset_id and direction")
        return self


@method("getHistory", GetHistory, list[Message], group="Messages")
async def get_history(ctx: Context, p: GetHistory) -> list[Message]:
    """A page of history, oldest first: the messages before `offset_id` (or the newest
    ones when it is absent), or with `direction: "newer"` the ones after it.

    With `around_id` (and neither `offset_id` nor `direction`): up to `limit` messages
    centred on that message, which is among them unless it was deleted: about half at or
    before it, the rest after it, more of one side where the other runs out. Use it to
    open a chat at an old message (a search result, a reply), then page from both ends:
    older from the first message, newer (`direction: "newer"`) from the last, until a page
    comes back shorter than asked (the newest message is reached)."""
    return await reading.get_history(
        ctx.app,
        ctx.user,
        p.chat_id,
        p.offset_id,
        p.direction == "newer",
        p.limit,
        around_id=p.around_id,
    )


class GetMessages(Params):
    chat_id: Id
    message_ids: Ids


@method("getMessages", GetMessages, list[Message], group="Messages")
async def get_messages(ctx: Context, p: GetMessages) -> list[Message]:
    """Messages by id (missing or deleted ones are left out)."""
    return await reading.get_messages(ctx.app, ctx.user, p.chat_id, p.message_ids)


class SearchMessages(Params):
    query: Annotated[str, Field(min_length=1, max_length=256)]
    chat_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50
    before_date: int | None = None
    before_chat_id: int | None = None
    before_message_id: int | None = None


@method("searchMessages", SearchMessages, list[Message], group="Messages")
async def search_messages(ctx: Context, p: SearchMessages) -> list[Message]:
    """Search the text of messages in one chat or all of yours, newest first.

    Matching ignores case and letter variants (Arabic and Persian forms, diacritics,
    digits of any script) and works inside words, so it suits every language. For the next
    page pass the `date`, `chat_id` and `id` of the last result."""
    before = None
    if None not in (p.before_date, p.before_chat_id, p.before_message_id):
        before = (p.before_date or 0, p.before_chat_id or 0, p.before_message_id or 0)
    return await reading.search_messages(ctx.app, ctx.user, p.query, p.chat_id, p.limit, before)


class SendMessage(Params):
    chat_id: Id
    text: Text
    entities: Entities | None = None
    reply_to_message_id: Id | None = None
    random_id: Annotated[int, Field(ge=-(2**63), le=2**63 - 1)] | None = None
    anonymous: bool = False
    no_link_preview: bool = False


@method("sendMessage", SendMessage, SentMessage, group="Messages", rate="send")
async def send_message(ctx: Context, p: SendMessage) -> SentMessage:
    """Send a text message (up to 4,096 UTF-16 code units) with formatting entities.

    Entity offsets and lengths count UTF-16 code units. URLs, @mentions, #hashtags and
    /commands are detected by the server and added unless they overlap given entities.
    Give a `random_id` to make retries safe: a send repeated with the same `random_id`
    returns the message already stored instead of sending it twice. In groups, members
    mentioned or replied to are notified; `anonymous` posts as the group (administrators
    with the `post_anonymously` right). In channels only administrators post.

    When the text holds a link, the server fetches a preview of the page and adds it to the
    message a moment later (an `edit_message` update with `link_preview`), unless
    `no_link_preview` is set."""
    sent = await messaging.send_message(
        ctx.app,
        ctx.user,
        p.chat_id,
        p.text,
        p.entities,
        p.reply_to_message_id,
        p.random_id,
        p.anonymous,
        no_link_preview=p.no_link_preview,
    )
    return _sent(sent)


class ForwardMessages(Params):
    from_chat_id: Id
    message_ids: Ids
    to_chat_id: Id


@method("forwardMessages", ForwardMessages, list[SentMessage], group="Messages", rate="send")
async def forward_messages(ctx: Context, p: ForwardMessages) -> list[SentMessage]:
    """Forward messages to another chat; each keeps its `forward_origin` (the first sender,
    chat, message and date, even when forwarded again)."""
    sent = await messaging.forward_messages(
        ctx.app, ctx.user, p.from_chat_id, p.message_ids, p.to_chat_id
    )
    return [_sent(s) for s in sent]


class EditMessage(Params):
    chat_id: Id
    message_id: Id
    text: Text
    entities: Entities | None = None


@method("editMessage", EditMessage, PtsChange, group="Messages", rate="send")
async def edit_message(ctx: Context, p: EditMessage) -> PtsChange:
    """Edit the text of your own message; it is marked with `edit_date`."""
    change = await messaging.edit_message(
        ctx.app, ctx.user, p.chat_id, p.message_id, p.text, p.entities
    )
    return _change(change)


class DeleteMessages(Params):
    chat_id: Id
    message_ids: Ids
    for_everyone: bool = False


@method("deleteMessages", DeleteMessages, PtsChange, group="Messages")
async def delete_messages(ctx: Context, p: DeleteMessages) -> PtsChange:
    """Delete messages for yourself (on all your devices), or for everyone in the chat.

    In a private chat either side may delete any message for both."""
    change = await messaging.delete_messages(
        ctx.app, ctx.user, p.chat_id, p.message_ids, p.for_everyone
    )
    return _change(change)


class PinMessage(Params):
    chat_id: Id
    message_id: Id
    pinned: bool = True


@method("pinMessage", PinMessage, MaybePtsChange, group="Messages")
async def pin_message(ctx: Context, p: PinMessage) -> MaybePtsChange:
    """Pin a message for everyone in the chat, or unpin it with `pinned: false`."""
    return maybe_change(
        await interactions.set_pinned(ctx.app, ctx.user, p.chat_id, p.message_id, p.pinned)
    )


class SetReaction(Params):
    chat_id: Id
    message_id: Id
    emoji: Annotated[str, Field(min_length=1, max_length=16)] | None


@method("setReaction", SetReaction, PtsChange, group="Messages")
async def set_reaction(ctx: Context, p: SetReaction) -> PtsChange:
    """React to a message with one emoji, replacing your earlier reaction; null removes it."""
    change = await interactions.set_reaction(ctx.app, ctx.user, p.chat_id, p.message_id, p.emoji)
    return _change(change)


class ReadHistory(Params):
    chat_id: Id
    max_id: Id


@method("readHistory", ReadHistory, MaybePtsChange, group="Messages")
async def read_history(ctx: Context, p: ReadHistory) -> MaybePtsChange:
    """Mark the chat read up to `max_id`. Your other devices update their unread count and
    the sender sees the message read (a `read_outbox` update)."""
    return maybe_change(await interactions.read_history(ctx.app, ctx.user, p.chat_id, p.max_id))


class SetTyping(Params):
    chat_id: Id
    action: Literal[
        "typing",
        "cancel",
        "recording_voice",
        "uploading_photo",
        "uploading_document",
        "choosing_sticker",
    ] = "typing"


@method("setTyping", SetTyping, Ok, group="Messages", rate="typing")
async def set_typing(ctx: Context, p: SetTyping) -> Ok:
    """Tell the other members you are typing (an ephemeral `typing` event, not stored).

    Send it again every few seconds while typing; `cancel` stops it at once."""
    await interactions.set_typing(ctx.app, ctx.user, p.chat_id, p.action)
    return Ok()


class SaveDraft(Params):
    chat_id: Id
    text: Text
    entities: Entities | None = None
    reply_to_message_id: Id | None = None


@method("saveDraft", SaveDraft, PtsChange, group="Messages")
async def save_draft(ctx: Context, p: SaveDraft) -> PtsChange:
    """Save the unsent text of a chat so your other devices show it; empty text clears it.

    Sending a message in the chat clears the draft."""
    change = await interactions.save_draft(
        ctx.app, ctx.user, p.chat_id, p.text, p.entities, p.reply_to_message_id
    )
    return _change(change)


class ViewMessages(Params):
    chat_id: Id
    message_ids: Ids


@dataclass(slots=True)
class Views:
    """View counts of the given posts, in the order asked."""

    views: list[int]


@method("viewMessages", ViewMessages, Views, group="Messages")
async def view_messages(ctx: Context, p: ViewMessages) -> Views:
    """Count that you saw channel posts (once per user) and get their view counters."""
    return Views(await interactions.view_messages(ctx.app, ctx.user, p.chat_id, p.message_ids))
