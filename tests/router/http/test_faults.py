"""What the load and fault runs in bench/load.py found, kept as fast tests of the real app."""

from __future__ import annotations

import time
from typing import Any

import redis

from router.core.settings import Settings
from router.http import appkeys as keys
from router.quoting.book import AFTERLIFE_S
from router.store import MemoryStore, ResilientStore
from router.store.resilient import RECOVERY_GRACE_S
from tests.router.http.test_api_quotes import MOSCOW_NOVOSIBIRSK


def past_the_grace(api: Any) -> None:
    """Move the worker's store past the seconds after an outage in which it vouches for no miss."""
    api.server.app[keys.STORE]._clock = lambda: time.monotonic() + RECOVERY_GRACE_S


async def test_a_quote_made_before_redis_went_away_is_unavailable_for_now_not_gone(make_api, switch, redis_url) -> None:
    api = await make_api(Settings(redis_url=redis_url))
    made = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)
    quote_id = (await made.json())["quote_id"]

    switch.up = False
    meanwhile = await api.get(f"/v1/quotes/{quote_id}")
    assert meanwhile.status == 503
    assert meanwhile.headers["Retry-After"]
    assert meanwhile.content_type == "application/problem+json"

    switch.up = True
    back = await api.get(f"/v1/quotes/{quote_id}")
    assert back.status == 200
    assert await back.read() == await made.read()


async def test_a_quote_made_while_redis_is_away_is_still_served_by_its_worker_after_redis_returns(
    make_api, switch, redis_url
) -> None:
    api = await make_api(Settings(redis_url=redis_url))
    switch.up = False
    made = await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)
    assert made.status == 201
    quote_id = (await made.json())["quote_id"]

    switch.up = True
    back = await api.get(f"/v1/quotes/{quote_id}")
    assert back.status == 200
    assert await back.read() == await made.read()
    # Just back, another worker may not yet be writing back what it made meanwhile.
    assert (await api.get("/v1/quotes/q_never_made")).status == 503
    past_the_grace(api)
    assert (await api.get("/v1/quotes/q_never_made")).status == 404


async def test_quotes_made_on_one_worker_while_redis_is_away_are_read_on_another_once_it_returns(
    make_api, switch, redis_url
) -> None:
    first, second = await make_api(Settings(redis_url=redis_url)), await make_api(Settings(redis_url=redis_url))
    switch.up = False
    made = [await first.post("/v1/quotes", json={**MOSCOW_NOVOSIBIRSK, "declared_value": str(v)}) for v in (1, 2)]
    assert [m.status for m in made] == [201, 201]
    ids = [(await m.json())["quote_id"] for m in made]
    meanwhile = await second.get(f"/v1/quotes/{ids[0]}")
    assert meanwhile.status == 503 and int(meanwhile.headers["Retry-After"]) > 0
    assert meanwhile.content_type == "application/problem+json"

    switch.up = True
    assert (await first.get("/healthz")).status == 200  # the worker sees Redis back and writes back
    written = first.server.app[keys.STORE]
    assert isinstance(written, ResilientStore)
    await written.write_back()  # the write-back /healthz started, done
    for quote_id, m in zip(ids, made, strict=True):
        read = await second.get(f"/v1/quotes/{quote_id}")
        assert read.status == 200 and await read.read() == await m.read()
    past_the_grace(second)
    assert (await second.get("/v1/quotes/q_never_made")).status == 404
    direct = redis.Redis.from_url(redis_url)
    try:  # with the time it had left, not a new lease
        left_ms = direct.pttl(switch.inner._k("quote:" + ids[0]))
    finally:
        direct.close()
    assert 0 < left_ms <= (Settings().quote_ttl_s + AFTERLIFE_S) * 1000


async def test_the_memory_store_stays_within_its_bound_by_dropping_what_was_written_longest_ago() -> None:
    store = MemoryStore(max_bytes=100 * 1024)
    body = b"q" * 1000
    await store.set("kept", body, 3600)
    for i in range(2000):
        await store.set(f"quote:{i}", body, 3600)
        if i % 20 == 0:
            await store.set("kept", body, 3600)  # written again: it counts as new
    assert store.evicted > 0
    assert len(store) < 100
    use = store.memory_use()
    assert use.evicted == store.evicted and use.entries == len(store)
    assert 90 * 1024 * 0.9 < use.bytes <= use.max_bytes == 100 * 1024
    assert await store.get("quote:1999") == body
    assert await store.get("quote:0") is None
    assert await store.get("kept") == body


async def test_a_full_memory_store_drops_expired_entries_before_live_ones() -> None:
    now = [0.0]
    store = MemoryStore(clock=lambda: now[0], max_bytes=100 * 1024)
    for i in range(60):
        await store.set(f"short:{i}", b"s" * 1000, 10)
    await store.set("live", b"l" * 1000, 3600)
    now[0] = 20.0
    for i in range(40):
        await store.set(f"quote:{i}", b"q" * 1000, 3600)
    assert store.evicted == 0
    assert await store.get("live") == b"l" * 1000


async def test_health_and_metrics_show_what_the_memory_store_holds(make_api) -> None:
    api = await make_api()
    before = (await (await api.get("/healthz")).json())["store"]["memory"]
    for _ in range(3):
        made = await api.post("/v1/quotes", json={**MOSCOW_NOVOSIBIRSK, "declared_value": str(1000 + _)})
        assert made.status == 201
    after = (await (await api.get("/healthz")).json())["store"]["memory"]
    # Each new quote is held by its id and as the cache's answer to its request.
    assert after["entries"] >= before["entries"] + 6
    assert after["bytes"] > before["bytes"]
    assert after["evicted"] == 0 and after["max_bytes"] == MemoryStore().memory_use().max_bytes
    text = await (await api.get("/metrics")).text()
    metrics = dict(line.split() for line in text.splitlines() if line.startswith("carrier_router_memory_store"))
    assert float(metrics["carrier_router_memory_store_max_bytes"]) == after["max_bytes"]
    assert float(metrics["carrier_router_memory_store_entries"]) >= after["entries"]
    assert float(metrics["carrier_router_memory_store_bytes"]) >= after["bytes"]
    assert float(metrics["carrier_router_memory_store_evicted_total"]) == 0


async def test_on_redis_health_shows_memory_only_once_it_has_stood_in(make_api, switch, redis_url) -> None:
    api = await make_api(Settings(redis_url=redis_url))
    assert (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).status == 201
    assert (await (await api.get("/healthz")).json())["store"]["memory"] is None
    assert "carrier_router_memory_store" not in await (await api.get("/metrics")).text()

    switch.up = False
    assert (await api.post("/v1/quotes", json={**MOSCOW_NOVOSIBIRSK, "declared_value": "777"})).status == 201
    health = await (await api.get("/healthz")).json()
    assert health["status"] == "degraded"
    assert health["store"]["memory"]["entries"] >= 2
