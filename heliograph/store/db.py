"""The database interface and its two drivers.

Queries are written once with `?` placeholders in SQL that SQLite and PostgreSQL both accept;
the PostgreSQL driver rewrites the placeholders to `$n`. Rows allow access by column name.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

Row = Mapping[str, Any]
log = logging.getLogger(__name__)


def among(conn: Conn, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """The test of a column's membership in `values` (`WHERE m.id {test}`) and its arguments:
    `IN (?, ...)` on SQLite; on PostgreSQL `= ANY(?)` with one array (its type taken from the
    column), so that every length is one prepared statement: each length of a placeholder
    list was a statement of its own, planned afresh on its first executions and crowding the
    connection's statement cache."""
    if conn.dialect == "postgres":
        return "= ANY(?)", [list(values)]
    return f"IN ({','.join('?' * len(values))})", list(values)


class RetryableError(Exception):
    """The transaction lost a race (deadlock, serialisation failure, busy database) and was
    rolled back; running the same work again is safe."""


class Conn(Protocol):
    """One connection, inside a transaction or not."""

    # "sqlite" or "postgres": for the few statements written for each engine
    dialect: str

    async def execute(self, sql: str, *args: Any) -> int: ...
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...
    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...
    async def fetchval(self, sql: str, *args: Any) -> Any: ...


class Database(abc.ABC):
    dialect: str

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def transaction(self) -> Any:
        """`async with db.transaction() as tx:` commits on success, rolls back on error."""

    @abc.abstractmethod
    def read(self) -> Any:
        """`async with db.read() as conn:` a connection that sees committed data only."""


def open_database(url: str) -> Database:
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresDatabase(url)
    if url.startswith("sqlite:///"):
        return SqliteDatabase(url.removeprefix("sqlite:///"))
    if url == "sqlite://:memory:":
        return SqliteDatabase(":memory:")
    raise ValueError(f"unsupported database url {url!r}: use sqlite:///path or postgresql://...")


# --- SQLite ---------------------------------------------------------------------------------
#
# SQLite statements on small indexed data take microseconds, far less than a hop to a worker
# thread, so they run directly on the event loop. One connection writes (serialised by a lock,
# as SQLite serialises writers anyway); a second one reads, and in WAL mode it sees only
# committed data while a write transaction is open.


class _SqliteConn:
    __slots__ = ("_c",)
    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._c = connection

    async def execute(self, sql: str, *args: Any) -> int:
        return self._c.execute(sql, args).rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._c.executemany(sql, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        cursor = self._c.execute(sql, args)
        rows = cursor.fetchall()
        if not rows:
            return []
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in rows]

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        cursor = self._c.execute(sql, args)
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cursor.description], row, strict=True))

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = self._c.execute(sql, args).fetchone()
        return None if row is None else row[0]


_BUSY_SECONDS = 10.0


def _connect_sqlite(path: str, busy_ms: int = 5000) -> sqlite3.Connection:
    # Rows come back as tuples and are made dicts by _SqliteConn: sqlite3.Row finds a column
    # by comparing its name with each column's in turn, which costs more than the dict.
    c = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    c.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a power cut may lose the last commits but never corrupts the file.
    c.execute("PRAGMA synchronous=NORMAL")
    c.execute("PRAGMA foreign_keys=ON")
    c.execute(f"PRAGMA busy_timeout={busy_ms}")
    return c


class SqliteDatabase(Database):
    """SQLite with group commit: each transaction is a savepoint inside a shared write
    transaction, committed once for all of them when no other is waiting (or when the batch
    grows old or large). A transaction's `async with` ends only after that commit, so
    nothing is published before it is durable, while a burst of sends costs one commit."""

    dialect = "sqlite"
    # a batch is committed at once past this many transactions or this age
    BATCH_MAX = 64
    BATCH_SECONDS = 0.004
    # how often the write-ahead log is copied back into the database file, and the log's
    # size (in pages) past which writes pause for the copy to finish
    CHECKPOINT_SECONDS = 0.1
    CHECKPOINT_PAGES = 8000

    def __init__(self, path: str) -> None:
        self.path = path
        self._write_lock = asyncio.Lock()
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        # transactions released into the open batch, waiting for its commit
        self._waiting: list[asyncio.Future[None]] = []
        self._batch_started: float | None = None
        self._commit_scheduled = False
        self._checkpoints: asyncio.Task[None] | None = None
        self._commits = 0  # batches committed, for the checkpoints to know there is work

    async def open(self) -> None:
        if self.path == ":memory:":
            # An in-memory database is private to its connection: read through the writer.
            self._writer = self._reader = _connect_sqlite(self.path, busy_ms=0)
            return
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # The writer never waits inside SQLite (that would block the loop): see _begin.
        self._writer = _connect_sqlite(self.path, busy_ms=0)
        self._reader = _connect_sqlite(self.path)
        # Checkpoints are ours (see _checkpoint_forever), not SQLite's.
        self._writer.execute("PRAGMA wal_autocheckpoint=0")
        self._writer.execute(f"PRAGMA journal_size_limit={64 * 1024 * 1024}")
        self._checkpoints = asyncio.create_task(self._checkpoint_forever())

    async def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            await asyncio.gather(self._checkpoints, return_exceptions=True)
            self._checkpoints = None
        if self._batch_started is not None and self._writer is not None:
            self._commit()
        for c in {id(c): c for c in (self._reader, self._writer) if c is not None}.values():
            c.close()
        self._writer = self._reader = None

    async def _checkpoint_forever(self) -> None:
        """Copy the write-ahead log back into the database file. SQLite's own checkpoint runs
        inside the COMMIT that grows the log past 1,000 pages: on the event loop, copying and
        syncing all of it. Here a thread copies and syncs the bulk while writes go on; as the
        log starts again from its beginning only once all of it is copied, when it has grown
        long the writer then copies, between two batches, the little written meanwhile."""
        copied_after = -1
        while True:
            await asyncio.sleep(self.CHECKPOINT_SECONDS)
            if self._commits == copied_after:
                continue
            copied_after = self._commits
            try:
                if await asyncio.to_thread(_checkpoint, self.path) < self.CHECKPOINT_PAGES:
                    continue
                async with self._write_lock:
                    if self._batch_started is not None:
                        self._commit()
                    copied_after = self._commits
                    assert self._writer is not None
                    self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                log.exception("checkpoint of %s failed; trying again", self.path)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        assert self._writer is not None, "database is not open"
        writer = self._writer
        loop = asyncio.get_running_loop()
        async with self._write_lock:
            if self._batch_started is None:
                await self._begin(writer)
                self._batch_started = loop.time()
            writer.execute("SAVEPOINT tx")
            try:
                yield _SqliteConn(writer)
            except BaseException:
                self._undo(writer)
                raise
            writer.execute("RELEASE tx")
            committed = loop.create_future()
            self._waiting.append(committed)
            if (
                len(self._waiting) >= self.BATCH_MAX
                or loop.time() - self._batch_started >= self.BATCH_SECONDS
            ):
                self._commit()
            else:
                self._schedule_commit()
        if committed.done():
            # This transaction committed the batch itself: the earlier ones in it resume
            # first (their wake-ups are queued already), so what each publishes after its
            # commit leaves in the order the transactions ran: updates in pts order.
            await asyncio.sleep(0)
        await committed

    def _undo(self, writer: sqlite3.Connection) -> None:
        """Roll back one transaction, leaving the batch's others; if SQLite cannot, roll
        back the batch, whose transactions then fail as retryable."""
        try:
            writer.execute("ROLLBACK TO tx")
            writer.execute("RELEASE tx")
        except sqlite3.Error as e:
            if writer.in_transaction:
                writer.execute("ROLLBACK")
            self._finish(RetryableError(f"the batch was rolled back: {e}"))
            return
        if self._waiting:
            self._schedule_commit()
        else:  # nothing else in the batch: end it now rather than hold the write lock
            writer.execute("ROLLBACK")
            self._batch_started = None

    def _schedule_commit(self) -> None:
        if not self._commit_scheduled:
            self._commit_scheduled = True
            asyncio.get_running_loop().call_soon(self._commit_when_idle)

    def _commit_when_idle(self) -> None:
        self._commit_scheduled = False
        # A transaction under way will commit the batch (or schedule this again) as it ends.
        if self._batch_started is not None and not self._write_lock.locked():
            self._commit()

    def _commit(self) -> None:
        assert self._writer is not None
        try:
            self._writer.execute("COMMIT")
        except sqlite3.Error as e:
            if self._writer.in_transaction:
                self._writer.execute("ROLLBACK")
            self._finish(RetryableError(f"commit failed: {e}"))
            return
        self._finish(None)

    def _finish(self, error: Exception | None) -> None:
        waiting, self._waiting = self._waiting, []
        self._commits += 1
        self._batch_started = None
        for future in waiting:
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    @staticmethod
    async def _begin(writer: sqlite3.Connection) -> None:
        """Take the write lock. Another process (a worker of `serve --workers`) may hold it:
        wait for it without blocking the event loop."""
        delay = 0.0005
        deadline = asyncio.get_running_loop().time() + _BUSY_SECONDS
        while True:
            try:
                writer.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or asyncio.get_running_loop().time() > deadline:
                    raise RetryableError(str(e)) from e
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.02)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        assert self._reader is not None, "database is not open"
        if self._reader is self._writer:
            async with self._write_lock:
                yield _SqliteConn(self._reader)
        else:
            yield _SqliteConn(self._reader)


def _checkpoint(path: str) -> int:
    """Copy the write-ahead log into the database file as far as readers allow (PASSIVE: it
    never waits for, nor stops, readers or the writer); the log's length in pages."""
    c = _connect_sqlite(path, busy_ms=0)
    try:
        pages: int = c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    except sqlite3.OperationalError:  # another process's checkpoint is under way
        return 0
    finally:
        c.close()
    return max(pages, 0)


# --- PostgreSQL -----------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\?")


def to_postgres(sql: str) -> str:
    """Rewrite `?` placeholders as `$1, $2, ...`. Our SQL has no `?` inside literals."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


class _PgConn:
    __slots__ = ("_c", "_cache")
    dialect = "postgres"

    def __init__(self, connection: Any, cache: dict[str, str]) -> None:
        self._c = connection
        self._cache = cache

    def _sql(self, sql: str) -> str:
        translated = self._cache.get(sql)
        if translated is None:
            translated = self._cache[sql] = to_postgres(sql)
        return translated

    async def execute(self, sql: str, *args: Any) -> int:
        status: str = await self._c.execute(self._sql(sql), *args)
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._c.executemany(self._sql(sql), list(rows))

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows: list[Row] = await self._c.fetch(self._sql(sql), *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row: Row | None = await self._c.fetchrow(self._sql(sql), *args)
        return row

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return await self._c.fetchval(self._sql(sql), *args)


class PostgresDatabase(Database):
    dialect = "postgres"

    def __init__(self, url: str, min_size: int = 2, max_size: int = 20) -> None:
        self.url = url
        self._pool: Any = None
        self._sizes = (min_size, max_size)
        self._cache: dict[str, str] = {}

    async def open(self) -> None:
        import asyncpg

        self._pool = await asyncpg.create_pool(
            self.url, min_size=self._sizes[0], max_size=self._sizes[1]
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        import asyncpg

        assert self._pool is not None, "database is not open"
        try:
            async with self._pool.acquire() as c, c.transaction():
                yield _PgConn(c, self._cache)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError) as e:
            raise RetryableError(str(e)) from e

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        assert self._pool is not None, "database is not open"
        async with self._pool.acquire() as c:
            yield _PgConn(c, self._cache)
