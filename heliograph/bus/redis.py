"""Redis pub/sub backend.

Note: Redis pub/sub channels are global to the server (the ``/db`` part of the
URL does not isolate them), so clusters sharing a server need distinct channels.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from heliograph.bus.base import DEFAULT_CHANNEL, cancel_and_wait, log
from heliograph.bus.batching import BatchingBus

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

_RECONNECT_INITIAL = 0.1
_RECONNECT_MAX = 10.0


class RedisBus(BatchingBus):
    def __init__(
        self,
        url: str,
        channel: str = DEFAULT_CHANNEL,
        *,
        ping_interval: float = 10.0,
        **options: Any,
    ) -> None:
        super().__init__(channel, **options)
        self._url = url
        self._ping_interval = ping_interval
        self._client: Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None

    async def _connect(self) -> None:
        # Imported here so the core package works without the redis extra.
        import redis.asyncio

        self._client = redis.asyncio.Redis.from_url(
            self._url,
            socket_connect_timeout=5,
            socket_timeout=10,
            socket_keepalive=True,
            client_name="heliograph-bus",
        )
        self._pubsub = await self._subscribe(self._client)
        self._reader = asyncio.create_task(self._read_loop(), name=f"bus-read:{self.channel}")

    async def _disconnect(self) -> None:
        await cancel_and_wait(self._reader)
        await self._drop_pubsub()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _send_batch(self, batch: deque[bytes]) -> None:
        assert self._client is not None
        # One pipeline = one write and one read for the whole batch.
        async with self._client.pipeline(transaction=False) as pipe:
            for payload in batch:
                pipe.publish(self.channel, payload)
            await pipe.execute()

    async def _subscribe(self, client: Redis) -> PubSub:
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            # Wait for the server's confirmation so that, once start() returns,
            # this node is guaranteed to see every later publish.
            async with asyncio.timeout(10):
                while True:
                    msg = await pubsub.get_message(timeout=10)
                    if msg is not None and msg["type"] == "subscribe":
                        return pubsub
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
            raise

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py
            except Exception as exc:  # the connection is usually already broken
                log.debug("error closing Redis pubsub: %s", exc)

    async def _read_loop(self) -> None:
        assert self._client is not None
        delay = _RECONNECT_INITIAL
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = await self._subscribe(self._client)
                    log.warning("bus %r resubscribed to Redis", self.channel)
                    delay = _RECONNECT_INITIAL
                await self._pump(self._pubsub)
            except Exception as exc:
                log.warning(
                    "bus %r lost its Redis subscription (%s: %s); reconnecting in %.1fs",
                    self.channel,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await self._drop_pubsub()
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RECONNECT_MAX)

    async def _pump(self, pubsub: PubSub) -> None:
        awaiting_pong = False
        while True:
            msg = await pubsub.get_message(timeout=self._ping_interval)
            if msg is None:
                # A half-open TCP connection looks exactly like a quiet channel,
                # so probe it: silence after a PING means the connection is dead.
                if awaiting_pong:
                    raise ConnectionError("Redis did not answer PING")
                await pubsub.ping()
                awaiting_pong = True
                continue
            awaiting_pong = False
            if msg["type"] == "message":
                self._dispatch(msg["data"])
