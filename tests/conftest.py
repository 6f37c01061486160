"""Shared fixtures: a real server on a free port, on SQLite or PostgreSQL.

Tests that take the `server` fixture run once per store. PostgreSQL is reached at
HELIOGRAPH_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test); each test run
creates a database of its own there and drops it at the end."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from heliograph.config import Config, load_config
from heliograph.gateway.ratelimit import Rate
from heliograph.server import Server
from heliograph.services.passwords import use_fast_hashing_for_tests

use_fast_hashing_for_tests()

POSTGRES_ADMIN_URL = os.environ.get(
    "HELIOGRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
STORES = ["sqlite", "postgres"]
# Generous rates, so tests meet the limits only where they test them.
TEST_RATES = {name: Rate(10_000, 10_000) for name in ("default", "send", "typing", "poll", "auth")}


def _in_thread(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion outside any running event loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own on the PostgreSQL server."""
    import asyncpg

    name = f"heliograph_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    _in_thread(admin(f'CREATE DATABASE "{name}"'))
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    _in_thread(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'schema_migrations'"
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            # A server of the previous test may still be finishing a transaction: TRUNCATE
            # locks every table, and PostgreSQL may end either side as a deadlock. Again.
            for attempt in range(5):
                try:
                    await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                    break
                except asyncpg.DeadlockDetectedError:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.1)
    finally:
        await conn.close()


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_config(store: str, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Build a Config for this test's store; keyword arguments override fields."""

    def build(**overrides: object) -> Config:
        database_url = ""
        if store == "postgres":
            database_url = request.getfixturevalue("postgres_url")
        base = load_config(
            env={}, data_dir=str(tmp_path / "data"), port=0, database_url=database_url or None
        )
        settings: dict[str, Any] = {"rates": dict(TEST_RATES), "shutdown_timeout": 2.0}
        return replace(base, **{**settings, **overrides})

    return build


@pytest.fixture
async def server(make_config, store: str) -> AsyncIterator[Server]:  # type: ignore[no-untyped-def]
    """A running server with a fresh, empty store."""
    config = make_config()
    if store == "postgres":
        await _reset_postgres(config.database_url)
    srv = Server(config)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


def base_url(srv: Server) -> str:
    return f"http://127.0.0.1:{srv.port}"
