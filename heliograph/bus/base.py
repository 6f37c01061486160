"""The event bus interface shared by all backends.

After a transaction commits, a service publishes one opaque event; every server
node (including the publisher) receives every event, in each publisher's order,
and forwards it to its local WebSocket sessions.  Delivery is best effort: a
node that is disconnected from the broker misses events, which clients recover
through their sequence-based sync, so the bus never needs to persist anything.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("heliograph.bus")

DEFAULT_CHANNEL = "heliograph.updates"

Handler = Callable[[bytes], None]


class Bus(abc.ABC):
    """Broadcast of opaque payloads to every node subscribed to ``channel``.

    All methods must be called from the event loop thread that ran ``start()``.
    A bus is single use: ``start()`` once, ``close()`` once (extra calls are no-ops).
    """

    def __init__(self, channel: str = DEFAULT_CHANNEL) -> None:
        if not channel:
            raise ValueError("bus channel name must not be empty")
        self.channel = channel
        self._handlers: list[Handler] = []

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect and subscribe; once it returns, this node receives every later publish."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Hand over what is still queued (bounded wait), then disconnect."""

    @abc.abstractmethod
    def publish(self, payload: bytes) -> None:
        """Queue ``payload`` for broadcast and return immediately."""

    @abc.abstractmethod
    async def flush(self) -> None:
        """Wait until everything published so far has been handed to the transport."""

    def subscribe(self, handler: Handler) -> None:
        """Call ``handler(payload)`` on the event loop for every received payload, in order."""
        self._handlers.append(handler)

    def _dispatch(self, payload: bytes) -> None:
        # Snapshot so a handler may subscribe more handlers without skipping any.
        for handler in tuple(self._handlers):
            try:
                handler(payload)
            except Exception:
                # One broken consumer must not starve the others (or kill a reader task).
                log.exception("bus handler %r failed on channel %r", handler, self.channel)


def check_payload(payload: bytes) -> None:
    """Reject non-bytes early: a bad payload inside a batch would be retried forever."""
    if not isinstance(payload, bytes):
        raise TypeError(f"bus payload must be bytes, not {type(payload).__name__}")


async def cancel_and_wait(task: asyncio.Task[None] | None) -> None:
    """Cancel a background task and wait until it has really finished."""
    if task is None or task.done():
        return
    task.cancel()
    # asyncio.wait (unlike awaiting the task) never swallows a cancellation of
    # the caller itself.
    await asyncio.wait([task])
    if not task.cancelled() and task.exception() is not None:
        log.error("bus task %s had crashed", task.get_name(), exc_info=task.exception())
