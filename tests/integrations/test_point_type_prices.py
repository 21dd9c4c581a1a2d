"""Offices and lockers of one CDEK-format network in one city, each priced with its own tariff.

The network is what the CDEK sandbox answers at `/v2/deliverypoints` for Novosibirsk, imported
into the records as `carrier-router points import` keeps it; the service quotes CDEK through
the same sandbox. The sandbox's locker tariff 368 is its office tariff 136 less 20 roubles, so a
point shown the other kind's tariff shows the other price.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from carriers.cdek.carrier import CdekCarrier
from carriers.registry import load_carriers
from carriers.sandbox import start_sandbox
from router.core.settings import Settings
from router.http import appkeys as keys
from router.http.app import create_app
from router.integrations.retailcrm.accounts import AccountBook
from router.records.database import open_records
from router.records.networks import Networks
from tests.integrations.crm_client import CrmClient, address, package
from tests.integrations.test_retailcrm_callbacks import save_payload

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOVOSIBIRSK_CITY_CODE = 270
NOVOSIBIRSK = {"lat": "55.0302", "lon": "82.9204"}
PARCEL = {"weight_g": "1200", "length_cm": "30", "width_cm": "20", "height_cm": "10"}
OFFICE, LOCKER = "cdek:136", "cdek:368"


@dataclass
class Served:
    api: TestClient
    book: AccountBook
    types: dict[str, str]  # every imported point's id and type


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    servers = await start_sandbox(seed=7)
    try:
        settings = servers.configure(Settings(state_dir=tmp_path_factory.mktemp("state")))
        async with aiohttp.ClientSession() as http:
            cdek = next(c for c in load_carriers(settings, http) if isinstance(c, CdekCarrier))
            imported = await cdek.import_delivery_points({"city_code": NOVOSIBIRSK_CITY_CODE})
        assert imported.errors == ()
        async with open_records(settings) as records:
            await Networks(records).save("cdek", imported.points, "sandbox /v2/deliverypoints")
        api = TestClient(TestServer(create_app(settings)))
        await api.start_server()
        try:
            yield Served(api, api.server.app[keys.RETAILCRM_ACCOUNTS], {p.id: p.type.value for p in imported.points})
        finally:
            await api.close()
    finally:
        await servers.close()


async def test_the_network_has_offices_and_lockers_in_one_city(served: Served) -> None:
    assert set(served.types.values()) == {"pvz", "locker"}


async def test_each_point_in_the_list_carries_the_tariff_for_its_type(served: Served) -> None:
    resp = await served.api.get(
        "/v1/pickup-points", params={**NOVOSIBIRSK, **PARCEL, "network": "cdek", "limit": "60", "origin": "Москва"}
    )
    assert resp.status == 200, await resp.text()
    points = (await resp.json())["points"]
    by_type: dict[str, set[tuple[str, Decimal]]] = {"pvz": set(), "locker": set()}
    for point in points:
        offer = point["offer"]
        assert offer is not None, point["id"]
        by_type[point["type"]].add((offer["id"], Decimal(offer["price"]["total"])))
        assert offer["point_types"] == [point["type"]]
    ((office_id, office_price),) = by_type["pvz"]
    ((locker_id, locker_price),) = by_type["locker"]
    assert (office_id, locker_id) == (OFFICE, LOCKER)
    assert office_price - locker_price == Decimal("20.00")


async def test_a_listed_offer_prices_only_the_kind_of_point_its_tariff_delivers_to(served: Served) -> None:
    resp = await served.api.get(
        "/v1/pickup-points",
        params={**NOVOSIBIRSK, **PARCEL, "network": "cdek", "type": "pvz", "limit": "10", "origin": "Москва"},
    )
    points = (await resp.json())["points"]
    assert points and {p["offer"]["id"] for p in points} == {OFFICE}


async def crm(served: Served) -> CrmClient:
    _, client_id = await served.book.create("https://shop.retailcrm.ru", "carrier-router", carriers=["cdek"])
    return CrmClient(served.api, client_id)


CALCULATE: dict[str, Any] = {
    "packages": [package(1200, 300, 200, 100)],
    "shipmentAddress": address("Москва", "101000"),
    "deliveryAddress": address("Новосибирск", "630099"),
    "declaredValue": 0,
    "cod": 0,
    "currency": "RUB",
}


async def test_the_crm_lists_each_pickup_tariff_with_only_the_points_it_delivers_to(served: Served) -> None:
    results = {r["code"]: r for r in (await (await crm(served)).calculate(CALCULATE)).result}
    office, locker = results[OFFICE], results[LOCKER]
    assert office["pickuppointList"] and locker["pickuppointList"]
    assert {served.types[t["code"]] for t in office["pickuppointList"]} == {"pvz"}
    assert {served.types[t["code"]] for t in locker["pickuppointList"]} == {"locker"}
    for result in (office, locker):
        assert {t["cost"] for t in result["pickuppointList"]} == {result["cost"]}
    assert Decimal(str(office["cost"])) - Decimal(str(locker["cost"])) == Decimal("20")


async def test_the_crm_cannot_save_a_locker_tariff_for_an_office(served: Served) -> None:
    client = await crm(served)
    results = {r["code"]: r for r in (await client.calculate(CALCULATE)).result}
    payload = save_payload(results[LOCKER])
    payload["packages"] = CALCULATE["packages"]
    payload["delivery"]["deliveryAddress"] = address("Новосибирск", "630099")
    payload["delivery"]["deliveryAddress"]["terminal"] = results[OFFICE]["pickuppointList"][0]["code"]
    refused = await client.save(payload)
    assert "not delivered to a point of type pvz" in refused.error
    payload["delivery"]["deliveryAddress"]["terminal"] = results[LOCKER]["pickuppointList"][0]["code"]
    saved = (await client.save(payload)).result
    assert saved["extraData"]["pickupPoint"] == results[LOCKER]["pickuppointList"][0]["code"]
