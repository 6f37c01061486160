"""In-process bus for single-node deployments and tests."""

from __future__ import annotations

import asyncio

from heliograph.bus.base import DEFAULT_CHANNEL, Bus, check_payload

# Started LocalBus instances by channel: instances sharing a channel behave like
# separate nodes on one broker, so multi-node tests run in a single process.
_nodes: dict[str, list[LocalBus]] = {}


class LocalBus(Bus):
    def __init__(self, channel: str = DEFAULT_CHANNEL) -> None:
        super().__init__(channel)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._pending: list[bytes] = []
        # Set while a delivery callback is scheduled; resolved once it has run.
        self._delivered: asyncio.Future[None] | None = None

    async def start(self) -> None:
        if self._loop is not None or self._closed:
            raise RuntimeError("LocalBus.start() called twice")
        self._loop = asyncio.get_running_loop()
        _nodes.setdefault(self.channel, []).append(self)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._loop is None:
            return
        await self.flush()
        nodes = _nodes.get(self.channel, [])
        if self in nodes:
            nodes.remove(self)
        if not nodes:
            _nodes.pop(self.channel, None)

    def publish(self, payload: bytes) -> None:
        check_payload(payload)
        if self._loop is None or self._closed:
            raise RuntimeError("publish() on a bus that is not running")
        self._pending.append(payload)
        # One callback per burst: everything published before it runs goes together.
        if self._delivered is None:
            self._delivered = self._loop.create_future()
            self._loop.call_soon(self._deliver)

    async def flush(self) -> None:
        if self._delivered is not None:
            await asyncio.shield(self._delivered)

    def _deliver(self) -> None:
        batch, self._pending = self._pending, []
        delivered, self._delivered = self._delivered, None
        # Only nodes on this loop: a stale bus left over from another loop must
        # never have its handlers run here.
        nodes = [n for n in _nodes.get(self.channel, ()) if n._loop is self._loop]
        for node in nodes:
            for payload in batch:
                node._dispatch(payload)
        if delivered is not None:
            delivered.set_result(None)
