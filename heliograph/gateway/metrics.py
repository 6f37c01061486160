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

        # Each call counts under its method: the labelled children, found once per pair of
        # labels rather than through prometheus_client's locked lookup on every call.
        self._calls: dict[tuple[str, str], Counter] = {}
        self._latencies: dict[str, Histogram] = {}

    def count_call(self, method: str, outcome: str, seconds: float) -> None:
        counter = self._calls.get((method, outcome))
        if counter is None:
            counter = self._calls[method, outcome] = self.requests.labels(method, outcome)
        latency = self._latencies.get(method)
        if latency is None:
            latency = self._latencies[method] = self.latency.labels(method)
        counter.inc()
        latency.observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
