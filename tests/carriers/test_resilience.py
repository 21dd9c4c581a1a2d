"""Resilience against the emulators: a retry within the deadline, stale answers, open breakers, lost Redis.

Each test asserts what the buyer gets — offers, stale marks, errors — and that the deadline
holds, with bounds generous enough for a loaded machine.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import pytest

from carriers.api import CarrierApiError, CarrierRateLimited, CarrierUnavailable, deadline_scope
from carriers.registry import load_carriers
from carriers.sandbox import SandboxServers
from router.core.models import CarrierInfo, CarrierQuote, Location, Parcel, Policy, PolicyKind, RateRequest, Shipment
from router.core.settings import Settings
from router.http.schemas.openapi import document
from router.quoting.breaker import BreakerState, CircuitBreaker, GuardedCarrier, guard_carriers
from router.quoting.engine import QuoteEngine
from router.quoting.last_good import LastGood
from router.store.kv import MemoryStore
from tests.carriers.sandbox_fixtures import (  # noqa: F401  (fixtures)
    MOSCOW,
    MOSCOW_EAST,
    http,
    rate_request,
    sandbox,
)
from tests.carriers.test_breaker import Clock, RoundTrips
from tests.router.fakes import make_offer

TARIFFLIST = "/v2/calculator/tarifflist"
MOSCOW_NOVOSIBIRSK = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Новосибирск"},
    "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
}
DEADLINE_S = 1.0


def guarded(servers: SandboxServers, http: aiohttp.ClientSession) -> dict[str, GuardedCarrier]:
    """The sandbox configuration's API carriers, behind breakers, as the service builds them."""
    carriers = guard_carriers(load_carriers(servers.configure(Settings()), http), MemoryStore())
    return {c.code: c for c in carriers if isinstance(c, GuardedCarrier)}


async def fault(http: aiohttp.ClientSession, base_url: str, **body: Any) -> None:
    async with http.post(base_url + "/_sandbox/faults", json=body) as resp:
        assert resp.status == 200, await resp.text()


def within(seconds: float) -> Any:
    return deadline_scope(asyncio.get_running_loop().time() + seconds)


def conforms(instance: Any, schema_name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document()["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)


# ------------------------------------------------------------------ a retry within the deadline


async def test_a_500_is_asked_again_and_the_buyer_gets_offers(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek = guarded(sandbox, http)["cdek"]
    await cdek.quote(rate_request())  # the token first: the fault is on the calculator
    await fault(http, sandbox.cdek_url, status=500, count=1, path="/v2/calculator")
    with within(DEADLINE_S):
        quote = await cdek.quote(rate_request())
    assert quote.offers
    assert sandbox.cdek.requests[TARIFFLIST] == 3
    assert cdek.retries == 1
    assert await cdek.breaker.state() is BreakerState.CLOSED


async def test_a_courier_500_is_asked_again_too(sandbox: SandboxServers, http: aiohttp.ClientSession) -> None:
    courier = guarded(sandbox, http)["bystro"]
    await fault(http, sandbox.courier_url, status=500, count=1)
    with within(DEADLINE_S):
        quote = await courier.quote(rate_request(MOSCOW, MOSCOW_EAST))
    assert quote.offers
    assert sandbox.courier.requests["/calculate-order"] == 2


async def test_a_token_request_that_fails_once_is_asked_again(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek = guarded(sandbox, http)["cdek"]
    await fault(http, sandbox.cdek_url, status=502, count=1, path="/v2/oauth")
    with within(DEADLINE_S):
        assert (await cdek.quote(rate_request())).offers
    assert sandbox.cdek.token_requests == 1  # the refused one never issued a token


async def test_a_second_failure_is_not_asked_a_third_time(sandbox: SandboxServers, http: aiohttp.ClientSession) -> None:
    cdek = guarded(sandbox, http)["cdek"]
    await cdek.quote(rate_request())
    await fault(http, sandbox.cdek_url, status=500, path="/v2/calculator")
    with within(DEADLINE_S), pytest.raises(CarrierUnavailable):
        await cdek.quote(rate_request())
    assert sandbox.cdek.requests[TARIFFLIST] == 1 + 2


async def test_a_rate_limit_whose_retry_after_fits_the_deadline_is_waited_out(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek = guarded(sandbox, http)["cdek"]
    await cdek.quote(rate_request())
    await fault(http, sandbox.cdek_url, rate_limit_retry_after=0.1, count=1, path="/v2/calculator")
    with within(DEADLINE_S):
        assert (await cdek.quote(rate_request())).offers
    assert sandbox.cdek.requests[TARIFFLIST] == 3
    assert await cdek.breaker.state() is BreakerState.CLOSED


async def test_a_rate_limit_beyond_the_deadline_is_not_waited_for(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek = guarded(sandbox, http)["cdek"]
    await cdek.quote(rate_request())
    await fault(http, sandbox.cdek_url, rate_limit_retry_after=5, count=1, path="/v2/calculator")
    started = time.monotonic()
    with within(DEADLINE_S), pytest.raises(CarrierRateLimited):
        await cdek.quote(rate_request())
    assert time.monotonic() - started < DEADLINE_S  # gave up at once instead of sleeping 5 s
    assert sandbox.cdek.requests[TARIFFLIST] == 2
    # The carrier asked for 5 s of quiet; the breaker keeps every worker from asking sooner.
    assert await cdek.breaker.state() is BreakerState.OPEN


async def test_no_retry_when_what_is_left_of_the_deadline_could_not_hold_one(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek = guarded(sandbox, http)["cdek"]
    await cdek.quote(rate_request())
    # Each failure takes 0.3 s to arrive; after the first, 0.15 s of a 0.45 s deadline is left.
    await fault(http, sandbox.cdek_url, status=500, latency_ms=300, count=2, path="/v2/calculator")
    with within(0.45), pytest.raises(CarrierUnavailable):
        await cdek.quote(rate_request())
    assert sandbox.cdek.requests[TARIFFLIST] == 2
    assert cdek.retries == 0


async def test_an_answer_that_is_not_json_is_not_asked_again(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek = guarded(sandbox, http)["cdek"]
    await cdek.quote(rate_request())
    await fault(http, sandbox.cdek_url, malformed=True, count=1, path="/v2/calculator")
    with within(DEADLINE_S), pytest.raises(CarrierApiError):
        await cdek.quote(rate_request())
    assert sandbox.cdek.requests[TARIFFLIST] == 2


# ------------------------------------------------------------------ a hang lifted under load


class HangsUntilLifted:
    """A network carrier that hangs past any timeout until `lifted`, then answers."""

    code = "cdek"
    remote = True

    def __init__(self) -> None:
        self.lifted = asyncio.Event()
        self.calls = 0

    def info(self) -> CarrierInfo:
        return CarrierInfo("cdek", "CDEK", "test", ())

    async def quote(self, request: RateRequest) -> CarrierQuote:
        self.calls += 1
        await self.lifted.wait()
        return CarrierQuote(offers=(make_offer("cdek", "std", "500.00", 3),))

    def quote_sync(self, request: RateRequest) -> None:
        return None

    def close(self) -> None:
        pass


async def test_once_a_hang_is_lifted_the_breaker_closes_and_fresh_offers_return_within_its_hold() -> None:
    from router.quoting.wiring import bundled_places

    clock = Clock()
    # Each store call a trip through the loop, as with Redis; its entries expire in real time,
    # so a probe's lock left behind would outlast the whole test.
    store = RoundTrips()
    carrier = HangsUntilLifted()
    b = CircuitBreaker(store, "cdek", min_failures=5, window_s=5, buckets=5, open_s=15, refresh_s=1, clock=clock)
    # The quote's deadline and the carrier's timeout equal, as by default: both cut a hanging call.
    settings = Settings(deadline_s=0.05, carrier_timeout_s=0.05)
    engine = QuoteEngine([GuardedCarrier(carrier, b)], bundled_places(), settings, last_good=LastGood(store))
    shipment = Shipment(
        origin=Location(city="Москва"), destination=Location(city="Новосибирск"), parcels=(Parcel(1200, 30, 20, 10),)
    )

    async def fresh_offers() -> int:
        quotes = await asyncio.gather(*(engine.quote(shipment, Policy(PolicyKind.CHEAPEST)) for _ in range(16)))
        return sum(1 for q in quotes for o in q.offers if not o.stale)

    for _ in range(12):  # 30 s of hanging, 16 quotes at a time: it opens, probes, fails, opens again
        assert await fresh_offers() == 0
        clock.now += 2.5
    assert b.last_state is not BreakerState.CLOSED
    asked = carrier.calls
    assert asked < 12 * 16  # most quotes were turned away

    carrier.lifted.set()
    lifted_at = clock.now
    while not await fresh_offers():
        assert clock.now - lifted_at <= b.open_s + b.refresh_s, "no fresh offer one hold after the hang was lifted"
        clock.now += 0.5
    assert await b.state() is BreakerState.CLOSED
    assert await fresh_offers() == 16


# ------------------------------------------------------------------ through the service


@pytest.fixture
async def service(sandbox: SandboxServers, aiohttp_client: Any) -> Any:
    from router.http.app import create_app

    settings = sandbox.configure(Settings(deadline_s=DEADLINE_S, carrier_timeout_s=0.8))
    return await aiohttp_client(create_app(settings))


async def post_quote(client: Any, policy: str = "balanced", **more: Any) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    resp = await client.post("/v1/quotes", json={**MOSCOW_NOVOSIBIRSK, "policy": policy, **more})
    assert resp.status in (200, 201), await resp.text()
    return await resp.json(), time.monotonic() - started


def offers_of(quote: dict[str, Any], carrier: str) -> list[dict[str, Any]]:
    return [o for o in quote["offers"] if o["carrier"] == carrier]


async def test_the_service_quotes_fresh_offers_when_the_carrier_fails_once(
    service: Any, sandbox: SandboxServers
) -> None:
    await post_quote(service)
    await fault(service.session, sandbox.cdek_url, status=500, count=1, path="/v2/calculator")
    quote, _ = await post_quote(service, "cheapest")  # another policy: not the cached quote
    assert offers_of(quote, "cdek") and not any(o.get("stale") for o in quote["offers"])
    assert quote["errors"] == []


async def test_a_hanging_carrier_is_shown_from_its_last_good_answer_marked_stale(
    service: Any, sandbox: SandboxServers
) -> None:
    good, _ = await post_quote(service)
    await fault(service.session, sandbox.cdek_url, hang=True)
    quote, elapsed = await post_quote(service, "cheapest")

    assert elapsed < DEADLINE_S + 1.0
    stale = offers_of(quote, "cdek")
    assert {o["id"] for o in stale} == {o["id"] for o in offers_of(good, "cdek")}
    assert all(o["stale"] is True and o["as_of"] for o in stale)
    assert {o["id"]: o["price"] for o in stale} == {o["id"]: o["price"] for o in offers_of(good, "cdek")}
    assert all("stale" not in o for o in quote["offers"] if o["carrier"] != "cdek")
    (error,) = [e for e in quote["errors"] if e["carrier"] == "cdek"]
    assert error["kind"] == "timeout" and "stale" in error["message"]
    assert quote["recommended"]["offer_id"] not in {o["id"] for o in stale}
    conforms(quote, "Quote")


async def test_once_the_breaker_opens_the_carrier_is_not_asked_and_its_stale_answer_still_shows(
    service: Any, sandbox: SandboxServers
) -> None:
    await post_quote(service)
    await fault(service.session, sandbox.cdek_url, status=500, path="/v2/calculator")
    for _ in range(5):  # the breaker's default: five failures, all of the window's calls
        quote, _ = await post_quote(service, "cheapest")
        assert offers_of(quote, "cdek") and all(o["stale"] for o in offers_of(quote, "cdek"))
    asked = sandbox.cdek.requests[TARIFFLIST]

    quote, elapsed = await post_quote(service, "cheapest")
    assert sandbox.cdek.requests[TARIFFLIST] == asked  # turned away without a call
    (error,) = [e for e in quote["errors"] if e["carrier"] == "cdek"]
    assert error["kind"] == "unavailable" and "circuit open" in error["message"] and "stale" in error["message"]
    assert offers_of(quote, "cdek") and all(o["stale"] for o in offers_of(quote, "cdek"))

    carriers = {c["code"]: c for c in (await (await service.get("/v1/carriers")).json())["carriers"]}
    cdek = carriers["cdek"]
    assert cdek["status"] == "open" and cdek["health"]["breaker"] == "open"
    assert cdek["health"]["window"]["error_rate"] > 0.5
    assert cdek["health"]["stale_served"] == 6
    assert cdek["health"]["retries"] == 5
    conforms(cdek, "Carrier")

    metrics = await (await service.get("/metrics")).text()
    assert 'carrier_router_carrier_breaker{carrier="cdek",state="open"} 1.0' in metrics
    assert 'carrier_router_carrier_stale_served_total{carrier="cdek"} 6.0' in metrics
    assert 'carrier_router_carrier_calls_total{carrier="cdek",outcome="open"} 1.0' in metrics


async def test_the_carrier_listing_shows_each_carriers_health(service: Any, sandbox: SandboxServers) -> None:
    await fault(service.session, sandbox.cdek_url, latency_ms=30)
    await post_quote(service)
    carriers = {c["code"]: c for c in (await (await service.get("/v1/carriers")).json())["carriers"]}
    cdek = carriers["cdek"]["health"]
    assert cdek["breaker"] == "closed"
    assert cdek["window"]["calls"] == 1 and cdek["window"]["error_rate"] == 0
    assert cdek["window"]["p50_ms"] >= 30
    rate_cards = [c for c in carriers.values() if c["kind"] == "ratecard"]
    assert rate_cards and all(c["health"]["breaker"] is None for c in rate_cards)
    for carrier in carriers.values():
        conforms(carrier, "Carrier")

    metrics = await (await service.get("/metrics")).text()
    assert 'carrier_router_carrier_seconds_count{carrier="cdek"} 1.0' in metrics
    assert 'carrier_router_carrier_breaker{carrier="cdek",state="closed"} 1.0' in metrics


# ------------------------------------------------------------------ Redis going away


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """A redis-server of this test's own on a free port, so stopping it disturbs nobody else."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(directory),
                "--pidfile",
                str(directory / "redis.pid"),
            ],
            check=True,
            capture_output=True,
        )
        for _ in range(100):
            if self.answers():
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def answers(self) -> bool:
        probe = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return probe.stdout.strip() == "PONG"

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True)
        for _ in range(100):
            if not self.answers():
                return
            time.sleep(0.05)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    try:
        yield server
    finally:
        server.stop()


async def health(client: Any) -> str:
    body = await (await client.get("/healthz")).json()
    return str(body["status"])


async def test_quotes_go_on_from_memory_when_redis_is_not_there(sandbox: SandboxServers, aiohttp_client: Any) -> None:
    from router.http.app import create_app

    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings = sandbox.configure(Settings(deadline_s=DEADLINE_S, carrier_timeout_s=0.8, redis_url=nowhere))
    client = await aiohttp_client(create_app(settings))
    resp = await client.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)
    assert resp.status == 201
    quote = await resp.json()
    assert offers_of(quote, "cdek") and quote["errors"] == []
    assert await health(client) == "degraded"
    assert (await client.get(f"/v1/quotes/{quote['quote_id']}")).status == 200
    assert (await client.get("/v1/carriers")).status == 200


async def test_quotes_go_on_when_redis_stops_and_health_says_degraded(
    sandbox: SandboxServers, aiohttp_client: Any, own_redis: OwnRedis
) -> None:
    from router.http.app import create_app

    settings = sandbox.configure(Settings(deadline_s=DEADLINE_S, carrier_timeout_s=0.8, redis_url=own_redis.url))
    client = await aiohttp_client(create_app(settings))
    first, _ = await post_quote(client)
    assert offers_of(first, "cdek")
    assert await health(client) == "ok"

    own_redis.stop()
    quote, elapsed = await post_quote(client, "cheapest")
    assert elapsed < DEADLINE_S + 2.0
    assert offers_of(quote, "cdek") and quote["errors"] == []
    assert await health(client) == "degraded"
    # The breakers go through the same store: a failing carrier still opens its breaker.
    await fault(client.session, sandbox.cdek_url, status=500, path="/v2/calculator")
    for _ in range(6):
        quote, _ = await post_quote(client, "fastest")
    (error,) = [e for e in quote["errors"] if e["carrier"] == "cdek"]
    assert "circuit open" in error["message"]


async def test_two_services_on_one_redis_share_the_breaker_open_and_closed(
    sandbox: SandboxServers, aiohttp_client: Any, own_redis: OwnRedis
) -> None:
    from router.http.app import create_app

    settings = sandbox.configure(Settings(deadline_s=DEADLINE_S, carrier_timeout_s=0.8, redis_url=own_redis.url))
    one = await aiohttp_client(create_app(settings))
    two = await aiohttp_client(create_app(settings))
    await post_quote(one)
    await post_quote(two)
    await fault(one.session, sandbox.cdek_url, status=500, path="/v2/calculator")
    for _ in range(5):  # the breaker's default: five failures, all of the window's calls
        await post_quote(one, "cheapest")
    assert await listed_breaker(one) == "open"

    asked = sandbox.cdek.requests[TARIFFLIST]
    await asyncio.sleep(1.1)  # the other service reads the shared state at least once a second
    quote, _ = await post_quote(two, "fastest")
    assert sandbox.cdek.requests[TARIFFLIST] == asked  # turned away by the first service's verdict
    (error,) = [e for e in quote["errors"] if e["carrier"] == "cdek"]
    assert "circuit open" in error["message"]
    assert await listed_breaker(two) == "open"

    # The carrier recovers; once the hold is over, one probe through either service closes it for both.
    await fault(one.session, sandbox.cdek_url, latency_ms=0)
    subprocess.run(
        ["redis-cli", "-p", str(own_redis.port), "set", "cr:breaker:cdek:state", f"open:{time.time():.3f}"],
        check=True,
        capture_output=True,
    )
    await asyncio.sleep(1.1)
    quote, _ = await post_quote(two, declared_value="1000")  # not a quote either service has made
    assert offers_of(quote, "cdek") and not any(o.get("stale") for o in offers_of(quote, "cdek"))
    assert sandbox.cdek.requests[TARIFFLIST] == asked + 1  # the probe
    assert await listed_breaker(one) == "closed"
    quote, _ = await post_quote(one, declared_value="2000")
    assert quote["errors"] == []


async def listed_breaker(client: Any) -> str:
    carriers = (await (await client.get("/v1/carriers")).json())["carriers"]
    return str(next(c["health"]["breaker"] for c in carriers if c["code"] == "cdek"))


async def test_a_burst_of_store_calls_on_one_redis_connection_all_get_their_answers(redis_url: str) -> None:
    import uuid

    from router.store.kv import RedisStore

    # Thirty-two quotes to ten API carriers: each asks its breaker at once.
    store = RedisStore(redis_url, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        counts = await asyncio.gather(*(store.incr("calls", 60) for _ in range(320)))
        assert sorted(counts) == list(range(1, 321))
    finally:
        await store.delete("calls")
        await store.close()
