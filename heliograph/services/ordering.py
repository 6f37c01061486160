"""The order of the calls a client pipelines on one socket (gateway/pipeline.py).

A socket's calls take effect in the order they were sent. The gateway starts a call once the
call before it has finished, with one exception that lets a client keep several messages in
flight: a plain send that waits in the send batch (services/send_batch.py) is *queued*, and
the batch keeps the order in which sends joined it, so the next call may start then. Any
send that leaves the batch for the regular path first waits for the calls before it
(`after_earlier_calls`), and answers go out in the order the calls came."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar


class CallOrder:
    __slots__ = ("earlier", "finished", "queued")

    def __init__(self, earlier: CallOrder | None) -> None:
        loop = asyncio.get_running_loop()
        self.earlier = earlier
        # set once the call has joined the send batch, or has finished
        self.queued: asyncio.Future[None] = loop.create_future()
        # set once the call has answered (after every earlier call did)
        self.finished: asyncio.Future[None] = loop.create_future()

    def mark_queued(self) -> None:
        if not self.queued.done():
            self.queued.set_result(None)

    def mark_finished(self) -> None:
        self.mark_queued()
        if not self.finished.done():
            self.finished.set_result(None)
        self.earlier = None  # no chain of finished calls kept alive

    async def earlier_finished(self) -> None:
        earlier = self.earlier
        if earlier is not None:
            # shielded: a cancelled call must not cancel the earlier call's future
            await asyncio.shield(earlier.finished)


CURRENT_CALL: ContextVar[CallOrder | None] = ContextVar("heliograph_call", default=None)


def call_queued() -> None:
    """The current call now waits in an ordered queue: the socket's next call may start."""
    order = CURRENT_CALL.get()
    if order is not None:
        order.mark_queued()


async def after_earlier_calls() -> None:
    """Wait until the calls sent before the current one on its socket have finished."""
    order = CURRENT_CALL.get()
    if order is not None:
        await order.earlier_finished()
