"""SQLite's write-ahead log is copied back into the database file by the server itself
(off the event loop): under continuous writes the log keeps starting over instead of
growing, and what was committed reaches the database file."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from heliograph.store.db import SqliteDatabase

ROW = b"x" * 3000  # about one page a row


def log_pages(path: Path) -> int:
    """The log's length in pages, as a separate connection sees it."""
    c = sqlite3.connect(path)
    try:
        pages: int = c.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        return pages
    finally:
        c.close()


async def test_continuous_writes_keep_the_log_short(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    db = SqliteDatabase(str(path))
    db.CHECKPOINT_SECONDS = 0.01
    db.CHECKPOINT_PAGES = 100
    await db.open()
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body BLOB)")
        written = 0
        loop = asyncio.get_running_loop()
        until = loop.time() + 1.0
        while loop.time() < until or written < 2000:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (n, body) VALUES (?, ?)", written, ROW)
            written += 1
        # Without checkpoints the log would hold a page or more for every row written.
        assert log_pages(path) < written / 2
        async with db.read() as conn:
            assert await conn.fetchval("SELECT COUNT(*) FROM t") == written
    finally:
        await db.close()


async def test_committed_rows_reach_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    db = SqliteDatabase(str(path))
    db.CHECKPOINT_SECONDS = 0.01
    await db.open()
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body BLOB)")
        for n in range(50):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (n, body) VALUES (?, ?)", n, ROW)
        await asyncio.sleep(0.2)  # a few checkpoint intervals, no writes meanwhile
        # The database file alone, without its log, has every row.
        copy = tmp_path / "copy.sqlite"
        shutil.copyfile(path, copy)
        c = sqlite3.connect(copy)
        try:
            assert c.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 50
        finally:
            c.close()
    finally:
        await db.close()


async def test_close_stops_the_checkpoints(tmp_path: Path) -> None:
    db = SqliteDatabase(str(tmp_path / "db.sqlite"))
    await db.open()
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t (n INTEGER)")
    await db.close()
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not [t for t in others if "checkpoint" in repr(t.get_coro())]
