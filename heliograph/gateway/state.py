"""What the handlers of one process share, and the key they find it under."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from heliograph.gateway.dispatch import Dispatcher
from heliograph.gateway.hub import CLOSE_GOING_AWAY, Hub
from heliograph.gateway.metrics import Metrics
from heliograph.gateway.ratelimit import DEFAULT_RATES, Rate, RateLimiter
from heliograph.services import bot_queries
from heliograph.services.context import App


class Gateway:
    """Everything the handlers share in one process."""

    def __init__(self, app: App, rates: dict[str, Rate] | None = None) -> None:
        self.app = app
        self.metrics = Metrics()
        self.hub = Hub(on_delivered=self.metrics.updates_delivered.inc)
        self.dispatcher = Dispatcher(app, RateLimiter(rates or DEFAULT_RATES), self.metrics)
        self.bot_state = bot_queries.waiters(app)
        self.ready = False
        self.closing = False
        # Every WebSocket from its upgrade on, authenticated or not yet: what shutting down
        # closes (the hub knows only those past authentication).
        self.sockets: set[web.WebSocketResponse] = set()

    async def close_sockets(self, within: float) -> None:
        """Close every WebSocket with "going away" (clients reconnect later and catch up),
        all together, waiting at most `within` seconds for their clients to answer; those that do
        not are cut. From now on a new upgrade is closed at once (see ws.py). Run it once
        no new connections are accepted (an `on_shutdown` hook)."""
        self.closing = True
        for conn in self.hub.connections():
            conn.closed = True  # nothing more is pushed behind the close frame
        sockets = list(self.sockets)
        if not sockets:
            return
        # Cancelling a close still waiting for its answer closes the transport.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await asyncio.gather(
                    *(_close(ws) for ws in sockets),
                    return_exceptions=True,
                )


async def _close(ws: web.WebSocketResponse) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.close(code=CLOSE_GOING_AWAY, message=b"server shutting down")


GATEWAY = web.AppKey("gateway", Gateway)
