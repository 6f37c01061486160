"""`heliograph admin bulk-users` and `heliograph admin bulk-add-members`: the operator's bulk
path, for moving a community in and for benchmarks.

bulk-users creates N users `<prefix><n>` (n zero-padded, from 1) sharing one argon2id hash
computed once, many rows per INSERT, a few thousand users per transaction (so a running
server waits at most a moment for the write lock). With `--sessions-file` it also opens one
session per user and writes `user_id<TAB>token` lines there (mode 0600: the tokens are
credentials); the sessions are stored like any other, as the SHA-256 of the token.

bulk-add-members reads user ids (the first field of each line, so a sessions file will do)
and adds them to a group or channel through `groups.bulk_add_members`, without service
messages: the new members are not told, and their sockets already open do not follow the
chat until they reconnect.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from heliograph.bus import Bus
from heliograph.config import Config, load_config
from heliograph.domain.errors import ErrorCode, HeliographError
from heliograph.domain.text import canonical_username
from heliograph.store.db import Conn, Database

# Rows per INSERT statement: 7 parameters a row stays far below SQLite's 32,766 and
# PostgreSQL's 32,767 bound parameters.
ROWS_PER_STATEMENT = 1000
# Users (and their sessions) per transaction.
USERS_PER_TRANSACTION = 5000
SESSION_DEVICE = "bulk-users"
SESSION_CLIENT = "heliograph admin"
T = TypeVar("T")


def add_commands(admin_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the bulk subcommands to `heliograph admin` (they get the server options there)."""
    users = admin_sub.add_parser(
        "bulk-users", help="create many users sharing one password (operators, benchmarks)"
    )
    users.add_argument("--count", type=int, required=True, help="how many users to create")
    users.add_argument(
        "--prefix", required=True, help="usernames are <prefix><n>, n zero-padded from 1"
    )
    users.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    users.add_argument(
        "--sessions-file", help="open a session per user; write user_id<TAB>token lines here"
    )
    users.set_defaults(run=run)
    add = admin_sub.add_parser(
        "bulk-add-members", help="add many users to a group or channel, without service messages"
    )
    add.add_argument("chat_id", type=int)
    add.add_argument(
        "--user-ids-file",
        required=True,
        help="one user id per line (the first field counts: a sessions file will do); - is stdin",
    )
    add.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, data_dir=args.data_dir, database_url=args.database_url)
    try:
        if args.admin_command == "bulk-users":
            from heliograph.cli.main import read_password

            if args.count < 1:
                raise SystemExit("--count must be at least 1")
            password = read_password(args.password_stdin)
            return asyncio.run(
                _bulk_users(config, args.count, args.prefix, password, args.sessions_file)
            )
        return asyncio.run(_bulk_add(config, args.chat_id, read_user_ids(args.user_ids_file)))
    except OSError as e:  # the sessions file or the ids file
        print(f"error: {e.filename or ''}: {e.strerror or e}")
        return 1


def read_user_ids(path: str) -> list[int]:
    """User ids from the first field of each non-empty line, in order, without repeats."""
    import sys

    text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    ids: dict[int, None] = {}
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            ids[int(fields[0])] = None
        except ValueError:
            raise SystemExit(f"{path}:{number}: not a user id: {fields[0]!r}") from None
    return list(ids)


def usernames(prefix: str, count: int) -> list[str]:
    width = len(str(count))
    return [f"{prefix}{n:0{width}d}" for n in range(1, count + 1)]


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _open(config: Config) -> tuple[Database, Bus]:
    from heliograph.bus import create_bus
    from heliograph.store.db import open_database
    from heliograph.store.migrate import migrate

    db = open_database(config.effective_database_url)
    await db.open()
    bus = create_bus(config.bus_url or None)
    try:
        await migrate(db)
        await bus.start()
    except BaseException:
        await db.close()
        raise
    return db, bus


# --- bulk-users -----------------------------------------------------------------------------


async def _bulk_users(
    config: Config, count: int, prefix: str, password: str, sessions_file: str | None
) -> int:
    from heliograph.services.passwords import hash_password

    limits = config.limits
    if not limits.password_min <= len(password) <= limits.password_max:
        print(
            f"error: PASSWORD_TOO_WEAK: a password has {limits.password_min} to"
            f" {limits.password_max} characters"
        )
        return 1
    names = usernames(prefix, count)
    try:
        # Every name is the prefix and digits of one width: the first and last stand for all.
        for name in (names[0], names[-1]):
            canonical_username(name, limits)
    except HeliographError as e:
        print(f"error: {e.code.name}: {e.message} (with prefix {prefix!r} and {count} users)")
        return 1
    started = time.perf_counter()
    # Opened first, so a path we cannot write fails before anything is created.
    tokens_out = _open_private(sessions_file) if sessions_file else None
    try:
        password_hash = await hash_password(password)  # once: the users share it
        db, bus = await _open(config)
        try:
            created = await create_users(db, names, password_hash, sessions=tokens_out is not None)
        except HeliographError as e:
            print(f"error: {e.code.name}: {e.message}")
            return 1
        finally:
            await bus.close()
            await db.close()
        if tokens_out is not None:
            tokens_out.writelines(f"{user_id}\t{token}\n" for user_id, token in created)
    finally:
        if tokens_out is not None:
            tokens_out.close()
    elapsed = time.perf_counter() - started
    ids = [user_id for user_id, _ in created]
    what = f"created {len(ids)} users {names[0]}..{names[-1]} (ids {min(ids)}..{max(ids)})"
    if sessions_file:
        what += f" with a session each (tokens in {sessions_file})"
    print(f"{what} in {elapsed:.1f} s")
    return 0


async def create_users(
    db: Database, names: list[str], password_hash: str, *, sessions: bool
) -> list[tuple[int, str]]:
    """Insert the users (and a session each when asked); returns (user_id, token) in the order
    of `names`, token "" without sessions. Refuses, changing nothing, if any name is taken."""
    from heliograph.services.tokens import new_token, token_hash

    keys = [name.lower() for name in names]
    async with db.read() as conn:
        taken = await _taken_usernames(conn, keys)
    if taken:
        raise HeliographError(
            ErrorCode.USERNAME_OCCUPIED,
            f"{len(taken)} of these usernames are taken (first: {taken[0]}); choose another prefix",
        )
    created: list[tuple[int, str]] = []
    for batch in _chunks(range(len(names)), USERS_PER_TRANSACTION):
        now = int(time.time())
        async with db.transaction() as tx:
            ids_by_key: dict[str, int] = {}
            for span in _chunks(batch, ROWS_PER_STATEMENT):
                ids_by_key.update(
                    await _insert_users(tx, [(names[i], keys[i]) for i in span], password_hash, now)
                )
            ids = [ids_by_key[keys[i]] for i in batch]
            tokens = [new_token() for _ in ids] if sessions else [""] * len(ids)
            if sessions:
                rows = list(zip(ids, (token_hash(t) for t in tokens), strict=True))
                for part in _chunks(rows, ROWS_PER_STATEMENT):
                    await _insert_sessions(tx, part, now)
        created += zip(ids, tokens, strict=True)
    await refresh_statistics(db, "users", "sessions")
    return created


async def refresh_statistics(db: Database, *tables: str) -> None:
    """After a bulk load, let PostgreSQL's planner see the new sizes now rather than whenever
    autovacuum gets to it: without statistics it plans a 100,000-member chat as a handful of
    rows (getChatMembers then reads every member for each page). SQLite keeps no statistics
    unless ANALYZE was run once, so it is left alone."""
    if db.dialect == "postgres":
        async with db.transaction() as tx:
            await tx.execute(f"ANALYZE {', '.join(tables)}")


def _open_private(path: str) -> TextIO:
    """A file for `user_id<TAB>token` lines, readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")


# The operator's bulk path: multi-row SQL kept here rather than in the store, because only
# this command writes users and sessions this way. Same columns and values as
# store.users.insert and store.sessions.insert.


async def _taken_usernames(conn: Conn, keys: list[str]) -> list[str]:
    taken: list[str] = []
    for part in _chunks(keys, ROWS_PER_STATEMENT):
        marks = ",".join("?" * len(part))
        rows = await conn.fetch(
            f"SELECT username_key FROM users WHERE username_key IN ({marks})", *part
        )
        taken += sorted(r["username_key"] for r in rows)
    return taken


async def _insert_users(
    tx: Conn, names: list[tuple[str, str]], password_hash: str, now: int
) -> dict[str, int]:
    """Insert users (name, key) in one statement; returns their ids by key (RETURNING gives
    rows in no promised order, so they are matched by key)."""
    marks = ",".join("(?, ?, ?, ?, ?, ?)" for _ in names)
    args: list[Any] = []
    for name, key in names:
        args += [name, key, name, password_hash, now, now]
    rows = await tx.fetch(
        "INSERT INTO users (username, username_key, display_name, password_hash, created_at,"
        f" last_seen_at) VALUES {marks} RETURNING id, username_key",
        *args,
    )
    return {r["username_key"]: r["id"] for r in rows}


async def _insert_sessions(tx: Conn, rows: Sequence[tuple[int, bytes]], now: int) -> None:
    marks = ",".join("(?, ?, ?, ?, ?, ?, ?)" for _ in rows)
    args: list[Any] = []
    for user_id, digest in rows:
        args += [user_id, digest, SESSION_DEVICE, SESSION_CLIENT, "", now, now]
    await tx.execute(
        "INSERT INTO sessions (user_id, token_hash, device_name, client, ip, created_at,"
        f" last_active_at) VALUES {marks}",
        *args,
    )


async def _missing_users(conn: Conn, user_ids: list[int]) -> list[int]:
    missing: list[int] = []
    for part in _chunks(user_ids, ROWS_PER_STATEMENT):
        marks = ",".join("?" * len(part))
        rows = await conn.fetch(
            f"SELECT id FROM users WHERE id IN ({marks}) AND deleted = 0", *part
        )
        found = {r["id"] for r in rows}
        missing += [u for u in part if u not in found]
    return missing


# --- bulk-add-members -----------------------------------------------------------------------


async def _bulk_add(config: Config, chat_id: int, user_ids: list[int]) -> int:
    from heliograph.services import groups
    from heliograph.services.context import App, Settings

    if not user_ids:
        print("error: INVALID_PARAMS: no user ids given")
        return 1
    started = time.perf_counter()
    db, bus = await _open(config)
    try:
        app = App(
            db=db,
            bus=bus,
            limits=config.limits,
            settings=Settings(large_chat_threshold=config.large_chat_threshold),
        )
        async with db.read() as conn:
            missing = await _missing_users(conn, user_ids)
        if missing:
            raise HeliographError(
                ErrorCode.USER_NOT_FOUND,
                f"{len(missing)} of the users do not exist (first: {missing[0]}); nothing added",
            )
        added = await groups.bulk_add_members(app, chat_id, user_ids)
        await refresh_statistics(db, "chat_members", "chats")
    except HeliographError as e:
        print(f"error: {e.code.name}: {e.message}")
        return 1
    finally:
        await bus.close()
        await db.close()
    elapsed = time.perf_counter() - started
    print(
        f"added {added} members to chat {chat_id}"
        f" ({len(user_ids) - added} were already there) in {elapsed:.1f} s"
    )
    return 0
