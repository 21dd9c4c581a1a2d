"""The production adapters over real HTTP against the sandbox emulators, faults included."""

from __future__ import annotations

import asyncio
import csv
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from carriers.api import (
    CarrierApiError,
    CarrierAuthError,
    CarrierRateLimited,
    CarrierUnavailable,
    Secret,
    deadline_scope,
)
from carriers.cdek.carrier import CdekCarrier, CdekClient
from carriers.courier import CourierCarrier
from carriers.registry import load_carriers
from carriers.sandbox import SandboxServers
from carriers.sandbox.points import DEMO_POINTS
from router.core.models import CarrierQuote, DeliveryType, Parcel, PriceLineKind
from router.core.settings import Settings
from tests.carriers.sandbox_fixtures import (  # noqa: F401  (fixtures)
    MOSCOW,
    MOSCOW_EAST,
    MSK,
    NOVOSIBIRSK,
    http,
    rate_request,
    sandbox,
)

FAST_CONFIG = """
[[carriers]]
kind = "cdek"
sandbox = true
timeout_s = {timeout}

[[carriers]]
kind = "courier"
sandbox = true
timeout_s = {timeout}
"""


def api_carriers(
    servers: SandboxServers, http: aiohttp.ClientSession, config: Path | None = None
) -> tuple[CdekCarrier, CourierCarrier]:
    """The API carriers exactly as the service builds them from its config."""
    carriers = load_carriers(servers.configure(Settings(config_path=config)), http)
    cdek = next(c for c in carriers if isinstance(c, CdekCarrier))
    courier = next(c for c in carriers if isinstance(c, CourierCarrier))
    return cdek, courier


def fast(tmp_path: Path, timeout: float = 0.3) -> Path:
    path = tmp_path / "fast.toml"
    path.write_text(FAST_CONFIG.format(timeout=timeout))
    return path


async def fault(http: aiohttp.ClientSession, base_url: str, **body: Any) -> None:
    async with http.post(base_url + "/_sandbox/faults", json=body) as resp:
        assert resp.status == 200, await resp.text()


def tomorrow_at(hour: int) -> datetime:
    return (datetime.now(MSK) + timedelta(days=1)).replace(hour=hour, minute=0, second=0, microsecond=0)


# ------------------------------------------------------------------ CDEK, happy path


async def test_cdek_quotes_each_configured_tariff_over_http(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    quote = await cdek.quote(rate_request(MOSCOW, NOVOSIBIRSK))
    assert sorted(o.service for o in quote.offers) == ["136", "137", "139", "368"]
    assert {o.delivery_type for o in quote.offers} == {DeliveryType.COURIER, DeliveryType.PICKUP}
    prices = {o.service: o.price.total for o in quote.offers}
    # The emulator's documented surcharges over office-office survive the trip exactly.
    assert prices["137"] - prices["136"] == Decimal("150.00")
    assert prices["139"] - prices["136"] == Decimal("300.00")
    assert prices["368"] - prices["136"] == Decimal("-20.00")


async def test_cdek_transit_grows_with_distance_and_heavier_parcels_cost_more(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    near = await cdek.quote(rate_request(MOSCOW, MOSCOW_EAST))
    far = await cdek.quote(rate_request(MOSCOW, NOVOSIBIRSK))
    heavy = await cdek.quote(rate_request(MOSCOW, NOVOSIBIRSK, parcels=(Parcel(8000, 30, 20, 10),)))
    by = lambda q: {o.service: o for o in q.offers}  # noqa: E731
    assert by(near)["136"].eta.max_days < by(far)["136"].eta.max_days
    assert by(near)["136"].price.total < by(far)["136"].price.total < by(heavy)["136"].price.total


async def test_cdek_leaves_out_the_locker_for_a_parcel_that_does_not_fit(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    quote = await cdek.quote(rate_request(parcels=(Parcel(25_000, 70, 40, 40),)))
    assert "368" not in {o.service for o in quote.offers}
    assert "136" in {o.service for o in quote.offers}


async def test_one_token_serves_many_quotes_even_when_they_start_together(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    request = rate_request()
    await asyncio.gather(*(cdek.quote(request) for _ in range(20)))
    for _ in range(20):
        await cdek.quote(request)
    assert sandbox.cdek.token_requests == 1
    assert sandbox.cdek.requests["/v2/calculator/tarifflist"] == 40


async def test_an_expired_token_is_refreshed_once_and_the_quote_succeeds(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await cdek.quote(rate_request())
    await fault(http, sandbox.cdek_url, expire_tokens=True)
    quote = await cdek.quote(rate_request())
    assert quote.offers
    assert sandbox.cdek.token_requests == 2
    assert sandbox.cdek.requests["/v2/calculator/tarifflist"] == 3  # one refused, one retried


async def test_quotes_refused_together_after_expiry_share_one_new_token(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await cdek.quote(rate_request())
    # Spread the refusals out, so some arrive after the new token is already in hand.
    await fault(http, sandbox.cdek_url, expire_tokens=True, latency_ms=40, jitter_ms=35, path="/v2/calculator")
    quotes = await asyncio.gather(*(cdek.quote(rate_request()) for _ in range(10)))
    assert all(q.offers for q in quotes)
    assert sandbox.cdek.token_requests == 2


async def test_a_token_refused_again_after_refresh_is_an_auth_error(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await fault(http, sandbox.cdek_url, status=401, path="/v2/calculator")
    with pytest.raises(CarrierAuthError):
        await cdek.quote(rate_request())
    assert sandbox.cdek.token_requests == 2  # refreshed once, not in a loop


async def test_a_token_is_replaced_shortly_before_it_expires(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    now = [1000.0]
    client = CdekClient(
        http,
        client_id=Secret(sandbox.cdek_client_id),
        client_secret=Secret(sandbox.cdek_client_secret),
        base_url=sandbox.cdek_url,
        clock=lambda: now[0],
    )
    cdek = CdekCarrier(client)
    await cdek.quote(rate_request())
    now[0] += 3600 - 61  # the sandbox's tokens live an hour; a minute's margin is kept
    await cdek.quote(rate_request())
    assert client.token_requests == 1
    now[0] += 2
    await cdek.quote(rate_request())
    assert client.token_requests == 2


async def test_wrong_credentials_are_an_auth_error_that_does_not_show_them(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    client = CdekClient(
        http, client_id=Secret("nobody"), client_secret=Secret("wrong-secret"), base_url=sandbox.cdek_url
    )
    with pytest.raises(CarrierAuthError) as caught:
        await CdekCarrier(client).quote(rate_request())
    assert "wrong-secret" not in str(caught.value)


async def test_cdek_delivery_points_are_paged_to_the_total(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    points = [p async for p in cdek.delivery_points({"city_code": 424}, page_size=7)]
    async with http.get(sandbox.cdek_url + "/_sandbox/stats") as resp:
        pages = (await resp.json())["requests"]["/v2/deliverypoints"]
    assert len(points) == len({p["code"] for p in points}) > 7
    assert pages == -(-len(points) // 7)
    assert {p["location"]["city"] for p in points} == {"Казань"}


async def test_cdek_delivery_points_cover_every_city_of_the_demo_points(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    with DEMO_POINTS.open(encoding="utf-8", newline="") as f:
        demo = [row for row in csv.DictReader(f) if row["status"] == "active"]
    cdek, _ = api_carriers(sandbox, http)
    points = [p async for p in cdek.delivery_points(page_size=1000)]
    assert len(points) == len(demo)
    assert {(p["location"]["city"], p["location"]["city_code"]) for p in points} >= {
        ("Москва", 44),
        ("Новосибирск", 270),
    }
    assert {p["location"]["city"] for p in points} == {row["city"] for row in demo}
    lockers = {p["code"]: p for p in points if p["type"] == "POSTAMAT"}
    demo_lockers = {f"MAG{row['code']}": row for row in demo if row["type"] == "locker"}
    assert lockers.keys() == demo_lockers.keys()
    some = next(iter(demo_lockers))
    assert lockers[some]["weight_max"] * 1000 == int(demo_lockers[some]["max_weight_g"])  # kilograms on the wire
    async with http.get(
        sandbox.cdek_url + "/v2/deliverypoints",
        params={"page": "2", "size": "100"},
        headers={"Authorization": f"Bearer {await cdek.client._bearer()}"},
    ) as resp:
        page = await resp.json()
        assert resp.headers["X-Total-Elements"] == str(len(demo))
    assert [p["code"] for p in page] == [p["code"] for p in points[200:300]]


async def test_cdek_delivery_points_filter_and_feed_the_pickup_importer(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    lockers = [p async for p in cdek.delivery_points({"city_code": 270, "type": "POSTAMAT"}, page_size=100)]
    assert lockers and all(p["location"]["city_code"] == 270 and p["type"] == "POSTAMAT" for p in lockers)
    imported = await cdek.import_delivery_points({"city_code": 270})
    assert imported.errors == ()
    assert len(imported.points) > len(lockers)
    # Named as CDEK names regions, numbered by CDEK's own codes, read back as ISO 3166-2.
    assert {p["location"]["region"] for p in lockers} == {"Новосибирская обл."}
    assert len({p["location"]["region_code"] for p in lockers}) == 1
    assert {p.region for p in imported.points} == {"RU-NVS"}


async def test_every_cdek_delivery_point_names_the_region_of_its_demo_point(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    with DEMO_POINTS.open(encoding="utf-8", newline="") as f:
        demo = {row["region"] for row in csv.DictReader(f) if row["status"] == "active"}
    cdek, _ = api_carriers(sandbox, http)
    imported = await cdek.import_delivery_points(page_size=5000)
    assert imported.errors == ()
    assert {p.region for p in imported.points} == demo
    moscow = [p async for p in cdek.delivery_points({"city_code": 44}, page_size=5000)][0]["location"]
    assert (moscow["region"], moscow["region_code"]) == ("Москва", 81)


# ------------------------------------------------------------------ CDEK, faults


async def test_cdek_500_is_unavailable_with_cdeks_error_code(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await cdek.quote(rate_request())  # token first: the fault is on the calculator
    await fault(http, sandbox.cdek_url, status=500)
    with pytest.raises(CarrierUnavailable) as caught:
        await cdek.quote(rate_request())
    assert caught.value.status == 500
    assert [e.code for e in caught.value.errors] == ["v2_internal_error"]


async def test_cdek_429_carries_retry_after(sandbox: SandboxServers, http: aiohttp.ClientSession) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await fault(http, sandbox.cdek_url, rate_limit_retry_after=2)
    with pytest.raises(CarrierRateLimited) as caught:
        await cdek.quote(rate_request())
    assert caught.value.retry_after_s == 2.0


async def test_cdek_malformed_json_is_an_invalid_response(sandbox: SandboxServers, http: aiohttp.ClientSession) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await cdek.quote(rate_request())
    await fault(http, sandbox.cdek_url, malformed=True)
    with pytest.raises(CarrierApiError) as caught:
        await cdek.quote(rate_request())
    assert caught.value.kind == "invalid_response"
    assert "not JSON" in str(caught.value)


async def test_cdek_empty_answer_is_an_empty_quote(sandbox: SandboxServers, http: aiohttp.ClientSession) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await fault(http, sandbox.cdek_url, empty=True)
    assert await cdek.quote(rate_request()) == CarrierQuote()


async def test_a_one_off_fault_passes_and_the_next_quote_succeeds(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await cdek.quote(rate_request())
    await fault(http, sandbox.cdek_url, status=503, count=1, path="/v2/calculator")
    with pytest.raises(CarrierUnavailable):
        await cdek.quote(rate_request())
    assert (await cdek.quote(rate_request())).offers


async def test_cdek_latency_within_the_timeout_still_quotes(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await fault(http, sandbox.cdek_url, latency_ms=60, jitter_ms=20)
    assert (await cdek.quote(rate_request())).offers


async def test_cdek_hang_ends_at_the_carriers_timeout(
    sandbox: SandboxServers, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    cdek, _ = api_carriers(sandbox, http, fast(tmp_path, timeout=0.3))
    await fault(http, sandbox.cdek_url, hang=True)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await cdek.quote(rate_request())
    assert time.monotonic() - started < 3.0


async def test_the_callers_deadline_cuts_a_longer_carrier_timeout(
    sandbox: SandboxServers, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    cdek, _ = api_carriers(sandbox, http, fast(tmp_path, timeout=5.0))
    await fault(http, sandbox.cdek_url, hang=True)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    with deadline_scope(loop.time() + 0.2), pytest.raises(TimeoutError):
        await cdek.quote(rate_request())
    assert time.monotonic() - started < 2.5  # far below the carrier's own 5 s


async def test_a_stopped_emulator_is_unavailable_not_a_crash(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek, courier = api_carriers(sandbox, http)
    await sandbox.close()
    with pytest.raises(CarrierUnavailable):
        await cdek.quote(rate_request())
    with pytest.raises(CarrierUnavailable):
        await courier.quote(rate_request(MOSCOW, MOSCOW_EAST))


# ------------------------------------------------------------------ courier


async def test_courier_quotes_a_same_day_ride_inside_the_city(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    _, courier = api_carriers(sandbox, http)
    quote = await courier.quote(rate_request(MOSCOW, MOSCOW_EAST, ship_at=tomorrow_at(10)))
    (offer,) = quote.offers
    assert offer.delivery_type is DeliveryType.COURIER
    assert (offer.eta.min_days, offer.eta.max_days) == (0, 0)
    assert offer.eta.min_date == tomorrow_at(10).date()
    assert sum(ln_.amount for ln_ in offer.price.lines) == offer.price.total > 0


async def test_courier_bills_insurance_and_cash_collection_on_their_own_lines(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    _, courier = api_carriers(sandbox, http)
    plain = (await courier.quote(rate_request(MOSCOW, MOSCOW_EAST, ship_at=tomorrow_at(10)))).offers[0]
    insured = (
        await courier.quote(rate_request(MOSCOW, MOSCOW_EAST, ship_at=tomorrow_at(10), declared_value="3000", cod=True))
    ).offers[0]
    kinds = {ln_.kind: ln_.amount for ln_ in insured.price.lines}
    assert kinds[PriceLineKind.INSURANCE] == Decimal("15.00")  # 0.5 % of 3000
    assert kinds[PriceLineKind.COD] == Decimal("45.00")  # 1.5 % taken at the door
    assert insured.price.total == plain.price.total + Decimal("60.00")


async def test_courier_weighs_in_whole_kilograms(sandbox: SandboxServers, http: aiohttp.ClientSession) -> None:
    _, courier = api_carriers(sandbox, http)
    offer = (await courier.quote(rate_request(MOSCOW, MOSCOW_EAST, parcels=(Parcel(6100, 40, 30, 30),)))).offers[0]
    assert offer.chargeable_weight_g == 7000
    assert {ln_.kind: ln_.amount for ln_ in offer.price.lines}[PriceLineKind.WEIGHT] == Decimal("70.00")  # 2 kg over 5


async def test_courier_rejects_an_intercity_route_with_the_reason(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    _, courier = api_carriers(sandbox, http)
    quote = await courier.quote(rate_request(MOSCOW, NOVOSIBIRSK))
    assert quote.offers == ()
    assert "route_not_found" in quote.rejections[0].reason


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        ({"status": 500}, CarrierUnavailable),
        ({"status": 401}, CarrierAuthError),
        ({"rate_limit_retry_after": 3}, CarrierRateLimited),
        ({"malformed": True}, CarrierApiError),
    ],
)
async def test_courier_faults_become_carrier_errors(
    sandbox: SandboxServers, http: aiohttp.ClientSession, faults: dict[str, Any], error: type[Exception]
) -> None:
    _, courier = api_carriers(sandbox, http)
    await fault(http, sandbox.courier_url, **faults)
    with pytest.raises(error) as caught:
        await courier.quote(rate_request(MOSCOW, MOSCOW_EAST))
    if isinstance(caught.value, CarrierRateLimited):
        assert caught.value.retry_after_s == 3.0


async def test_courier_hang_ends_at_its_timeout(
    sandbox: SandboxServers, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    _, courier = api_carriers(sandbox, http, fast(tmp_path, timeout=0.3))
    await fault(http, sandbox.courier_url, hang=True)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await courier.quote(rate_request(MOSCOW, MOSCOW_EAST))
    assert time.monotonic() - started < 3.0


async def test_courier_empty_answer_is_an_empty_quote(sandbox: SandboxServers, http: aiohttp.ClientSession) -> None:
    _, courier = api_carriers(sandbox, http)
    await fault(http, sandbox.courier_url, empty=True)
    assert await courier.quote(rate_request(MOSCOW, MOSCOW_EAST)) == CarrierQuote()


async def test_courier_with_a_wrong_token_is_an_auth_error(
    sandbox: SandboxServers, http: aiohttp.ClientSession
) -> None:
    from carriers.courier import CourierClient

    courier = CourierCarrier(CourierClient(http, base_url=sandbox.courier_url, token=Secret("stolen?")))
    with pytest.raises(CarrierAuthError):
        await courier.quote(rate_request(MOSCOW, MOSCOW_EAST))


# ------------------------------------------------------------------ the control endpoint


async def test_the_fault_endpoint_names_a_bad_field(sandbox: SandboxServers, http: aiohttp.ClientSession) -> None:
    async with http.post(sandbox.cdek_url + "/_sandbox/faults", json={"latency": 5}) as resp:
        assert resp.status == 400
        assert "latency" in (await resp.json())["error"]
    async with http.post(sandbox.cdek_url + "/_sandbox/faults", json={"status": 200}) as resp:
        assert resp.status == 400


async def test_clearing_faults_restores_service(sandbox: SandboxServers, http: aiohttp.ClientSession) -> None:
    cdek, _ = api_carriers(sandbox, http)
    await fault(http, sandbox.cdek_url, status=500)
    async with http.delete(sandbox.cdek_url + "/_sandbox/faults") as resp:
        assert resp.status == 200
    assert (await cdek.quote(rate_request())).offers


# ------------------------------------------------------------------ through the service


async def test_the_service_quotes_through_the_emulators_and_survives_one_hanging(
    sandbox: SandboxServers, aiohttp_client: Any
) -> None:
    from router.http.app import create_app

    settings = sandbox.configure(Settings(deadline_s=1.0, carrier_timeout_s=0.8))
    client = await aiohttp_client(create_app(settings))
    body = {
        "origin": {"city": "Москва"},
        "destination": {"city": "Новосибирск"},
        "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
    }
    resp = await client.post("/v1/quotes", json=body)
    assert resp.status == 201
    quote = await resp.json()
    assert "cdek" in {o["carrier"] for o in quote["offers"]}
    assert sandbox.cdek.requests["/v2/calculator/tarifflist"] == 1

    await fault(client.session, sandbox.cdek_url, hang=True)
    started = time.monotonic()
    resp = await client.post("/v1/quotes", json={**body, "declared_value": "100"})  # not the cached one
    assert resp.status == 201
    quote = await resp.json()
    assert time.monotonic() - started < 1.0 + 1.0
    assert "cdek" not in {o["carrier"] for o in quote["offers"]}
    assert len({o["carrier"] for o in quote["offers"]}) >= 3
    assert any(e["carrier"] == "cdek" and e["kind"] == "timeout" for e in quote["errors"])
