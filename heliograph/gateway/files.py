"""File transfer over plain HTTP: upload parts in, file bytes out.

Parts: `PUT /api/upload/<upload_id>/<part>` with the raw bytes. Files: `GET /api/files/<id>`
streams the bytes with `Range`, `ETag` and caching headers; both need `Authorization`."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import quote

from aiohttp import web

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.gateway.dispatch import encode
from heliograph.gateway.responses import error_response
from heliograph.gateway.state import GATEWAY, Gateway
from heliograph.services import files
from heliograph.services.context import Caller

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Files never change under their id, so caches may keep them; "private": only the browser.
_CACHE = "private, max-age=31536000, immutable"
# Shown inline: formats a browser renders without running anything.
_INLINE = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "video/mp4",
        "video/webm",
        "audio/ogg",
        "audio/mpeg",
    }
)


async def _caller(request: web.Request) -> tuple[Gateway, Caller]:
    gw: Gateway = request.app[GATEWAY]
    caller = await gw.dispatcher.authenticate(
        request.headers.get("Authorization"), request.remote or ""
    )
    gw.dispatcher.limiter.check("files", caller.user_id)
    return gw, caller


async def put_part(request: web.Request) -> web.Response:
    try:
        gw, caller = await _caller(request)
        upload_id = request.match_info["upload_id"]
        try:
            part = int(request.match_info["part"])
        except ValueError:
            raise HeliographError(ErrorCode.FILE_PART_INVALID, "part must be a number") from None
        upload, expected = await files.part_slot(gw.app, caller, upload_id, part)
        declared = request.content_length
        if declared is not None and declared != expected:
            raise HeliographError(
                ErrorCode.FILE_PART_INVALID,
                f"part {part} must have {expected} bytes, not {declared}",
                expected=expected,
            )
        # A body longer than the part is refused as soon as it shows, never held whole.
        data = bytearray()
        async for chunk in request.content.iter_any():
            data += chunk
            if len(data) > expected:
                raise HeliographError(
                    ErrorCode.FILE_PART_INVALID,
                    f"part {part} must have {expected} bytes",
                    expected=expected,
                )
        if len(data) != expected:
            raise HeliographError(
                ErrorCode.FILE_PART_INVALID,
                f"part {part} must have {expected} bytes, not {len(data)}",
                expected=expected,
            )
        await files.put_part(gw.app, upload, part, bytes(data))
    except HeliographError as e:
        return error_response(e)
    return web.Response(
        body=encode({"ok": True, "result": {"part": part, "size": expected}}),
        content_type="application/json",
    )


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) of a single `Range: bytes=…`, None for the whole file."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None  # several ranges or another unit: the whole file is a valid answer
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0:
            raise HeliographError(ErrorCode.RANGE_NOT_SATISFIABLE, "empty range", size=size)
        return max(0, size - length), size
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise HeliographError(ErrorCode.RANGE_NOT_SATISFIABLE, "range outside the file", size=size)
    return start, end


async def get_file(request: web.Request) -> web.StreamResponse:
    try:
        _, caller = await _caller(request)
    except HeliographError as e:
        return error_response(e)
    return await serve_file(request, caller, request.match_info["file_id"])


async def serve_file(request: web.Request, caller: Caller, file_id: str) -> web.StreamResponse:
    """Stream a file the caller may see, honouring Range, If-Range and If-None-Match."""
    gw: Gateway = request.app[GATEWAY]
    try:
        row = await files.readable_file(gw.app, caller, file_id)
        etag = f'"{row["sha256"]}"'
        size: int = row["size"]
        headers = {
            "ETag": etag,
            "Cache-Control": _CACHE,
            "Accept-Ranges": "bytes",
            "X-Content-Type-Options": "nosniff",
            # a file is data, never a page of this origin: no scripts, no plugins
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Content-Disposition": _disposition(row["mime_type"], row["name"]),
        }
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        if_range = request.headers.get("If-Range")
        wanted = None if if_range and if_range != etag else request.headers.get("Range")
        try:
            span = _byte_range(wanted, size)
        except HeliographError:
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    except HeliographError as e:
        return error_response(e)
    start, end = span or (0, size)
    response = web.StreamResponse(status=206 if span else 200, headers=headers)
    response.content_type = row["mime_type"]
    response.content_length = end - start
    if span:
        response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    await response.prepare(request)
    if request.method != "HEAD":
        store = files.storage(gw.app)
        async with contextlib.aclosing(store.blobs.read(row["sha256"], start, end)) as chunks:
            async for chunk in chunks:
                await response.write(chunk)
    await response.write_eof()
    return response


def _disposition(mime_type: str, name: str) -> str:
    kind = "inline" if mime_type in _INLINE else "attachment"
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def routes() -> list[web.RouteDef]:
    return [
        web.put("/api/upload/{upload_id}/{part}", put_part),
        web.get("/api/files/{file_id}", get_file),
    ]
