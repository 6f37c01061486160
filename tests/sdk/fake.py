"""A scripted stand-in for the server, speaking the documented wire protocol, for cases a real
server cannot be made to produce on demand: lost and reordered pushes, frames batched as
arrays, connections cut mid-call, close codes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

TOKEN = "good-token"


def message_update(pts: int, *, box: int | None = None, text: str | None = None) -> dict[str, Any]:
    chat_id = box or 1
    update: dict[str, Any] = {
        "pts": pts,
        "pts_count": 1,
        "type": "new_message",
        "chat_id": chat_id,
        "message": {
            "id": pts,
            "chat_id": chat_id,
            "sender_id": 2,
            "date": 1_700_000_000,
            "text": text or f"m{pts}",
            "entities": [],
            "future_field": {"x": 1},
        },
        "another_future_field": True,
    }
    if box is not None:
        update["box"] = box
    return update


class FakeServer:
    def __init__(self) -> None:
        self.box: dict[int, dict[str, Any]] = {}  # the common box, by pts
        self.chat_boxes: dict[int, dict[int, dict[str, Any]]] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self.connections = 0
        self.ws_calls: list[tuple[str, dict[str, Any]]] = []
        self.http_calls: list[tuple[str, dict[str, Any]]] = []
        self.revoked = False
        self.too_long_once = False
        self.cut_ws_on: dict[str, int] = {}  # method: how many times to drop the socket on it
        self.cut_http_on: dict[str, int] = {}
        # Frames sent in one array frame together with "ready", or with the answer to a
        # method: the client handles them in one go, as when they arrive in one TCP read.
        self.with_ready: list[dict[str, Any]] = []
        self.with_answer: dict[str, list[dict[str, Any]]] = {}
        self.ready_gate: asyncio.Event | None = None  # when set, "ready" waits for it
        self.url = ""

    @property
    def head(self) -> int:
        return max(self.box, default=0)

    def add(self, count: int = 1) -> list[dict[str, Any]]:
        """Append updates to the common box without pushing them."""
        added = []
        for _ in range(count):
            update = message_update(self.head + 1)
            self.box[update["pts"]] = update
            added.append(update)
        return added

    def add_to_chat(self, chat_id: int, pts: int) -> dict[str, Any]:
        update = message_update(pts, box=chat_id)
        self.chat_boxes.setdefault(chat_id, {})[pts] = update
        return update

    async def push(self, *updates: dict[str, Any], array: bool = False) -> None:
        frames = [{"type": "update", "update": u} for u in updates]
        for ws in list(self.sockets):
            if array:
                await ws.send_str(json.dumps(frames))
            else:
                for frame in frames:
                    await ws.send_str(json.dumps(frame))

    async def push_event(self, event: dict[str, Any]) -> None:
        for ws in list(self.sockets):
            await ws.send_str(json.dumps({"type": "event", "event": event}))

    async def close_sockets(self, code: int, reason: bytes = b"") -> None:
        for ws in list(self.sockets):
            await ws.close(code=code, message=reason)

    def methods(self, source: list[tuple[str, dict[str, Any]]]) -> list[str]:
        return [m for m, _ in source]

    # --- answers ------------------------------------------------------------------------------

    @staticmethod
    def _difference(box: dict[int, dict[str, Any]], pts: int, limit: int) -> dict[str, Any]:
        head = max(box, default=0)
        if pts > head:
            return {"error": {"code": "PTS_INVALID", "message": f"pts must be at most {head}"}}
        updates = [box[p] for p in sorted(box) if p > pts][:limit]
        last = updates[-1]["pts"] if updates else pts
        state = {"pts": last, "date": 0}
        return {
            "result": {"updates": updates, "state": state, "more": last < head, "too_long": False}
        }

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "getDifference":
            if self.too_long_once:
                self.too_long_once = False
                state = {"pts": self.head, "date": 0}
                return {"result": {"updates": [], "state": state, "more": False, "too_long": True}}
            return self._difference(self.box, params["pts"], params.get("limit", 100))
        if method == "getChannelDifference":
            box = self.chat_boxes.get(params["chat_id"], {})
            return self._difference(box, params["pts"], params.get("limit", 100))
        if method == "getState":
            return {"result": {"pts": self.head, "date": 0}}
        if method == "getChats":
            return {
                "result": [
                    {
                        "id": 1,
                        "kind": "private",
                        "title": "Bob",
                        "unread_count": 0,
                        "new_field": [1, 2],
                    }
                ]
            }
        if method == "sendMessage":
            message = {
                "id": 99,
                "chat_id": params["chat_id"],
                "sender_id": 1,
                "date": 0,
                "text": params["text"],
            }
            return {"result": {"message": message, "pts": self.head, "pts_count": 1}}
        return {"error": {"code": "METHOD_NOT_FOUND", "message": method}}

    # --- handlers -----------------------------------------------------------------------------

    async def ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        auth = await ws.receive_json()
        if auth.get("token") != TOKEN or self.revoked:
            error = {"code": "SESSION_REVOKED", "message": "this session has ended"}
            await ws.send_str(json.dumps({"type": "error", "error": error}))
            await ws.close(code=4003, message=b"SESSION_REVOKED")
            return ws
        self.connections += 1
        self.sockets.append(ws)
        ready = {
            "type": "ready",
            "user_id": 1,
            "session_id": 1,
            "state": {"pts": self.head, "date": 0},
        }
        try:
            if self.ready_gate is not None:
                await self.ready_gate.wait()
            await ws.send_str(json.dumps([ready, *self.with_ready] if self.with_ready else ready))
            async for msg in ws:
                frame = json.loads(msg.data)
                method, params = frame["method"], frame.get("params") or {}
                self.ws_calls.append((method, params))
                if self.cut_ws_on.get(method, 0) > 0:
                    self.cut_ws_on[method] -= 1
                    await ws.close(code=1011, message=b"boom")
                    break
                reply = {"id": frame["id"], **self.answer(method, params)}
                extra = self.with_answer.get(method, [])
                await ws.send_str(json.dumps([reply, *extra] if extra else reply))
        finally:
            self.sockets.remove(ws)
        return ws

    async def http_handler(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await request.json()
        self.http_calls.append((method, params))
        if self.cut_http_on.get(method, 0) > 0:
            self.cut_http_on[method] -= 1
            assert request.transport is not None
            request.transport.close()  # the request arrived; the answer never leaves
            await asyncio.sleep(0.05)
            return web.Response()
        answer = self.answer(method, params)
        if "error" in answer:
            return web.json_response({"ok": False, **answer}, status=400)
        return web.json_response({"ok": True, **answer})


async def running(fake: FakeServer) -> AsyncIterator[FakeServer]:
    app = web.Application()
    app.add_routes(
        [web.get("/api/ws", fake.ws_handler), web.post("/api/{method}", fake.http_handler)]
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    try:
        yield fake
    finally:
        await server.close()
