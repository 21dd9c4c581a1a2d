"""How each carrier has been answering this worker, kept in process at O(1) per call.

A ring of the last `WINDOW` calls gives the error rate and latency percentiles shown in
`GET /v1/carriers`; running totals (outcomes, latency buckets) feed Prometheus counters and a
histogram. Percentiles are worked out when asked for, from at most `WINDOW` numbers, so a
quote never pays for them. Each worker keeps its own figures.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable

from router.core.models import CarrierHealth

WINDOW = 256
# Upper bounds in seconds: rate cards answer in well under a millisecond, APIs in tens to
# hundreds, and a hanging carrier is cut at the deadline (2 s by default).
BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class CallStats:
    """One carrier's recent calls and totals since the worker started."""

    __slots__ = ("_seconds", "_failed", "_next", "_filled", "outcomes", "buckets", "sum_s", "stale_served")

    def __init__(self, window: int = WINDOW) -> None:
        self._seconds = [0.0] * window
        self._failed = [False] * window
        self._next = 0
        self._filled = 0
        self.outcomes: Counter[str] = Counter()
        self.buckets = [0] * (len(BUCKETS_S) + 1)  # the last one is +Inf
        self.sum_s = 0.0
        self.stale_served = 0

    def record(self, outcome: str, seconds: float, failed: bool) -> None:
        """A call that was made: how it ended, how long it took, whether the carrier was at fault."""
        self.outcomes[outcome] += 1
        i = self._next
        self._seconds[i] = seconds
        self._failed[i] = failed
        self._next = (i + 1) % len(self._seconds)
        if self._filled < len(self._seconds):
            self._filled += 1
        self.buckets[bisect_left(BUCKETS_S, seconds)] += 1
        self.sum_s += seconds

    def skipped(self, outcome: str) -> None:
        """A call that was not made (the breaker turned it away): counted, but not timed."""
        self.outcomes[outcome] += 1

    def health(self, carrier: str, breaker: str | None = None, retries: int = 0) -> CarrierHealth:
        n = self._filled
        seconds = sorted(self._seconds[:n])
        cumulative, running = [], 0
        for bound, count in zip((*BUCKETS_S, float("inf")), self.buckets, strict=False):
            running += count
            cumulative.append((bound, running))
        return CarrierHealth(
            carrier=carrier,
            breaker=breaker,
            window_calls=n,
            error_rate=sum(self._failed[:n]) / n if n else None,
            p50_ms=_percentile(seconds, 50) * 1000 if n else None,
            p99_ms=_percentile(seconds, 99) * 1000 if n else None,
            stale_served=self.stale_served,
            retries=retries,
            outcomes=tuple(sorted(self.outcomes.items())),
            latency_buckets=tuple(cumulative),
            latency_sum_s=self.sum_s,
        )


class CarrierStats:
    """A `CallStats` per carrier code."""

    def __init__(self, codes: Iterable[str] = ()) -> None:
        self._by_code = {code: CallStats() for code in codes}

    def __getitem__(self, code: str) -> CallStats:
        stats = self._by_code.get(code)
        if stats is None:
            stats = self._by_code[code] = CallStats()
        return stats


def _percentile(ordered: list[float], p: float) -> float:
    # Nearest rank: with 256 calls, p99 is the third slowest, not an interpolation between.
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]
