"""`catchup`: a fresh device (a new session, signed in with the password) loads a chat of
`history` messages with getHistory pages of 100, then, after `missed` messages arrived while
it was away, catches up with getDifference pages of 100. The device runs in a load process;
the messages are written beforehand over a WebSocket with many sends in flight."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.common import BENCH_PASSWORD, Api, bulk_users, fresh_store, split_cpus
from bench.scenarios import Outcome, ScenarioContext, fmt_latency, latency_ms
from bench.scenarios._load import CpuWindow, LoadGroup, WsClient


@dataclass(slots=True)
class CatchupOptions:
    history: int = 10_000
    missed: int = 1_000
    page: int = 100
    fill_window: int = 64  # sends in flight while writing the messages


async def fill(ws_url: str, token: str, chat_id: int, count: int, window: int, tag: str) -> float:
    """Send `count` messages over one WebSocket, `window` in flight; the seconds it took."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        client = WsClient()
        await client.connect(http, ws_url, token)
        gate = asyncio.Semaphore(window)

        async def one(n: int) -> None:
            async with gate:
                await client.call(
                    "sendMessage",
                    chat_id=chat_id,
                    text=f"{tag} {n}",
                    random_id=random.getrandbits(62),
                )

        await asyncio.gather(*(one(n) for n in range(count)))
        await client.close()
    return time.monotonic() - started


class CatchupJob:
    """The fresh device, in a load process."""

    def __init__(self, arg: dict[str, Any]) -> None:
        self.arg = arg
        self.api = Api(arg["url"])
        self.token = ""

    async def setup(self) -> int:
        await self.api.__aenter__()
        auth = await self.api.call(
            "signIn",
            None,
            username=self.arg["username"],
            password=self.arg["password"],
            device_name="bench fresh device",
        )
        self.token = auth["token"]
        state = await self.api.call("getState", self.token)
        pts: int = state["pts"]
        return pts

    async def round(self, p: dict[str, Any]) -> dict[str, Any]:
        pages: list[float] = []
        items = 0
        kinds: dict[str, int] = {}
        started = time.monotonic()
        if p["op"] == "history":
            offset: int | None = None
            while True:
                params: dict[str, Any] = {"chat_id": p["chat_id"], "limit": p["page"]}
                if offset is not None:
                    params["offset_id"] = offset
                t = time.monotonic()
                page = await self.api.call("getHistory", self.token, **params)
                pages.append(time.monotonic() - t)
                items += len(page)
                if len(page) < p["page"]:
                    break
                offset = page[0]["id"]  # oldest first
        else:
            pts = p["pts"]
            while True:
                t = time.monotonic()
                diff = await self.api.call("getDifference", self.token, pts=pts, limit=p["page"])
                pages.append(time.monotonic() - t)
                if diff.get("too_long"):
                    kinds["too_long"] = kinds.get("too_long", 0) + 1
                    break
                for update in diff["updates"]:
                    kinds[update["type"]] = kinds.get(update["type"], 0) + 1
                items += len(diff["updates"])
                pts = diff["state"]["pts"]
                if not diff.get("more"):
                    break
        return {
            "items": items,
            "seconds": time.monotonic() - started,
            "pages": pages,
            "kinds": kinds,
        }

    async def close(self) -> None:
        await self.api.__aexit__(None, None, None)


def make_job(arg: dict[str, Any]) -> CatchupJob:
    return CatchupJob(arg)


async def run_catchup(ctx: ScenarioContext, o: CatchupOptions) -> Outcome:
    server_cpus, load_cpus = split_cpus(ctx.pin, ctx.workers)
    async with fresh_store(ctx.store, None, ctx.postgres_url) as store:
        writer, reader = await bulk_users(store, 2, "cu")
        server = ctx.server(store, server_cpus)
        await server.start()
        group: LoadGroup | None = None
        try:
            async with Api(server.url) as api:
                chat_id = (await api.call("getPrivateChat", writer.token, user_id=reader.user_id))[
                    "id"
                ]
            fill_s = await fill(server.ws_url, writer.token, chat_id, o.history, o.fill_window, "h")
            arg = {
                "url": server.url,
                "username": "cu2",  # bulk-users names: <prefix><n>, n as wide as the count
                "password": BENCH_PASSWORD,
            }
            group = LoadGroup("bench.scenarios.catchup:make_job", [arg], load_cpus)
            (pts,) = await group.start()
            window = CpuWindow(server, store)
            window.start()
            (history,) = await group.round(
                {"op": "history", "chat_id": chat_id, "page": o.page}, 300
            )
            history_cpu = window.stop()
            await fill(server.ws_url, writer.token, chat_id, o.missed, o.fill_window, "m")
            window = CpuWindow(server, store)
            window.start()
            (difference,) = await group.round({"op": "difference", "pts": pts, "page": o.page}, 300)
            difference_cpu = window.stop()
        finally:
            if group is not None:
                await group.close()
            await server.stop()

    def rate(r: dict[str, Any]) -> float:
        return round(r["items"] / r["seconds"], 1) if r["seconds"] > 0 else 0.0

    record: dict[str, Any] = {
        "history_messages": history["items"],
        "history_expected": o.history,
        "history_seconds": round(history["seconds"], 3),
        "history_msgs_per_s": rate(history),
        "history_page_ms": latency_ms(history["pages"]),
        "difference_updates": difference["items"],
        "difference_expected": o.missed,
        "difference_kinds": difference["kinds"],
        "difference_seconds": round(difference["seconds"], 3),
        "difference_msgs_per_s": rate(difference),
        "difference_page_ms": latency_ms(difference["pages"]),
        "fill_msgs_per_s": round(o.history / fill_s, 1),
        "cpu_history": history_cpu.record(),
        "cpu_difference": difference_cpu.record(),
        "outside_cpu_pct": max(
            history_cpu.record()["outside_cpu_pct"], difference_cpu.record()["outside_cpu_pct"]
        ),
    }
    rows: list[tuple[str, object]] = [
        (
            "getHistory",
            f"{history['items']:,} of {o.history:,} messages in {history['seconds']:.2f} s:"
            f" {record['history_msgs_per_s']:,.0f} msgs/s ({len(history['pages'])} pages of"
            f" {o.page})",
        ),
        ("  page", fmt_latency(record["history_page_ms"])),
        (
            "getDifference",
            f"{difference['items']:,} updates (expected {o.missed:,}) in"
            f" {difference['seconds']:.2f} s: {record['difference_msgs_per_s']:,.0f}/s"
            f" ({len(difference['pages'])} pages); {difference['kinds']}",
        ),
        ("  page", fmt_latency(record["difference_page_ms"])),
        ("writing the history", f"{record['fill_msgs_per_s']:,.0f} msgs/s (64 in flight)"),
        (
            "outside CPU",
            f"history {history_cpu.record()['outside_cpu_pct']}%,"
            f" difference {difference_cpu.record()['outside_cpu_pct']}%",
        ),
    ]
    return Outcome("catchup", record, rows)
