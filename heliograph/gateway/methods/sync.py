"""Sync: the state of the common box, and catching up after being away."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from heliograph.domain.entities import State
from heliograph.gateway.methods import Context, NoParams, Params, method
from heliograph.services import sync
from heliograph.services.sync import Difference


@method("getState", NoParams, State, group="Sync")
async def get_state(ctx: Context, p: NoParams) -> State:
    """The current `pts` of the account's common box.

    A new device calls it before loading the chat list, then applies updates after that
    pts: anything that changed while it loaded arrives again and is applied over the
    loaded state, so nothing is missed."""
    return await sync.get_state(ctx.app, ctx.user)


class GetDifference(Params):
    pts: Annotated[int, Field(ge=0)]
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


@method("getDifference", GetDifference, Difference, group="Sync")
async def get_difference(ctx: Context, p: GetDifference) -> Difference:
    """Every update after `pts`, oldest first, as they were pushed live.

    Call it after connecting, and whenever a gap is seen (an update whose
    `pts - pts_count` is ahead of the local pts). Repeat from `state.pts` while `more` is
    true. `too_long` means the gap is too large to replay: reload chats and history, then
    continue from `state.pts`."""
    return await sync.get_difference(ctx.app, ctx.user, p.pts, p.limit)


class GetChannelDifference(Params):
    chat_id: Annotated[int, Field(ge=1, le=2**53)]
    pts: Annotated[int, Field(ge=0)]
    limit: Annotated[int, Field(ge=1, le=1000)] = 100


@method("getChannelDifference", GetChannelDifference, Difference, group="Sync")
async def get_channel_difference(ctx: Context, p: GetChannelDifference) -> Difference:
    """Every update of a large chat's own box after `pts`, oldest first.

    Large chats (those whose Chat has a non-null `pts`: channels and big groups) keep one
    shared box; their pushed updates carry `box` = the chat id. Keep a pts per such box,
    apply the same rules as for the common box, and on a gap call this method. Updates
    returned carry `box` too."""
    return await sync.get_channel_difference(ctx.app, ctx.user, p.chat_id, p.pts, p.limit)
