"""Sticker packs: making and changing them, previews by link, installing, suggestions and
search. Stickers are sent with `sendMedia`."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from heliograph.domain.media import Sticker
from heliograph.domain.stickers import StickerSet, StickerSetInfo
from heliograph.gateway.methods import Context, NoParams, Params, method
from heliograph.gateway.methods.account import Ok
from heliograph.gateway.methods.chats import Id
from heliograph.gateway.methods.media import FileId
from heliograph.services import stickers

GROUP = "Stickers"
# Loose here: the service checks names, titles and emoji against the configured limits and
# answers with the sticker codes (SHORT_NAME_INVALID, STICKER_EMOJI_INVALID).
ShortName = Annotated[str, Field(max_length=256)]
Title = Annotated[str, Field(max_length=1024)]
EmojiList = Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100)]


class InputSticker(Params):
    file_id: FileId
    emoji: EmojiList

    def to_input(self) -> stickers.StickerInput:
        return stickers.StickerInput(self.file_id, list(self.emoji))


class SetParams(Params):
    """A sticker set by `set_id` or by `short_name` (the name in its link): give one."""

    set_id: Id | None = None
    short_name: ShortName | None = None

    @model_validator(mode="after")
    def _one_name(self) -> Self:
        if (self.set_id is None) == (self.short_name is None):
            raise ValueError("give either set_id or short_name")
        return self

    def ref(self) -> stickers.SetRef:
        return stickers.SetRef(self.set_id, self.short_name)


class CreateStickerSet(Params):
    title: Title
    short_name: ShortName
    stickers: Annotated[list[InputSticker], Field(min_length=1, max_length=1000)]


@method("createStickerSet", CreateStickerSet, StickerSet, group=GROUP)
async def create_sticker_set(ctx: Context, p: CreateStickerSet) -> StickerSet:
    """Make a sticker set of files you uploaded; it is installed for you.

    `short_name` names the set in its link, `<server>/addstickers/<short_name>`:
    1 to 64 latin letters, digits and underscores, starting with a letter, unique ignoring
    case (`SHORT_NAME_INVALID`, `SHORT_NAME_OCCUPIED`). `title` has 1 to 64 characters.
    Each sticker is a file you uploaded: a PNG or WebP image (not animated) of at most
    512 KB, or a WebM VP9 video without sound of at most 256 KB and 3 seconds; either way
    512 px on one side and at most 512 on the other. Each has 1 to 20 emoji
    (`STICKER_EMOJI_INVALID`). A set holds up to 120 stickers (`STICKER_SET_FULL`).

    Every sticker is checked before anything is stored: one bad sticker refuses the call
    with `STICKER_INVALID` (its `file_id` and the broken rule named) and no set is made.
    Each sticker gets a file of its own that anyone signed in may fetch; the file you
    uploaded stays as private as it was. When you already have the most sets installed
    (200 by default), the new set is not installed: `installed` says so.

    The numbers above are the server's defaults (limits `sticker_side`,
    `sticker_static_bytes`, `sticker_video_bytes`, `sticker_video_seconds`,
    `sticker_emoji_max`, `sticker_set_title_max`, `stickers_per_set`)."""
    return await stickers.create_sticker_set(
        ctx.app, ctx.user, p.title, p.short_name, [s.to_input() for s in p.stickers]
    )


class AddStickerToSet(SetParams):
    sticker: InputSticker


@method("addStickerToSet", AddStickerToSet, StickerSet, group=GROUP)
async def add_sticker_to_set(ctx: Context, p: AddStickerToSet) -> StickerSet:
    """Add a sticker at the end of a set you made; returns the set.

    The sticker follows the rules of `createStickerSet`. Only the set's creator may change
    it (`OWNER_REQUIRED`); a full set answers `STICKER_SET_FULL`. Every change raises the
    set's `version`."""
    return await stickers.add_sticker_to_set(ctx.app, ctx.user, p.ref(), p.sticker.to_input())


class StickerRef(Params):
    file_id: FileId


@method("removeStickerFromSet", StickerRef, StickerSet, group=GROUP)
async def remove_sticker_from_set(ctx: Context, p: StickerRef) -> StickerSet:
    """Remove a sticker (by its `file_id`) from a set you made; returns the set.

    Messages that hold the sticker still show it; it can no longer be sent."""
    return await stickers.remove_sticker_from_set(ctx.app, ctx.user, p.file_id)


class SetStickerPosition(Params):
    file_id: FileId
    position: Annotated[int, Field(ge=0, le=10_000)]


@method("setStickerPosition", SetStickerPosition, StickerSet, group=GROUP)
async def set_sticker_position(ctx: Context, p: SetStickerPosition) -> StickerSet:
    """Move a sticker of a set you made to `position` (0 is first); returns the set."""
    return await stickers.set_sticker_position(ctx.app, ctx.user, p.file_id, p.position)


class SetStickerEmoji(Params):
    file_id: FileId
    emoji: EmojiList


@method("setStickerEmoji", SetStickerEmoji, StickerSet, group=GROUP)
async def set_sticker_emoji(ctx: Context, p: SetStickerEmoji) -> StickerSet:
    """Replace the 1 to 20 emoji a sticker of a set you made stands for; returns the set.

    The first emoji is the one messages holding the sticker show."""
    return await stickers.set_sticker_emoji(ctx.app, ctx.user, p.file_id, list(p.emoji))


class SetStickerSetTitle(SetParams):
    title: Title


@method("setStickerSetTitle", SetStickerSetTitle, StickerSet, group=GROUP)
async def set_sticker_set_title(ctx: Context, p: SetStickerSetTitle) -> StickerSet:
    """Rename a set you made (1 to 64 characters); returns the set."""
    return await stickers.set_sticker_set_title(ctx.app, ctx.user, p.ref(), p.title)


@method("deleteStickerSet", SetParams, Ok, group=GROUP)
async def delete_sticker_set(ctx: Context, p: SetParams) -> Ok:
    """Delete a set you made (server administrators may delete any).

    It leaves everyone's installed sets (their devices get a `sticker_sets_changed` event)
    and its link then answers `STICKER_SET_NOT_FOUND`. Messages that hold its stickers
    still show them."""
    await stickers.delete_sticker_set(ctx.app, ctx.user, p.ref())
    return Ok()


@method("getStickerSet", SetParams, StickerSet, group=GROUP)
async def get_sticker_set(ctx: Context, p: SetParams) -> StickerSet:
    """A whole sticker set, its stickers in order: what its link shows.

    A set's link is `<server>/addstickers/<short_name>`; a client opening such a
    link calls this with the `short_name` and offers `installStickerSet`. Anyone signed in
    may preview any set; who made it is not shown (`is_creator` tells you if you did).
    Send a sticker with `sendMedia` and `{"type": "sticker", "file_id": ...}`."""
    return await stickers.get_sticker_set(ctx.app, ctx.user, p.ref())


@method("installStickerSet", SetParams, StickerSetInfo, group=GROUP)
async def install_sticker_set(ctx: Context, p: SetParams) -> StickerSetInfo:
    """Add a set to your installed sets, first in the list.

    Installing one already installed changes nothing. You may have up to 200 installed
    (`STICKER_SETS_TOO_MANY`). Your other devices get a `sticker_sets_changed` event."""
    return await stickers.install_sticker_set(ctx.app, ctx.user, p.ref())


@method("uninstallStickerSet", SetParams, Ok, group=GROUP)
async def uninstall_sticker_set(ctx: Context, p: SetParams) -> Ok:
    """Remove a set from your installed sets (one not installed: nothing changes).

    Your other devices get a `sticker_sets_changed` event."""
    await stickers.uninstall_sticker_set(ctx.app, ctx.user, p.ref())
    return Ok()


@method("getInstalledStickerSets", NoParams, list[StickerSetInfo], group=GROUP)
async def get_installed_sticker_sets(ctx: Context, p: NoParams) -> list[StickerSetInfo]:
    """Your installed sticker sets, in your order, each with its first sticker.

    Fetch a set with `getStickerSet` when its `version` differs from the copy you hold.
    Call this again on a `sticker_sets_changed` event."""
    return await stickers.installed_sticker_sets(ctx.app, ctx.user)


class ReorderStickerSets(Params):
    set_ids: Annotated[list[Id], Field(max_length=1000)]


@method("reorderStickerSets", ReorderStickerSets, Ok, group=GROUP)
async def reorder_sticker_sets(ctx: Context, p: ReorderStickerSets) -> Ok:
    """Put your installed sets in this order.

    Sets you leave out follow the ones named, in their former order; naming a set you have
    not installed answers `STICKER_SET_NOT_FOUND`. Your other devices get a
    `sticker_sets_changed` event."""
    await stickers.reorder_sticker_sets(ctx.app, ctx.user, list(p.set_ids))
    return Ok()


class GetStickerSuggestions(Params):
    emoji: Annotated[str, Field(max_length=64)]
    limit: Annotated[int, Field(ge=1, le=100)] = 50


@method("getStickerSuggestions", GetStickerSuggestions, list[Sticker], group=GROUP)
async def get_sticker_suggestions(ctx: Context, p: GetStickerSuggestions) -> list[Sticker]:
    """Stickers for one emoji from your installed sets: in the order of your sets, then of
    the stickers in each.

    Skin tones and the emoji variation selector are ignored, so 👍🏽 finds stickers made
    for 👍 and ❤ those for ❤️."""
    return await stickers.sticker_suggestions(ctx.app, ctx.user, p.emoji, p.limit)


class SearchStickerSets(Params):
    query: Annotated[str, Field(max_length=1024)]
    limit: Annotated[int, Field(ge=1, le=100)] = 20


@method("searchStickerSets", SearchStickerSets, list[StickerSetInfo], group=GROUP)
async def search_sticker_sets(ctx: Context, p: SearchStickerSets) -> list[StickerSetInfo]:
    """Sticker sets whose title or short name contains the query, ignoring case, in any
    script; the most installed first."""
    return await stickers.search_sticker_sets(ctx.app, ctx.user, p.query, p.limit)
