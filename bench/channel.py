"""Channel fan-out: an owner posts at a steady rate to a channel of many subscribers, some of
them online; what it costs (DESIGN.md §2: a post is written once, into the channel's box).

Measured, on a real `heliograph serve` with the WebSocket clients in load processes of their
own (pinned away from the server's core when there are two cores or more):

- for each post, the time from its scheduled send time until the LAST online subscriber has
  it (and the first), as p50 / p99 / max over the posts. Posts go out open-loop at their
  scheduled times, whatever the answers, so a slow server shows as latency;
- deliveries a second: online × posts over the wall time of the delivery phase (from the
  first scheduled send to the last receipt). At a rate the server keeps up with this is the
  offered load; raise --rate to find where it stops keeping up;
- rows written per post, counted in every table before and after the posts, for this
  channel and for a channel of one subscriber: the two must be equal;
- the time for the owner to page the whole member list with getChatMembers (200 a page).

Run: .venv/bin/python -m bench.channel --store sqlite --subscribers 100000 --online 1000 \
         --posts 200
Prints a table and one JSON line `{"scenario": "channel", ...}`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    POSTGRES_ADMIN_URL,
    Api,
    ClientPool,
    Receipts,
    ServerProcess,
    Store,
    Watch,
    bulk_add_members,
    bulk_users,
    count_rows,
    cpu_seconds,
    emit_json,
    fresh_store,
    machine_busy_seconds,
    machine_facts,
    print_table,
    row_delta,
    split_cpus,
    summary_ms,
)

SCENARIO = "channel"


@dataclass(slots=True)
class ChannelOptions:
    store: str = "sqlite"
    subscribers: int = 100_000
    online: int = 1_000
    posts: int = 200
    rate: float = 20.0  # posts a second
    load_processes: int = 1
    server_workers: int = 1  # `serve --workers`
    pin: bool = True  # server on core 0, load processes on the others
    page_limit: int = 200
    delivery_timeout: float = 60.0  # after the last post, wait at most this for deliveries
    workdir: str | None = None  # kept when given
    postgres_admin_url: str = POSTGRES_ADMIN_URL
    py_spy: str | None = None  # profile the server while posting (.svg, .json or .txt)


@dataclass(slots=True)
class ChannelResult:
    options: ChannelOptions
    machine: dict[str, Any]
    setup_seconds: dict[str, float] = field(default_factory=dict)
    connected: int = 0
    connect_failed: int = 0
    connect_error: str = ""
    receipts: Receipts = field(default_factory=Receipts)
    scheduled: list[float] = field(default_factory=list)
    send_seconds: list[float] = field(default_factory=list)  # scheduled time → answer
    server_cpu_seconds: float = 0.0  # during the delivery phase
    postgres_cpu_seconds: float = 0.0
    load_cpu_seconds: float = 0.0
    bench_cpu_seconds: float = 0.0  # this process (posting)
    machine_cpu_seconds: float = 0.0  # every process of the machine
    cpu_window_seconds: float = 0.0  # wall time the CPU figures were taken over
    rows_many: dict[str, int] = field(default_factory=dict)  # row deltas, all subscribers
    rows_one: dict[str, int] = field(default_factory=dict)  # row deltas, one subscriber
    members_listed: int = 0
    member_pages: int = 0
    paging_seconds: float = 0.0
    page_seconds: list[float] = field(default_factory=list)

    @property
    def expected(self) -> int:
        return self.options.online * self.options.posts

    @property
    def delivered(self) -> int:
        return self.receipts.total

    @property
    def incomplete_posts(self) -> int:
        """Posts some online subscriber never got."""
        count = self.receipts.count
        online = self.options.online
        return sum(1 for n in range(self.options.posts) if count.get(n, 0) < online)

    def latencies(self, which: str) -> list[float]:
        """Per post received by every online subscriber: `last` (or `first`) receipt time
        minus the post's scheduled send time, in seconds."""
        times = self.receipts.last if which == "last" else self.receipts.first
        return [
            times[n] - self.scheduled[n]
            for n in range(len(self.scheduled))
            if self.receipts.count.get(n, 0) >= self.options.online and n in times
        ]

    @property
    def delivery_seconds(self) -> float:
        if not self.scheduled or not self.receipts.last:
            return 0.0
        return max(self.receipts.last.values()) - self.scheduled[0]

    @property
    def deliveries_per_second(self) -> float:
        wall = self.delivery_seconds
        return self.delivered / wall if wall > 0 else 0.0

    def rows_per_post(self, rows: dict[str, int]) -> float:
        return sum(rows.values()) / self.options.posts

    @property
    def outside_cpu_seconds(self) -> float:
        ours = (
            self.server_cpu_seconds
            + self.load_cpu_seconds
            + self.bench_cpu_seconds
            + self.postgres_cpu_seconds
        )
        return max(0.0, self.machine_cpu_seconds - ours)

    @property
    def rows_equal(self) -> bool:
        return self.rows_many == self.rows_one

    def record(self) -> dict[str, Any]:
        o = self.options
        wall = self.delivery_seconds
        return {
            "scenario": SCENARIO,
            "store": o.store,
            "subscribers": o.subscribers,
            "online": o.online,
            "connected": self.connected,
            "posts": o.posts,
            "rate": o.rate,
            "load_processes": o.load_processes,
            "server_workers": o.server_workers,
            "latency_last_ms": summary_ms(self.latencies("last")),
            "latency_first_ms": summary_ms(self.latencies("first")),
            "send_answer_ms": summary_ms(self.send_seconds),
            "delivered": self.delivered,
            "expected": self.expected,
            "incomplete_posts": self.incomplete_posts,
            "duplicates": self.receipts.duplicates,
            "pts_gaps": self.receipts.gaps,
            "sockets_closed_by_server": self.receipts.closed,
            "delivery_seconds": round(wall, 3),
            "deliveries_per_s": round(self.deliveries_per_second, 1),
            "server_cpu_pct": _pct(self.server_cpu_seconds, self.cpu_window_seconds),
            # CPU time, so other work on the machine hardly changes it: 1e6 / this is about
            # the deliveries a second one fully busy server process could make
            "server_cpu_us_per_delivery": round(
                1e6 * self.server_cpu_seconds / self.delivered if self.delivered else 0.0, 1
            ),
            "postgres_cpu_pct": _pct(self.postgres_cpu_seconds, self.cpu_window_seconds),
            "load_cpu_pct": _pct(self.load_cpu_seconds, self.cpu_window_seconds),
            # other work on the machine at the time (other users, not this benchmark): when
            # this is high the latencies are not to be trusted
            "outside_cpu_pct": _pct(self.outside_cpu_seconds, self.cpu_window_seconds),
            "rows_per_post": {
                "subscribers": self.rows_per_post(self.rows_many),
                "one_subscriber": self.rows_per_post(self.rows_one),
                "equal": self.rows_equal,
                "by_table": {t: n / o.posts for t, n in self.rows_many.items()},
            },
            "members_paging": {
                "members": self.members_listed,
                "pages": self.member_pages,
                "seconds": round(self.paging_seconds, 3),
                "page_ms": summary_ms(self.page_seconds),
            },
            "setup_seconds": {k: round(v, 2) for k, v in self.setup_seconds.items()},
            "machine": self.machine,
        }


def _pct(cpu: float, wall: float) -> float:
    return round(100 * cpu / wall, 1) if wall > 0 else 0.0


# --- the run --------------------------------------------------------------------------------


async def run_channel(options: ChannelOptions) -> ChannelResult:
    o = options
    if not 1 <= o.online <= o.subscribers:
        raise ValueError("--online must be between 1 and --subscribers")
    result = ChannelResult(o, machine_facts())
    server_cpus, load_cpus = split_cpus(o.pin, o.server_workers)
    async with fresh_store(o.store, o.workdir, o.postgres_admin_url) as store:
        started = time.monotonic()
        accounts = await bulk_users(store, o.subscribers + 1, "bench")
        result.setup_seconds["bulk_users"] = time.monotonic() - started
        owner, subscribers = accounts[0], accounts[1:]
        server = ServerProcess(store, server_cpus, o.server_workers)
        await server.start()
        pool: ClientPool | None = None
        try:
            async with Api(server.url) as api:
                many = (await api.call("createChannel", owner.token, title="Bench channel"))["id"]
                one = (await api.call("createChannel", owner.token, title="Bench one"))["id"]
                started = time.monotonic()
                await bulk_add_members(store, many, [a.user_id for a in subscribers])
                result.setup_seconds["bulk_add_members"] = time.monotonic() - started
                await bulk_add_members(store, one, [subscribers[-1].user_id])

                step = len(subscribers) / o.online
                online = [subscribers[int(i * step)] for i in range(o.online)]
                prefix = "bench post "
                pool = ClientPool(
                    server.ws_url,
                    [a.token for a in online],
                    Watch(chat_id=many, text_prefix=prefix, box=many),
                    processes=o.load_processes,
                    cpus=load_cpus,
                )
                ready = await pool.start()
                result.setup_seconds["connect"] = ready.seconds
                result.connected, result.connect_failed = ready.connected, ready.failed
                result.connect_error = ready.first_error

                before = await count_rows(store)
                async with _py_spy(server.pid, o.py_spy):
                    cpu = _CpuMeter(server, store, pool)
                    await cpu.start()
                    result.scheduled, result.send_seconds = await post_steadily(
                        api, owner.token, many, prefix, o.posts, o.rate
                    )
                    await pool.wait_for(result.expected, o.delivery_timeout)
                    await cpu.stop(result)
                middle = await count_rows(store)
                await post_steadily(api, owner.token, one, "bench solo ", o.posts, o.rate)
                after = await count_rows(store)
                result.rows_many = row_delta(before, middle)
                result.rows_one = row_delta(middle, after)

                result.receipts = await pool.stop()
                pool = None
                await page_members(api, owner.token, many, o.page_limit, result)
        finally:
            if pool is not None:
                with contextlib.suppress(Exception):
                    await pool.stop()
            await server.stop()
    return result


async def post_steadily(
    api: Api, token: str, chat_id: int, prefix: str, posts: int, rate: float
) -> tuple[list[float], list[float]]:
    """Send post n (text `<prefix><n>`) at start + n / rate, not waiting for earlier answers.
    Returns the scheduled times and, per post, the time from schedule to answer."""
    start = time.monotonic() + 0.05
    scheduled = [start + n / rate for n in range(posts)]
    answered = [0.0] * posts

    async def send(n: int) -> None:
        await api.call("sendMessage", token, chat_id=chat_id, text=f"{prefix}{n}")
        answered[n] = time.monotonic() - scheduled[n]

    tasks = []
    for n, at in enumerate(scheduled):
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(n)))
    await asyncio.gather(*tasks)
    return scheduled, answered


async def page_members(
    api: Api, token: str, chat_id: int, limit: int, result: ChannelResult
) -> None:
    """Page the whole member list as its owner: getChatMembers, `after_user_id` paging."""
    after = 0
    started = time.monotonic()
    while True:
        t = time.monotonic()
        page = await api.call(
            "getChatMembers", token, chat_id=chat_id, limit=limit, after_user_id=after
        )
        result.page_seconds.append(time.monotonic() - t)
        result.members_listed += len(page)
        result.member_pages += 1
        if len(page) < limit:
            break
        after = page[-1]["user_id"]
    result.paging_seconds = time.monotonic() - started


class _CpuMeter:
    """CPU seconds of the server, PostgreSQL and the load processes over the delivery phase."""

    def __init__(self, server: ServerProcess, store: Store, pool: ClientPool) -> None:
        self.server = server
        self.store = store
        self.pool = pool
        self._start = (0.0, 0.0, 0.0, 0.0, 0.0)
        self._since = 0.0

    async def _sample(self) -> tuple[float, float, float, float, float]:
        postgres = _postgres_cpu() if self.store.kind == "postgres" else 0.0
        _, load = await self.pool.progress()
        server, bench = self.server.cpu_seconds(), cpu_seconds(os.getpid())
        return server, postgres, load, bench, machine_busy_seconds()

    async def start(self) -> None:
        self._start = await self._sample()
        self._since = time.monotonic()

    async def stop(self, result: ChannelResult) -> None:
        end = await self._sample()
        result.cpu_window_seconds = time.monotonic() - self._since
        result.server_cpu_seconds = end[0] - self._start[0]
        result.postgres_cpu_seconds = end[1] - self._start[1]
        result.load_cpu_seconds = end[2] - self._start[2]
        result.bench_cpu_seconds = end[3] - self._start[3]
        result.machine_cpu_seconds = end[4] - self._start[4]


def _postgres_cpu() -> float:
    """CPU seconds of every `postgres` process on the machine (other users' included)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
    return total


@contextlib.asynccontextmanager
async def _py_spy(pid: int, output: str | None) -> Any:
    """Record the server with py-spy while the block runs (if asked); needs `pip install
    py-spy` in the environment and the right to ptrace the server."""
    if not output:
        yield
        return
    binary = Path(sys.executable).with_name("py-spy")
    fmt = {".svg": "flamegraph", ".json": "speedscope"}.get(Path(output).suffix, "raw")
    process = await asyncio.create_subprocess_exec(
        str(binary),
        "record",
        "--pid",
        str(pid),
        "--output",
        output,
        "--format",
        fmt,
        "--rate",
        "250",
        "--idle",  # blocking calls too (the event loop waiting shows as its select call)
        "--subprocesses",  # the workers of `serve --workers`
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(1.0)  # let it attach
    try:
        yield
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 30)


# --- the report -----------------------------------------------------------------------------


def report(result: ChannelResult) -> None:
    o, r, m = result.options, result.record(), result.machine
    last, first, send = r["latency_last_ms"], r["latency_first_ms"], r["send_answer_ms"]
    rows = r["rows_per_post"]
    paging = r["members_paging"]
    setup = r["setup_seconds"]

    def ms(s: dict[str, float]) -> str:
        if not s.get("n"):
            return "-"
        return f"p50 {s['p50']:.1f}  p99 {s['p99']:.1f}  max {s['max']:.1f} ms"

    print_table(
        f"Channel fan-out: {o.store}, {o.subscribers:,} subscribers, {o.online:,} online,"
        f" {o.posts} posts at {o.rate:g}/s"
        + (f", {o.server_workers} server workers" if o.server_workers > 1 else ""),
        [
            ("machine", f"{m['nproc']} × {m['cpu']}, {m['mem_gib']} GiB, Python {m['python']}"),
            (
                "setup",
                f"bulk users+sessions {setup.get('bulk_users', 0):.1f} s, bulk add"
                f" {setup.get('bulk_add_members', 0):.1f} s, connect {result.connected:,}"
                f" sockets {setup.get('connect', 0):.1f} s"
                + (
                    f" ({result.connect_failed} failed: {result.connect_error})"
                    if result.connect_failed
                    else ""
                ),
            ),
            ("until last subscriber has it", ms(last)),
            ("until first subscriber has it", ms(first)),
            ("sendMessage answered", ms(send)),
            (
                "delivered",
                f"{r['delivered']:,} of {r['expected']:,} ({r['incomplete_posts']} posts"
                f" incomplete, {r['duplicates']} duplicates, {r['pts_gaps']} pts gaps,"
                f" {r['sockets_closed_by_server']} sockets closed)",
            ),
            (
                "deliveries per second",
                f"{r['deliveries_per_s']:,.0f} over {r['delivery_seconds']:.2f} s"
                f" (offered {o.online * o.rate:,.0f}/s)",
            ),
            (
                "CPU in the delivery phase",
                f"server {r['server_cpu_pct']}% ({r['server_cpu_us_per_delivery']} µs a"
                f" delivery), load {r['load_cpu_pct']}%"
                + (f", postgres {r['postgres_cpu_pct']}%" if o.store == "postgres" else "")
                + f"; other work on the machine {r['outside_cpu_pct']}% of a core",
            ),
            (
                "rows written per post",
                f"{rows['subscribers']:g} with {o.subscribers:,} subscribers,"
                f" {rows['one_subscriber']:g} with 1 subscriber"
                f" ({'equal' if rows['equal'] else 'NOT EQUAL'})",
            ),
            (
                "  by table",
                ", ".join(f"{t} {n:g}" for t, n in rows["by_table"].items()) or "-",
            ),
            (
                "page the member list",
                f"{paging['members']:,} members in {paging['pages']} pages of {o.page_limit},"
                f" {paging['seconds']:.2f} s (page {ms(paging['page_ms'])})",
            ),
        ],
    )
    if not rows["equal"]:
        print(f"  rows, all subscribers: {result.rows_many}\n  rows, one: {result.rows_one}")


def parse_args(argv: list[str] | None = None) -> tuple[ChannelOptions, str | None]:
    d = ChannelOptions()
    p = argparse.ArgumentParser(prog="python -m bench.channel", description=__doc__.split("\n")[0])
    p.add_argument("--store", choices=["sqlite", "postgres"], default=d.store)
    p.add_argument("--subscribers", type=int, default=d.subscribers)
    p.add_argument("--online", type=int, default=d.online)
    p.add_argument("--posts", type=int, default=d.posts)
    p.add_argument("--rate", type=float, default=d.rate, help="posts a second")
    p.add_argument("--load-processes", type=int, default=d.load_processes)
    p.add_argument("--server-workers", type=int, default=d.server_workers, help="serve --workers N")
    p.add_argument("--no-pin", action="store_true", help="do not pin server and load to cores")
    p.add_argument("--delivery-timeout", type=float, default=d.delivery_timeout)
    p.add_argument("--workdir", help="keep the data folder and server log here")
    p.add_argument("--postgres-url", default=d.postgres_admin_url, help="where to create the DB")
    p.add_argument("--py-spy", help="profile the server while posting into this file")
    p.add_argument("--json", help="also append the JSON line to this file")
    a = p.parse_args(argv)
    options = ChannelOptions(
        store=a.store,
        subscribers=a.subscribers,
        online=a.online,
        posts=a.posts,
        rate=a.rate,
        load_processes=a.load_processes,
        server_workers=a.server_workers,
        pin=not a.no_pin,
        delivery_timeout=a.delivery_timeout,
        workdir=a.workdir,
        postgres_admin_url=a.postgres_url,
        py_spy=a.py_spy,
    )
    return options, a.json


def main(argv: list[str] | None = None) -> int:
    options, json_path = parse_args(argv)
    result = asyncio.run(run_channel(options))
    report(result)
    emit_json(result.record(), json_path)
    ok = result.delivered == result.expected and result.rows_equal
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
