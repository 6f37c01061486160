"""The WebSocket endpoint: RPC calls and pushed updates on one socket.

Protocol (all text frames of JSON):
  client → {"type": "auth", "token": "..."}            (first frame, unless the upgrade request
                                                        carried Authorization: Bearer)
  server → {"type": "ready", "user_id": .., "session_id": .., "state": {"pts": .., "date": ..}}
  client → {"id": 7, "method": "sendMessage", "params": {...}}
  server → {"id": 7, "result": {...}}  or  {"id": 7, "error": {"code": "...", "message": "..."}}
  server → {"type": "update", "update": {"pts": .., "pts_count": 1, "type": "...", ...}}
  server → {"type": "event", "event": {"type": "typing", ...}}
A server frame may also be a JSON array of such objects, sent when several were ready at once.
Close codes: 4001 session ended, 4003 bad authentication, 4008 too slow (reconnect and call
getDifference), 1001 going away (the server is shutting down: reconnect later, then call
getDifference)."""

from __future__ import annotations

import contextlib
import logging

import orjson
from aiohttp import WSMessage, WSMsgType, web

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.gateway.dispatch import parse_json
from heliograph.gateway.hub import CLOSE_GOING_AWAY, Connection
from heliograph.gateway.pipeline import SocketCalls
from heliograph.gateway.state import GATEWAY, Gateway
from heliograph.services import profiles, sync
from heliograph.services import reading as chat_list
from heliograph.services.context import Caller

log = logging.getLogger("heliograph.ws")
AUTH_TIMEOUT = 15
CLOSE_BAD_AUTH = 4003


async def _authenticate(
    gw: Gateway, request: web.Request, ws: web.WebSocketResponse
) -> Caller | None:
    """The caller, from the Authorization header or else the first frame; None when the
    socket closed first (the client went, or the server is shutting down)."""
    header = request.headers.get("Authorization")
    if header is not None:
        return await gw.dispatcher.authenticate(header, request.remote or "")
    msg = await ws.receive(timeout=AUTH_TIMEOUT)
    if msg.type in _ENDED:
        return None
    if msg.type is not WSMsgType.TEXT:
        raise HeliographError(ErrorCode.AUTH_REQUIRED, "the first frame must be an auth frame")
    frame = parse_json(msg.data.encode())
    if not isinstance(frame, dict) or frame.get("type") != "auth":
        raise HeliographError(ErrorCode.AUTH_REQUIRED, 'send {"type": "auth", "token": ...} first')
    token = frame.get("token")
    if not isinstance(token, str):
        raise HeliographError(ErrorCode.AUTH_REQUIRED, "token must be a string")
    return await gw.dispatcher.authenticate(f"Bearer {token}", request.remote or "")


async def websocket(request: web.Request) -> web.WebSocketResponse:
    gw: Gateway = request.app[GATEWAY]
    # No permessage-deflate: each compressing socket would hold zlib state of hundreds of
    # KiB, and our frames are small JSON. No heartbeat of aiohttp's (two timers per socket,
    # and a callback per received chunk): the hub pings quiet sockets from one shared timer,
    # so pings and pongs reach this handler (`autoping=False`).
    ws = web.WebSocketResponse(
        max_msg_size=gw.app.limits.body_bytes, compress=False, autoping=False
    )
    await ws.prepare(request)
    _drop_http_parser(request)
    if gw.closing:  # shutting down: come back later
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.close(code=CLOSE_GOING_AWAY, message=b"server shutting down")
        return ws
    # Known from now on, so that shutting down closes it even before it authenticates. (All
    # in this one coroutine: a second one would hold a frame of its own per idle socket.)
    gw.sockets.add(ws)
    try:
        try:
            caller = await _authenticate(gw, request, ws)
        except (HeliographError, TimeoutError) as e:
            await _refuse(ws, e)
            return ws
        if caller is None or ws.closed:  # closed while authenticating
            return ws

        transport = request.transport
        conn = Connection(
            ws,
            caller.user_id,
            caller.session_id,
            WSMsgType.TEXT,
            transport if hasattr(transport, "get_write_buffer_size") else None,
            gw.hub.cork,
        )
        del transport
        # Registered before the state is read, so no update falls between the two; frames
        # wait behind "ready".
        conn.hold()
        first_here = gw.hub.add(conn, await chat_list.large_chat_ids(gw.app, caller))
        gw.metrics.connections.inc()
        try:
            await _ready(gw, conn, caller, first_here)
            calls = SocketCalls(gw, request.remote or "", conn, caller)
            # Each frame is handed on as an argument, so this frame holds none while it waits.
            while await _on_frame(ws, conn, calls, await ws.receive()):
                pass
            await calls.finish()
        finally:
            gw.metrics.connections.dec()
            if gw.hub.remove(conn) and not gw.closing:
                with contextlib.suppress(Exception):
                    await profiles.set_presence(gw.app, caller.user_id, online=False)
    finally:
        gw.sockets.discard(ws)
    return ws


async def _refuse(ws: web.WebSocketResponse, e: HeliographError | TimeoutError) -> None:
    """Tell the client why its authentication failed, and close with 4003."""
    error = (
        e
        if isinstance(e, HeliographError)
        else HeliographError(ErrorCode.AUTH_REQUIRED, "no auth frame in time")
    )
    # The client may be gone already (a reset connection): nothing to tell it then.
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_bytes(orjson.dumps({"type": "error", "error": error.to_dict()}))
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.close(code=CLOSE_BAD_AUTH, message=error.code.name.encode())


def _drop_http_parser(request: web.Request) -> None:
    """aiohttp keeps a connection's HTTP request parser until the connection closes, though
    once upgraded it only ever reads WebSocket frames: let the parser go (with what it still
    refers to of the upgrade request, 1.7 KB of an idle socket's 14 KB). This
    reaches into aiohttp's request handler, so it is done only where that looks as expected
    (upgraded, frames going to the WebSocket reader); elsewhere the parser simply stays."""
    protocol = request.protocol
    if (
        getattr(protocol, "_upgraded", False) is True
        and getattr(protocol, "_payload_parser", None) is not None
        and getattr(protocol, "_parser", None) is not None
    ):
        protocol._parser = None


async def _ready(gw: Gateway, conn: Connection, caller: Caller, first_here: bool) -> None:
    """Send "ready" (and release the frames held behind it); the first socket of a user on
    this node also marks the user online."""
    state = await sync.get_state(gw.app, caller)
    ready = {
        "type": "ready",
        "user_id": caller.user_id,
        "session_id": caller.session_id,
        "state": state,
    }
    conn.start(orjson.dumps(ready))
    if first_here:
        await profiles.set_presence(gw.app, caller.user_id, online=True)


_ENDED = frozenset({WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR})


async def _on_frame(
    ws: web.WebSocketResponse, conn: Connection, calls: SocketCalls, msg: WSMessage
) -> bool:
    """Handle one frame from the client; False once the socket has ended."""
    conn.quiet = 0  # any frame, a pong too, shows the client is there
    kind = msg.type
    if kind is WSMsgType.TEXT:
        await calls.submit(msg.data.encode())
    elif kind is WSMsgType.BINARY:
        await calls.submit(msg.data)
    elif kind is WSMsgType.PING:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.pong(msg.data)
    elif kind in _ENDED:
        return False
    return True
