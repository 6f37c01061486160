"""The connections this process holds, and delivery of bus payloads to them.

Every node receives every payload; the hub reads its small header and forwards the body to
the local sessions it names. Update bodies are encoded once by the publisher; each recipient
gets the same bytes with its own pts spliced in front."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Protocol

from aiohttp import WSMsgType

from heliograph.services.context import (
    ANSWER,
    CHAT,
    CHAT_EVENT,
    EVENT,
    REVOKE,
    SUBSCRIBE,
    UPDATE,
    parse_envelope,
)

log = logging.getLogger("heliograph.hub")

# A session whose socket cannot keep up is closed; it reconnects and catches up with
# getDifference, so memory stays bounded and nothing is lost.
MAX_PENDING_FRAMES = 10_000
# Past this many unsent bytes in the socket, frames queue and go out in batches instead.
WRITE_BUFFER_LIMIT = 64 * 1024
CLOSE_REVOKED = 4001
CLOSE_TOO_SLOW = 4008
CLOSE_GOING_AWAY = 1001
# Liveness: one timer for all sockets, not one (and a pong timer) per socket. Every sweep a
# socket has sent nothing in grows quieter: after two quiet sweeps (15 to 30 s without a
# frame) it is pinged, after a third (the ping unanswered for 15 s) it is dropped, and its
# client reconnects. Any frame from the client, its pong included, makes it loud again.
HEARTBEAT_SWEEP = 15.0
PING_FRAME = b"\x89\x00"  # an unmasked, final ping frame without payload (RFC 6455 §5.5.2)


class Socket(Protocol):
    async def send_frame(
        self, message: bytes, opcode: Any, compress: int | None = None
    ) -> None: ...
    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


class Writer(Protocol):
    """What the hub needs of a socket's transport (asyncio's, or uvloop's, which does not
    subclass asyncio.WriteTransport)."""

    def write(self, data: bytes) -> None: ...
    def is_closing(self) -> bool: ...
    def get_write_buffer_size(self) -> int: ...
    def abort(self) -> None: ...


class WriteCork:
    """The sockets written to in this turn of the event loop. A socket's first frame of a
    turn is written at once; more frames for it in the same turn (a burst of updates, or
    several answers) wait for the end of the turn and go out in one write: one system call
    for all of them, each still a frame of its own."""

    __slots__ = ("_scheduled", "_written")

    def __init__(self) -> None:
        self._written: list[Connection] = []
        self._scheduled = False

    def add(self, connection: Connection) -> None:
        self._written.append(connection)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        self._scheduled = False
        written, self._written = self._written, []
        for connection in written:
            connection.uncork()


# A socket written to in this turn, with no frames held back yet.
_WRITTEN: list[bytes] = []


class Connection:
    """One WebSocket of one session. Frames beyond the first in one turn of the event loop
    go out together in one write at its end (`WriteCork`), and frames queued while the socket
    cannot keep up go out together as one JSON array: fewer writes under load, same order.

    Tens of thousands of these sit idle on a node, so each holds as little as it can: no
    task, no timer, and no set of large chats until it follows one."""

    __slots__ = (
        "_cork",
        "_flushing",
        "_held",
        "_pending",
        "_text",
        "_transport",
        "chats",
        "closed",
        "quiet",
        "session_id",
        "user_id",
        "ws",
    )

    def __init__(
        self,
        ws: Socket,
        user_id: int,
        session_id: int,
        text_opcode: Any,
        transport: Writer | None = None,
        cork: WriteCork | None = None,
    ) -> None:
        self.ws = ws
        self.user_id = user_id
        self.session_id = session_id
        self.closed = False
        self._pending: list[bytes] = []
        self._flushing = False
        self._text = text_opcode
        self._transport = transport
        self._cork = cork
        # None, or _WRITTEN once written to in this turn, or the frames held back since
        self._held: list[bytes] | None = None
        self.chats: set[int] | None = None  # large chats this socket follows, once it does
        self.quiet = 0  # heartbeat sweeps since the client last sent a frame

    def hold(self) -> None:
        """Queue frames without sending them until `start`: updates committed while the
        connection is being set up wait behind its first frame."""
        self._flushing = True

    def start(self, first_frame: bytes) -> None:
        self._pending.insert(0, first_frame)
        asyncio.get_running_loop().create_task(self._flush())

    def push(self, frame: bytes, framed: bytes | None = None) -> None:
        """Send a frame; `framed` is the same with its WebSocket header already in front,
        when the caller sends those bytes to many sockets (built once, not per socket)."""
        if self.closed:
            return
        held = self._held
        if held is not None:
            data = framed or text_frame_header(len(frame)) + frame
            if held is _WRITTEN:
                self._held = [data]
            else:
                held.append(data)
            return
        if len(self._pending) >= MAX_PENDING_FRAMES:
            self.close(CLOSE_TOO_SLOW, b"too slow: reconnect and call getDifference")
            return
        transport = self._transport
        if (
            not self._flushing
            and transport is not None
            and not transport.is_closing()
            and transport.get_write_buffer_size() < WRITE_BUFFER_LIMIT
        ):
            # The common case: nothing queued and the socket keeps up. Write the frame now,
            # with no task and no copy beyond the header.
            transport.write(framed or text_frame_header(len(frame)) + frame)
            if self._cork is not None:
                self._held = _WRITTEN
                self._cork.add(self)
            return
        self._pending.append(frame)
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().create_task(self._flush())

    def uncork(self) -> None:
        """The turn has ended: write the frames held back in it, all in one."""
        held, self._held = self._held, None
        if held is None or held is _WRITTEN or self.closed:
            return
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(b"".join(held))

    async def _flush(self) -> None:
        try:
            while self._pending and not self.closed:
                batch, self._pending = self._pending, []
                data = batch[0] if len(batch) == 1 else b"[" + b",".join(batch) + b"]"
                await self.ws.send_frame(data, self._text)
        except (ConnectionError, RuntimeError):
            self.closed = True
        finally:
            self._flushing = False

    def close(self, code: int, reason: bytes) -> None:
        if not self.closed:
            self.closed = True
            self._pending.clear()
            asyncio.get_running_loop().create_task(self.ws.close(code=code, message=reason))

    def beat(self) -> None:
        """One heartbeat sweep: ping a socket quiet for two sweeps, drop one quiet for three
        (as aiohttp's own heartbeat does: the transport is closed, the handler sees the
        socket end and unregisters it)."""
        if self.closed:
            return
        self.quiet += 1
        if self.quiet < 2:
            return
        transport = self._transport
        if self.quiet == 2:
            if transport is None:
                asyncio.get_running_loop().create_task(self._ping())
            elif not transport.is_closing():
                transport.write(PING_FRAME)
            return
        self.closed = True
        self._pending.clear()
        if transport is None:
            asyncio.get_running_loop().create_task(
                self.ws.close(code=CLOSE_GOING_AWAY, message=b"no pong")
            )
        else:
            transport.abort()

    async def _ping(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_frame(b"", WSMsgType.PING)


def text_frame_header(length: int) -> bytes:
    """The header of an unmasked, final WebSocket text frame (RFC 6455 §5.2), as a server
    sends it. Uncompressed frames are valid also where permessage-deflate was agreed."""
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return bytes((0x81, 126)) + length.to_bytes(2, "big")
    return bytes((0x81, 127)) + length.to_bytes(8, "big")


def _framed(frame: bytes) -> bytes:
    return text_frame_header(len(frame)) + frame


def update_frame(pts: int, body: bytes) -> bytes:
    """`{"type":"update","update":{"pts":..,"pts_count":1, ...body}}` without re-encoding."""
    return b'{"type":"update","update":{"pts":%d,"pts_count":1,%s}' % (pts, body[1:])


def chat_update_frame(chat_id: int, pts: int, body: bytes) -> bytes:
    """The same for a large chat's box, named by `box`: identical bytes for every member."""
    return b'{"type":"update","update":{"box":%d,"pts":%d,"pts_count":1,%s}' % (
        chat_id,
        pts,
        body[1:],
    )


class Hub:
    def __init__(
        self,
        on_delivered: Callable[[int], None] | None = None,
        heartbeat: float = HEARTBEAT_SWEEP,
    ) -> None:
        # A user's sockets on this node: a tuple, as most users have one or two here (a
        # tuple of one is a fifth of an empty set's size, and as quick to walk).
        self.by_user: dict[int, tuple[Connection, ...]] = {}
        self.by_chat: dict[int, set[Connection]] = {}
        self._on_delivered = on_delivered
        self.heartbeat = heartbeat
        self.cork = WriteCork()
        self._sweep: asyncio.TimerHandle | None = None

    def add(self, connection: Connection, large_chats: list[int]) -> bool:
        """Register a connection and the large chats it follows; True when it is the user's
        first on this node."""
        conns = (*self.by_user.get(connection.user_id, ()), connection)
        self.by_user[connection.user_id] = conns
        for chat_id in large_chats:
            self._follow(connection, chat_id)
        if self._sweep is None:
            loop = asyncio.get_running_loop()
            self._sweep = loop.call_later(self.heartbeat, self._beat)
        return len(conns) == 1

    def remove(self, connection: Connection) -> bool:
        """Forget a connection; True when it was the user's last on this node."""
        if connection.chats:
            for chat_id in list(connection.chats):
                self._unfollow(connection, chat_id)
        conns = self.by_user.get(connection.user_id)
        if conns is None or connection not in conns:
            return False
        rest = tuple(c for c in conns if c is not connection)
        if rest:
            self.by_user[connection.user_id] = rest
            return False
        del self.by_user[connection.user_id]
        if not self.by_user and self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        return True

    def _beat(self) -> None:
        """The heartbeat sweep over every socket of this node (see `Connection.beat`)."""
        self._sweep = asyncio.get_running_loop().call_later(self.heartbeat, self._beat)
        for conns in list(self.by_user.values()):
            for conn in conns:
                conn.beat()

    def _follow(self, connection: Connection, chat_id: int) -> None:
        if connection.chats is None:
            connection.chats = set()
        connection.chats.add(chat_id)
        self.by_chat.setdefault(chat_id, set()).add(connection)

    def _unfollow(self, connection: Connection, chat_id: int) -> None:
        if connection.chats is not None:
            connection.chats.discard(chat_id)
        followers = self.by_chat.get(chat_id)
        if followers is not None:
            followers.discard(connection)
            if not followers:
                del self.by_chat[chat_id]

    def connections(self) -> list[Connection]:
        return [c for conns in self.by_user.values() for c in conns]

    def on_bus(self, payload: bytes) -> None:
        kind, header, body = parse_envelope(payload)
        delivered = 0
        if kind == UPDATE:
            for user_id, pts in header["to"]:
                conns = self.by_user.get(user_id)
                if conns:
                    frame = update_frame(pts, body)
                    framed = _framed(frame) if len(conns) > 1 else None
                    for conn in conns:
                        conn.push(frame, framed)
                    delivered += len(conns)
        elif kind == CHAT:
            followers = self.by_chat.get(header["chat"])
            if followers:
                frame = chat_update_frame(header["chat"], header["pts"], body)
                framed = _framed(frame)
                for conn in followers:
                    conn.push(frame, framed)
                delivered += len(followers)
        elif kind == SUBSCRIBE:
            chat_id = header["chat"]
            for user_id in header["add"]:
                for conn in self.by_user.get(user_id, ()):
                    self._follow(conn, chat_id)
            for user_id in header["remove"]:
                for conn in self.by_user.get(user_id, ()):
                    self._unfollow(conn, chat_id)
        elif kind == CHAT_EVENT:
            framed = _framed(body)
            sender = header.get("from")
            for conn in self.by_chat.get(header["chat"], ()):
                if conn.user_id != sender:
                    conn.push(body, framed)
                    delivered += 1
        elif kind == EVENT:
            skip = header.get("skip")
            for user_id in header["to"]:
                for conn in self.by_user.get(user_id, ()):
                    if conn.session_id != skip:
                        conn.push(body)
                        delivered += 1
        elif kind == REVOKE:
            ended = set(header["sessions"])
            for conn in list(self.by_user.get(header["user"], ())):
                if conn.session_id in ended:
                    conn.close(CLOSE_REVOKED, b"SESSION_REVOKED")
        elif kind != ANSWER:  # answers of bots are for the Bot API's waiters, not sockets
            log.warning("unknown bus payload kind %r", kind)
        if delivered and self._on_delivered is not None:
            self._on_delivered(delivered)
