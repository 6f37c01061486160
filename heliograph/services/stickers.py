"""Sticker packs: made by users, shared by link, installed, searched and sent."""

from __future__ import annotations

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import Sticker
from heliograph.services.context import App


async def sticker_for_sending(app: App, file_id: str) -> Sticker:
    """The sticker with this id, as a message holds it."""
    async with app.db.read() as conn:
        row = await conn.fetchrow(
            "SELECT s.file_id, s.set_id, ss.short_name, s.emoji, s.format, s.width, s.height,"
            " f.mime_type, f.size FROM stickers s JOIN sticker_sets ss ON ss.id = s.set_id"
            " JOIN files f ON f.id = s.file_id WHERE s.file_id = ?",
            file_id,
        )
    if row is None:
        raise HeliographError(ErrorCode.STICKER_NOT_FOUND, "sticker not found")
    return Sticker(
        file_id=row["file_id"],
        set_id=row["set_id"],
        set_name=row["short_name"],
        emoji=row["emoji"].split(" ")[0],
        format=row["format"],
        mime_type=row["mime_type"],
        width=row["width"],
        height=row["height"],
        size=row["size"],
    )
