"""Prometheus metrics of one server process, in a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge(
            "heliograph_websocket_connections", "Open WebSocket connections", registry=self.registry
        )
        self.requests = Counter(
            "heliograph_requests",
            "API calls by method and outcome",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "heliograph_request_seconds",
            "API call latency by method",
            ["method"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.updates_delivered = Counter(
            "heliograph_updates_delivered",
            "Frames pushed to WebSocket sessions",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
