from __future__ import annotations

import pytest

from router.core.errors import RateLimited
from router.store import MemoryStore, Store
from router.store.rate_limit import RateLimiter


async def test_requests_within_the_limit_pass_and_the_next_is_refused(store: Store) -> None:
    now = [120.0]
    limiter = RateLimiter(store, window_s=60, clock=lambda: now[0])
    for _ in range(5):
        await limiter.check("k", 5)
    with pytest.raises(RateLimited) as caught:
        await limiter.check("k", 5)
    assert 1 <= caught.value.retry_after_s <= 60


async def test_the_previous_window_still_counts_by_its_overlap() -> None:
    now = [0.0]
    limiter = RateLimiter(MemoryStore(), window_s=60, clock=lambda: now[0])
    for _ in range(10):
        await limiter.check("k", 10)
    now[0] = 60 + 30  # half of the previous minute still overlaps: 10 × 0.5 = 5 count
    for _ in range(5):
        await limiter.check("k", 10)
    with pytest.raises(RateLimited) as caught:
        await limiter.check("k", 10)
    # 10 × (1 − t/60) + 6 ≤ 10 once t ≥ 36: six seconds after 90 s.
    assert caught.value.retry_after_s == 6


async def test_callers_are_counted_apart() -> None:
    limiter = RateLimiter(MemoryStore(), window_s=60, clock=lambda: 0.0)
    await limiter.check("a", 1)
    await limiter.check("b", 1)
    with pytest.raises(RateLimited):
        await limiter.check("a", 1)


async def test_a_limit_of_zero_means_no_limit() -> None:
    limiter = RateLimiter(MemoryStore(), window_s=60, clock=lambda: 0.0)
    for _ in range(100):
        await limiter.check("k", 0)
