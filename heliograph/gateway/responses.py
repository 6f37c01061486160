"""Error answers over plain HTTP, shared by the API and file routes."""

from __future__ import annotations

from aiohttp import web

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.gateway.dispatch import encode

JSON = "application/json"


def error_response(error: HeliographError) -> web.Response:
    headers = {}
    if error.code is ErrorCode.FLOOD_WAIT:
        headers["Retry-After"] = str(error.extra.get("retry_after", 1))
    return web.Response(
        body=encode({"ok": False, "error": error.to_dict()}),
        status=error.code.status,
        content_type=JSON,
        headers=headers,
    )
