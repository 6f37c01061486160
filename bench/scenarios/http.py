"""`http`: a cheap authenticated method (getMe) over HTTP keep-alive, `clients` concurrent
clients (closed loop, each waiting for its answer) in load processes: requests a second and
latency."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.common import bulk_users, fresh_store, split_cpus
from bench.scenarios import Outcome, ScenarioContext, fmt_latency, latency_ms
from bench.scenarios._load import CpuWindow, LoadGroup, spread


@dataclass(slots=True)
class HttpOptions:
    clients: int = 64
    duration: float = 10.0
    load_processes: int = 2
    method: str = "getMe"


class HttpJob:
    def __init__(self, arg: dict[str, Any]) -> None:
        self.url: str = arg["url"]
        self.tokens: list[str] = arg["tokens"]
        self.method: str = arg["method"]
        self.http: aiohttp.ClientSession | None = None

    async def setup(self) -> int:
        self.http = aiohttp.ClientSession(
            self.url, connector=aiohttp.TCPConnector(limit=0, force_close=False)
        )
        return len(self.tokens)

    async def round(self, p: dict[str, Any]) -> dict[str, Any]:
        assert self.http is not None
        http = self.http
        start, end = p["start"], p["start"] + p["duration"]
        latencies: list[float] = []
        errors = 0
        first_error = ""

        async def client(token: str) -> None:
            nonlocal errors, first_error
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            await asyncio.sleep(max(0.0, start - time.monotonic()))
            while True:
                t = time.monotonic()
                if t >= end:
                    return
                async with http.post(f"/api/{self.method}", data=b"{}", headers=headers) as r:
                    body = await r.read()
                if r.status == 200 and b'"ok":true' in body:
                    latencies.append(time.monotonic() - t)
                else:
                    errors += 1
                    first_error = first_error or body[:200].decode(errors="replace")

        await asyncio.gather(*(client(t) for t in self.tokens))
        return {"latencies": latencies, "errors": errors, "first_error": first_error}

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()


def make_job(arg: dict[str, Any]) -> HttpJob:
    return HttpJob(arg)


async def run_http(ctx: ScenarioContext, o: HttpOptions) -> Outcome:
    server_cpus, load_cpus = split_cpus(ctx.pin, ctx.workers)
    async with fresh_store(ctx.store, None, ctx.postgres_url) as store:
        accounts = await bulk_users(store, o.clients, "http")
        server = ctx.server(store, server_cpus)
        await server.start()
        group: LoadGroup | None = None
        try:
            args = [
                {"url": server.url, "tokens": part, "method": o.method}
                for part in spread([a.token for a in accounts], o.load_processes)
            ]
            group = LoadGroup("bench.scenarios.http:make_job", args, load_cpus)
            await group.start()
            window = CpuWindow(server, store)
            window.start()
            start = time.monotonic() + 0.3
            results = await group.round({"start": start, "duration": o.duration}, o.duration + 60)
            cpu = window.stop()
        finally:
            if group is not None:
                await group.close()
            await server.stop()
    latencies = [x for r in results for x in r["latencies"]]
    errors = sum(r["errors"] for r in results)
    record: dict[str, Any] = {
        "method": o.method,
        "clients": o.clients,
        "duration_s": o.duration,
        "requests": len(latencies),
        "errors": errors,
        "first_error": next((r["first_error"] for r in results if r["first_error"]), ""),
        "requests_per_s": round(len(latencies) / o.duration, 1),
        "latency_ms": latency_ms(latencies),
        "server_cpu_us_per_request": round(1e6 * cpu.server / len(latencies), 1)
        if latencies
        else 0.0,
        **cpu.record(),
    }
    rows: list[tuple[str, object]] = [
        (
            o.method,
            f"{record['requests_per_s']:,.0f} requests/s with {o.clients} clients"
            f" ({errors} errors), server {record['server_cpu_pct']}%"
            f" ({record['server_cpu_us_per_request']} µs a request)",
        ),
        ("  latency", fmt_latency(record["latency_ms"])),
        ("outside CPU", f"{record['outside_cpu_pct']}%"),
    ]
    return Outcome("http", record, rows)
