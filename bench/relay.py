"""The floor under the pairs scenario: a bare relay on Heliograph's own socket layer (aiohttp's
WebSocket, uvloop, orjson, the hub's frame writes) that does nothing but carry each
`sendMessage` from its sender to the other member of its chat. No storage, no checks, no
numbering that survives a restart: what a message costs before a messenger does any work.
With `--writes each|batch` it also stores each message as the server would, in SQLite or
PostgreSQL (bench/relay_store.py): what durable storage adds at the least.

The harness runs the pairs load against it (`--scenario relay`) exactly as against the
server, so the two figures side by side say how much of one core the messenger's own work
takes, on whatever machine they are run.

Tokens are `u<user_id>`; chat `c` has members `2c` and `2c + 1`.

Run alone: .venv/bin/python -m bench.relay --port 8089 [--writes batch --database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import time
from pathlib import Path
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from bench.relay_store import PostgresWriter, Send, SqliteWriter, prepare
from heliograph.gateway.hub import text_frame_header

Writer = Any  # asyncio.WriteTransport


def pair_token(user_id: int) -> str:
    return f"u{user_id}"


class Relay:
    def __init__(self) -> None:
        self.sockets: dict[int, list[Writer]] = {}
        self.message_ids = itertools.count(1)
        self.store: SqliteWriter | PostgresWriter | None = None

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
        peer = 2 * chat_id + (1 - user_id % 2)
        send = Send(
            call["id"], writer, user_id, peer, chat_id, params["text"], params.get("random_id")
        )
        if self.store is not None:
            self.store.add(send)  # delivered once committed
            return
        send.message_id = next(self.message_ids)
        send.date = int(time.time())
        self.deliver(send)

    def deliver(self, s: Send) -> None:
        message = {
            "id": s.message_id,
            "chat_id": s.chat_id,
            "sender_id": s.sender,
            "date": s.date,
            "text": s.text,
        }
        _write(s.writer, orjson.dumps({"id": s.call_id, "result": {"message": message}}))
        update = orjson.dumps(
            {
                "type": "update",
                "update": {"type": "new_message", "chat_id": s.chat_id, "message": message},
            }
        )
        for other in self.sockets.get(s.peer, ()):
            _write(other, update)


def _write(writer: Writer, frame: bytes) -> None:
    if writer is not None and not writer.is_closing():
        writer.write(text_frame_header(len(frame)) + frame)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--writes",
        choices=["none", "each", "batch"],
        default="none",
        help="store each message: one statement at a time, or a batch's together",
    )
    parser.add_argument("--database-url", help="sqlite:///path or postgresql://... (a new one)")
    parser.add_argument("--pairs", type=int, default=1000, help="private chats to create")
    args = parser.parse_args(argv)
    relay = Relay()
    if args.writes != "none":
        url = args.database_url
        asyncio.run(prepare(url, args.pairs))
        batch = args.writes == "batch"
        relay.store = (
            SqliteWriter(Path(url.removeprefix("sqlite:///")), batch, relay.deliver)
            if url.startswith("sqlite:///")
            else PostgresWriter(url, batch, relay.deliver)
        )
    app = web.Application()
    app.router.add_get("/healthz", relay.healthz)
    app.router.add_get("/api/ws", relay.websocket)
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
