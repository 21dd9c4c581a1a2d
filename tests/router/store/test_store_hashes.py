"""Hash operations behind the compact aggregates, on both backends."""

from __future__ import annotations

import asyncio

import pytest

from router.store import RedisStore, ResilientStore, Store, StoreUnavailable


async def test_hash_increments_add_up_across_calls(store: Store) -> None:
    await store.hincr({"a": {"n": 2, "t3": 1}, "b": {"n": 1}})
    await store.hincr({"a": {"n": 5, "t4": -1}})
    a, b, missing = await store.hgetall(["a", "b", "nope"])
    assert {k: int(v) for k, v in a.items()} == {"n": 7, "t3": 1, "t4": -1}
    assert {k: int(v) for k, v in b.items()} == {"n": 1}
    assert missing == {}


async def test_many_increments_in_one_call_all_land(store: Store) -> None:
    increments = {f"k{i}": {f"f{j}": i + j for j in range(40)} for i in range(1000)}
    await store.hincr(increments)
    read = await store.hgetall([f"k{i}" for i in range(1000)])
    assert all(int(h[f"f{j}"]) == i + j for i, h in enumerate(read) for j in range(40))


async def test_hashes_do_not_expire_and_delete_removes_them(store: Store) -> None:
    await store.hincr({"h": {"n": 1}})
    await store.hset("h", "note", b"kept")
    assert (await store.hgetall(["h"]))[0] == {"n": b"1", "note": b"kept"}
    await store.hdel("h", ["note"])
    assert (await store.hgetall(["h"]))[0] == {"n": b"1"}
    await store.delete("h")
    assert (await store.hgetall(["h"]))[0] == {}


async def test_hsetnx_many_tells_which_fields_were_new(store: Store) -> None:
    assert await store.hsetnx_many([("s1", "a"), ("s1", "b"), ("s2", "a")]) == [True, True, True]
    assert await store.hsetnx_many([("s1", "a"), ("s1", "c"), ("s1", "c")]) == [False, True, False]


async def test_hsetnx_many_gives_each_field_to_exactly_one_of_concurrent_callers(store: Store) -> None:
    items = [("seen", str(i)) for i in range(50_000)]
    first, second = await asyncio.gather(store.hsetnx_many(items), store.hsetnx_many(items))
    assert all(a != b for a, b in zip(first, second, strict=False))


async def test_deleting_a_prefix_takes_its_keys_and_hashes_and_nothing_else(store: Store) -> None:
    await store.hincr({f"rel:a:{i}": {"n": 1} for i in range(2500)} | {"rel:b": {"n": 1}, "rel:a*": {"n": 1}})
    await store.set("rel:a:value", b"v", 60)
    await store.set("quote:rel:a:x", b"v", 60)
    assert await store.delete_prefix("rel:a:") == 2501
    assert await store.hgetall(["rel:a:7", "rel:b", "rel:a*"]) == [{}, {"n": b"1"}, {"n": b"1"}]
    assert await store.get("rel:a:value") is None and await store.get("quote:rel:a:x") == b"v"
    assert await store.delete_prefix("rel:a*") == 1  # a pattern character is the character itself
    assert await store.hgetall(["rel:b"]) == [{"n": b"1"}]


async def test_durable_hash_writes_fail_rather_than_fall_back_to_memory() -> None:
    resilient = ResilientStore(RedisStore("redis://127.0.0.1:1/0"))
    try:
        with pytest.raises(StoreUnavailable):
            await resilient.hincr({"h": {"n": 1}})
        with pytest.raises(StoreUnavailable):
            await resilient.hsetnx_many([("s", "a")])
        with pytest.raises(StoreUnavailable):
            await resilient.delete_prefix("rel:")
        assert await resilient.hgetall(["h"]) == [{}]
    finally:
        await resilient.close()


async def test_hash_values_holding_nul_are_refused_on_both_backends(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.hset("h", "f", b"a\0b")
    await store.hset("h", "f", b'{"json": "with, commas = and colons:"}')
    assert (await store.hgetall(["h"]))[0] == {"f": b'{"json": "with, commas = and colons:"}'}
