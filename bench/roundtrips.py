"""Database statements per client call: what each common call costs the store.

    .venv/bin/python -m bench.roundtrips --store sqlite|postgres

On PostgreSQL every statement, and each transaction's BEGIN and COMMIT, is one network round
trip, so this count is what bounds a node's sends per second there; on SQLite it is a good
proxy for the CPU a call spends in the database. The server runs in this process (counting
needs its connections) and is driven over the real HTTP API; nothing else runs meanwhile, so
each count is exact and the same on every run and every machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from bench.common import (
    BENCH_PASSWORD,
    Account,
    Api,
    emit_json,
    fresh_store,
    machine_facts,
    print_table,
)
from heliograph.config import load_config
from heliograph.gateway.ratelimit import DEFAULT_RATES, Rate
from heliograph.server import Server
from heliograph.store import db

_STATEMENTS = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


@dataclass
class Tally:
    statements: int = 0
    transactions: int = 0
    reads: int = 0


@contextlib.contextmanager
def counting() -> Iterator[Tally]:
    """Count every statement, transaction and read of both engines while inside."""
    tally = Tally()
    saved: list[tuple[type, str, Any]] = []

    def wrap_statement(cls: type, name: str) -> None:
        original = getattr(cls, name)

        async def counted(self: Any, *args: Any) -> Any:
            tally.statements += 1
            return await original(self, *args)

        saved.append((cls, name, original))
        setattr(cls, name, counted)

    def wrap_context(cls: type, name: str, field: str) -> None:
        original = getattr(cls, name)

        @contextlib.asynccontextmanager
        async def counted(self: Any) -> AsyncIterator[Any]:
            setattr(tally, field, getattr(tally, field) + 1)
            async with original(self) as conn:
                yield conn

        saved.append((cls, name, original))
        setattr(cls, name, counted)

    for conn_class in (db._SqliteConn, db._PgConn):
        for name in _STATEMENTS:
            wrap_statement(conn_class, name)
    for database in (db.SqliteDatabase, db.PostgresDatabase):
        wrap_context(database, "transaction", "transactions")
        wrap_context(database, "read", "reads")
    try:
        yield tally
    finally:
        for cls, name, original in reversed(saved):
            setattr(cls, name, original)


async def _measure(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, float, float]:
    """Statements, transactions and reads per call, averaged over `repeat` calls."""
    with counting() as tally:
        for _ in range(repeat):
            await call()
    return (tally.statements / repeat, tally.transactions / repeat, tally.reads / repeat)


async def run(store_kind: str, repeat: int, json_path: str | None) -> dict[str, Any]:
    async with fresh_store(store_kind) as store:
        base = load_config(
            env={},
            data_dir=str(store.data_dir),
            port=0,
            database_url=store.database_url or None,
        )
        # no rate limits: the counts are what is measured, not the throttling
        config = replace(base, rates={name: Rate(1e9, 1e9) for name in DEFAULT_RATES})
        server = Server(config)
        await server.start()
        try:
            results = await _scenarios(server, store_kind, repeat)
        finally:
            await server.stop()
    rows: list[tuple[str, object]] = []
    for name, (statements, transactions, reads) in results.items():
        trips = statements + (2 * transactions if store_kind == "postgres" else 0)
        rows.append(
            (
                name,
                f"{statements:5.1f} statements in {transactions:.1f} transactions"
                f" + {reads:.1f} reads; {trips:5.1f} round trips on PostgreSQL"
                if store_kind == "postgres"
                else f"{statements:5.1f} statements in {transactions:.1f} transactions"
                f" + {reads:.1f} reads",
            )
        )
    print_table(f"database work per call: {store_kind}", rows)
    record = {
        "scenario": "roundtrips",
        "store": store_kind,
        "repeat": repeat,
        "calls": {
            name: {
                "statements": round(s, 2),
                "transactions": round(t, 2),
                "reads": round(r, 2),
                "round_trips": round(s + (2 * t if store_kind == "postgres" else 0), 2),
            }
            for name, (s, t, r) in results.items()
        },
        "machine": machine_facts(),
    }
    emit_json(record, json_path)
    return record


async def _sign_up(api: Api, name: str) -> Account:
    auth = await api.call(
        "signUp", username=name, password=BENCH_PASSWORD, display_name=name.title()
    )
    return Account(auth["account"]["id"], auth["token"])


async def _scenarios(
    server: Server, store_kind: str, repeat: int
) -> dict[str, tuple[float, float, float]]:
    url = f"http://127.0.0.1:{server.port}"
    async with Api(url) as api:
        alice = await _sign_up(api, "alice")
        bob = await _sign_up(api, "bob")
        members = [await _sign_up(api, f"member{n}") for n in range(8)]
        chat = (await api.call("getPrivateChat", alice.token, user_id=bob.user_id))["id"]
        group = (
            await api.call(
                "createGroup",
                alice.token,
                title="Ten",
                user_ids=[bob.user_id, *(m.user_id for m in members)],
            )
        )["id"]
        channel = (await api.call("createChannel", alice.token, title="News"))["id"]
        await api.call("addChatMembers", alice.token, chat_id=channel, user_ids=[bob.user_id])
        counter = iter(range(1, 10**9))

        async def private() -> None:
            await api.call(
                "sendMessage", alice.token, chat_id=chat, text="hi", random_id=next(counter)
            )

        async def in_group() -> None:
            await api.call("sendMessage", alice.token, chat_id=group, text="hello all")

        async def post() -> None:
            await api.call("sendMessage", alice.token, chat_id=channel, text="news")

        last = {"id": 0}

        async def read() -> None:
            sent = await api.call("sendMessage", bob.token, chat_id=chat, text="read me")
            last["id"] = sent["message"]["id"]

        async def mark_read() -> None:
            await api.call("readHistory", alice.token, chat_id=chat, max_id=last["id"])

        async def history() -> None:
            await api.call("getHistory", alice.token, chat_id=chat, limit=50)

        async def difference() -> None:
            await api.call("getDifference", bob.token, pts=0, limit=100)

        async def get_me() -> None:
            await api.call("getMe", alice.token)

        results: dict[str, tuple[float, float, float]] = {}
        results["sendMessage, private chat (with random_id)"] = await _measure(private, repeat)
        results["sendMessage, group of 10"] = await _measure(in_group, repeat)
        results["sendMessage, channel post"] = await _measure(post, repeat)
        await read()
        results["readHistory"] = await _measure(mark_read, 1)
        results["getHistory, 50 messages"] = await _measure(history, repeat)
        results["getDifference, 100 updates"] = await _measure(difference, repeat)
        results["getMe"] = await _measure(get_me, repeat)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.roundtrips", description=__doc__)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", help="also append the JSON line to this file")
    args = parser.parse_args()
    asyncio.run(run(args.store, args.repeat, args.json))


if __name__ == "__main__":
    main()
