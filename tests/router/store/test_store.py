from __future__ import annotations

import asyncio

from router.store import MemoryStore, Store


async def test_a_value_set_is_read_back_until_it_expires(store: Store) -> None:
    await store.set("k", b"v", ttl_s=0.2)
    assert await store.get("k") == b"v"
    await asyncio.sleep(0.3)
    assert await store.get("k") is None


async def test_missing_keys_read_as_none(store: Store) -> None:
    assert await store.get("nothing-here") is None


async def test_add_sets_only_when_absent(store: Store) -> None:
    assert await store.add("lock", b"first", ttl_s=5) is True
    assert await store.add("lock", b"second", ttl_s=5) is False
    assert await store.get("lock") == b"first"


async def test_add_succeeds_again_once_the_key_expired(store: Store) -> None:
    assert await store.add("lock", b"first", ttl_s=0.1)
    await asyncio.sleep(0.2)
    assert await store.add("lock", b"second", ttl_s=5)
    assert await store.get("lock") == b"second"


async def test_delete_removes_a_key(store: Store) -> None:
    await store.set("k", b"v", ttl_s=5)
    await store.delete("k")
    assert await store.get("k") is None


async def test_incr_counts_within_a_window_that_starts_at_the_first_increment(store: Store) -> None:
    assert await store.incr("c", ttl_s=0.3) == 1
    assert await store.incr("c", ttl_s=0.3) == 2
    await asyncio.sleep(0.1)
    assert await store.incr("c", ttl_s=0.3) == 3
    await asyncio.sleep(0.3)
    assert await store.incr("c", ttl_s=0.3) == 1


async def test_incr_and_get_counts_one_window_and_reads_the_one_before(store: Store) -> None:
    assert await store.incr_and_get("w:2", 0.3, "w:1") == (1, None)
    await store.set("w:1", b"7", 5)
    assert await store.incr_and_get("w:2", 0.3, "w:1") == (2, b"7")
    await asyncio.sleep(0.4)  # the window's expiry started with its first increment
    assert await store.incr_and_get("w:2", 0.3, "w:1") == (1, b"7")


async def test_get_referenced_reads_the_value_a_key_names(store: Store) -> None:
    await store.set_many([("qcache:x", b"q1", 5), ("quote:q1", b"the quote", 5), ("qcache:dangling", b"q2", 5)])
    assert await store.get_referenced("qcache:x", "quote:") == b"the quote"
    assert await store.get_referenced("qcache:dangling", "quote:") is None
    assert await store.get_referenced("qcache:absent", "quote:") is None


async def test_concurrent_adds_hand_a_lock_to_exactly_one_caller(store: Store) -> None:
    results = await asyncio.gather(*(store.add("race", str(i).encode(), ttl_s=5) for i in range(20)))
    assert results.count(True) == 1


async def test_the_store_answers_ping(store: Store) -> None:
    assert await store.ping() is True


async def test_memory_store_sweeps_expired_keys_as_it_grows() -> None:
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0], sweep_every=10)
    for i in range(9):
        await store.set(f"old{i}", b"x", ttl_s=1)
    now[0] = 5.0
    await store.set("new", b"x", ttl_s=1)  # the tenth write sweeps
    assert len(store) == 1


async def test_memory_store_expiry_holds_to_the_millisecond_for_values_counters_and_deflated_quotes() -> None:
    now = [1000.0]
    store = MemoryStore(clock=lambda: now[0])
    big = b'{"offers":[' + b'{"carrier":"cdek","price":"1.00"},' * 200 + b"{}]}"
    # Values that begin like an entry's own head, or are empty, read back as given.
    odd = b"\xff" * 9 + b"\x01tail"
    await store.set("empty", b"", 2)
    await store.set("odd", odd, 2)
    await store.set("big", big, 2)
    assert await store.incr("n", 2) == 1
    now[0] = 1001.5
    assert await store.incr("n", 60) == 2  # a later increment does not move the window
    now[0] = 1001.999
    assert [await store.get(k) for k in ("empty", "odd", "big", "n")] == [b"", odd, big, b"2"]
    now[0] = 1002.0
    assert [await store.get(k) for k in ("empty", "odd", "big", "n")] == [None] * 4
    assert await store.incr("n", 2) == 1
    assert len(store) == 1


async def test_redis_store_reports_unavailable_when_redis_is_gone() -> None:
    from router.store import RedisStore, StoreUnavailable

    dead = RedisStore("redis://127.0.0.1:1/0")
    try:
        assert await dead.ping() is False
        try:
            await dead.get("k")
        except StoreUnavailable:
            pass
        else:
            raise AssertionError("a dead Redis must raise StoreUnavailable")
    finally:
        await dead.close()


async def test_resilient_store_falls_back_to_memory_and_returns_to_redis(redis_url: str) -> None:
    import uuid

    from router.store import RedisStore, ResilientStore

    now = [0.0]
    dead = RedisStore("redis://127.0.0.1:1/0")
    store = ResilientStore(dead, retry_after_s=5, clock=lambda: now[0])
    await store.set("k", b"in-memory", 60)
    assert store.degraded and store.outages == 1
    assert await store.get("k") == b"in-memory"

    live = RedisStore(redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    store._primary = live  # Redis is back
    assert await store.get("k") == b"in-memory"  # still inside the pause: memory answers
    now[0] = 6.0
    # Redis answers again and never saw the key; what this worker wrote meanwhile it still honours.
    assert await store.get("k") == b"in-memory"
    assert not store.degraded
    await store.set("k", b"in-redis", 60)
    assert await store.get("k") == b"in-redis"
    await store.delete("k")
    assert await store.get("k") is None  # a delete reaches the memory copy too
    await store.close()
    await dead.close()


async def test_hsum_adds_each_field_over_a_group_of_hashes(store: Store) -> None:
    await store.hincr({"m:1": {"n": 3, "t2": 1}, "m:2": {"n": 4, "t5": 2}, "x": {"n": 100}})
    summed = await store.hsum([["m:1", "m:2", "m:absent"], ["m:absent"], ["x"], []])
    assert summed == [{"n": 7, "t2": 1, "t5": 2}, {}, {"n": 100}, {}]
    assert await store.hsum([]) == []


async def test_memory_store_keeps_large_values_deflated_and_reads_back_the_same_bytes() -> None:
    import os

    from router.store.memory import _ENTRY_OVERHEAD, _VALUE_AT, DEFLATE_FROM

    store = MemoryStore()
    quotes = [
        b'{"quote_id":"q_%d","offers":[' % i + b'{"carrier":"cdek","price":"%d.00"},' % (i * 7) * 60 + b"{}]}"
        for i in range(20)
    ]
    assert all(len(q) >= DEFLATE_FROM for q in quotes)
    noise = os.urandom(4 * DEFLATE_FROM)  # does not deflate: kept as it is
    small = b"x" * (DEFLATE_FROM - 1)
    for i, q in enumerate(quotes):
        await store.set(f"quote:{i}", q, 60)
    await store.set("noise", noise, 60)
    await store.set("small", small, 60)
    assert [await store.get(f"quote:{i}") for i in range(20)] == quotes
    assert await store.get("noise") == noise
    assert await store.get("small") == small
    # Counted at what is kept: far less than the quotes' own length.
    kept = (
        store._bytes
        - len(noise)
        - len(small)
        - 22 * (_ENTRY_OVERHEAD + _VALUE_AT)
        - sum(len(k) for k in store._entries)
    )
    assert kept < sum(len(q) for q in quotes) / 5


async def test_values_held_give_the_cyclic_collector_nothing_to_walk() -> None:
    # A full collection stops the event loop for as long as it walks what is tracked; quotes
    # held by thousands must not be part of it, deflated or not, nor counters.
    import gc

    store = MemoryStore()
    big = [b'{"quote_id":"q_%d",' % i + b'"offers":[{"carrier":"cdek"}],' * 100 + b"}" for i in range(2000)]
    gc.collect()
    before = len(gc.get_objects())
    for i, q in enumerate(big):
        await store.set(f"quote:{i}", q, 60)
        await store.set(f"small:{i}", b"q_%d" % i, 60)
        await store.incr(f"n:{i}", 60)
    gc.collect()
    assert len(gc.get_objects()) - before < 100
    # Nor does writing more: the store's own tables stay out of even the young generation.
    gc.collect()
    for i in range(100):
        await store.set(f"more:{i}", big[i], 60)
        await store.incr(f"n:{i}", 60)
    tables = [t for t in vars(store).values() if isinstance(t, dict) and len(t) > 1000]
    assert tables and not any(gc.is_tracked(t) for t in tables)
    assert await store.get("quote:1999") == big[1999]


async def test_a_deflated_value_can_be_replaced_added_and_deleted() -> None:
    store = MemoryStore()
    big = b"abc" * 1000
    await store.set("k", big, 60)
    assert await store.add("k", b"other" * 1000, 60) is False
    assert await store.get("k") == big
    await store.set("k", big[::-1], 60)
    assert await store.get("k") == big[::-1]
    await store.delete("k")
    assert await store.get("k") is None
    assert store._bytes == 0
