"""Requests per minute per caller, as a sliding window over the shared store.

Two fixed one-minute counters, the current and the previous, with the previous weighted by
how much of it still overlaps the last sixty seconds. That is within a few percent of an exact
sliding log at the cost of one round trip to the store, and every worker sharing a Redis counts together.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from router.core.errors import RateLimited
from router.store import Store


class RateLimiter:
    def __init__(self, store: Store, window_s: float = 60.0, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._window_s = window_s
        self._clock = clock

    async def check(self, subject: str, limit: int) -> None:
        """Count one request for `subject`; raise RateLimited when over `limit` per window."""
        if limit <= 0:
            return
        now = self._clock()
        index, into = divmod(now, self._window_s)
        current, previous_raw = await self._store.incr_and_get(
            f"rl:{subject}:{int(index)}", self._window_s * 2, f"rl:{subject}:{int(index) - 1}"
        )
        previous = int(previous_raw) if previous_raw else 0
        overlap = 1 - into / self._window_s
        estimate = previous * overlap + current
        if estimate <= limit:
            return
        if current > limit:
            wait = self._window_s - into  # even a forgotten previous window would not help
        else:
            # When does previous × overlap fall to (limit − current)?
            wait = (1 - (limit - current) / previous) * self._window_s - into
        raise RateLimited(max(1, math.ceil(wait)), limit)
