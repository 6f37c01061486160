"""Plain text messages sent at about the same time are stored together: one transaction and a
few statements for the whole batch (numbering, the messages, the senders' read pointers, the
members' updates), where each send alone makes six round trips and its own commit. What a
send costs the database then falls with the load, instead of staying per message
(decision 0013).

Only the common case takes this path: text, perhaps with formatting, in a private chat or a
small group without slow mode, no draft to clear, nothing that notifies beyond the members'
updates (mentions, hashtags, replies). Any send the batch does not take, for whatever reason
(a refused check, a retried `random_id`, a failed batch), is answered None, and the caller
sends it alone on the regular path, which decides and reports as always. So a batch changes
how messages are written, never what a send does."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from heliograph.domain.entities import ChatKind, Message, MessageEntity
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.media import Media
from heliograph.domain.text import hashtags, normalize_for_search
from heliograph.services import messaging
from heliograph.services.chats import ChatAccess, access_of
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.ordering import call_queued
from heliograph.store import chats, send_batches
from heliograph.store.send_batches import PlainRow

log = logging.getLogger(__name__)

# entities that notify someone beyond the chat's update (sent on the regular path)
_NOTIFYING = frozenset({"mention", "text_mention"})


def takes(
    text: str,
    entities: list[MessageEntity],
    media: Media | None,
    reply_to: int | None,
    anonymous: bool,
    reply_markup: dict[str, Any] | None,
    via_bot_id: int | None,
) -> bool:
    """Whether a send may go to the batch: plain text, perhaps formatted, that notifies no
    one beyond the chat's update. (The chat is judged in the batch, see `_batchable`.)"""
    return (
        media is None
        and reply_to is None
        and not anonymous
        and reply_markup is None
        and via_bot_id is None
        and not any(e.type in _NOTIFYING for e in entities)
        and not hashtags(text)
    )


@dataclass(slots=True)
class _Send:
    caller: Caller
    chat_id: int
    text: str
    entities: list[MessageEntity]
    random_id: int | None
    no_link_preview: bool
    done: asyncio.Future[messaging.Sent | None]


class SendBatcher:
    """Collects plain sends while a batch is being written and writes them as the next. One
    batch at a time keeps the sends' order (services/ordering.py); two at once measured no
    faster. Batches of other nodes lock rows in the same order (chats, then users, each by
    id), so they cannot deadlock with these."""

    # sends per transaction at most: bounds how long one batch holds its rows
    MAX_BATCH = 256

    def __init__(self, app: App) -> None:
        self._app = app
        self._queue: list[_Send] = []
        self._writer: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Sends waiting for the next batch."""
        return len(self._queue)

    async def send(
        self,
        caller: Caller,
        chat_id: int,
        text: str,
        entities: list[MessageEntity],
        random_id: int | None,
        no_link_preview: bool,
    ) -> messaging.Sent | None:
        """The sent message, or None: send it on the regular path."""
        done: asyncio.Future[messaging.Sent | None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Send(caller, chat_id, text, entities, random_id, no_link_preview, done))
        call_queued()  # the batch keeps the order of sends: the socket's next call may start
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())
        return await done

    async def _write_all(self) -> None:
        batch: list[_Send] = []
        try:
            while self._queue:
                batch = self._queue[: self.MAX_BATCH]
                del self._queue[: self.MAX_BATCH]
                await self._write(batch)
        finally:
            # Ended here and now, not in a later callback: a send queued from here on
            # starts the next writer.
            self._writer = None
            for s in [*batch, *self._queue]:  # only when cancelled: the node is stopping
                if not s.done.done():
                    s.done.set_result(None)
            self._queue.clear()

    async def _write(self, batch: list[_Send]) -> None:
        stored: list[tuple[_Send, Message, dict[int, int]]] = []
        try:
            stored = await self._store(batch)
        except Exception:
            # All or nothing: the transaction was rolled back, and each send goes alone.
            log.debug("a batch of %d sends fell back to sending alone", len(batch), exc_info=True)
            stored = []
        finally:
            taken = {id(s) for s, *_ in stored}
            for s in batch:  # what the batch did not store takes the regular path
                if id(s) not in taken and not s.done.done():
                    s.done.set_result(None)
        # Stored and committed: from here on a send is answered, never sent again.
        outbox = Outbox()
        for _, message, pts_by_user in stored:
            outbox.added("new_message", message.chat_id, {"message": message}, pts_by_user)
        outbox.publish(self._app.bus)
        for s, message, pts_by_user in stored:
            if s.done.done():
                continue
            pts = pts_by_user.get(s.caller.user_id)
            if pts is None:  # cannot be: the sender is an active member
                s.done.set_exception(HeliographError(ErrorCode.INTERNAL, "sender not a recipient"))
            else:
                s.done.set_result(messaging.Sent(message, pts, 1))

    async def _store(self, batch: list[_Send]) -> list[tuple[_Send, Message, dict[int, int]]]:
        """Write what the batch takes, in one transaction; each send stored, with its
        message and the pts of its update for each recipient."""
        app = self._app
        async with app.db.transaction() as tx:
            taken: list[tuple[_Send, ChatAccess]] = []
            random_ids: set[tuple[int, int]] = set()
            wanted = [(s.chat_id, s.caller.user_id) for s in batch]
            for s, rows in zip(batch, await chats.access_rows_many(tx, wanted), strict=True):
                if s.random_id is not None:
                    key = (s.caller.user_id, s.random_id)
                    if key in random_ids:  # the same send twice: the second is a retry
                        continue
                    random_ids.add(key)
                try:
                    access = access_of(s.caller, s.chat_id, rows)
                    if not _batchable(access):
                        continue
                    await messaging.check_sendable(
                        app, tx, s.caller, access, s.entities, None, False, None
                    )
                except HeliographError:
                    continue
                taken.append((s, access))
            if not taken:
                return []
            now = app.now()
            written = await send_batches.write(
                tx,
                [
                    PlainRow(
                        access.chat_id,
                        s.caller.user_id,
                        s.text,
                        orjson.dumps(s.entities).decode(),
                        normalize_for_search(s.text),
                        s.random_id,
                        s.no_link_preview,
                        access.member_ids,
                    )
                    for s, access in taken
                ],
                now,
            )
            # built before the commit: once it is made, nothing here may fail
            return [
                (
                    s,
                    Message(
                        id=message_id,
                        chat_id=access.chat_id,
                        sender_id=s.caller.user_id,
                        date=now,
                        text=s.text,
                        entities=s.entities,
                    ),
                    pts_by_user,
                )
                for (s, access), (message_id, pts_by_user) in zip(taken, written, strict=True)
            ]


def _batchable(access: ChatAccess) -> bool:
    if access.has_draft or access.is_large:
        return False
    if access.kind is ChatKind.PRIVATE:
        return True
    return access.kind is ChatKind.GROUP and not access.row["slow_mode_seconds"]


def batcher_of(app: App) -> SendBatcher:
    if app.send_batcher is None:
        app.send_batcher = SendBatcher(app)
    batcher: SendBatcher = app.send_batcher
    return batcher
