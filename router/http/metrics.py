"""Prometheus metrics. Each app has its own registry, so several apps in one process (tests) never clash;
with `--workers N` each worker reports its own figures (scrape each, or sum them).

Per-carrier figures are not kept here: the quote engine counts them in process at O(1) a call
(`router.quoting.stats`), and a collector turns the snapshot taken at scrape time into families.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from router.core.models import CarrierHealth
from router.store import MemoryUse

BREAKER_STATES = ("closed", "open", "half_open")

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
        self._carriers = _CarrierCollector()
        self.registry.register(self._carriers)
        self._memory = _MemoryCollector()
        self.registry.register(self._memory)
        # `labels()` takes a lock and builds a tuple on every call; each request would pay it twice.
        self._request_counts: dict[tuple[str, str, int], Counter] = {}
        self._route_latency: dict[str, Histogram] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        count = self._request_counts.get((method, route, status))
        if count is None:
            count = self._request_counts[method, route, status] = self.requests.labels(method, route, str(status))
        count.inc()
        latency = self._route_latency.get(route)
        if latency is None:
            latency = self._route_latency[route] = self.latency.labels(route)
        latency.observe(seconds)

    def render(self, carriers: Sequence[CarrierHealth] = (), memory: MemoryUse | None = None) -> bytes:
        self._carriers.snapshot = carriers
        self._memory.snapshot = memory
        return generate_latest(self.registry)


class _CarrierCollector(Collector):
    def __init__(self) -> None:
        self.snapshot: Sequence[CarrierHealth] = ()

    def describe(self) -> Iterable[Metric]:
        return []  # families depend on the snapshot; nothing to reserve up front

    def collect(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "carrier_router_carrier_calls",
            "Carrier calls by outcome (open: turned away by the breaker)",
            labels=["carrier", "outcome"],
        )
        seconds = HistogramMetricFamily(
            "carrier_router_carrier_seconds", "Carrier call latency, calls actually made", labels=["carrier"]
        )
        breaker = GaugeMetricFamily(
            "carrier_router_carrier_breaker", "1 for the breaker's current state", labels=["carrier", "state"]
        )
        error_ratio = GaugeMetricFamily(
            "carrier_router_carrier_error_ratio", "Share of failed calls in the recent window", labels=["carrier"]
        )
        window = GaugeMetricFamily(
            "carrier_router_carrier_window_latency_seconds",
            "Latency percentiles over the recent window",
            labels=["carrier", "quantile"],
        )
        stale = CounterMetricFamily(
            "carrier_router_carrier_stale_served",
            "Quotes that showed this carrier's last good answer",
            labels=["carrier"],
        )
        retries = CounterMetricFamily(
            "carrier_router_carrier_retries", "Transient failures asked again within the deadline", labels=["carrier"]
        )
        for h in self.snapshot:
            for outcome, count in h.outcomes:
                calls.add_metric([h.carrier, outcome], count)
            if h.latency_buckets:
                buckets = [("+Inf" if b == float("inf") else repr(b), n) for b, n in h.latency_buckets]
                seconds.add_metric([h.carrier], buckets, h.latency_sum_s)
            if h.breaker is not None:
                for state in BREAKER_STATES:
                    breaker.add_metric([h.carrier, state], 1.0 if h.breaker == state else 0.0)
            if h.error_rate is not None:
                error_ratio.add_metric([h.carrier], h.error_rate)
            if h.p50_ms is not None and h.p99_ms is not None:
                window.add_metric([h.carrier, "0.5"], h.p50_ms / 1000)
                window.add_metric([h.carrier, "0.99"], h.p99_ms / 1000)
            stale.add_metric([h.carrier], h.stale_served)
            retries.add_metric([h.carrier], h.retries)
        yield from (calls, seconds, breaker, error_ratio, window, stale, retries)


class _MemoryCollector(Collector):
    def __init__(self) -> None:
        self.snapshot: MemoryUse | None = None

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        use = self.snapshot
        if use is None:
            return
        yield GaugeMetricFamily(
            "carrier_router_memory_store_entries", "Entries held in this process's memory", use.entries
        )
        yield GaugeMetricFamily(
            "carrier_router_memory_store_bytes",
            "Bytes held in this process's memory, as counted against its bound",
            use.bytes,
        )
        yield GaugeMetricFamily("carrier_router_memory_store_max_bytes", "The memory store's bound", use.max_bytes)
        yield CounterMetricFamily(
            "carrier_router_memory_store_evicted",
            "Entries dropped before they expired, to stay under the bound",
            use.evicted,
        )
