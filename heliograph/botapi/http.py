"""The Bot API over HTTP, as Telegram serves it: `/bot<token>/<method>` with parameters in
the query string, a JSON body, a form, or a multipart body carrying files; and
`/file/bot<token>/<file_path>` for downloads."""

from __future__ import annotations

import contextlib
import logging
import secrets
from typing import Any

import orjson
from aiohttp import BodyPartReader, web
from pydantic import ValidationError

from heliograph.botapi import docs
from heliograph.botapi.errors import NOT_FOUND, UNAUTHORIZED, BotApiError, bad_request
from heliograph.botapi.errors import from_heliograph as translate_error
from heliograph.botapi.methods import BOT_METHODS, BotContext, InputFile, load_all
from heliograph.botapi.state import BotApiState
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.gateway.files import serve_file
from heliograph.gateway.state import GATEWAY, Gateway
from heliograph.services import bots, files

log = logging.getLogger("heliograph.botapi")
BOT_STATE = web.AppKey("bot_state", BotApiState)
# Telegram's limit for files bots upload
UPLOAD_BYTES = 50 * 1024 * 1024
_FIELD_BYTES = 1024 * 1024
_CHUNK = 256 * 1024


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _failure(error: BotApiError) -> web.Response:
    headers = {}
    if "retry_after" in error.parameters:
        headers["Retry-After"] = str(error.parameters["retry_after"])
    return web.Response(
        body=orjson.dumps(error.to_dict()),
        status=error.code,
        content_type="application/json",
        headers=headers,
    )


async def _read_params(
    request: web.Request, ctx_files: dict[str, InputFile], spool_dir: Any
) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    kind = request.content_type
    if kind == "application/json":
        body = await request.read()
        if body:
            decoded = orjson.loads(body)
            if not isinstance(decoded, dict):
                raise bad_request("the body must be a JSON object")
            params.update(decoded)
    elif kind == "application/x-www-form-urlencoded":
        params.update((k, v) for k, v in (await request.post()).items() if isinstance(v, str))
    elif kind == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is None:
                params[part.name] = (await part.read(decode=True)).decode()[:_FIELD_BYTES]
            else:
                ctx_files[part.name] = await _spool(part, spool_dir)
    return params


async def _spool(part: BodyPartReader, spool_dir: Any) -> InputFile:
    """Write an uploaded file to a private temporary file, refusing it past the limit."""
    import asyncio

    path = spool_dir / f"bot-{secrets.token_hex(12)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    handle = await asyncio.to_thread(path.open, "xb")
    try:
        while chunk := await part.read_chunk(_CHUNK):
            size += len(chunk)
            if size > UPLOAD_BYTES:
                raise BotApiError(413, "Request Entity Too Large")
            await asyncio.to_thread(handle.write, chunk)
    except BaseException:
        handle.close()
        path.unlink(missing_ok=True)
        raise
    handle.close()
    content_type = part.headers.get("Content-Type", "application/octet-stream")
    return InputFile(path, part.filename or "file", content_type, size)


async def call(request: web.Request) -> web.Response:
    gw: Gateway = request.app[GATEWAY]
    state = request.app[BOT_STATE]
    uploaded: dict[str, InputFile] = {}
    try:
        try:
            caller = await bots.authenticate(gw.app, request.match_info["token"])
        except HeliographError:
            raise UNAUTHORIZED from None
        method = BOT_METHODS.get(request.match_info["method"].lower())
        if method is None:
            raise NOT_FOUND
        gw.dispatcher.limiter.check("bot", caller.user_id)
        try:
            raw = await _read_params(request, uploaded, files.storage(gw.app).upload_dir)
        except (ValueError, orjson.JSONDecodeError):
            raise bad_request("can't parse the request body") from None
        try:
            params = method.params.model_validate(raw)
        except ValidationError as e:
            first = e.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "parameters"
            raise bad_request(f"{where}: {first['msg']}") from None
        ctx = BotContext(gw.app, caller, uploaded, state)
        result = await method.handler(ctx, params)
    except BotApiError as e:
        return _failure(e)
    except HeliographError as e:
        return _failure(translate_error(e))
    except Exception:
        log.exception("bot method %s failed", request.match_info["method"])
        return _failure(BotApiError(500, "Internal Server Error"))
    finally:
        for spooled in uploaded.values():
            with contextlib.suppress(OSError):
                spooled.path.unlink(missing_ok=True)
    return _answer({"ok": True, "result": result})


async def download(request: web.Request) -> web.StreamResponse:
    """`/file/bot<token>/<file_path>`: the bytes of a file from `getFile`."""
    gw: Gateway = request.app[GATEWAY]
    try:
        caller = await bots.authenticate(gw.app, request.match_info["token"])
    except HeliographError:
        return _failure(UNAUTHORIZED)
    file_id = request.match_info["file_path"].rsplit("/", 1)[-1]
    try:
        await files.readable_file(gw.app, caller, file_id)
    except HeliographError as e:
        if e.code is ErrorCode.FILE_NOT_FOUND:
            return _failure(NOT_FOUND)
        return _failure(translate_error(e))
    return await serve_file(request, caller, file_id)


def routes() -> list[web.RouteDef]:
    load_all()
    return [
        web.route("*", "/bot{token}/{method}", call),
        web.get("/file/bot{token}/{file_path:.+}", download),
        web.get("/api/bot-docs", docs.docs_page),
    ]
