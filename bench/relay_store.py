"""Storage for the bare relay (bench/relay.py `--writes`): the rows a private send makes in
Heliograph's own schema (the message, an update in each member's box, the chat's message
counter, both users' pts, the sender's read pointer), with the least Python around them. The
pairs load against it says what durable storage costs at the least, in two shapes:

- `each`: a send's statements one at a time, as the server makes them now (the chat read,
  counters advanced with `RETURNING`); on SQLite each send is a savepoint and every send of
  one event-loop turn shares a commit, on PostgreSQL each send is its own transaction;
- `batch`: the counters kept in memory, and all the sends that arrived meanwhile written
  together, one statement per table, in one transaction.

A relay's chat `c` has members `2c` and `2c + 1` (bench/relay.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from heliograph.store.db import open_database
from heliograph.store.migrate import migrate

# the columns a plain text message fills; the others keep their defaults
_COLUMNS = "chat_id, id, sender_id, date, text, entities, search_text, random_id"


@dataclass(slots=True)
class Send:
    call_id: Any
    writer: Any  # the sender's transport
    sender: int
    peer: int
    chat_id: int
    text: str
    random_id: int | None
    message_id: int = 0
    date: int = 0


Deliver = Callable[[Send], None]


async def prepare(url: str, pairs: int) -> None:
    """Heliograph's schema, and the users, chats and members of `pairs` private chats."""
    db = open_database(url)
    await db.open()
    try:
        await migrate(db)
        async with db.transaction() as tx:
            for chat_id in range(pairs):
                await tx.execute(
                    "INSERT INTO chats (id, kind, private_key, created_at, last_activity)"
                    " VALUES (?, 'private', ?, 0, 0)",
                    chat_id,
                    f"{2 * chat_id}:{2 * chat_id + 1}",
                )
                for user_id in (2 * chat_id, 2 * chat_id + 1):
                    await tx.execute(
                        "INSERT INTO users (id, display_name, password_hash, created_at)"
                        " VALUES (?, ?, '', 0)",
                        user_id,
                        f"u{user_id}",
                    )
                    await tx.execute(
                        "INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES (?, ?, 0)",
                        chat_id,
                        user_id,
                    )
    finally:
        await db.close()


def _message_row(s: Send) -> tuple[Any, ...]:
    return (s.chat_id, s.message_id, s.sender, s.date, s.text, "[]", s.text.lower(), s.random_id)


def _update_data(s: Send) -> str:
    return orjson.dumps({"message_id": s.message_id}).decode()


class Counters:
    """Each chat's last message id and each user's pts, kept in memory (`batch`): this
    relay is the database's only writer."""

    def __init__(self) -> None:
        self.message_ids: dict[int, int] = {}
        self.pts: dict[int, int] = {}

    def number(self, sends: Iterable[Send], now: int) -> list[tuple[Any, ...]]:
        """Give each send its message id and date; the update rows, in pts order."""
        updates = []
        for s in sends:
            s.message_id = self.message_ids.get(s.chat_id, 0) + 1
            s.date = now
            self.message_ids[s.chat_id] = s.message_id
            data = _update_data(s)
            for user_id in (s.sender, s.peer):
                pts = self.pts.get(user_id, 0) + 1
                self.pts[user_id] = pts
                updates.append((user_id, pts, "new_message", s.chat_id, data, now))
        return updates


# --- SQLite ---------------------------------------------------------------------------------


class SqliteWriter:
    def __init__(self, path: Path, batch: bool, deliver: Deliver) -> None:
        self._c = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self._c.execute(f"PRAGMA {pragma}")
        # copied back by a thread, as the server does (decision 0011)
        self._c.execute("PRAGMA wal_autocheckpoint=0")
        self._path = path
        self._batch = batch
        self._deliver = deliver
        self._pending: list[Send] = []
        self._counters = Counters()
        self._checkpoints: asyncio.Task[None] | None = None

    def add(self, s: Send) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
            if self._checkpoints is None:
                self._checkpoints = asyncio.create_task(self._checkpoint_forever())
            self._c.execute("BEGIN IMMEDIATE")
        if not self._batch:
            self._write_one(s)
        self._pending.append(s)

    def _write_one(self, s: Send) -> None:
        c = self._c
        c.execute("SAVEPOINT tx")
        c.execute(
            "SELECT c.*, m.role FROM chats c JOIN chat_members m"
            " ON m.chat_id = c.id AND m.user_id = ? WHERE c.id = ?",
            (s.sender, s.chat_id),
        ).fetchall()
        s.date = int(time.time())
        s.message_id = c.execute(
            "UPDATE chats SET last_message_id = last_message_id + 1, last_activity = ?"
            " WHERE id = ? RETURNING last_message_id",
            (s.date, s.chat_id),
        ).fetchone()[0]
        c.execute(f"INSERT INTO messages ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)", _message_row(s))
        c.execute(
            "UPDATE chat_members SET read_inbox_max_id = ?"
            " WHERE chat_id = ? AND user_id = ? AND read_inbox_max_id < ?",
            (s.message_id, s.chat_id, s.sender, s.message_id),
        )
        pts = c.execute(
            "UPDATE users SET pts = pts + 1 WHERE id IN (?, ?) RETURNING id, pts",
            (s.sender, s.peer),
        ).fetchall()
        data = _update_data(s)
        c.executemany(
            "INSERT INTO updates (user_id, pts, kind, chat_id, data, date) VALUES (?,?,?,?,?,?)",
            [(user_id, p, "new_message", s.chat_id, data, s.date) for user_id, p in pts],
        )
        c.execute("RELEASE tx")

    def _flush(self) -> None:
        sends, self._pending = self._pending, []
        if self._batch:
            self._write_all(sends)
        self._c.execute("COMMIT")
        for s in sends:
            self._deliver(s)

    def _write_all(self, sends: list[Send]) -> None:
        c = self._c
        now = int(time.time())
        updates = self._counters.number(sends, now)
        c.executemany(
            f"INSERT INTO messages ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)", map(_message_row, sends)
        )
        c.executemany(
            "INSERT INTO updates (user_id, pts, kind, chat_id, data, date) VALUES (?,?,?,?,?,?)",
            updates,
        )
        last = {s.chat_id: s.message_id for s in sends}
        c.executemany(
            "UPDATE chats SET last_message_id = ?, last_activity = ? WHERE id = ?",
            [(m, now, chat_id) for chat_id, m in last.items()],
        )
        touched = {u[0] for u in updates}
        c.executemany(
            "UPDATE users SET pts = ? WHERE id = ?",
            [(self._counters.pts[user_id], user_id) for user_id in touched],
        )
        c.executemany(
            "UPDATE chat_members SET read_inbox_max_id = ?"
            " WHERE chat_id = ? AND user_id = ? AND read_inbox_max_id < ?",
            [(s.message_id, s.chat_id, s.sender, s.message_id) for s in sends],
        )

    async def _checkpoint_forever(self) -> None:
        def checkpoint() -> None:
            c = sqlite3.connect(self._path)
            try:
                c.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                c.close()

        while True:
            await asyncio.sleep(0.1)
            await asyncio.to_thread(checkpoint)


# --- PostgreSQL -----------------------------------------------------------------------------

_INSERT_MESSAGES = (
    f"INSERT INTO messages ({_COLUMNS}) SELECT * FROM unnest($1::bigint[], $2::bigint[],"
    " $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::bigint[])"
)
_INSERT_UPDATES = (
    "INSERT INTO updates (user_id, pts, kind, chat_id, data, date) SELECT * FROM"
    " unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::text[], $6::bigint[])"
)


def _columns(rows: Iterable[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows turned into one list per column, for `unnest`."""
    return [list(column) for column in zip(*rows, strict=True)]


class PostgresWriter:
    def __init__(self, url: str, batch: bool, deliver: Deliver) -> None:
        self._url = url
        self._batch = batch
        self._deliver = deliver
        self._pool: Any = None
        self._pending: list[Send] = []
        self._flushing = False
        self._counters = Counters()
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, s: Send) -> None:
        if not self._batch:
            self._start(self._write_one(s))
            return
        self._pending.append(s)
        if not self._flushing:
            self._flushing = True
            self._start(self._flush())

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    async def _connections(self) -> Any:
        if self._pool is None:  # made once, by the first send, for all that follow it
            import asyncpg

            self._pool = asyncio.ensure_future(
                asyncpg.create_pool(self._url, min_size=20, max_size=20)
            )
        return await self._pool

    async def _write_one(self, s: Send) -> None:
        pool = await self._connections()
        async with pool.acquire() as c, c.transaction():
            await c.fetch(
                "SELECT c.*, m.role FROM chats c JOIN chat_members m"
                " ON m.chat_id = c.id AND m.user_id = $1 WHERE c.id = $2",
                s.sender,
                s.chat_id,
            )
            s.date = int(time.time())
            s.message_id = await c.fetchval(
                "UPDATE chats SET last_message_id = last_message_id + 1, last_activity = $1"
                " WHERE id = $2 RETURNING last_message_id",
                s.date,
                s.chat_id,
            )
            await c.execute(
                f"INSERT INTO messages ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                *_message_row(s),
            )
            await c.execute(
                "UPDATE chat_members SET read_inbox_max_id = $1"
                " WHERE chat_id = $2 AND user_id = $3 AND read_inbox_max_id < $1",
                s.message_id,
                s.chat_id,
                s.sender,
            )
            rows = await c.fetch(
                "UPDATE users SET pts = pts + 1 WHERE id = ANY($1) RETURNING id, pts",
                sorted((s.sender, s.peer)),
            )
            data = _update_data(s)
            await c.executemany(
                "INSERT INTO updates (user_id, pts, kind, chat_id, data, date)"
                " VALUES ($1, $2, 'new_message', $3, $4, $5)",
                [(r["id"], r["pts"], s.chat_id, data, s.date) for r in rows],
            )
        self._deliver(s)

    async def _flush(self) -> None:
        pool = await self._connections()
        while self._pending:
            sends, self._pending = self._pending, []
            now = int(time.time())
            updates = self._counters.number(sends, now)
            last = {s.chat_id: s.message_id for s in sends}
            pts = {u[0]: u[1] for u in updates}
            async with pool.acquire() as c, c.transaction():
                await c.execute(_INSERT_MESSAGES, *_columns(map(_message_row, sends)))
                await c.execute(_INSERT_UPDATES, *_columns(updates))
                await c.execute(
                    "UPDATE chats c SET last_message_id = v.m, last_activity = $3"
                    " FROM unnest($1::bigint[], $2::bigint[]) v(id, m) WHERE c.id = v.id",
                    list(last),
                    list(last.values()),
                    now,
                )
                await c.execute(
                    "UPDATE users u SET pts = v.p"
                    " FROM unnest($1::bigint[], $2::bigint[]) v(id, p) WHERE u.id = v.id",
                    list(pts),
                    list(pts.values()),
                )
                await c.execute(
                    "UPDATE chat_members m SET read_inbox_max_id = v.m"
                    " FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) v(c, u, m)"
                    " WHERE m.chat_id = v.c AND m.user_id = v.u AND m.read_inbox_max_id < v.m",
                    [s.chat_id for s in sends],
                    [s.sender for s in sends],
                    [s.message_id for s in sends],
                )
            for s in sends:
                self._deliver(s)
        self._flushing = False
