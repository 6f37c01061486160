"""Link previews: after a message with a link is sent, the server fetches the page (through
the guarded fetcher), keeps the result for a day, and edits the preview into the message."""

from __future__ import annotations

import asyncio
import logging

import orjson
from pydantic import TypeAdapter

from heliograph.domain.entities import Message
from heliograph.domain.errors import HeliographError
from heliograph.domain.media import LinkPreview, Photo, file_ids
from heliograph.media import images
from heliograph.services.chats import fan_out, system_access
from heliograph.services.context import App, Caller, Outbox
from heliograph.store import files, messages

log = logging.getLogger("heliograph.previews")
_PREVIEW = TypeAdapter(LinkPreview)
CACHE_SECONDS = 24 * 3600
# a failed fetch is not tried again for this long
FAILURE_SECONDS = 600


def first_link(message: Message) -> str | None:
    for entity in message.entities:
        if entity.type == "text_link" and entity.url:
            return entity.url
        if entity.type == "url":
            raw = message.text.encode("utf-16-le")
            url = raw[entity.offset * 2 : (entity.offset + entity.length) * 2].decode("utf-16-le")
            return url if "://" in url else f"http://{url}"
    return None


def schedule(app: App, caller: Caller, message: Message) -> None:
    """Fetch a preview of the message's first link in the background, if it has one."""
    if app.previews is None or message.service is not None:
        return
    url = first_link(message)
    if url is not None:
        app.spawn(attach_preview(app, caller, message.chat_id, message.id, url))


async def preview_of(app: App, owner_id: int, url: str) -> LinkPreview | None:
    """The cached preview of a page, or a fresh one; None when the page has none."""
    now = app.now()
    async with app.db.read() as conn:
        cached = await files.cached_preview(conn, url)
    if cached is not None:
        fresh = CACHE_SECONDS if cached["data"] else FAILURE_SECONDS
        if cached["fetched_at"] + fresh > now:
            return None if cached["data"] is None else _PREVIEW.validate_json(cached["data"])
    assert app.previews is not None
    try:
        page = await app.previews.fetch(url)
    except HeliographError as e:
        log.info("no preview for a link: %s", e.message)
        async with app.db.transaction() as tx:
            await files.cache_preview(tx, url, None, now)
        return None
    photo = None
    if page.image is not None:
        photo = await _store_photo(app, owner_id, page.image)
    preview: LinkPreview | None = LinkPreview(
        url=page.url,
        site_name=page.site_name,
        title=page.title,
        description=page.description,
        photo=photo,
    )
    if not (page.title or page.description or photo):
        preview = None
    async with app.db.transaction() as tx:
        data = None if preview is None else orjson.dumps(preview).decode()
        await files.cache_preview(tx, url, data, now)
    return preview


async def _store_photo(app: App, owner_id: int, data: bytes) -> Photo | None:
    from heliograph.services import media  # media imports messaging, which imports us

    path = await media.scratch_file(app, data)
    try:
        processed = await asyncio.to_thread(images.process_photo, path, app.limits)
    except HeliographError:
        return None
    finally:
        path.unlink(missing_ok=True)
    return await media.store_photo(app, owner_id, processed)


async def attach_preview(app: App, caller: Caller, chat_id: int, message_id: int, url: str) -> None:
    preview = await preview_of(app, caller.user_id, url)
    if preview is None:
        return
    outbox = Outbox()
    async with app.db.transaction() as tx:
        rows = await messages.get_rows(tx, chat_id, [message_id], caller.user_id)
        flag = await tx.fetchval(
            "SELECT no_link_preview FROM messages WHERE chat_id = ? AND id = ?",
            chat_id,
            message_id,
        )
        if not rows or flag:
            return  # deleted meanwhile, or the sender turned previews off
        message = (await messages.hydrate(tx, chat_id, rows))[0]
        if first_link(message) != url or message.link_preview == preview:
            return  # edited to another link meanwhile
        await messages.set_link_preview(tx, chat_id, message_id, preview)
        await files.attach(tx, chat_id, message_id, file_ids(preview=preview))
        message.link_preview = preview
        access = await system_access(tx, chat_id)
        data = {"message_id": message_id}
        body = {"message": message}
        await fan_out(tx, outbox, access, None, "edit_message", data, body, app.now())
    outbox.publish(app.bus)
