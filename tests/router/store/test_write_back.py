"""What workers held in memory while Redis was away reaches Redis, and every worker, once it is back.

Two ResilientStores stand for two workers on one real Redis; each reaches it through a
`SwitchableRedis` (tests/conftest.py), and switching both off is the outage.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis

from router.store import MemoryStore, RedisStore, ResilientStore, StoreUnavailable, refuse_a_miss_it_cannot_vouch_for
from router.store.resilient import HELD_SLACK, RECOVERY_GRACE_S
from tests.conftest import SwitchableRedis


class Workers:
    def __init__(self, redis_url: str, prefix: str, *fallbacks: MemoryStore) -> None:
        self.links = [SwitchableRedis(RedisStore(redis_url, prefix=prefix)) for _ in range(2)]
        self.now = [1000.0]  # the workers' monotonic clock: a grace follows each outage
        self.stores = [
            ResilientStore(link, fallback, retry_after_s=0, clock=lambda: self.now[0])  # type: ignore[arg-type]
            for link, fallback in zip(self.links, fallbacks or (None, None), strict=True)
        ]
        for store in self.stores:
            store.write_back_after_outages("quote:")

    @property
    def up(self) -> bool:
        return self.links[0].up

    @up.setter
    def up(self, value: bool) -> None:
        for link in self.links:
            link.up = value


@pytest.fixture
async def workers(redis_url: str, redis_prefix: str) -> AsyncIterator[Workers]:
    made = Workers(redis_url, redis_prefix)
    yield made
    for store in made.stores:
        await store.close()


def redis_ttl_ms(redis_url: str, key: str) -> Any:
    direct = redis.Redis.from_url(redis_url)
    try:
        return direct.pttl(key)
    finally:
        direct.close()


async def test_what_one_worker_held_is_read_on_the_other_once_redis_returns(workers: Workers) -> None:
    first, second = workers.stores
    workers.up = False
    await first.set_many([("quote:a", b"A", 600), ("quote:b", b"B", 600)])
    await first.set("quote:c", b"C", 600)
    assert await second.get("quote:a") is None and not await second.vouches_for_a_miss()
    with pytest.raises(StoreUnavailable):
        await refuse_a_miss_it_cannot_vouch_for(second, "quote a")

    workers.up = True
    assert await first.write_back() == 3
    assert [await second.get(f"quote:{k}") for k in "abc"] == [b"A", b"B", b"C"]
    # Just back, it cannot know that no other worker is yet to write back; then it can.
    assert not await second.vouches_for_a_miss()
    workers.now[0] += RECOVERY_GRACE_S
    assert await second.vouches_for_a_miss()
    await refuse_a_miss_it_cannot_vouch_for(second, "quote z")  # a miss is a miss again


async def test_a_worker_nobody_calls_writes_back_on_its_own_once_redis_returns(workers: Workers) -> None:
    first, second = workers.stores
    workers.up = False
    await first.set("quote:idle", b"held", 600)
    workers.up = True

    async def found() -> bytes | None:
        while (value := await second.get("quote:idle")) is None:
            await asyncio.sleep(0.05)
        return value

    assert await asyncio.wait_for(found(), 10) == b"held"


async def test_a_worker_stopping_once_redis_is_back_hands_over_what_it_held(workers: Workers) -> None:
    first, second = workers.stores
    workers.up = False
    await first.set("quote:last", b"held", 600)
    workers.up = True
    await first.close()
    assert await second.get("quote:last") == b"held"


async def test_what_is_written_back_keeps_the_time_it_had_left(redis_url: str, redis_prefix: str) -> None:
    now = [0.0]
    held = MemoryStore(clock=lambda: now[0])
    workers = Workers(redis_url, redis_prefix, held, MemoryStore())
    first = workers.stores[0]
    workers.up = False
    await first.set("quote:q", b"held", 100)
    now[0] = 60.0
    workers.up = True
    await first.write_back()
    assert 30_000 < redis_ttl_ms(redis_url, redis_prefix + "quote:q") <= 40_000
    for store in workers.stores:
        await store.close()


async def test_a_long_outage_keeps_no_more_to_write_back_than_memory_still_holds(
    redis_url: str, redis_prefix: str
) -> None:
    held = MemoryStore(max_bytes=64 * 1024)
    workers = Workers(redis_url, redis_prefix, held, MemoryStore())
    first, second = workers.stores
    workers.up = False
    for i in range(5000):
        await first.set(f"quote:{i}", b"%d" % i * 50, 600)
    assert held.evicted > 0
    assert len(first._held) <= 2 * len(held) + HELD_SLACK
    kept = len(held)
    workers.up = True
    assert await first.write_back() == kept
    assert await second.get("quote:4999") == b"4999" * 50
    for store in workers.stores:
        await store.close()


async def test_a_value_redis_was_given_since_is_not_overwritten_by_an_older_one_held(workers: Workers) -> None:
    first, second = workers.stores
    workers.up = False
    await first.set("quote:both", b"held during the outage", 600)
    workers.up = True
    await second.set("quote:both", b"written after it", 600)
    assert await first.write_back() == 0
    assert await second.get("quote:both") == b"written after it"


async def test_only_what_an_owner_asked_for_is_written_back(workers: Workers, redis_url: str) -> None:
    first, second = workers.stores
    workers.up = False
    await first.set("breaker:cdek:state", b"open", 600)
    await first.set("quote:kept", b"Q", 600)
    workers.up = True
    assert await first.write_back() == 1
    assert await second.get("breaker:cdek:state") is None
    assert await first.get("breaker:cdek:state") == b"open"  # still this worker's own


async def test_a_value_deleted_before_redis_returned_is_not_written_back(workers: Workers) -> None:
    first, second = workers.stores
    workers.up = False
    await first.set("quote:gone", b"Q", 600)
    await first.delete("quote:gone")
    workers.up = True
    assert await first.write_back() == 0
    assert await second.get("quote:gone") is None


async def test_a_write_back_that_finds_redis_still_away_keeps_everything_for_its_return(workers: Workers) -> None:
    first, second = workers.stores
    workers.up = False
    await first.set("quote:patient", b"Q", 600)
    with pytest.raises(StoreUnavailable):
        await first.write_back()
    assert first.degraded
    workers.up = True
    assert await first.write_back() == 1
    assert await second.get("quote:patient") == b"Q"


class Gated(SwitchableRedis):
    """Holds every write-back's `add` until `opened` is set, announcing in `reached` it got there."""

    def __init__(self, inner: RedisStore) -> None:
        super().__init__(inner)
        self.reached, self.opened = asyncio.Event(), asyncio.Event()

    async def add(self, key: str, value: bytes, ttl_s: float) -> bool:
        self.reached.set()
        await self.opened.wait()
        return bool(await self.inner.add(key, value, ttl_s))


async def test_while_a_worker_writes_back_no_worker_vouches_for_a_miss(redis_url: str, redis_prefix: str) -> None:
    gated = Gated(RedisStore(redis_url, prefix=redis_prefix))
    first = ResilientStore(gated, retry_after_s=0)  # type: ignore[arg-type]
    first.write_back_after_outages("quote:")
    second = ResilientStore(RedisStore(redis_url, prefix=redis_prefix))
    gated.up = False
    await first.set("quote:slow", b"Q", 600)
    gated.up = True
    writing = asyncio.ensure_future(first.write_back())
    await gated.reached.wait()
    assert await second.get("quote:slow") is None
    assert not await second.vouches_for_a_miss()  # a quote not found now may be on its way
    gated.opened.set()
    assert await writing == 1
    assert await second.get("quote:slow") == b"Q" and await second.vouches_for_a_miss()
    for store in (first, second):
        await store.close()


async def test_a_worker_that_died_writing_back_stops_holding_misses_at_its_deadline(
    redis_url: str, redis_prefix: str
) -> None:
    store = ResilientStore(RedisStore(redis_url, prefix=redis_prefix))
    await store.hset("store:writing-back", uuid.uuid4().hex, b"1.0")  # its deadline long past
    assert await store.vouches_for_a_miss()
    await store.close()
