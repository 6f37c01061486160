"""The calls of one socket, pipelined where that keeps their order (services/ordering.py).

A client may send calls without waiting for answers. Most calls still run one after another:
the socket reads its next frame once the call before has answered. A send starts as soon as
the send before it waits in the send batch, so a sender keeping several messages in flight
gets them into one batch instead of one batch each. Answers keep the calls' order."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.gateway.dispatch import parse_json
from heliograph.gateway.hub import CLOSE_REVOKED, Connection
from heliograph.gateway.state import Gateway
from heliograph.services import accounts
from heliograph.services.context import Caller
from heliograph.services.ordering import CURRENT_CALL, CallOrder

# methods that may start before the call before them has answered
PIPELINED = frozenset({"sendMessage"})
# calls of one socket under way at once, at most; past it, the socket reads no more frames
MAX_UNDER_WAY = 16


class SocketCalls:
    __slots__ = ("_caller", "_conn", "_gw", "_ip", "_last", "_tasks", "_under_way")

    def __init__(self, gw: Gateway, ip: str, conn: Connection, caller: Caller) -> None:
        self._gw = gw
        self._ip = ip
        self._conn = conn
        self._caller = caller
        self._last: CallOrder | None = None
        self._under_way = 0
        self._tasks: set[asyncio.Task[None]] | None = None  # made for the first pipelined call

    async def submit(self, data: bytes) -> None:
        """Start the call a frame carries; returns when the socket may read its next frame."""
        try:
            call_id, method, params = _parse(data)
        except HeliographError as e:
            self._conn.push(_error(None, e))
            return
        last = self._last
        if last is not None and not last.finished.done():
            if method in PIPELINED and self._under_way < MAX_UNDER_WAY:
                await asyncio.shield(last.queued)
            else:
                await asyncio.shield(last.finished)
        if last is not None and last.finished.done():
            last = None
        order = CallOrder(last)
        self._last = order
        self._under_way += 1  # now, not when its task first runs: the next frame checks it
        if last is None and method not in PIPELINED:
            await self._run(order, call_id, method, params)  # nothing under way: inline
            return
        if self._tasks is None:
            self._tasks = set()
        task = asyncio.create_task(self._run(order, call_id, method, params))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def finish(self) -> None:
        """Wait for the calls under way (the socket has ended)."""
        if self._last is not None:
            await asyncio.shield(self._last.finished)

    async def _run(self, order: CallOrder, call_id: Any, method: str, params: Any) -> None:
        # Only a pipelined call may let the next one start early: a send made inside any
        # other call (a bot's inline result, say) leaves the socket's order alone.
        token = CURRENT_CALL.set(order if method in PIPELINED else None)
        try:
            answer = await self._answer(call_id, method, params)
            await order.earlier_finished()
            self._conn.push(answer)
        finally:
            CURRENT_CALL.reset(token)
            self._under_way -= 1
            order.mark_finished()

    async def _answer(self, call_id: Any, method: str, params: Any) -> bytes:
        try:
            # A session ended elsewhere is refused at once, even on a socket already open.
            if not await accounts.session_alive(self._gw.app, self._caller.session_id):
                self._conn.close(CLOSE_REVOKED, b"SESSION_REVOKED")
                raise HeliographError(ErrorCode.SESSION_REVOKED, "this session has ended")
            result = await self._gw.dispatcher.call(
                method, params, caller=self._caller, ip=self._ip, connection=self._conn
            )
            return orjson.dumps({"id": call_id, "result": result})
        except HeliographError as e:
            return _error(call_id, e)


def _parse(data: bytes) -> tuple[Any, str, Any]:
    frame = parse_json(data)
    if not isinstance(frame, dict) or not isinstance(frame.get("method"), str):
        raise HeliographError(
            ErrorCode.BAD_REQUEST, 'a call is {"id": .., "method": "..", "params": {..}}'
        )
    return frame.get("id"), frame["method"], frame.get("params")


def _error(call_id: Any, e: HeliographError) -> bytes:
    return orjson.dumps({"id": call_id, "error": {**e.to_dict(), "status": e.code.status}})
