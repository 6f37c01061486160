"""`channel`: delegates to bench/channel.py (a channel of many subscribers, some online, an
owner posting open-loop) and reports its figures in the harness's shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.channel import ChannelOptions, run_channel
from bench.scenarios import Outcome, ScenarioContext


@dataclass(slots=True)
class ChannelScenarioOptions:
    subscribers: int = 100_000
    online: int = 2_000
    posts: int = 100
    rate: float = 10.0
    load_processes: int = 2


def _ms(s: dict[str, Any]) -> str:
    if not s.get("n"):
        return "-"
    return f"p50 {s['p50']:.1f}  p90 {s['p90']:.1f}  p99 {s['p99']:.1f}  max {s['max']:.1f} ms"


async def run_channel_scenario(ctx: ScenarioContext, o: ChannelScenarioOptions) -> Outcome:
    result = await run_channel(
        ChannelOptions(
            store=ctx.store,
            subscribers=o.subscribers,
            online=o.online,
            posts=o.posts,
            rate=o.rate,
            load_processes=o.load_processes,
            server_workers=ctx.workers,
            pin=ctx.pin,
            postgres_admin_url=ctx.postgres_url,
        )
    )
    record = result.record()
    record.pop("machine", None)
    record.pop("scenario", None)
    record["exactly_once"] = result.delivered == result.expected and result.receipts.duplicates == 0
    rows_per = record["rows_per_post"]
    rows: list[tuple[str, object]] = [
        (
            "channel",
            f"{o.subscribers:,} subscribers, {o.online:,} online ({result.connected:,} connected),"
            f" {o.posts} posts at {o.rate:g}/s",
        ),
        ("until last subscriber has it", _ms(record["latency_last_ms"])),
        ("until first subscriber has it", _ms(record["latency_first_ms"])),
        (
            "delivered",
            f"{record['delivered']:,} of {record['expected']:,}"
            f" ({record['incomplete_posts']} incomplete, {record['duplicates']} dup)",
        ),
        (
            "deliveries per second",
            f"{record['deliveries_per_s']:,.0f} (offered {o.online * o.rate:,.0f}/s),"
            f" server {record['server_cpu_us_per_delivery']} µs a delivery",
        ),
        (
            "rows per post",
            f"{rows_per['subscribers']:g} vs {rows_per['one_subscriber']:g}"
            f" with one subscriber (equal: {rows_per['equal']})",
        ),
        ("outside CPU", f"{record['outside_cpu_pct']}%"),
        ("setup", ", ".join(f"{k} {v}" for k, v in record["setup_seconds"].items())),
    ]
    return Outcome("channel", record, rows)
