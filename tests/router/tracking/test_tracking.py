"""Parcels followed to the end: CDEK's status calls and polls, a partner's events by hand, the
shop told of each change, the buyer's page, and the outcome learned without a CSV.

The CDEK emulator is reached as any CDEK-format server (its URL in the TOML); its journeys run
on its own clock, moved on by the tests, and it calls the service back at its public URL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from carriers.sandbox import SandboxServers
from router.core.settings import Settings
from router.http import appkeys as keys
from router.http.app import create_app
from router.records.keys import KeyKind
from tests.keys import create_key
from tests.receiver import Receiver
from tests.router.shipping.test_api_shipments import RECIPIENT, SENDER, booking, key, quote
from tests.router.shipping.test_cdek_bookings import TO_AN_OFFICE, an_office, cdek_settings, control
from tests.sandboxes import travelling_sandbox
from tests.services import free_port

TOKEN = "inbound-secret-for-tests"


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServers]:
    async with travelling_sandbox() as servers:
        yield servers


async def serve(settings: Settings, port: int | None = None) -> TestClient:
    client = TestClient(TestServer(create_app(settings), port=port or free_port()))
    await client.start_server()
    return client


async def book_at_an_office(api: TestClient) -> dict[str, Any]:
    q = await (await api.post("/v1/quotes", json=TO_AN_OFFICE)).json()
    body = {
        "quote_id": q["quote_id"],
        "offer_id": "cdek:136",
        "pickup_point_id": await an_office(api),
        "order_number": "T-1",
        "recipient": RECIPIENT,
        "sender": SENDER,
    }
    resp = await api.post("/v1/shipments", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    shipment = await resp.json()
    assert shipment["status"] == "booked", shipment
    return dict(shipment)


async def until(check: Any, within_s: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    stop = loop.time() + within_s
    while True:
        result = await check()
        if result:
            return result
        assert loop.time() < stop, "never happened"
        await asyncio.sleep(0.1)


async def test_cdeks_status_calls_take_a_parcel_to_delivered_and_the_shop_and_the_statistics_hear_of_it(
    sandbox, tmp_path, monkeypatch, receiver: Receiver
) -> None:
    port = free_port()
    settings = await cdek_settings(sandbox, tmp_path, monkeypatch)
    settings = settings.with_(public_url=f"http://127.0.0.1:{port}", inbound_token=TOKEN, tracking_poll_s=0)
    api = await serve(settings, port)
    try:
        await until(lambda: _subscribed(sandbox))
        await api.post("/v1/webhooks", json={"url": receiver.url, "events": ["shipment.status_changed"]})
        shipment = await book_at_an_office(api)
        await control(sandbox, "webhooks/faults", {"duplicate": 0.5, "reorder": True})

        await control(sandbox, "clock", {"advance_s": 14 * 86400})

        async def delivered() -> dict[str, Any] | None:
            detail = await (await api.get(f"/v1/shipments/{shipment['id']}")).json()
            return detail if detail["tracking_status"] == "delivered" else None

        detail = await until(delivered)
        history = detail["history"]
        codes = [h["carrier_code"] for h in history]
        assert len(codes) == len(set(codes))  # each status once, however often it was called
        moments = [datetime.fromisoformat(h["at"]) for h in history]
        assert moments == sorted(moments)  # by the carrier's time, not by arrival
        assert history[-1]["status"] == "delivered" and {h["source"] for h in history} == {"webhook"}
        assert any(h["at"].endswith("+07:00") for h in history)  # Novosibirsk's events in its own zone

        async def told_delivered() -> bool:
            return any(e["data"]["tracking_status"] == "delivered" for e in receiver.events())

        await until(told_delivered)
        told = [e["data"]["tracking_status"] for e in receiver.events()]
        assert told[-1] == "delivered" and len(told) == len(set(told))  # in order, each change once
        tallies = await api.server.app[keys.TRACK_RECORD].tallies("cdek", "136")
        assert tallies is not None and tallies.delivered >= 1
    finally:
        await api.close()


async def _subscribed(sandbox: SandboxServers) -> bool:
    return any(s.type == "ORDER_STATUS" for s in sandbox.cdek_journeys.subscriptions.values())


async def test_without_a_public_url_every_open_parcel_is_polled_until_its_status_is_final(
    sandbox, tmp_path, monkeypatch
) -> None:
    settings = await cdek_settings(sandbox, tmp_path, monkeypatch)
    api = await serve(settings.with_(tracking_poll_s=0.2))
    try:
        shipment = await book_at_an_office(api)
        await control(sandbox, "clock", {"advance_s": 14 * 86400})

        async def final() -> bool:
            detail = await (await api.get(f"/v1/shipments/{shipment['id']}")).json()
            return detail["tracking_status"] == "delivered" and {h["source"] for h in detail["history"]} == {"poll"}

        await until(final)
        state = await api.server.app[keys.SHIPPER].queue.state("track", shipment["id"])
        assert state is not None and state[0] == "done"  # no more polls once delivered
    finally:
        await api.close()


async def test_a_status_call_for_another_systems_order_or_with_a_wrong_token_changes_nothing(
    sandbox, tmp_path, monkeypatch
) -> None:
    settings = await cdek_settings(sandbox, tmp_path, monkeypatch)
    api = await serve(settings.with_(inbound_token=TOKEN, tracking_poll_s=0))
    try:
        shipment = await book_at_an_office(api)
        call = {
            "type": "ORDER_STATUS",
            "date_time": "2026-12-08T10:15:00+0700",
            "uuid": "not-ours",
            "attributes": {
                "is_return": False,
                "cdek_number": "999",
                "code": "DELIVERED",
                "status_date_time": "2026-12-08T10:15:00+0700",
            },
        }
        stranger = await api.post(f"/v1/inbound/cdek/{TOKEN}", json=call)
        forged = await api.post("/v1/inbound/cdek/guess", json={**call, "uuid": shipment["carrier_order_id"]})
        garbage = await api.post(
            f"/v1/inbound/cdek/{TOKEN}", data=b"{not json", headers={"Content-Type": "application/json"}
        )

        assert stranger.status == 200 and (await stranger.json())["taken"] is False
        assert forged.status == 404
        assert garbage.status in (400, 422)
        assert (await (await api.get(f"/v1/shipments/{shipment['id']}")).json())["history"] == []
    finally:
        await api.close()


async def test_a_partners_events_told_by_hand_in_any_order_keep_the_latest_by_time(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    made = await (await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers=key())).json()
    later = {
        "status": "out_for_delivery",
        "at": "2026-12-10T09:00:00+07:00",
        "city": "Новосибирск",
        "text": "У курьера",
    }
    earlier = {"status": "in_transit", "at": "2026-12-09T12:00:00+03:00", "city": "Москва", "text": "В пути"}

    first = await api.post(f"/v1/shipments/{made['id']}/events", json={"events": [later]})
    second = await api.post(f"/v1/shipments/{made['id']}/events", json={"events": [earlier, later]})
    bad = await api.post(f"/v1/shipments/{made['id']}/events", json={"events": [{**later, "status": "teleported"}]})

    assert first.status == 200 and second.status == 200
    detail = await second.json()
    assert detail["tracking_status"] == "out_for_delivery"
    assert [(h["status"], h["at"]) for h in detail["history"]] == [
        ("in_transit", "2026-12-09T12:00:00+03:00"),
        ("out_for_delivery", "2026-12-10T09:00:00+07:00"),
    ]
    assert bad.status == 422 and (await bad.json())["errors"][0]["path"] == "events[0].status"


async def test_the_buyers_page_shows_the_journey_by_tracking_number_and_nothing_personal(make_api, tmp_path) -> None:
    settings = Settings(state_dir=tmp_path / "state")
    _, secret = await create_key(settings.state_dir, KeyKind.SECRET, "shop")
    _, public = await create_key(settings.state_dir, KeyKind.PUBLISHABLE, "widget", origins=("https://shop.example",))
    api = await make_api(settings)
    shop = {"Authorization": f"Bearer {secret}"}
    q = await quote(api, headers=shop)
    made = await (await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers={**shop, **key()})).json()
    event = {"status": "in_transit", "at": "2026-12-09T12:00:00+03:00", "city": "Москва", "text": "В пути"}
    await api.post(f"/v1/shipments/{made['id']}/events", json={"events": [event]}, headers=shop)

    buyer = {"Authorization": f"Bearer {public}", "Origin": "https://shop.example"}
    resp = await api.get(f"/v1/track/{made['tracking_number']}", headers=buyer)
    unknown = await api.get("/v1/track/NO0000000000", headers=buyer)

    assert resp.status == 200, await resp.text()
    page = await resp.json()
    assert page["status"] == "in_transit" and page["history"][0]["city"] == "Москва"
    text = await resp.text()
    for personal in ("Анна", "913", "Склад", "A-1001", made["price"]):
        assert personal not in text
    assert unknown.status == 404
