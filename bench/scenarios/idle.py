"""`idle`: many authenticated WebSockets that do nothing, spread over load processes: the
server's resident memory (VmRSS of every server process) before and after, and per socket."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench.common import ClientPool, Watch, bulk_users, fresh_store, split_cpus
from bench.scenarios import Outcome, ScenarioContext
from bench.scenarios._load import CpuWindow, server_rss_kib


@dataclass(slots=True)
class IdleOptions:
    connections: int = 10_000
    load_processes: int = 4
    settle: float = 3.0  # seconds to wait after connecting before reading memory


async def run_idle(ctx: ScenarioContext, o: IdleOptions) -> Outcome:
    server_cpus, load_cpus = split_cpus(ctx.pin, ctx.workers)
    async with fresh_store(ctx.store, None, ctx.postgres_url) as store:
        accounts = await bulk_users(store, o.connections, "idle")
        server = ctx.server(store, server_cpus)
        await server.start()
        pool: ClientPool | None = None
        try:
            # Warm the server (first call paths, caches) with a few sockets, so "before" is
            # a running server and not a cold one.
            warm = ClientPool(server.ws_url, [a.token for a in accounts[:20]], Watch(0, "-"))
            await warm.start()
            await warm.stop()
            await asyncio.sleep(1.0)
            before = server_rss_kib(server)
            window = CpuWindow(server, store)
            window.start()
            pool = ClientPool(
                server.ws_url,
                [a.token for a in accounts],
                Watch(0, "-"),
                processes=o.load_processes,
                cpus=load_cpus,
                connect_concurrency=64,
            )
            ready = await pool.start(within=300.0)
            connect_cpu = window.stop()
            await asyncio.sleep(o.settle)
            idle_window = CpuWindow(server, store)
            idle_window.start()
            await asyncio.sleep(2.0)
            idle_cpu = idle_window.stop()
            after = server_rss_kib(server)
            t = time.monotonic()
            receipts = await pool.stop()
            pool = None
            close_s = time.monotonic() - t
        finally:
            if pool is not None:
                await pool.stop()
            await server.stop()
    per = (after - before) / ready.connected if ready.connected else 0.0
    record: dict[str, Any] = {
        "connections": o.connections,
        "connected": ready.connected,
        "failed": ready.failed,
        "first_error": ready.first_error,
        "connect_s": round(ready.seconds, 2),
        "connects_per_s": round(ready.connected / ready.seconds, 1) if ready.seconds else 0.0,
        "closed_by_server": receipts.closed,
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_connection": round(per, 2),
        "server_cpu_ms_per_connect": round(1000 * connect_cpu.server / ready.connected, 3)
        if ready.connected
        else 0.0,
        "idle_server_cpu_pct": idle_cpu.pct(idle_cpu.server),
        "close_s": round(close_s, 2),
        "outside_cpu_pct": connect_cpu.record()["outside_cpu_pct"],
        "cpu_connect": connect_cpu.record(),
    }
    rows: list[tuple[str, object]] = [
        (
            "sockets",
            f"{ready.connected:,} of {o.connections:,} connected in {ready.seconds:.1f} s"
            f" ({record['connects_per_s']:,.0f}/s, {record['server_cpu_ms_per_connect']} ms"
            f" server CPU each); {ready.failed} failed {ready.first_error}",
        ),
        (
            "server RSS",
            f"{before / 1024:,.1f} MiB before, {after / 1024:,.1f} MiB after:"
            f" {per:.1f} KiB per connection",
        ),
        ("idle server CPU", f"{record['idle_server_cpu_pct']}% with all sockets open"),
        ("outside CPU", f"{record['outside_cpu_pct']}% while connecting"),
    ]
    return Outcome("idle", record, rows)
