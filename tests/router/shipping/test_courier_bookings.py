"""Booking the same-day courier through the API, against its emulator over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

from router.core.settings import Settings
from tests.carriers.sandbox_fixtures import sandbox  # noqa: F401  (the emulators, as a fixture)
from tests.pdfs import barcodes
from tests.router.shipping.test_api_shipments import RECIPIENT, SENDER

ACROSS_MOSCOW = {
    "origin": {"city": "Москва", "address": "ул. Тверская, 1", "lat": 55.7577, "lon": 37.6136},
    "destination": {"city": "Москва", "address": "Измайловский пр-т, 73", "lat": 55.7887, "lon": 37.7494},
    "parcels": [{"weight_g": 1500, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
}


async def test_the_courier_is_booked_at_once_its_label_is_ours_and_a_cancel_reaches_it(
    make_api, sandbox, tmp_path: Any
) -> None:
    api = await make_api(sandbox.configure(Settings(state_dir=tmp_path / "state")))
    quote = await (await api.post("/v1/quotes", json=ACROSS_MOSCOW)).json()
    offer = next(o for o in quote["offers"] if o["carrier"] == "bystro")
    body = {
        "quote_id": quote["quote_id"],
        "offer_id": offer["id"],
        "order_number": "C-1",
        "recipient": RECIPIENT,
        "sender": SENDER,
    }

    resp = await api.post("/v1/shipments", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})

    assert resp.status == 201, await resp.text()
    shipment = await resp.json()
    assert shipment["status"] == "booked" and shipment["tracking_number"]
    assert shipment["price"] == offer["price"]["total"]
    label = await api.get(f"/v1/shipments/{shipment['id']}/label")
    assert barcodes(await label.read()) == [shipment["tracking_number"]]
    cancelled = await api.post(f"/v1/shipments/{shipment['id']}/cancel")
    assert (await cancelled.json())["status"] == "cancelled"
    calls = [c["operation"] for c in (await (await api.get(f"/v1/shipments/{shipment['id']}")).json())["calls"]]
    assert calls == ["create", "cancel"]
