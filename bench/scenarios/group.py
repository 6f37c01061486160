"""`group`: a group of `members` users, all online, and one more (its owner) posting at a
steady rate over HTTP: per post, the time from its scheduled send time until the LAST member
has it (and the first), and deliveries a second. The group is built through the client API
(createGroup with the first 199, then addChatMembers 200 at a time), as a client would."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bench.channel import post_steadily
from bench.common import (
    Api,
    ApiError,
    ClientPool,
    Watch,
    bulk_add_members,
    bulk_users,
    fresh_store,
    split_cpus,
)
from bench.scenarios import Outcome, ScenarioContext, fmt_latency, latency_ms
from bench.scenarios._load import CpuWindow


@dataclass(slots=True)
class GroupOptions:
    members: int = 1_000  # all online; the owner comes on top
    posts: int = 200
    rate: float = 40.0  # posts a second: 40,000 deliveries a second offered
    load_processes: int = 2
    delivery_timeout: float = 60.0


async def _build_group(api: Api, owner_token: str, member_ids: list[int]) -> tuple[int, str]:
    first, rest = member_ids[:199], member_ids[199:]
    chat = await api.call("createGroup", owner_token, title="Bench group", user_ids=first)
    chat_id: int = chat["id"]
    how = "api"
    try:
        for n in range(0, len(rest), 200):
            await api.call(
                "addChatMembers", owner_token, chat_id=chat_id, user_ids=rest[n : n + 200]
            )
    except ApiError as e:
        how = f"bulk ({e})"
        raise
    return chat_id, how


async def run_group(ctx: ScenarioContext, o: GroupOptions) -> Outcome:
    server_cpus, load_cpus = split_cpus(ctx.pin, ctx.workers)
    setup: dict[str, float] = {}
    async with fresh_store(ctx.store, None, ctx.postgres_url) as store:
        t = time.monotonic()
        accounts = await bulk_users(store, o.members + 1, "grp")
        setup["bulk_users_s"] = time.monotonic() - t
        owner, members = accounts[0], accounts[1:]
        server = ctx.server(store, server_cpus)
        await server.start()
        pool: ClientPool | None = None
        try:
            async with Api(server.url) as api:
                t = time.monotonic()
                try:
                    chat_id, how = await _build_group(
                        api, owner.token, [a.user_id for a in members]
                    )
                except ApiError as e:  # fall back to the operator's bulk path
                    chat = await api.call("createGroup", owner.token, title="Bench group")
                    chat_id, how = chat["id"], f"bulk-add-members (API refused: {e})"
                    await bulk_add_members(store, chat_id, [a.user_id for a in members])
                setup["build_group_s"] = time.monotonic() - t
                chat = await api.call("getChat", owner.token, chat_id=chat_id)
                large = chat.get("pts") is not None
                prefix = "bench group "
                pool = ClientPool(
                    server.ws_url,
                    [a.token for a in members],
                    Watch(chat_id=chat_id, text_prefix=prefix, box=chat_id if large else None),
                    processes=o.load_processes,
                    cpus=load_cpus,
                )
                ready = await pool.start()
                setup["connect_s"] = ready.seconds
                window = CpuWindow(server, store)
                window.start()
                scheduled, answered = await post_steadily(
                    api, owner.token, chat_id, prefix, o.posts, o.rate
                )
                await pool.wait_for(o.members * o.posts, o.delivery_timeout)
                cpu = window.stop()
                receipts = await pool.stop()
                pool = None
        finally:
            if pool is not None:
                await pool.stop()
            await server.stop()
    complete = [n for n in range(o.posts) if receipts.count.get(n, 0) >= o.members]
    last = [receipts.last[n] - scheduled[n] for n in complete]
    first = [receipts.first[n] - scheduled[n] for n in complete]
    wall = (max(receipts.last.values()) - scheduled[0]) if receipts.last else 0.0
    delivered = receipts.total
    record: dict[str, Any] = {
        "members": o.members,
        "large_chat": large,
        "built_with": how,
        "connected": ready.connected,
        "connect_failed": ready.failed,
        "posts": o.posts,
        "rate": o.rate,
        "offered_deliveries_per_s": o.rate * o.members,
        "delivered": delivered,
        "expected": o.members * o.posts,
        "incomplete_posts": o.posts - len(complete),
        "duplicates": receipts.duplicates,
        "pts_gaps": receipts.gaps,
        "exactly_once": delivered == o.members * o.posts and receipts.duplicates == 0,
        "latency_last_ms": latency_ms(last),
        "latency_first_ms": latency_ms(first),
        "send_answer_ms": latency_ms(answered),
        "deliveries_per_s": round(delivered / wall, 1) if wall > 0 else 0.0,
        "server_cpu_us_per_delivery": round(1e6 * cpu.server / delivered, 1) if delivered else 0.0,
        **cpu.record(),
        "setup": {k: round(v, 2) for k, v in setup.items()},
    }
    rows: list[tuple[str, object]] = [
        (
            "group",
            f"{o.members:,} members online (+ owner posting), large={large}, built via {how}",
        ),
        ("until last member has it", fmt_latency(record["latency_last_ms"])),
        ("until first member has it", fmt_latency(record["latency_first_ms"])),
        ("sendMessage answered", fmt_latency(record["send_answer_ms"])),
        (
            "delivered",
            f"{delivered:,} of {record['expected']:,} ({record['incomplete_posts']} posts"
            f" incomplete, {receipts.duplicates} dup, {receipts.gaps} pts gaps)",
        ),
        (
            "deliveries per second",
            f"{record['deliveries_per_s']:,.0f}"
            f" (offered {record['offered_deliveries_per_s']:,.0f}/s)",
        ),
        (
            "CPU",
            f"server {record['server_cpu_pct']}% ({record['server_cpu_us_per_delivery']} µs a"
            f" delivery), outside {record['outside_cpu_pct']}%",
        ),
        ("setup", ", ".join(f"{k} {v}" for k, v in record["setup"].items())),
    ]
    return Outcome("group", record, rows)
