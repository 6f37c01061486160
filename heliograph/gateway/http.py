"""The aiohttp application: the API over HTTP, the WebSocket, health, metrics and docs."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from heliograph.botapi import http as botapi_http
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.gateway import docs, files
from heliograph.gateway.dispatch import encode, parse_json
from heliograph.gateway.responses import error_response
from heliograph.gateway.state import GATEWAY, Gateway
from heliograph.gateway.ws import websocket
from heliograph.webapp import serve as webapp

log = logging.getLogger("heliograph.http")
JSON = "application/json"


async def api_call(request: web.Request) -> web.Response:
    gw: Gateway = request.app[GATEWAY]
    try:
        if request.content_length is not None and request.content_length > gw.app.limits.body_bytes:
            raise HeliographError(ErrorCode.BODY_TOO_LARGE, "the request body is too large")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise HeliographError(
                ErrorCode.BODY_TOO_LARGE, "the request body is too large"
            ) from None
        result = await gw.dispatcher.call(
            request.match_info["method"],
            parse_json(body),
            caller=None,
            authorization=request.headers.get("Authorization"),
            ip=request.remote or "",
        )
    except HeliographError as e:
        return error_response(e)
    return web.Response(body=encode({"ok": True, "result": result}), content_type=JSON)


async def healthz(request: web.Request) -> web.Response:
    gw: Gateway = request.app[GATEWAY]
    if not gw.ready or gw.closing:
        return web.json_response({"status": "starting" if not gw.ready else "stopping"}, status=503)
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    gw: Gateway = request.app[GATEWAY]
    return web.Response(body=gw.metrics.render(), content_type="text/plain")


def build_web_app(gateway: Gateway) -> web.Application:
    web_app = web.Application(client_max_size=gateway.app.limits.body_bytes)
    web_app[GATEWAY] = gateway
    routes: list[Any] = [
        web.get("/healthz", healthz),
        web.get("/metrics", metrics),
        web.get("/api/ws", websocket),
        web.post("/api/{method}", api_call),
    ]
    routes += files.routes()
    routes += botapi_http.routes()
    web_app[botapi_http.BOT_STATE] = gateway.bot_state
    routes += docs.routes()
    routes += webapp.routes()  # last: the web client's catch-all yields to every route above
    web_app.add_routes(routes)
    return web_app
