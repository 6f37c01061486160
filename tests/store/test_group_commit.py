"""SQLite's group commit: transactions share one commit, and resume after it in the order
they ran, so what each publishes afterwards (its updates) leaves in pts order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from heliograph.store.db import SqliteDatabase


@pytest.mark.parametrize("batch_max", [2, 3, 64])
async def test_transactions_of_a_batch_resume_in_the_order_they_ran(
    tmp_path: Path, batch_max: int
) -> None:
    db = SqliteDatabase(str(tmp_path / "db.sqlite"))
    db.BATCH_MAX = batch_max  # with 2 or 3 the last one commits the batch itself
    await db.open()
    try:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (n INTEGER)")
        resumed: list[int] = []

        async def write(n: int) -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (n) VALUES (?)", n)
            resumed.append(n)

        await asyncio.gather(*(write(n) for n in range(batch_max)))
        assert resumed == list(range(batch_max))
        async with db.read() as conn:
            assert await conn.fetchval("SELECT COUNT(*) FROM t") == batch_max
    finally:
        await db.close()
