"""The live connection: one WebSocket at a time, kept open across drops and server restarts.

It authenticates with an auth frame, waits for `ready`, catches up with getDifference (paged,
with the too-long reset), then applies pushed updates by the gap rules (see sequencer.py),
running getDifference when a gap lasts longer than `gap_timeout`. RPC calls share the socket.
After a drop it reconnects with capped, jittered exponential backoff and catches up again;
close code 4001 (or an auth refusal of the token) ends it for good with SessionEnded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from heliograph.sdk.errors import SESSION_ENDING, ApiError, SessionEnded, error_from_dict
from heliograph.sdk.http import Interrupted, NotDelivered
from heliograph.sdk.sequencer import Sequencer
from heliograph.sdk.types import TOO_LONG, Difference, Event, State, Update, box_change

if TYPE_CHECKING:
    WebSocket = aiohttp.ClientWebSocketResponse[bool]

log = logging.getLogger("heliograph.sdk")

CLOSE_SESSION_ENDED = 4001
CLOSE_BAD_AUTH = 4003
HANDSHAKE_TIMEOUT = 15.0
HEARTBEAT = 20.0
# What a failed attempt to connect or catch up may raise; the loop then retries.
RETRYABLE = (ApiError, NotDelivered, Interrupted, aiohttp.ClientError, OSError, TimeoutError)


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Exponential from `base`, capped at `cap`, with jitter (half to full) so that clients
    dropped together do not come back together."""
    return float(min(cap, base * 2 ** min(attempt, 30)) * random.uniform(0.5, 1.0))


def _raise_if_cancelled() -> None:
    """Raise CancelledError if the running task was asked to stop (`close()`) and the request
    was absorbed on the way, as awaiting a task being cancelled does (it is the awaited task
    that gets cancelled). The live task never uncancels itself, so a request shows here."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class LiveConnection:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        ws_url: str,
        token: str,
        pts: int | None,
        boxes: dict[int, int] | None = None,
        *,
        on_update: Callable[[Update], None],
        on_event: Callable[[Event], None],
        on_ended: Callable[[SessionEnded], None],
        gap_timeout: float = 0.5,
        reconnect_delay: float = 0.25,
        max_reconnect_delay: float = 15.0,
        difference_limit: int = 100,
        request_timeout: float = 60.0,
    ) -> None:
        self._session = session
        self._ws_url = ws_url
        self._token = token
        self._on_update = on_update
        self._on_event = on_event
        self._on_ended = on_ended
        self._gap_timeout = gap_timeout
        self._reconnect_delay = reconnect_delay
        self._max_reconnect_delay = max_reconnect_delay
        self._difference_limit = difference_limit
        self._request_timeout = request_timeout
        self.sequencer: Sequencer | None = Sequencer(pts) if pts is not None else None
        # The own boxes of large chats, by chat id (the box a pushed update names).
        self.boxes: dict[int, Sequencer] = {
            chat_id: Sequencer(box_pts) for chat_id, box_pts in (boxes or {}).items()
        }
        # Set while a socket is open, authenticated and caught up.
        self.connected = asyncio.Event()
        self.session_id: int | None = None
        self._ws: WebSocket | None = None
        self._early: list[Update] = []  # pushed before we knew where we stand
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._sync_lock = asyncio.Lock()
        self._auth_error: ApiError | None = None
        self._task: asyncio.Task[None] | None = None
        self._gap_tasks: dict[int | None, asyncio.Task[None]] = {}
        self._closing = False

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and catch up; raises what the first attempt failed with. Returns, not
        connected, when `close()` comes first."""
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(first), name="heliograph-live")
        try:
            await first
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        self._closing = True
        tasks = [t for t in (self._task, *self._gap_tasks.values()) if t and not t.done()]
        current = asyncio.current_task()
        for task in tasks:
            if task is not current:
                task.cancel()
        await asyncio.gather(*(t for t in tasks if t is not current), return_exceptions=True)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self, first: asyncio.Future[None]) -> None:
        try:
            await self._keep_connected(first)
        finally:
            if not first.done():
                first.set_result(None)  # closed before it was up: start() waits no longer

    async def _keep_connected(self, first: asyncio.Future[None]) -> None:
        failures = 0
        while not self._closing:
            try:
                await self._connect_once(first)
                failures = 0  # it was up, then closed: come back soon
            except SessionEnded as e:
                if first.done():
                    self._on_ended(e)
                else:
                    first.set_exception(e)
                return
            except Exception as e:  # RETRYABLE, or a bug: either way, try again later
                if not first.done():
                    first.set_exception(e)
                    return
                if isinstance(e, RETRYABLE):
                    log.info("connection lost (%s); reconnecting", e or type(e).__name__)
                else:
                    log.exception("unexpected failure of the live connection; reconnecting")
                failures += 1
            if self._closing:
                return
            await asyncio.sleep(
                backoff_delay(failures, self._reconnect_delay, self._max_reconnect_delay)
            )

    async def _connect_once(self, first: asyncio.Future[None]) -> None:
        self._auth_error = None
        ws = await self._session.ws_connect(
            self._ws_url,
            heartbeat=HEARTBEAT,
            timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
            max_msg_size=0,
        )
        self._ws = ws
        ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        ready.add_done_callback(lambda f: f.cancelled() or f.exception())
        reader = asyncio.create_task(self._read(ws, ready), name="heliograph-reader")
        failure: BaseException | None = None
        try:
            await ws.send_str(json.dumps({"type": "auth", "token": self._token}))
            # asyncio.timeout, not wait_for: before Python 3.12, wait_for returns the result
            # when a cancellation (close()) comes as the result arrives, and the cancellation
            # is lost: this task then went on to wait on the socket for good.
            async with asyncio.timeout(HANDSHAKE_TIMEOUT):
                hello = await ready
            self.session_id = hello.get("session_id")
            if self.sequencer is None:
                self.sequencer = Sequencer(State.from_dict(hello["state"]).pts)
            early, self._early = self._early, []
            for update in early:
                self._push(update)
            await self._catch_up(None)  # may start following large chats joined meanwhile
            for chat_id in list(self.boxes):
                await self._catch_up(chat_id)
            _raise_if_cancelled()  # a close() that came meanwhile and was lost: see below
            self.connected.set()
            for box in [None, *self.boxes]:
                self._watch_gap(box)  # updates pushed past the head while catching up
            if not first.done():
                first.set_result(None)
            await reader
        except RETRYABLE as e:
            failure = e
        finally:
            self.connected.clear()
            if self._ws is ws:
                self._ws = None
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                # The reader's CancelledError. A close() cancelling this task while it waits
                # here cancels the reader instead: it is raised below, once cleaned up.
                await reader
            self._fail_pending()
            with contextlib.suppress(Exception):
                await ws.close()
        _raise_if_cancelled()
        ended = self._ended_by(ws)
        if ended is not None:
            raise ended
        if failure is not None:
            raise failure

    def _ended_by(self, ws: WebSocket) -> SessionEnded | None:
        code = ws.close_code
        if code == CLOSE_SESSION_ENDED:
            return SessionEnded("SESSION_REVOKED", "this session was ended")
        refusal = self._auth_error
        if code == CLOSE_BAD_AUTH or (refusal is not None and refusal.code in SESSION_ENDING):
            if refusal is None:
                return SessionEnded("SESSION_REVOKED", "the server refused this session")
            return SessionEnded(refusal.code, refusal.message, refusal.status, refusal.extra)
        return None

    # --- reading ----------------------------------------------------------------------------

    async def _read(self, ws: WebSocket, ready: asyncio.Future[dict[str, Any]]) -> None:
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    data: str = msg.data
                elif msg.type is aiohttp.WSMsgType.BINARY:
                    data = bytes(msg.data).decode()
                else:
                    break  # ERROR
                try:
                    frame = json.loads(data)
                except ValueError:
                    log.warning("ignoring a frame that is not JSON: %.80r", data)
                    continue
                for item in frame if isinstance(frame, list) else [frame]:
                    if isinstance(item, dict):
                        self._dispatch(item, ready)
        finally:
            self.connected.clear()
            if not ready.done():
                ready.set_exception(Interrupted("the connection closed during the handshake"))
            self._fail_pending()

    def _dispatch(self, frame: dict[str, Any], ready: asyncio.Future[dict[str, Any]]) -> None:
        kind = frame.get("type")
        try:
            if kind == "update":
                self._push(Update.from_dict(frame["update"]))
            elif kind == "event":
                self._on_event(Event.from_dict(frame["event"]))
            elif kind == "ready":
                if not ready.done():
                    ready.set_result(frame)
            elif kind == "error":
                self._auth_error = error_from_dict(frame.get("error"))
            elif kind is None and "id" in frame:
                future = self._pending.get(frame["id"]) if isinstance(frame["id"], int) else None
                if future is None or future.done():
                    return
                if "error" in frame:
                    future.set_exception(error_from_dict(frame["error"]))
                else:
                    future.set_result(frame.get("result"))
        except (KeyError, TypeError, ValueError) as e:
            log.warning("ignoring a malformed %s frame: %r", kind or "reply", e)

    def _push(self, update: Update) -> None:
        box = update.box
        if box is None:
            if self.sequencer is None:
                self._early.append(update)
                return
            sequencer = self.sequencer
        else:
            sequencer = self.boxes.get(box) or self._follow(box, update.pts - update.pts_count)
        for applied in sequencer.push(update):
            self._deliver(applied)
        self._watch_gap(box)

    def _watch_gap(self, box: int | None) -> None:
        sequencer = self._sequencer(box)
        running = self._gap_tasks.get(box)
        if sequencer and sequencer.has_gap and (running is None or running.done()):
            self._gap_tasks[box] = asyncio.create_task(self._fill_gap(box), name="heliograph-gap")

    def _follow(self, box: int, pts: int) -> Sequencer:
        """Start following a large chat's box from `pts`: the point a chat_membership or
        chat_became_large update gave, or else the first update seen of it."""
        sequencer = self.boxes[box] = Sequencer(pts)
        return sequencer

    def _deliver(self, update: Update) -> None:
        """Hand an applied update over, first starting or stopping the following of a large
        chat's box when the update says so."""
        change = box_change(update)
        if change is not None:
            box, start = change
            if start is None:
                self.boxes.pop(box, None)
            elif box not in self.boxes:
                self._follow(box, start)
                running = self._gap_tasks.get(box)
                # Connecting: the catch-up under way sees to it. Else fetch what came since.
                if self.connected.is_set() and (running is None or running.done()):
                    self._gap_tasks[box] = asyncio.create_task(self._catch_up_quietly(box))
        self._on_update(update)

    async def _catch_up_quietly(self, box: int) -> None:
        with contextlib.suppress(*RETRYABLE):
            await self._catch_up(box)

    # --- catching up ------------------------------------------------------------------------

    def _sequencer(self, box: int | None) -> Sequencer | None:
        return self.sequencer if box is None else self.boxes.get(box)

    async def _fill_gap(self, box: int | None) -> None:
        """A gap: give the missing updates `gap_timeout` to arrive, then ask for them."""
        while (sequencer := self._sequencer(box)) is not None and sequencer.has_gap:
            await asyncio.sleep(self._gap_timeout)
            if not sequencer.has_gap or not self.connected.is_set():
                return  # filled; or a reconnect is under way and will catch up itself
            with contextlib.suppress(*RETRYABLE):
                await self._catch_up(box)

    async def _catch_up(self, box: int | None) -> None:
        """getDifference (or getChannelDifference for a large chat's box), paged, until
        the box is at the server's head."""
        async with self._sync_lock:
            while (sequencer := self._sequencer(box)) is not None:
                try:
                    answer = await self._difference(box, sequencer.pts)
                except ApiError as e:
                    if e.code == "PTS_INVALID":
                        # Our pts is past the server's head: its store was replaced.
                        self._too_long(box, await self._head(box))
                        return
                    if box is None or isinstance(e, SessionEnded):
                        raise
                    # No longer a member, or no longer a large chat: stop following it.
                    log.info("no longer following chat %d: %s", box, e)
                    self.boxes.pop(box, None)
                    return
                difference = Difference.from_dict(answer)
                if difference.too_long:
                    self._too_long(box, difference.state.pts)
                    continue
                before = sequencer.pts
                for update in difference.updates:
                    if box is not None:
                        update.box = box
                    for applied in sequencer.apply_difference(update):
                        self._deliver(applied)
                if not difference.more or sequencer.pts == before:
                    return

    async def _difference(self, box: int | None, pts: int) -> Any:
        limit = self._difference_limit
        if box is None:
            return await self._rpc("getDifference", {"pts": pts, "limit": limit})
        params = {"chat_id": box, "pts": pts, "limit": limit}
        return await self._rpc("getChannelDifference", params)

    async def _head(self, box: int | None) -> int:
        if box is None:
            return State.from_dict(await self._rpc("getState", {})).pts
        return int((await self._rpc("getChat", {"chat_id": box})).get("pts") or 0)

    def _too_long(self, box: int | None, pts: int) -> None:
        sequencer = self._sequencer(box)
        assert sequencer is not None
        log.info("the gap is too long to replay; continuing from pts %d", pts)
        sequencer.reset(pts)
        self._on_update(Update(type=TOO_LONG, pts=pts, pts_count=0, chat_id=box, box=box))

    # --- calls ------------------------------------------------------------------------------

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """A call over the socket; NotDelivered when there is no caught-up socket."""
        if not self.connected.is_set():
            raise NotDelivered("not connected")
        return await self._rpc(method, params)

    async def _rpc(self, method: str, params: dict[str, Any]) -> Any:
        ws = self._ws
        if ws is None or ws.closed:
            raise NotDelivered("not connected")
        self._next_id += 1
        call_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        try:
            try:
                await ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
            except (ConnectionError, RuntimeError, aiohttp.ClientError) as e:
                raise NotDelivered(str(e) or "the connection closed") from e
            try:
                async with asyncio.timeout(self._request_timeout):  # not wait_for: see above
                    return await future
            except TimeoutError:
                raise Interrupted(f"no answer to {method} in time") from None
        finally:
            self._pending.pop(call_id, None)

    def _fail_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(Interrupted("the connection dropped"))
