from __future__ import annotations

import asyncio
import hashlib
import hmac

from router.core.settings import Settings
from router.records.keys import KeyKind
from tests.keys import create_key
from tests.router.shipping.test_api_shipments import booking, key, quote


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in headers["Carrier-Router-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


async def test_every_change_to_a_shipment_reaches_the_shops_endpoint_signed_and_in_order(make_api, receiver) -> None:
    api = await make_api()
    made = await api.post("/v1/webhooks", json={"url": receiver.url})
    assert made.status == 201
    hook = await made.json()
    assert hook["secret"].startswith("whsec_")
    q = await quote(api)

    shipment = await (await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers=key())).json()
    await api.post(f"/v1/shipments/{shipment['id']}/cancel")
    await receiver.wait_for(2)

    events = receiver.events()
    assert [e["type"] for e in events] == ["shipment.booked", "shipment.cancelled"]
    assert [e["data"]["status"] for e in events] == ["booked", "cancelled"]
    assert {e["subject"] for e in events} == {shipment["id"]}
    assert events[0]["data"]["tracking_number"] == shipment["tracking_number"]
    for headers, body in receiver.received:
        assert verified(hook["secret"], headers, body)
        assert headers["Carrier-Router-Event-Id"] == str(__import__("json").loads(body)["id"])
    listed = await (await api.get("/v1/webhooks")).json()
    assert [w["id"] for w in listed["webhooks"]] == [hook["id"]] and listed["webhooks"][0]["secret"] is None


async def test_a_receiver_that_was_down_gets_every_event_afterwards_in_order(make_api, receiver) -> None:
    api = await make_api()
    hook = await (
        await api.post("/v1/webhooks", json={"url": receiver.url, "events": ["shipment.booked", "shipment.cancelled"]})
    ).json()
    q = await quote(api)
    receiver.status = 503

    first = await (
        await api.post("/v1/shipments", json=booking(q, "magistral:door", order_number="D-1"), headers=key())
    ).json()
    await api.post(f"/v1/shipments/{first['id']}/cancel")
    second = await (
        await api.post("/v1/shipments", json=booking(q, "magistral:door", order_number="D-2"), headers=key())
    ).json()
    loop = asyncio.get_running_loop()
    until = loop.time() + 10
    while receiver.refused < 2:
        assert loop.time() < until
        await asyncio.sleep(0.05)
    receiver.status = 200
    await receiver.wait_for(3)

    by_shipment: dict[str, list[str]] = {}
    for event in receiver.events():
        by_shipment.setdefault(event["subject"], []).append(event["type"])
    assert by_shipment == {first["id"]: ["shipment.booked", "shipment.cancelled"], second["id"]: ["shipment.booked"]}
    deliveries = await (await api.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()
    assert {d["state"] for d in deliveries["deliveries"]} == {"delivered"}
    tried_again = [d for d in deliveries["deliveries"] if len(d["attempts"]) > 1]
    assert tried_again and tried_again[0]["attempts"][0]["status"] == 503


async def test_an_endpoint_is_its_owners_alone(make_api, receiver, tmp_path) -> None:
    settings = Settings(state_dir=tmp_path / "state")
    _, first = await create_key(settings.state_dir, KeyKind.SECRET, "shop-a")
    _, second = await create_key(settings.state_dir, KeyKind.SECRET, "shop-b")
    api = await make_api(settings)
    a, b = {"Authorization": f"Bearer {first}"}, {"Authorization": f"Bearer {second}"}
    hook = await (await api.post("/v1/webhooks", json={"url": receiver.url}, headers=a)).json()
    q = await quote(api, headers=b)
    await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers={**b, **key()})

    assert (await api.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=b)).status == 404
    assert (await api.delete(f"/v1/webhooks/{hook['id']}", headers=b)).status == 404
    assert (await (await api.get("/v1/webhooks", headers=b)).json())["webhooks"] == []
    await asyncio.sleep(0.3)
    assert receiver.received == []  # shop b's shipment is not told to shop a's endpoint


async def test_a_webhook_url_must_be_http_and_events_known(make_api) -> None:
    api = await make_api()

    resp = await api.post("/v1/webhooks", json={"url": "ftp://shop.example/hooks", "events": ["shipment.teleported"]})

    assert resp.status == 422
    assert sorted(e["path"] for e in (await resp.json())["errors"]) == ["events[0]", "url"]
