"""Booking with a CDEK-format carrier through the API, against the CDEK emulator over HTTP.

The carrier is configured by TOML alone (the emulator's URL, credentials named by environment
variable), as any CDEK-format server would be; its offices
are the emulator's own, imported into the records as `carrier-router points import` keeps them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from carriers.cdek.carrier import CdekCarrier
from carriers.registry import load_carriers
from carriers.sandbox import SandboxServers, start_sandbox
from carriers.sandbox.cdek_orders import SandboxOrders
from router.core.settings import DEFAULT_DATA_DIR, Settings
from router.records.database import open_records
from router.records.networks import Networks
from tests.pdfs import THERMAL_DPI, barcodes
from tests.router.shipping.test_api_shipments import RECIPIENT, SENDER

NOVOSIBIRSK_CITY_CODE = 270
TO_AN_OFFICE = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Новосибирск"},
    "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
}


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServers]:
    servers = await start_sandbox(seed=7, cdek_orders=SandboxOrders(decide_after_s=0, print_ready_after_s=0))
    try:
        yield servers
    finally:
        await servers.close()


@pytest.fixture
async def settings(sandbox: SandboxServers, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return await cdek_settings(sandbox, tmp_path, monkeypatch)


async def cdek_settings(sandbox: SandboxServers, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings reaching the emulator through the TOML alone, with its Novosibirsk offices imported."""
    # The emulator is reached as any CDEK-format server is: its URL and credentials in the TOML.
    monkeypatch.setenv("SHOP_CDEK_ID", sandbox.cdek_client_id)
    monkeypatch.setenv("SHOP_CDEK_SECRET", sandbox.cdek_client_secret)
    config = tmp_path / "carriers.toml"
    config.write_text(
        f"""
[[carriers]]
kind = "ratecard"
path = "{DEFAULT_DATA_DIR / "carriers"}"

[[carriers]]
kind = "cdek"
code = "cdek"
name = "CDEK"
base_url = "{sandbox.cdek_url}"
client_id_env = "SHOP_CDEK_ID"
client_secret_env = "SHOP_CDEK_SECRET"
tariffs = [136, 137, 139, 368]
""",
        encoding="utf-8",
    )
    settings = Settings(state_dir=tmp_path / "state", config_path=config)
    async with aiohttp.ClientSession() as http:
        cdek = next(c for c in load_carriers(settings, http) if isinstance(c, CdekCarrier))
        imported = await cdek.import_delivery_points({"city_code": NOVOSIBIRSK_CITY_CODE})
    async with open_records(settings) as records:
        await Networks(records).save("cdek", imported.points, "sandbox /v2/deliverypoints")
    return settings


async def control(sandbox: SandboxServers, path: str, body: dict[str, Any]) -> Any:
    """A call to the emulator's control API (`/_sandbox/...`), which must succeed."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.cdek_url}/_sandbox/{path}", json=body) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()


async def cdek_orders(sandbox: SandboxServers, api: Any, number: str) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sandbox.cdek_url}/_sandbox/orders", params={"number": number}) as resp:
            return int((await resp.json())["count"])


async def an_office(api: Any) -> str:
    near = await (
        await api.get("/v1/pickup-points", params={"lat": "55.03", "lon": "82.92", "network": "cdek", "type": "pvz"})
    ).json()
    return str(near["points"][0]["id"])


async def book(api: Any, quote: dict[str, Any], office: str, key: str | None = None) -> Any:
    body = {
        "quote_id": quote["quote_id"],
        "offer_id": "cdek:136",
        "pickup_point_id": office,
        "order_number": "A-77",
        "recipient": RECIPIENT,
        "sender": SENDER,
    }
    return await api.post("/v1/shipments", json=body, headers={"Idempotency-Key": key or str(uuid.uuid4())})


async def test_an_office_offer_is_booked_at_cdek_followed_to_its_number_and_cancelled(
    make_api, settings, sandbox
) -> None:
    api = await make_api(settings)
    quote = await (await api.post("/v1/quotes", json=TO_AN_OFFICE)).json()

    resp = await book(api, quote, await an_office(api))

    assert resp.status == 201, await resp.text()
    shipment = await resp.json()
    assert shipment["status"] == "booked"
    assert shipment["tracking_number"] and shipment["tracking_number"].isdigit()
    assert shipment["price"] == next(o for o in quote["offers"] if o["id"] == "cdek:136")["price"]["total"]
    assert await cdek_orders(sandbox, api, shipment["id"]) == 1
    detail = await (await api.get(f"/v1/shipments/{shipment['id']}")).json()
    assert [c["operation"] for c in detail["calls"]][:1] == ["create"]
    cancelled = await api.post(f"/v1/shipments/{shipment['id']}/cancel")
    assert cancelled.status == 200 and (await cancelled.json())["status"] == "cancelled"


async def test_cdek_answering_the_first_booking_with_a_500_still_makes_exactly_one_order(
    make_api, settings, sandbox
) -> None:
    api = await make_api(settings)
    quote = await (await api.post("/v1/quotes", json=TO_AN_OFFICE)).json()
    office = await an_office(api)
    await control(sandbox, "faults", {"status": 500, "after_handling": True, "count": 1, "path": "/v2/orders"})

    key = str(uuid.uuid4())
    first = await (await book(api, quote, office, key)).json()
    again = await (await book(api, quote, office, key)).json()

    assert first["status"] == "booked", first
    assert again == first
    assert await cdek_orders(sandbox, api, first["id"]) == 1
    operations = [c["operation"] for c in (await (await api.get(f"/v1/shipments/{first['id']}")).json())["calls"]]
    assert operations[:2] == ["create", "find"]


async def test_an_office_cdek_no_longer_lists_fails_the_booking_with_cdeks_own_words(
    make_api, settings, sandbox
) -> None:
    api = await make_api(settings)
    quote = await (await api.post("/v1/quotes", json=TO_AN_OFFICE)).json()
    office = await an_office(api)
    await control(sandbox, "points", {"withdraw": [office.split(":", 1)[1]]})

    shipment = await (await book(api, quote, office)).json()

    assert shipment["status"] == "failed"
    assert shipment["tracking_number"] is None
    assert any("delivery_point" in e["message"] for e in shipment["errors"]), shipment["errors"]


async def test_cancelling_after_cdek_has_the_parcel_is_refused_with_its_reason(make_api, settings, sandbox) -> None:
    api = await make_api(settings)
    quote = await (await api.post("/v1/quotes", json=TO_AN_OFFICE)).json()
    shipment = await (await book(api, quote, await an_office(api))).json()
    await control(sandbox, f"orders/{shipment['carrier_order_id']}/status", {"code": "RECEIVED_AT_SHIPMENT_WAREHOUSE"})

    resp = await api.post(f"/v1/shipments/{shipment['id']}/cancel")

    assert resp.status == 409
    assert "will not cancel" in (await resp.json())["detail"]
    assert (await (await api.get(f"/v1/shipments/{shipment['id']}")).json())["status"] == "booked"


async def test_cdeks_own_label_is_fetched_kept_and_its_barcode_is_the_cdek_number(make_api, settings, sandbox) -> None:
    api = await make_api(settings)
    quote = await (await api.post("/v1/quotes", json=TO_AN_OFFICE)).json()
    shipment = await (await book(api, quote, await an_office(api))).json()

    first = await api.get(f"/v1/shipments/{shipment['id']}/label")
    again = await api.get(f"/v1/shipments/{shipment['id']}/label")

    assert first.status == 200, await first.text()
    pdf = await first.read()
    assert barcodes(pdf, dpi=THERMAL_DPI) == [shipment["tracking_number"]]
    assert await again.read() == pdf
    labels = [
        c
        for c in (await (await api.get(f"/v1/shipments/{shipment['id']}")).json())["calls"]
        if c["operation"] == "label"
    ]
    assert len(labels) == 1  # fetched once, then kept


async def test_a_cdek_pick_up_is_an_intake_at_cdek_and_can_be_called_off(make_api, settings, sandbox) -> None:
    api = await make_api(settings)
    quote = await (await api.post("/v1/quotes", json=TO_AN_OFFICE)).json()
    shipment = await (await book(api, quote, await an_office(api))).json()
    body = {
        "carrier": "cdek",
        "day": shipment["ship_date"],
        "address": "ул. Складская, 5",
        "city": "Москва",
        "contact": SENDER,
        "shipment_ids": [shipment["id"]],
    }

    made = await api.post("/v1/pickups", json=body)
    none_named = await api.post("/v1/pickups", json={**body, "shipment_ids": []})

    assert made.status == 201, await made.text()
    pickup = await made.json()
    assert pickup["status"] == "arranged" and pickup["carrier_pickup_id"]
    assert pickup["weight_g"] == 1200
    assert none_named.status == 422
    cancelled = await api.post(f"/v1/pickups/{pickup['id']}/cancel")  # DELETE /v2/intakes/{uuid} at the emulator
    assert cancelled.status == 200 and (await cancelled.json())["status"] == "cancelled"
    again = await api.post(f"/v1/pickups/{pickup['id']}/cancel")
    assert again.status == 200


async def test_cdek_takes_its_orders_through_its_api_so_it_has_no_manifest(make_api, settings) -> None:
    api = await make_api(settings)

    resp = await api.get("/v1/manifests", params={"carrier": "cdek", "date": "2026-12-08"})

    assert resp.status == 422 and (await resp.json())["errors"][0]["path"] == "carrier"
