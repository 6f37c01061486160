"""Publish-side machinery shared by the networked backends.

``publish()`` only appends to a queue; one flush task drains the queue in
batches, so a burst of thousands of events costs a handful of round trips
instead of one per event.
"""

from __future__ import annotations

import abc
import asyncio
from collections import deque

from heliograph.bus.base import DEFAULT_CHANNEL, Bus, cancel_and_wait, check_payload, log

_RETRY_INITIAL = 0.1
_RETRY_MAX = 5.0


class BatchingBus(Bus):
    def __init__(
        self,
        channel: str = DEFAULT_CHANNEL,
        *,
        max_pending: int = 100_000,
        max_batch: int = 2048,
        max_batch_bytes: int = 4 * 1024 * 1024,
        close_timeout: float = 5.0,
    ) -> None:
        super().__init__(channel)
        self._max_pending = max_pending
        self._max_batch = max_batch
        self._max_batch_bytes = max_batch_bytes
        self._close_timeout = close_timeout
        self._state = "new"  # -> "running" -> "closed"
        self._pending: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        # flush() bookkeeping: payloads accepted vs. payloads sent (or dropped).
        self._published = 0
        self._settled = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._overflowing = False

    # --- transport hooks -------------------------------------------------

    @abc.abstractmethod
    async def _connect(self) -> None:
        """Connect and subscribe; raise if the broker is unreachable."""

    @abc.abstractmethod
    async def _disconnect(self) -> None:
        """Tear down the transport; must not raise."""

    @abc.abstractmethod
    async def _send_batch(self, batch: deque[bytes]) -> None:
        """Hand ``batch`` to the transport.

        Implementations may popleft() payloads as they go: if this raises, what is
        left in ``batch`` is retried; if it returns, the whole batch counts as sent.
        """

    # --- Bus API ---------------------------------------------------------

    async def start(self) -> None:
        if self._state != "new":
            raise RuntimeError(f"{type(self).__name__}.start() called twice")
        self._state = "running"
        try:
            await self._connect()
        except BaseException:
            self._state = "closed"
            await self._disconnect()
            raise
        self._flusher = asyncio.create_task(self._run_flusher(), name=f"bus-flush:{self.channel}")

    async def close(self) -> None:
        if self._state == "closed":
            return
        was_running, self._state = self._state == "running", "closed"
        if was_running:
            try:
                await asyncio.wait_for(self._wait_settled(self._published), self._close_timeout)
            except TimeoutError:
                log.warning(
                    "bus %r closing with %d unsent payloads", self.channel, len(self._pending)
                )
        await cancel_and_wait(self._flusher)
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(RuntimeError("bus closed before flush completed"))
        self._waiters.clear()
        await self._disconnect()

    def publish(self, payload: bytes) -> None:
        check_payload(payload)
        if self._state != "running":
            raise RuntimeError("publish() on a bus that is not running")
        if len(self._pending) >= self._max_pending:
            # Broker unreachable for a long time: bound memory by dropping the
            # oldest event; clients recover the gap through sync anyway.
            self._pending.popleft()
            self._settle(1)
            if not self._overflowing:
                self._overflowing = True
                log.warning("bus %r queue full; dropping oldest events", self.channel)
        self._pending.append(payload)
        self._published += 1
        self._wakeup.set()

    async def flush(self) -> None:
        if self._state != "running":
            raise RuntimeError("flush() on a bus that is not running")
        await self._wait_settled(self._published)

    # --- internals -------------------------------------------------------

    async def _wait_settled(self, target: int) -> None:
        if self._settled >= target:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        await waiter

    def _settle(self, count: int) -> None:
        self._settled += count
        if not self._waiters:
            return
        still_waiting = []
        for target, waiter in self._waiters:
            if self._settled >= target:
                if not waiter.done():
                    waiter.set_result(None)
            else:
                still_waiting.append((target, waiter))
        self._waiters = still_waiting

    def _take_batch(self) -> deque[bytes]:
        batch: deque[bytes] = deque()
        size = 0
        while self._pending and len(batch) < self._max_batch:
            if batch and size + len(self._pending[0]) > self._max_batch_bytes:
                break
            payload = self._pending.popleft()
            size += len(payload)
            batch.append(payload)
        return batch

    async def _run_flusher(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                await self._send_with_retry(self._take_batch())

    async def _send_with_retry(self, batch: deque[bytes]) -> None:
        delay = _RETRY_INITIAL
        while True:
            size = len(batch)
            try:
                await self._send_batch(batch)
            except Exception as exc:
                # Keep order: nothing newer goes out before this batch does.
                self._settle(size - len(batch))
                log.warning(
                    "bus %r publish failed (%s: %s); retrying %d payloads in %.1fs",
                    self.channel,
                    type(exc).__name__,
                    exc,
                    len(batch),
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)
            else:
                self._settle(size)
                self._overflowing = False
                return
