"""The chat list's arrangement: pinned chats and the archive, the same on every device."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from heliograph.domain.entities import Chat
from heliograph.gateway.methods import Context, NoParams, Params, method
from heliograph.gateway.methods.chats import Id, MaybePtsChange, maybe_change
from heliograph.services import chat_list, reading


class PinChat(Params):
    chat_id: Id
    pinned: bool = True


@method("pinChat", PinChat, MaybePtsChange, group="Chats")
async def pin_chat(ctx: Context, p: PinChat) -> MaybePtsChange:
    """Pin a chat to the top of your chat list (it becomes the first pinned), or unpin it
    with `pinned` false. Your other devices get a `pinned_chats` update.

    Pinning an archived chat brings it out of the archive. PINNED_CHATS_TOO_MANY past the
    limit (10 by default)."""
    return maybe_change(await chat_list.pin_chat(ctx.app, ctx.user, p.chat_id, p.pinned))


class ReorderPinnedChats(Params):
    chat_ids: Annotated[list[Id], Field(max_length=100)]


@method("reorderPinnedChats", ReorderPinnedChats, MaybePtsChange, group="Chats")
async def reorder_pinned_chats(ctx: Context, p: ReorderPinnedChats) -> MaybePtsChange:
    """Put your pinned chats in this order; `chat_ids` names every pinned chat once."""
    return maybe_change(await chat_list.reorder_pinned_chats(ctx.app, ctx.user, p.chat_ids))


class ArchiveChat(Params):
    chat_id: Id
    archived: bool = True


@method("archiveChat", ArchiveChat, MaybePtsChange, group="Chats")
async def archive_chat(ctx: Context, p: ArchiveChat) -> MaybePtsChange:
    """Move a chat into your archive, or out of it with `archived` false; your other devices
    get a `chat_archived` update. Archiving a pinned chat unpins it.

    Chats in the archive keep their place there when new messages arrive; `getChats` lists
    them with `archived` true, for the client to show apart."""
    return maybe_change(await chat_list.archive_chat(ctx.app, ctx.user, p.chat_id, p.archived))


@method("getPinnedChats", NoParams, list[Chat], group="Chats")
async def get_pinned_chats(ctx: Context, p: NoParams) -> list[Chat]:
    """Your pinned chats in their order, however long ago their last message was."""
    return await reading.get_pinned_chats(ctx.app, ctx.user)
