"""`pairs`: users in private chats, each sender keeping up to `window` sendMessage calls in
flight on its WebSocket, each receiver on a WebSocket of its own.

Open loop: sender i's message n is scheduled at start + (n + i / pairs) / rate and sent at
that time if fewer than `window` are in flight (else as soon as one is answered); latency is
receive time minus SCHEDULED time, so a server that stalls cannot hide the stall by slowing
the senders down. Two phases on the same sockets: a saturating rate (far above what one
server can take) gives the most accepted messages a second; half of that gives the latency.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.common import Api, ServerProcess, Store, bulk_users, fresh_store, split_cpus
from bench.scenarios import Outcome, ScenarioContext, fmt_latency, latency_ms
from bench.scenarios._load import CpuFigures, CpuWindow, LoadGroup, WsClient, spread


@dataclass(slots=True)
class PairsOptions:
    pairs: int = 24
    window: int = 4  # sendMessage calls in flight per sender
    saturate_rate: float = 400.0  # per sender, messages a second: more than the server takes
    duration: float = 10.0  # seconds of sending per phase
    drain: float = 20.0  # after a phase, wait at most this for answers and deliveries
    load_processes: int = 2
    half_rate: float | None = None  # per sender; default half of the measured maximum


@dataclass(slots=True)
class Pair:
    index: int
    sender_token: str
    receiver_token: str
    chat_id: int


# --- in the load processes ------------------------------------------------------------------


@dataclass(slots=True)
class _PairState:
    pair: Pair
    sender: WsClient
    receiver: WsClient
    prefix: str = ""
    scheduled: dict[int, float] = field(default_factory=dict)
    accepted: set[int] = field(default_factory=set)
    answered_at: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    received: dict[int, float] = field(default_factory=dict)
    duplicates: int = 0

    def on_update(self, update: dict[str, Any], now: float) -> None:
        if update.get("type") != "new_message" or update.get("chat_id") != self.pair.chat_id:
            return
        text = (update.get("message") or {}).get("text", "")
        if not self.prefix or not text.startswith(self.prefix):
            return
        key = int(text[len(self.prefix) :])
        if key in self.received:
            self.duplicates += 1
        else:
            self.received[key] = now


class PairsJob:
    def __init__(self, arg: dict[str, Any]) -> None:
        self.ws_url: str = arg["ws_url"]
        self.pairs: list[Pair] = arg["pairs"]
        self.total_pairs: int = arg["total_pairs"]
        self.states: list[_PairState] = []
        self.http: aiohttp.ClientSession | None = None
        self.rounds = 0

    async def setup(self) -> int:
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        for pair in self.pairs:
            state = _PairState(pair, WsClient(), WsClient())
            state.receiver.on_update = state.on_update
            await state.sender.connect(self.http, self.ws_url, pair.sender_token)
            await state.receiver.connect(self.http, self.ws_url, pair.receiver_token)
            self.states.append(state)
        return len(self.states)

    async def round(self, p: dict[str, Any]) -> dict[str, Any]:
        self.rounds += 1
        start, end, rate, window = p["start"], p["start"] + p["duration"], p["rate"], p["window"]
        for s in self.states:
            s.prefix = f"r{self.rounds}:"
            s.scheduled, s.accepted, s.answered_at, s.received = {}, set(), [], {}
            s.errors, s.duplicates, s.first_error = 0, 0, ""
        await asyncio.gather(*(self._send(s, start, end, rate, window) for s in self.states))
        deadline = time.monotonic() + p["drain"]
        while time.monotonic() < deadline:
            if all(len(s.received) >= len(s.accepted) for s in self.states):
                break
            await asyncio.sleep(0.05)
        latencies: list[float] = []
        missing = unexpected = 0
        for s in self.states:
            for key, at in s.received.items():
                if key in s.accepted:
                    latencies.append(at - s.scheduled[key])
                else:
                    unexpected += 1
            missing += len(s.accepted - s.received.keys())
        answers = [t for s in self.states for t in s.answered_at]
        receipts = [t for s in self.states for t in s.received.values()]
        return {
            "scheduled": sum(len(s.scheduled) for s in self.states),
            "accepted": sum(len(s.accepted) for s in self.states),
            "accepted_in_window": sum(1 for t in answers if t <= end),
            "delivered": sum(len(s.received) for s in self.states),
            "delivered_in_window": sum(1 for t in receipts if t <= end),
            "duplicates": sum(s.duplicates for s in self.states),
            "missing": missing,
            "unexpected": unexpected,
            "errors": sum(s.errors for s in self.states),
            "first_error": next((s.first_error for s in self.states if s.first_error), ""),
            "last_answer": max(answers, default=start),
            "last_receipt": max(receipts, default=start),
            "latencies": latencies,
            "closed_by_server": sum(
                s.sender.closed_by_server + s.receiver.closed_by_server for s in self.states
            ),
        }

    async def _send(
        self, s: _PairState, start: float, end: float, rate: float, window: int
    ) -> None:
        gate = asyncio.Semaphore(window)
        offset = s.pair.index / self.total_pairs / rate
        pending: list[asyncio.Future[Any]] = []
        n = 0
        while True:
            at = start + offset + n / rate
            if at > end:
                break
            await gate.acquire()
            now = time.monotonic()
            if now > end:
                gate.release()
                break
            if at > now:
                await asyncio.sleep(at - now)
            key = n
            s.scheduled[key] = at
            future = s.sender.send(
                "sendMessage",
                {
                    "chat_id": s.pair.chat_id,
                    "text": f"{s.prefix}{key}",
                    "random_id": random.getrandbits(62),
                },
            )

            def done(f: asyncio.Future[Any], key: int = key) -> None:
                gate.release()
                if f.exception() is None:
                    s.accepted.add(key)
                    s.answered_at.append(time.monotonic())
                else:
                    s.errors += 1
                    s.first_error = s.first_error or repr(f.exception())

            future.add_done_callback(done)
            pending.append(future)
            n += 1
        if pending:
            await asyncio.wait(pending, timeout=30)

    async def close(self) -> None:
        for s in self.states:
            await s.sender.close()
            await s.receiver.close()
        if self.http is not None:
            await self.http.close()


def make_job(arg: dict[str, Any]) -> PairsJob:
    return PairsJob(arg)


# --- in the harness -------------------------------------------------------------------------


def _phase(
    results: list[dict[str, Any]], start: float, duration: float, rate: float, pairs: int
) -> dict[str, Any]:
    total = {k: sum(r[k] for r in results) for k in results[0] if isinstance(results[0][k], int)}
    latencies = [x for r in results for x in r["latencies"]]
    accept_wall = max(r["last_answer"] for r in results) - start
    deliver_wall = max(r["last_receipt"] for r in results) - start
    return {
        **total,
        "offered_per_s": round(rate * pairs, 1),
        "accepted_per_s": round(total["accepted_in_window"] / duration, 1),
        "accepted_per_s_overall": round(total["accepted"] / accept_wall, 1)
        if accept_wall > 0
        else 0.0,
        "delivered_per_s": round(total["delivered_in_window"] / duration, 1),
        "delivered_per_s_overall": round(total["delivered"] / deliver_wall, 1)
        if deliver_wall > 0
        else 0.0,
        "exactly_once": total["delivered"] == total["accepted"]
        and total["duplicates"] == 0
        and total["missing"] == 0
        and total["unexpected"] == 0,
        "latency_ms": latency_ms(latencies),
        "first_error": next((r["first_error"] for r in results if r["first_error"]), ""),
    }


async def run_pairs(ctx: ScenarioContext, o: PairsOptions) -> Outcome:
    server_cpus, load_cpus = split_cpus(ctx.pin, ctx.workers)
    async with fresh_store(ctx.store, None, ctx.postgres_url) as store:
        accounts = await bulk_users(store, 2 * o.pairs, "pair")
        server = ctx.server(store, server_cpus)
        await server.start()
        try:
            pairs: list[Pair] = []
            async with Api(server.url) as api:
                for i in range(o.pairs):
                    a, b = accounts[2 * i], accounts[2 * i + 1]
                    chat = await api.call("getPrivateChat", a.token, user_id=b.user_id)
                    pairs.append(Pair(i, a.token, b.token, chat["id"]))
            connected, phases, cpu_records = await measure_pairs(server, store, pairs, load_cpus, o)
        finally:
            await server.stop()
    return pairs_outcome("pairs", o, connected, phases, cpu_records)


async def measure_pairs(
    server: ServerProcess,
    store: Store,
    pairs: list[Pair],
    load_cpus: set[int] | None,
    o: PairsOptions,
) -> tuple[int, dict[str, Any], dict[str, CpuFigures]]:
    """The two phases (saturating, then half that rate) against a running server."""
    args = [
        {"ws_url": server.ws_url, "pairs": part, "total_pairs": o.pairs}
        for part in spread(pairs, o.load_processes)
    ]
    group = LoadGroup("bench.scenarios.pairs:make_job", args, load_cpus)
    try:
        connected = sum(await group.start())
        phases: dict[str, Any] = {}
        cpu_records: dict[str, CpuFigures] = {}
        rate = o.saturate_rate
        for name in ("saturate", "half"):
            if name == "half":
                maximum = phases["saturate"]["accepted_per_s"] / o.pairs
                rate = o.half_rate or max(0.5, maximum / 2)
            window = CpuWindow(server, store)
            window.start()
            start = time.monotonic() + 0.3
            params = {
                "start": start,
                "duration": o.duration,
                "rate": rate,
                "window": o.window,
                "drain": o.drain,
            }
            results = await group.round(params, o.duration + o.drain + 60)
            cpu = window.stop()
            phase = _phase(results, start, o.duration, rate, o.pairs)
            phase["server_cpu_s_per_1000_msgs"] = (
                round(1000 * cpu.server / phase["accepted"], 3) if phase["accepted"] else 0.0
            )
            phase["per_sender_rate"] = round(rate, 2)
            phase["cpu"] = cpu.record()
            phases[name] = phase
            cpu_records[name] = cpu
    finally:
        await group.close()
    return connected, phases, cpu_records


def pairs_outcome(
    scenario: str,
    o: PairsOptions,
    connected: int,
    phases: dict[str, Any],
    cpu_records: dict[str, CpuFigures],
) -> Outcome:
    sat, half = phases["saturate"], phases["half"]
    record = {
        "scenario": scenario,
        "pairs": o.pairs,
        "connected_sockets": connected,
        "window": o.window,
        "duration_s": o.duration,
        "max_accepted_per_s": sat["accepted_per_s"],
        "max_delivered_per_s": sat["delivered_per_s"],
        "half_rate_offered_per_s": half["offered_per_s"],
        "half_accepted_per_s": half["accepted_per_s"],
        "half_delivered_per_s": half["delivered_per_s"],
        "half_latency_ms": half["latency_ms"],
        "server_cpu_s_per_1000_msgs": sat["server_cpu_s_per_1000_msgs"],
        "exactly_once": sat["exactly_once"] and half["exactly_once"],
        # the server took clearly less than offered: the maximum is the server's, not ours
        "saturated": sat["accepted_per_s"] < 0.9 * sat["offered_per_s"],
        "outside_cpu_pct": max(c.record()["outside_cpu_pct"] for c in cpu_records.values()),
        "phases": phases,
    }

    rows: list[tuple[str, object]] = [
        ("sockets", f"{connected * 2} ({o.pairs} pairs, window {o.window})"),
        (
            "saturating",
            f"offered {sat['offered_per_s']:,.0f}/s: accepted {sat['accepted_per_s']:,.0f}/s,"
            f" delivered {sat['delivered_per_s']:,.0f}/s, server CPU"
            f" {sat['server_cpu_s_per_1000_msgs']} s per 1,000 msgs"
            f" ({sat['cpu']['server_cpu_pct']}%; saturated: {record['saturated']})",
        ),
        ("  latency (saturated)", fmt_latency(sat["latency_ms"])),
        (
            "half rate",
            f"offered {half['offered_per_s']:,.0f}/s: accepted {half['accepted_per_s']:,.0f}/s,"
            f" delivered {half['delivered_per_s']:,.0f}/s, server CPU"
            f" {half['server_cpu_s_per_1000_msgs']} s per 1,000 msgs",
        ),
        ("  latency from schedule", fmt_latency(half["latency_ms"])),
        (
            "exactly once",
            f"{record['exactly_once']} (sat: {sat['delivered']}/{sat['accepted']} delivered,"
            f" {sat['duplicates']} dup, {sat['errors']} errors; half: {half['delivered']}/"
            f"{half['accepted']}, {half['duplicates']} dup, {half['errors']} errors)",
        ),
        (
            "outside CPU",
            f"sat {sat['cpu']['outside_cpu_pct']}%, half {half['cpu']['outside_cpu_pct']}%",
        ),
    ]
    return Outcome(scenario, record, rows)
