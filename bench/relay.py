"""The floor under the pairs scenario: a bare relay on Heliograph's own socket layer (aiohttp's
WebSocket, uvloop, orjson, the hub's frame writes) that does nothing but carry each
`sendMessage` from its sender to the other member of its chat. No storage, no checks, no
numbering that survives a restart: what a message costs before a messenger does any work.

The harness runs the pairs load against it (`--scenario relay`) exactly as against the
server, so the two figures side by side say how much of one core the messenger's own work
takes, on whatever machine they are run.

Tokens are `u<user_id>`; chat `c` has members `2c` and `2c + 1`.

Run alone: .venv/bin/python -m bench.relay --port 8089
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from heliograph.gateway.hub import text_frame_header

Writer = Any  # asyncio.WriteTransport


def pair_token(user_id: int) -> str:
    return f"u{user_id}"


class Relay:
    def __init__(self) -> None:
        self.sockets: dict[int, list[Writer]] = {}
        self.message_ids = itertools.count(1)

    async def healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, autoping=False)
        await ws.prepare(request)
        auth = orjson.loads((await ws.receive()).data)
        user_id = int(str(auth["token"]).removeprefix("u"))
        writer = request.transport
        self.sockets.setdefault(user_id, []).append(writer)
        await ws.send_bytes(orjson.dumps({"type": "ready", "user_id": user_id}))
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    self._call(user_id, writer, msg.data)
        finally:
            self.sockets[user_id].remove(writer)
        return ws

    def _call(self, user_id: int, writer: Writer, data: str | bytes) -> None:
        call = orjson.loads(data)
        params = call["params"]
        chat_id = int(params["chat_id"])
        message = {
            "id": next(self.message_ids),
            "chat_id": chat_id,
            "sender_id": user_id,
            "date": int(time.time()),
            "text": params["text"],
        }
        _write(writer, orjson.dumps({"id": call["id"], "result": {"message": message}}))
        update = orjson.dumps(
            {
                "type": "update",
                "update": {"type": "new_message", "chat_id": chat_id, "message": message},
            }
        )
        peer = 2 * chat_id + (1 - user_id % 2)
        for other in self.sockets.get(peer, ()):
            _write(other, update)


def _write(writer: Writer, frame: bytes) -> None:
    if writer is not None and not writer.is_closing():
        writer.write(text_frame_header(len(frame)) + frame)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    relay = Relay()
    app = web.Application()
    app.router.add_get("/healthz", relay.healthz)
    app.router.add_get("/api/ws", relay.websocket)
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
