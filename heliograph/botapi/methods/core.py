"""getMe, getUpdates and the webhook settings: how a bot learns who it is and receives."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import Field

from heliograph.botapi import updates
from heliograph.botapi.errors import BotApiError, bad_request
from heliograph.botapi.methods import BotContext, BotParams, NoParams, bot_method
from heliograph.store import bots
from heliograph.store import updates as boxes

MAX_POLL_SECONDS = 50


async def bot_row(ctx: BotContext) -> Any:
    async with ctx.app.db.read() as conn:
        row = await bots.get(conn, ctx.bot_id)
    assert row is not None
    return row


@bot_method("getMe")
async def get_me(ctx: BotContext, p: NoParams) -> dict[str, Any]:
    """The bot's own User object."""
    row = await bot_row(ctx)
    return {
        "id": ctx.bot_id,
        "is_bot": True,
        "first_name": row["display_name"],
        "username": row["username"],
        "can_join_groups": True,
        "can_read_all_group_messages": not row["privacy"],
        "supports_inline_queries": row["inline_placeholder"] is not None,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


class GetUpdates(BotParams):
    offset: int = 0
    limit: Annotated[int, Field(ge=1, le=100)] = 100
    timeout: Annotated[int, Field(ge=0)] = 0
    allowed_updates: list[str] | None = None


def _conflict() -> BotApiError:
    return BotApiError(
        409,
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
        "delete the webhook first",
    )


async def save_allowed(ctx: BotContext, allowed: list[str] | None) -> None:
    if allowed is None:
        return
    async with ctx.app.db.transaction() as tx:
        await bots.update(tx, ctx.bot_id, allowed_updates=orjson.dumps(allowed).decode())


@bot_method("getUpdates", GetUpdates)
async def get_updates(ctx: BotContext, p: GetUpdates) -> list[dict[str, Any]]:
    """Long polling: updates after `offset` (which acknowledges every earlier one), waiting
    up to `timeout` seconds for one to arrive. update_id is the bot's box position."""
    row = await bot_row(ctx)
    if row["webhook_url"]:
        raise _conflict()
    await save_allowed(ctx, p.allowed_updates)
    timeout = min(p.timeout, MAX_POLL_SECONDS)
    return await updates.get_updates(ctx.app, ctx.state, ctx.bot_id, p.offset, p.limit, timeout)


class SetWebhook(BotParams):
    url: str
    secret_token: Annotated[str, Field(max_length=256, pattern=r"^[A-Za-z0-9_-]*$")] | None = None
    max_connections: Annotated[int, Field(ge=1, le=100)] = 40
    allowed_updates: list[str] | None = None
    drop_pending_updates: bool = False
    ip_address: str | None = None


@bot_method(
    "setWebhook",
    SetWebhook,
    differences="`certificate` and `ip_address` are ignored: the server checks the address "
    "itself and refuses private and loopback ones. Plain `http://` is accepted for hosts the "
    "operator allowlisted (`bot_webhook_allowlist`), such as a bot on the same host. "
    "Updates are delivered one at a time, in order (`max_connections` is kept but not used), "
    "and a method in the webhook's reply body is not run.",
)
async def set_webhook(ctx: BotContext, p: SetWebhook) -> bool:
    """Send updates to `url` as HTTPS POSTs instead of getUpdates; an empty url removes
    the webhook."""
    if not p.url:
        await _remove_webhook(ctx, p.drop_pending_updates)
        return True
    if not p.url.startswith(("https://", "http://")) or len(p.url) > 2048:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    await save_allowed(ctx, p.allowed_updates)
    async with ctx.app.db.transaction() as tx:
        await bots.update(
            tx,
            ctx.bot_id,
            webhook_url=p.url,
            webhook_secret=p.secret_token,
            webhook_max_connections=p.max_connections,
            webhook_error_date=None,
            webhook_error_message=None,
        )
        if p.drop_pending_updates:
            await bots.acknowledge(tx, ctx.bot_id, await boxes.head(tx, ctx.bot_id))
    waker = ctx.state.webhook_wakers.get(ctx.bot_id)
    if waker is not None:
        waker.set()
    return True


async def _remove_webhook(ctx: BotContext, drop_pending: bool) -> None:
    async with ctx.app.db.transaction() as tx:
        await bots.update(tx, ctx.bot_id, webhook_url=None, webhook_secret=None)
        if drop_pending:
            await bots.acknowledge(tx, ctx.bot_id, await boxes.head(tx, ctx.bot_id))


class DeleteWebhook(BotParams):
    drop_pending_updates: bool = False


@bot_method("deleteWebhook", DeleteWebhook)
async def delete_webhook(ctx: BotContext, p: DeleteWebhook) -> bool:
    """Stop sending updates to the webhook; getUpdates works again."""
    await _remove_webhook(ctx, p.drop_pending_updates)
    return True


@bot_method("getWebhookInfo")
async def get_webhook_info(ctx: BotContext, p: NoParams) -> dict[str, Any]:
    """The webhook, how many updates wait for it, and its last delivery error."""
    row = await bot_row(ctx)
    async with ctx.app.db.read() as conn:
        head = await boxes.head(conn, ctx.bot_id)
    info: dict[str, Any] = {
        "url": row["webhook_url"] or "",
        "has_custom_certificate": False,
        "pending_update_count": max(0, head - row["acked_pts"]),
        "max_connections": row["webhook_max_connections"],
    }
    if row["allowed_updates"]:
        info["allowed_updates"] = orjson.loads(row["allowed_updates"])
    if row["webhook_error_date"]:
        info["last_error_date"] = row["webhook_error_date"]
        info["last_error_message"] = row["webhook_error_message"] or ""
    return info


@bot_method(
    "logOut",
    differences="Nothing to log out of: there is one server. Answers true, as Telegram's.",
)
async def log_out(ctx: BotContext, p: NoParams) -> bool:
    """Log out from the cloud Bot API server before moving to a local one."""
    return True


@bot_method("close", differences="Answers true; there is no instance to close.")
async def close(ctx: BotContext, p: NoParams) -> bool:
    """Close the bot instance before moving it to another server."""
    return True
