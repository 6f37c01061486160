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

import orjson

from heliograph.domain.entities import ChatKind, Message, MessageEntity
from heliograph.domain.errors import HeliographError
from heliograph.domain.text import hashtags, normalize_for_search
from heliograph.services import messaging
from heliograph.services.chats import ChatAccess, access_of
from heliograph.services.context import App, Caller, Outbox
from heliograph.services.ordering import call_queued
from heliograph.store import chats, messages, updates

log = logging.getLogger(__name__)

# entities that notify someone beyond the chat's update (sent on the regular path)
_NOTIFYING = frozenset({"mention", "text_mention"})


def is_plain(text: str, entities: list[MessageEntity]) -> bool:
    """Whether a text message (no media, reply, keyboard or anonymity) may be batched."""
    return not any(e.type in _NOTIFYING for e in entities) and not hashtags(text)


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
        outbox = Outbox()
        results: list[messaging.Sent | None] = [None] * len(batch)
        try:
            results = await self._store(batch, outbox)
        except Exception:
            # All or nothing: the transaction was rolled back, and each send goes alone.
            log.debug("a batch of %d sends fell back to sending alone", len(batch), exc_info=True)
            results = [None] * len(batch)
        else:
            outbox.publish(self._app.bus)
        finally:
            for s, result in zip(batch, results, strict=True):
                if not s.done.done():
                    s.done.set_result(result)

    async def _store(self, batch: list[_Send], outbox: Outbox) -> list[messaging.Sent | None]:
        app = self._app
        results: list[messaging.Sent | None] = [None] * len(batch)
        async with app.db.transaction() as tx:
            taken: list[tuple[int, _Send, ChatAccess]] = []
            random_ids: set[tuple[int, int]] = set()
            wanted = [(s.chat_id, s.caller.user_id) for s in batch]
            for i, (s, rows) in enumerate(
                zip(batch, await chats.access_rows_many(tx, wanted), strict=True)
            ):
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
                taken.append((i, s, access))
            if not taken:
                return results
            now = app.now()
            ids = await messages.insert_plain_batch(
                tx,
                [
                    (
                        access.chat_id,
                        s.caller.user_id,
                        s.text,
                        orjson.dumps(s.entities).decode(),
                        normalize_for_search(s.text),
                        s.random_id,
                        s.no_link_preview,
                    )
                    for _, s, access in taken
                ],
                now,
            )
            positions = await updates.append_many(
                tx,
                [
                    (
                        access.member_ids,
                        "new_message",
                        access.chat_id,
                        orjson.dumps({"message_id": message_id}).decode(),
                    )
                    for (_, _, access), message_id in zip(taken, ids, strict=True)
                ],
                now,
            )
        for (i, s, access), message_id, pts_by_user in zip(taken, ids, positions, strict=True):
            message = Message(
                id=message_id,
                chat_id=access.chat_id,
                sender_id=s.caller.user_id,
                date=now,
                text=s.text,
                entities=s.entities,
            )
            outbox.added("new_message", access.chat_id, {"message": message}, pts_by_user)
            pts = pts_by_user.get(s.caller.user_id)
            if pts is not None:
                results[i] = messaging.Sent(message, pts, 1)
        return results


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
