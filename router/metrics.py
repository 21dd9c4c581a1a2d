"""Prometheus metrics. Each app has its own registry, so several apps in one process (tests) never clash;
with `--workers N` each worker reports its own figures (scrape each, or sum them)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "carrier_router_requests",
            "HTTP requests by route and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "carrier_router_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.carrier_errors = Counter(
            "carrier_router_carrier_errors",
            "Carriers that failed a quote, by kind",
            ["carrier", "kind"],
            registry=self.registry,
        )
        self.quotes = Counter(
            "carrier_router_quotes", "Quotes answered, by cache outcome", ["cache"], registry=self.registry
        )
        self.store_degraded = Gauge(
            "carrier_router_store_degraded", "1 while Redis is away and memory stands in", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
