"""What every service needs: the database, the bus, the limits and the clock; and the Outbox
that collects a transaction's updates so they are published only after it commits."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from heliograph.bus import Bus
from heliograph.domain.limits import Limits
from heliograph.store import updates
from heliograph.store.db import Conn, Database

if TYPE_CHECKING:
    from heliograph.media.linkpreview import PreviewFetcher
    from heliograph.media.storage import BlobStore
    from heliograph.services.send_batch import SendBatcher

log = logging.getLogger("heliograph.services")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: every service method takes one and checks it."""

    user_id: int
    session_id: int
    is_admin: bool = False


@dataclass(slots=True)
class Settings:
    large_chat_threshold: int = 200
    login_code_seconds: int = 120
    presence_ttl: int = 90


@dataclass(slots=True)
class Storage:
    """Where files live: finished files in the blob store, uploads in progress on disk."""

    blobs: BlobStore
    upload_dir: Path


# How long this node trusts that a session it saw alive still is, without reading the store.
# Revocations normally reach every node within the bus's delivery time; this bounds how long
# one the bus lost (a broker outage, `heliograph admin` without a shared bus) goes unnoticed.
SESSION_TRUST_SECONDS = 5.0


class LiveSessions:
    """The sessions this node has lately found alive in the store, so that calls on open
    sockets need not read it each time.

    Correctness rests on two rules. A revoked session is forgotten on the node that revoked
    it before the revoking call returns (`ended`, called by the service right after its
    commit), and on every other node as the revocation arrives on the bus (`on_bus`). And a
    lookup that read "alive" from the store is remembered only if no session ended while it
    was reading (`epoch`): otherwise a read that began before a revocation's commit could
    put the revoked session back after it was forgotten."""

    __slots__ = ("_checked", "_clock", "_epoch", "_swept", "ttl")

    def __init__(
        self, ttl: float = SESSION_TRUST_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._checked: dict[int, float] = {}  # session id → when the store said alive
        self._epoch = 0  # counts revocations seen by this node
        self._swept = clock()

    def fresh(self, session_id: int) -> bool:
        """Whether the session is known alive (without reading the store)."""
        checked = self._checked.get(session_id)
        return checked is not None and self._clock() - checked < self.ttl

    @property
    def epoch(self) -> int:
        """Read before looking a session up in the store; hand back to `confirm`."""
        return self._epoch

    def confirm(self, session_id: int, epoch: int) -> None:
        """The store said the session is alive, in a read begun at `epoch`."""
        if epoch != self._epoch or self.ttl <= 0:
            return
        now = self._clock()
        self._checked[session_id] = now
        if now - self._swept >= self.ttl:  # drop what has expired, now and then
            self._swept = now
            self._checked = {s: t for s, t in self._checked.items() if now - t < self.ttl}

    def ended(self, session_ids: Iterable[int]) -> None:
        """These sessions were revoked: look them up in the store from now on."""
        self._epoch += 1
        for session_id in session_ids:
            self._checked.pop(session_id, None)

    def on_bus(self, payload: bytes) -> None:
        """A bus handler: forget the sessions a revocation from any node names."""
        if payload[:1] == REVOKE:
            _, header, _ = parse_envelope(payload)
            self.ended(header["sessions"])


@dataclass(slots=True)
class App:
    db: Database
    bus: Bus
    limits: Limits = field(default_factory=Limits)
    settings: Settings = field(default_factory=Settings)
    clock: Callable[[], float] = time.time
    storage: Storage | None = None
    previews: PreviewFetcher | None = None
    # work that outlives the request that started it (link previews); cancelled on stop
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    live_sessions: LiveSessions = field(default_factory=LiveSessions)
    # plain sends written together (services/send_batch.py), made on first use
    send_batcher: SendBatcher | None = None

    def now(self) -> int:
        return int(self.clock())

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())


# --- bus envelopes --------------------------------------------------------------------------
#
# A bus payload is one kind byte, a small JSON header, a newline, and the body bytes. Nodes
# read only the header to route; the body is encoded once by the publisher and forwarded to
# every recipient session as it is (for updates, with the recipient's pts spliced in front).

UPDATE = b"u"  # updates of users' common boxes: header lists (user_id, pts) pairs
CHAT = b"c"  # an update of a large chat's box: one payload, whatever the member count
SUBSCRIBE = b"s"  # users joined or left a large chat: nodes add or drop their sockets
EVENT = b"e"
CHAT_EVENT = b"t"  # an ephemeral event for everyone following a large chat
REVOKE = b"r"
ANSWER = b"a"  # a bot answered a callback or inline query: the asking node replies


def envelope(kind: bytes, header: dict[str, Any], body: bytes = b"") -> bytes:
    return kind + orjson.dumps(header) + b"\n" + body


def parse_envelope(payload: bytes) -> tuple[bytes, dict[str, Any], bytes]:
    newline = payload.index(b"\n")
    header: dict[str, Any] = orjson.loads(payload[1:newline])
    return payload[:1], header, payload[newline + 1 :]


@dataclass(slots=True)
class Outbox:
    """Updates written in one transaction, waiting for its commit to be published.

    Updates with the same body (one new message for both members of a chat) share one bus
    payload that lists each recipient's pts."""

    updates: list[tuple[dict[str, Any], list[tuple[int, int]]]] = field(default_factory=list)
    events: list[tuple[dict[str, Any], list[int], int | None]] = field(default_factory=list)
    revoked: list[tuple[int, list[int]]] = field(default_factory=list)
    chat_updates: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    subscriptions: list[tuple[int, list[int], list[int]]] = field(default_factory=list)
    chat_events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    async def add(
        self,
        tx: Conn,
        user_ids: list[int],
        kind: str,
        chat_id: int | None,
        stored: dict[str, Any],
        body: dict[str, Any],
        now: int,
    ) -> dict[int, int]:
        """Append one update to each user's box; `stored` is what the box keeps (pointers),
        `body` what is pushed live (the same, hydrated). Returns each user's new pts."""
        pts_by_user = await updates.append(tx, user_ids, kind, chat_id, stored, now)
        self.added(kind, chat_id, body, pts_by_user)
        return pts_by_user

    def added(
        self, kind: str, chat_id: int | None, body: dict[str, Any], pts_by_user: dict[int, int]
    ) -> None:
        """An update already in these users' boxes, at these pts, to publish."""
        wire = (
            {"type": kind, **body}
            if chat_id is None
            else {"type": kind, "chat_id": chat_id, **body}
        )
        self.updates.append((wire, list(pts_by_user.items())))

    async def add_to_chat(
        self,
        tx: Conn,
        chat_id: int,
        kind: str,
        stored: dict[str, Any],
        body: dict[str, Any],
        now: int,
    ) -> int:
        """Append one update to a large chat's own box; returns its pts there."""
        pts = await updates.append_to_chat(tx, chat_id, kind, stored, now)
        self.chat_updates.append((chat_id, pts, {"type": kind, "chat_id": chat_id, **body}))
        return pts

    def subscribe(self, chat_id: int, joined: list[int], left: list[int]) -> None:
        """Tell every node that these users' sockets now (or no longer) follow a large chat."""
        self.subscriptions.append((chat_id, joined, left))

    def chat_event(self, chat_id: int, body: dict[str, Any]) -> None:
        """An ephemeral event for everyone following a large chat on any node."""
        self.chat_events.append((chat_id, body))

    def event(
        self, body: dict[str, Any], user_ids: list[int], skip_session: int | None = None
    ) -> None:
        """An ephemeral event (typing, presence): no pts, harmless to lose."""
        self.events.append((body, user_ids, skip_session))

    def revoke(self, user_id: int, session_ids: list[int]) -> None:
        self.revoked.append((user_id, session_ids))

    def publish(self, bus: Bus) -> None:
        # Common boxes first (a new member learns of the chat and its pts), then the
        # subscriptions (their sockets follow it), then the chat's own updates.
        for wire, recipients in self.updates:
            bus.publish(envelope(UPDATE, {"to": recipients}, orjson.dumps(wire)))
        for chat_id, joined, left in self.subscriptions:
            bus.publish(envelope(SUBSCRIBE, {"chat": chat_id, "add": joined, "remove": left}))
        for chat_id, pts, wire in self.chat_updates:
            bus.publish(envelope(CHAT, {"chat": chat_id, "pts": pts}, orjson.dumps(wire)))
        for body, user_ids, skip in self.events:
            frame = orjson.dumps({"type": "event", "event": body})
            bus.publish(envelope(EVENT, {"to": user_ids, "skip": skip}, frame))
        for chat_id, body in self.chat_events:
            frame = orjson.dumps({"type": "event", "event": body})
            header = {"chat": chat_id, "from": body.get("user_id")}
            bus.publish(envelope(CHAT_EVENT, header, frame))
        for user_id, session_ids in self.revoked:
            bus.publish(envelope(REVOKE, {"user": user_id, "sessions": session_ids}))
