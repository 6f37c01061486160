"""The harness's scenarios (bench/harness.py runs them): each is an `async def run_*(ctx,
options) -> Outcome` that makes a fresh store, starts its own server through bench/common.py,
drives it over the client API from load processes, and returns one JSON record and the rows
of its table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.common import POSTGRES_ADMIN_URL, ServerProcess, Store, percentile


@dataclass(slots=True)
class ScenarioContext:
    store: str = "sqlite"
    workers: int = 1  # `serve --workers N`
    pin: bool = True  # server on its own core(s), load on the others
    postgres_url: str = POSTGRES_ADMIN_URL

    def server(self, store: Store, cpus: set[int] | None) -> ServerProcess:
        return ServerProcess(store, cpus, self.workers)


@dataclass(slots=True)
class Outcome:
    scenario: str
    record: dict[str, Any]
    rows: list[tuple[str, object]] = field(default_factory=list)


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99, max and mean of durations in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0}
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "p50": round(percentile(ordered, 50) * 1000, 2),
        "p95": round(percentile(ordered, 95) * 1000, 2),
        "p99": round(percentile(ordered, 99) * 1000, 2),
        "max": round(ordered[-1] * 1000, 2),
        "mean": round(sum(ordered) / len(ordered) * 1000, 2),
    }


def fmt_latency(s: dict[str, Any]) -> str:
    if not s.get("n"):
        return "-"
    return f"p50 {s['p50']:.1f}  p95 {s['p95']:.1f}  p99 {s['p99']:.1f}  max {s['max']:.1f} ms"
