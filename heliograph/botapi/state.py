"""What the Bot API keeps in one process: long polls waiting for a bot's next update, and
users' requests waiting for a bot's answer to their callback or inline query. Both wake up
from the bus, so the update or answer may come from any node."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson

from heliograph.bus import Bus
from heliograph.services.context import ANSWER, UPDATE, envelope, parse_envelope


class BotApiState:
    def __init__(self) -> None:
        self._polls: dict[int, set[asyncio.Event]] = {}
        self._answers: dict[str, asyncio.Future[dict[str, Any]]] = {}
        # bots whose webhook this node is delivering, woken like long polls
        self.webhook_wakers: dict[int, asyncio.Event] = {}
        self.closing = False

    def close(self) -> None:
        """The server is stopping: long polls answer now instead of holding up shutdown."""
        self.closing = True
        for waiters in self._polls.values():
            for event in waiters:
                event.set()

    def on_bus(self, payload: bytes) -> None:
        kind = payload[:1]
        if kind == UPDATE:
            if not self._polls and not self.webhook_wakers:
                return
            _, header, _ = parse_envelope(payload)
            for user_id, _pts in header["to"]:
                for event in self._polls.get(user_id, ()):
                    event.set()
                waker = self.webhook_wakers.get(user_id)
                if waker is not None:
                    waker.set()
        elif kind == ANSWER:
            _, header, body = parse_envelope(payload)
            future = self._answers.get(header["query"])
            if future is not None and not future.done():
                future.set_result(orjson.loads(body))

    @contextlib.asynccontextmanager
    async def listening(self, bot_id: int) -> AsyncIterator[asyncio.Event]:
        """An event set when the bot's box may have grown. Listen before reading the box,
        so an update committed between the read and the wait still wakes the poll."""
        event = asyncio.Event()
        self._polls.setdefault(bot_id, set()).add(event)
        try:
            yield event
        finally:
            waiters = self._polls.get(bot_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._polls[bot_id]

    @contextlib.asynccontextmanager
    async def expecting(self, query_id: str) -> AsyncIterator[asyncio.Future[dict[str, Any]]]:
        """Register before the bot can answer, so no answer slips by."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._answers[query_id] = future
        try:
            yield future
        finally:
            self._answers.pop(query_id, None)


def publish_answer(bus: Bus, query_id: str, answer: dict[str, Any]) -> None:
    bus.publish(envelope(ANSWER, {"query": query_id}, orjson.dumps(answer)))
