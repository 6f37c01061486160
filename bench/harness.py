"""The benchmark harness: every scenario against a real `heliograph serve`, driven over the
client API from load processes pinned away from the server's core.

Run: .venv/bin/python -m bench.harness --store sqlite [--workers 1,2,4] [--scenario pairs ...]
     [--quick] [--json results.jsonl]
Scenarios: pairs, group, channel, idle, catchup, http (all by default), and relay (the
pairs load against a bare relay: the floor under the pairs figures; with `--relay-writes
each|batch` the relay also stores each message in --store). With a list of
workers (`--workers 1,2,4`), pairs and group run once per worker count and a scaling table
follows. Prints a table per scenario and one JSON line per scenario run.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.common import POSTGRES_ADMIN_URL, emit_json, machine_facts, print_table
from bench.scenarios import Outcome, ScenarioContext

SCENARIOS = ("pairs", "group", "channel", "idle", "catchup", "http")
# by name only: the pairs load against a bare relay, the floor under the pairs figures
EXTRA = ("relay",)
SCALED = ("pairs", "group")  # run once per worker count


def _runner(
    name: str, quick: bool, group_rate: float | None = None, relay_writes: str = "none"
) -> Callable[[ScenarioContext], Awaitable[Outcome]]:
    """The scenario's run function with its full or quick options."""
    if name in ("pairs", "relay"):  # the relay takes the same load as the server
        from bench.scenarios.pairs import PairsOptions, run_pairs
        from bench.scenarios.relay import run_relay

        po = (
            PairsOptions(pairs=20, duration=2.0, drain=10.0, saturate_rate=300.0)
            if quick
            else PairsOptions()
        )
        if name == "relay":
            return lambda ctx: run_relay(ctx, po, relay_writes)
        return lambda ctx: run_pairs(ctx, po)
    if name == "group":
        from bench.scenarios.group import GroupOptions, run_group

        go = GroupOptions(members=200, posts=20, rate=10.0) if quick else GroupOptions()
        if group_rate is not None:
            go = dataclasses.replace(go, rate=group_rate, posts=int(group_rate * 5))
        return lambda ctx: run_group(ctx, go)
    if name == "channel":
        from bench.scenarios.channel import ChannelScenarioOptions, run_channel_scenario

        co = (
            ChannelScenarioOptions(subscribers=2_000, online=200, posts=20, rate=10.0)
            if quick
            else ChannelScenarioOptions()
        )
        return lambda ctx: run_channel_scenario(ctx, co)
    if name == "idle":
        from bench.scenarios.idle import IdleOptions, run_idle

        io = IdleOptions(connections=500) if quick else IdleOptions()
        return lambda ctx: run_idle(ctx, io)
    if name == "catchup":
        from bench.scenarios.catchup import CatchupOptions, run_catchup

        ko = CatchupOptions(history=1_000, missed=300) if quick else CatchupOptions()
        return lambda ctx: run_catchup(ctx, ko)
    if name == "http":
        from bench.scenarios.http import HttpOptions, run_http

        ho = HttpOptions(duration=2.0) if quick else HttpOptions()
        return lambda ctx: run_http(ctx, ho)
    raise ValueError(f"unknown scenario {name!r}")


async def run_all(
    store: str,
    scenarios: list[str],
    workers: list[int],
    quick: bool,
    pin: bool,
    postgres_url: str,
    json_path: str | None,
    group_rate: float | None = None,
    relay_writes: str = "none",
) -> int:
    machine = machine_facts()
    print(
        f"machine: {machine['nproc']} × {machine['cpu']}, {machine['mem_gib']} GiB,"
        f" Python {machine['python']}, SQLite {machine['sqlite']},"
        f" load {machine['load_average_1m']}, Python speed {machine['python_ns_per_op']} ns/op",
        flush=True,
    )
    failures = 0
    scaling: dict[str, list[tuple[int, Outcome]]] = {}
    for name in scenarios:
        counts = workers if name in SCALED else [workers[0]]
        for count in counts:
            ctx = ScenarioContext(store=store, workers=count, pin=pin, postgres_url=postgres_url)
            started = time.monotonic()
            try:
                outcome = await _runner(name, quick, group_rate, relay_writes)(ctx)
            except Exception as e:  # one scenario failing does not stop the others
                failures += 1
                print(f"\n{name} (workers {count}) FAILED: {e!r}", flush=True)
                emit_json({"scenario": name, "store": store, "workers": count, "error": repr(e)})
                continue
            elapsed = time.monotonic() - started
            record: dict[str, Any] = {
                "scenario": name,
                "store": store,
                "workers": count,
                "quick": quick,
                **outcome.record,
                "scenario_seconds": round(elapsed, 1),
                "machine": machine_facts(),
            }
            title = f"{name}: {store}, {count} server worker{'s' if count > 1 else ''}" + (
                " (quick)" if quick else ""
            )
            print_table(title, [*outcome.rows, ("took", f"{elapsed:.1f} s")])
            emit_json(record, json_path)
            scaling.setdefault(name, []).append((count, outcome))
    for name, runs in scaling.items():
        if len(runs) > 1:
            key = "max_delivered_per_s" if name == "pairs" else "deliveries_per_s"
            base = runs[0][1].record.get(key) or 0.0
            print_table(
                f"{name}: scaling with server workers ({key})",
                [
                    (
                        f"{count} worker{'s' if count > 1 else ''}",
                        f"{o.record.get(key, 0):,.0f}/s"
                        + (f"  ×{o.record.get(key, 0) / base:.2f}" if base else "")
                        + f"  (outside CPU {o.record.get('outside_cpu_pct')}%)",
                    )
                    for count, o in runs
                ],
            )
    return 1 if failures else 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.harness", description=__doc__.split("\n")[0])
    p.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument(
        "--workers", default="1", help="server processes, or a list (1,2,4) for pairs and group"
    )
    p.add_argument(
        "--scenario", action="append", choices=SCENARIOS + EXTRA, help="run only these (repeatable)"
    )
    p.add_argument("--quick", action="store_true", help="small versions, all in about a minute")
    p.add_argument("--no-pin", action="store_true", help="do not pin server and load to cores")
    p.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL)
    p.add_argument("--json", help="also append the JSON lines to this file")
    p.add_argument(
        "--group-rate", type=float, help="posts a second in the group scenario (default 40)"
    )
    p.add_argument(
        "--relay-writes",
        choices=["none", "each", "batch"],
        default="none",
        help="the relay also stores each message in --store: a statement at a time, or batched",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    workers = [int(w) for w in str(a.workers).split(",") if w.strip()]
    return asyncio.run(
        run_all(
            a.store,
            a.scenario or list(SCENARIOS),
            workers,
            a.quick,
            not a.no_pin,
            a.postgres_url,
            a.json,
            a.group_rate,
            a.relay_writes,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
