"""NATS core pub/sub backend (no JetStream: the bus needs no persistence)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import deque
from typing import Any

from heliograph.bus.base import DEFAULT_CHANNEL, log
from heliograph.bus.batching import BatchingBus

# A literal subject: dot-separated non-empty tokens, no wildcards or whitespace
# (a wildcard would silently turn the subscription into a pattern).
_SUBJECT = re.compile(r"[^.*>\s]+(\.[^.*>\s]+)*")


class NatsBus(BatchingBus):
    def __init__(
        self,
        url: str,
        channel: str = DEFAULT_CHANNEL,
        *,
        connect_timeout: float = 10.0,
        **options: Any,
    ) -> None:
        if not _SUBJECT.fullmatch(channel):
            raise ValueError(f"invalid NATS subject for bus channel: {channel!r}")
        super().__init__(channel, **options)
        self._url = url
        self._connect_timeout = connect_timeout
        self._nc: Any = None  # nats.aio.client.Client; nats-py ships partial typing

    async def _connect(self) -> None:
        # Imported here so the core package works without the nats extra.
        from nats.aio.client import Client

        self._nc = Client()
        try:
            # With unlimited reconnects nats-py also retries the *first* connect
            # forever, so bound it here: a misconfigured node must fail to start.
            async with asyncio.timeout(self._connect_timeout):
                await self._nc.connect(
                    self._url,
                    name="heliograph-bus",
                    max_reconnect_attempts=-1,  # a running node should never give up
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
        except TimeoutError as exc:
            raise ConnectionError(
                f"could not connect to NATS within {self._connect_timeout:g}s"
            ) from exc
        await self._nc.subscribe(self.channel, cb=self._on_message)
        # Round trip so the server has registered the SUB before start() returns.
        await self._nc.flush()

    async def _disconnect(self) -> None:
        nc, self._nc = self._nc, None
        if nc is not None:
            if nc.is_connected:
                # A PING/PONG round trip: the server has every payload published before it,
                # so what close() handed over is delivered (close alone may cut it short).
                with contextlib.suppress(Exception):
                    await nc.flush(timeout=self._connect_timeout)
            await nc.close()

    def publish(self, payload: bytes) -> None:
        # Fail in the caller rather than poisoning the flush task.
        if self._nc is not None and len(payload) > self._nc.max_payload:
            raise ValueError(
                f"bus payload of {len(payload)} bytes exceeds the NATS server's "
                f"max_payload of {self._nc.max_payload}"
            )
        super().publish(payload)

    async def flush(self) -> None:
        await super().flush()
        # nats-py buffers publishes itself; PING/PONG proves the server has them.
        await self._nc.flush()

    async def _send_batch(self, batch: deque[bytes]) -> None:
        # publish() only appends to nats-py's write buffer, flushed by its own task.
        while batch:
            await self._nc.publish(self.channel, batch[0])
            batch.popleft()

    async def _on_message(self, msg: Any) -> None:
        self._dispatch(msg.data)

    async def _on_error(self, exc: Exception) -> None:
        log.warning("bus %r NATS error: %s: %s", self.channel, type(exc).__name__, exc)

    async def _on_disconnected(self) -> None:
        if self._nc is not None:  # not during our own close()
            log.warning("bus %r disconnected from NATS; reconnecting", self.channel)

    async def _on_reconnected(self) -> None:
        log.warning("bus %r reconnected to NATS", self.channel)
