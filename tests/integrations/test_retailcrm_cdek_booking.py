"""The CRM books a CDEK office delivery, prints CDEK's label, sends for CDEK's courier and cancels,
through the callbacks, against the CDEK emulator over HTTP (configured by TOML alone; its
Novosibirsk offices imported into the records as `carrier-router points import` keeps them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from carriers.cdek.carrier import CdekCarrier
from carriers.registry import load_carriers
from carriers.sandbox import SandboxServers, start_sandbox
from carriers.sandbox.cdek_orders import SandboxOrders
from router.core.settings import Settings
from router.http import appkeys as keys
from router.http.app import create_app
from router.records.database import open_records
from router.records.networks import Networks
from router.shipping.ledger import Filters
from router.shipping.model import ShipmentStatus
from tests.integrations.crm_client import CrmClient, address
from tests.integrations.test_point_type_prices import CALCULATE, NOVOSIBIRSK_CITY_CODE, OFFICE
from tests.integrations.test_retailcrm_booking import pickup_payload
from tests.integrations.test_retailcrm_callbacks import save_payload
from tests.pdfs import barcodes

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Served:
    api: TestClient
    sandbox: SandboxServers


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    servers = await start_sandbox(seed=7, cdek_orders=SandboxOrders(decide_after_s=0, print_ready_after_s=0))
    try:
        settings = servers.configure(Settings(state_dir=tmp_path_factory.mktemp("state")))
        async with aiohttp.ClientSession() as http:
            cdek = next(c for c in load_carriers(settings, http) if isinstance(c, CdekCarrier))
            imported = await cdek.import_delivery_points({"city_code": NOVOSIBIRSK_CITY_CODE})
        async with open_records(settings) as records:
            await Networks(records).save("cdek", imported.points, "sandbox /v2/deliverypoints")
        api = TestClient(TestServer(create_app(settings)))
        await api.start_server()
        try:
            yield Served(api, servers)
        finally:
            await api.close()
    finally:
        await servers.close()


async def crm(served: Served) -> tuple[CrmClient, str]:
    account, client_id = await served.api.server.app[keys.RETAILCRM_ACCOUNTS].create(
        "https://shop.retailcrm.ru", "carrier-router", carriers=["cdek"]
    )
    return CrmClient(served.api, client_id), account.id


async def office_payload(client: CrmClient, order: str) -> dict[str, Any]:
    results = {r["code"]: r for r in (await client.calculate(CALCULATE)).result}
    payload = save_payload(results[OFFICE], order=order)
    payload["packages"] = CALCULATE["packages"]
    payload["delivery"]["deliveryAddress"] = address("Новосибирск", "630099")
    payload["delivery"]["deliveryAddress"]["terminal"] = results[OFFICE]["pickuppointList"][0]["code"]
    return payload


async def emulator(served: Served, path: str, **params: str) -> Any:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{served.sandbox.cdek_url}{path}", params=params) as resp:
            return await resp.json()


async def test_save_books_at_cdek_once_and_answers_cdeks_number(served: Served) -> None:
    client, owner = await crm(served)
    payload = await office_payload(client, "c1")

    saved = (await client.save(payload)).result
    again = (await client.save(payload)).result

    assert again == saved and saved["status"] == "booked"
    shipment_id = saved["extraData"]["shipmentId"]
    booked = await emulator(served, "/_sandbox/orders", number=shipment_id)
    assert booked["count"] == 1
    assert saved["trackNumber"] == booked["orders"][0]["cdek_number"] and saved["trackNumber"].isdigit()
    pdf = await client.print([saved["deliveryId"]])
    assert isinstance(pdf, bytes) and saved["trackNumber"] in barcodes(pdf)


async def test_shipment_save_asks_cdek_for_a_courier_and_shipment_delete_calls_it_off(served: Served) -> None:
    client, _ = await crm(served)
    saved = (await client.save(await office_payload(client, "c2"))).result

    arranged = (await client.shipment_save(pickup_payload(saved["deliveryId"]))).result

    assert arranged["extraData"]["status"] == "arranged" and arranged["extraData"]["carrier"] == "cdek"
    intake = served.sandbox.cdek_orders.intakes[arranged["extraData"]["carrierPickupId"]]
    assert intake["intake_date"] == pickup_payload()["date"][:10]
    assert (intake["intake_time_from"], intake["intake_time_to"]) == ("10:00", "14:00")
    assert (await client.shipment_delete(arranged["shipmentId"])).status == 200
    assert intake["statuses"][0]["code"] == "REMOVED"


async def test_delete_cancels_at_cdek_and_is_refused_once_cdek_has_the_parcel(served: Served) -> None:
    client, owner = await crm(served)
    shipper = served.api.server.app[keys.SHIPPER]
    first = (await client.save(await office_payload(client, "c3"))).result
    assert (await client.delete(first["deliveryId"])).status == 200
    cancelled = await shipper.get(first["extraData"]["shipmentId"], owner)
    assert cancelled.status is ShipmentStatus.CANCELLED

    handed = (await client.save(await office_payload(client, "c4"))).result
    uuid = (await shipper.get(handed["extraData"]["shipmentId"], owner)).carrier_order_id
    async with aiohttp.ClientSession() as http:
        status = {"code": "RECEIVED_AT_SHIPMENT_WAREHOUSE"}
        async with http.post(f"{served.sandbox.cdek_url}/_sandbox/orders/{uuid}/status", json=status) as resp:
            assert resp.status == 200, await resp.text()
    refused = await client.delete(handed["deliveryId"])
    assert refused.status == 400 and "cannot be" in refused.error
    assert (await client.load(handed["deliveryId"])).status == 200  # still the CRM's delivery


async def test_an_office_cdek_refuses_is_a_refusal_in_cdeks_words_and_the_next_save_books_anew(
    served: Served,
) -> None:
    client, owner = await crm(served)
    payload = await office_payload(client, "c5")
    office = payload["delivery"]["deliveryAddress"]["terminal"]
    points = f"{served.sandbox.cdek_url}/_sandbox/points"
    async with aiohttp.ClientSession() as http:
        async with http.post(points, json={"withdraw": [office.split(":", 1)[1]]}) as resp:
            assert resp.status == 200
        try:
            refused = await client.save(payload)
        finally:
            async with http.delete(points) as resp:
                assert resp.status == 200

    assert refused.status == 400 and "refused to book" in refused.error and "delivery_point" in refused.error
    booked = (await client.save(payload)).result
    assert booked["status"] == "booked" and booked["trackNumber"].isdigit()
    statuses = [
        s.status
        for s in (await served.api.server.app[keys.SHIPPER].page(owner, Filters(), limit=9, cursor=None)).shipments
    ]
    assert sorted(statuses) == [ShipmentStatus.BOOKED, ShipmentStatus.FAILED]


async def test_a_booking_cdek_decides_after_save_answered_reaches_get_with_its_number(served: Served) -> None:
    client, _ = await crm(served)
    shipper = served.api.server.app[keys.SHIPPER]
    orders = served.sandbox.cdek_orders
    settle_s, orders.decide_after_s, shipper.settle_s = shipper.settle_s, 0.5, 0.05
    try:
        saved = (await client.save(await office_payload(client, "c6"))).result
    finally:
        orders.decide_after_s, shipper.settle_s = 0, settle_s
    assert saved["status"] == "booking" and "trackNumber" not in saved
    loaded: dict[str, Any] = {}
    for _ in range(100):  # the booking job follows CDEK every half second
        loaded = (await client.load(saved["deliveryId"])).result
        if loaded["status"]["code"] != "booking":
            break
        await asyncio.sleep(0.1)
    assert loaded["status"]["code"] == "booked" and loaded["trackNumber"].isdigit()
