"""The harness's scenarios at a tiny scale against real servers (SQLite; the storing relay
also on PostgreSQL), so they cannot rot: every message delivered exactly once, positive
latencies and memory figures."""

from __future__ import annotations

import dataclasses

import pytest

from bench.common import machine_facts
from bench.harness import parse_args
from bench.scenarios import ScenarioContext, latency_ms
from bench.scenarios.catchup import CatchupOptions, run_catchup
from bench.scenarios.channel import ChannelScenarioOptions, run_channel_scenario
from bench.scenarios.group import GroupOptions, run_group
from bench.scenarios.http import HttpOptions, run_http
from bench.scenarios.idle import IdleOptions, run_idle
from bench.scenarios.pairs import PairsOptions, run_pairs
from bench.scenarios.relay import run_relay

CTX = ScenarioContext(store="sqlite", workers=1, pin=False)


def test_latency_summary_and_arguments() -> None:
    summary = latency_ms([0.001, 0.002, 0.003, 0.004])
    assert summary["n"] == 4 and 0 < summary["p50"] <= summary["p95"] <= summary["p99"] <= 4.0
    a = parse_args(["--store", "sqlite", "--workers", "1,2", "--scenario", "pairs", "--quick"])
    assert a.workers == "1,2" and a.scenario == ["pairs"] and a.quick


async def test_pairs() -> None:
    o = PairsOptions(pairs=3, duration=0.6, drain=5.0, saturate_rate=100.0, load_processes=2)
    r = (await run_pairs(CTX, o)).record
    assert r["exactly_once"] is True
    for phase in r["phases"].values():
        assert phase["accepted"] > 0 and phase["delivered"] == phase["accepted"]
        assert phase["duplicates"] == phase["missing"] == phase["errors"] == 0
        assert 0 < phase["latency_ms"]["p50"] <= phase["latency_ms"]["p99"]
    assert r["max_accepted_per_s"] > 0 and r["server_cpu_s_per_1000_msgs"] > 0


async def test_relay_carries_the_pairs_load() -> None:
    o = PairsOptions(pairs=2, duration=0.5, drain=5.0, saturate_rate=100.0, load_processes=1)
    r = (await run_relay(CTX, o)).record
    assert r["scenario"] == "relay" and r["exactly_once"] is True
    assert all(phase["delivered"] == phase["accepted"] > 0 for phase in r["phases"].values())


@pytest.mark.parametrize(
    ("store", "writes"), [("sqlite", "each"), ("sqlite", "batch"), ("postgres", "batch")]
)
async def test_relay_stores_every_message(store: str, writes: str) -> None:
    o = PairsOptions(pairs=2, duration=0.5, drain=5.0, saturate_rate=100.0, load_processes=1)
    r = (await run_relay(dataclasses.replace(CTX, store=store), o, writes)).record
    assert r["store"] == store and r["writes"] == writes and r["exactly_once"] is True
    assert all(phase["delivered"] == phase["accepted"] > 0 for phase in r["phases"].values())


def test_machine_facts_name_the_python_speed() -> None:
    assert machine_facts()["python_ns_per_op"] > 0


async def test_group() -> None:
    r = (await run_group(CTX, GroupOptions(members=30, posts=5, rate=20.0))).record
    assert r["connected"] == 30 and r["delivered"] == r["expected"] == 150
    assert r["exactly_once"] and r["incomplete_posts"] == 0 and r["pts_gaps"] == 0
    assert 0 < r["latency_first_ms"]["p50"] <= r["latency_last_ms"]["p99"]
    assert r["deliveries_per_s"] > 0


async def test_channel() -> None:
    o = ChannelScenarioOptions(subscribers=60, online=6, posts=4, rate=20.0, load_processes=1)
    r = (await run_channel_scenario(CTX, o)).record
    assert r["delivered"] == r["expected"] == 24 and r["exactly_once"]
    assert r["latency_last_ms"]["p50"] > 0


async def test_idle() -> None:
    r = (await run_idle(CTX, IdleOptions(connections=200, load_processes=2, settle=0.5))).record
    assert r["connected"] == 200 and r["failed"] == 0
    assert r["rss_after_kib"] > r["rss_before_kib"] > 0 and r["kib_per_connection"] > 0


async def test_catchup() -> None:
    r = (await run_catchup(CTX, CatchupOptions(history=250, missed=120, page=50))).record
    assert r["history_messages"] == 250 and r["difference_updates"] == 120
    assert r["difference_kinds"] == {"new_message": 120}
    assert r["history_msgs_per_s"] > 0 and r["difference_msgs_per_s"] > 0


async def test_http() -> None:
    r = (await run_http(CTX, HttpOptions(clients=4, duration=0.5, load_processes=1))).record
    assert r["requests"] > 0 and r["errors"] == 0
    assert r["latency_ms"]["p50"] > 0 and r["requests_per_s"] > 0
