"""What the handlers of one process share, and the key they find it under."""

from __future__ import annotations

from aiohttp import web

from heliograph.botapi.state import BotApiState
from heliograph.gateway.dispatch import Dispatcher
from heliograph.gateway.hub import Hub
from heliograph.gateway.metrics import Metrics
from heliograph.gateway.ratelimit import DEFAULT_RATES, Rate, RateLimiter
from heliograph.services.context import App


class Gateway:
    """Everything the handlers share in one process."""

    def __init__(self, app: App, rates: dict[str, Rate] | None = None) -> None:
        self.app = app
        self.metrics = Metrics()
        self.hub = Hub(on_delivered=self.metrics.updates_delivered.inc)
        self.dispatcher = Dispatcher(app, RateLimiter(rates or DEFAULT_RATES), self.metrics)
        self.bot_state = BotApiState()
        self.ready = False
        self.closing = False


GATEWAY = web.AppKey("gateway", Gateway)
