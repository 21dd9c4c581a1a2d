from __future__ import annotations

import asyncio
import uuid
from typing import Any

from router.core.settings import Settings
from router.records.keys import KeyKind
from tests.keys import create_key
from tests.pdfs import barcodes, pages, text

MOSCOW_NOVOSIBIRSK: dict[str, Any] = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Новосибирск", "address": "ул. Ленина, 1"},
    "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
    "declared_value": "3000",
}
RECIPIENT = {"name": "Анна Петрова", "phone": "8 (913) 123-45-67", "email": "anna@example.ru"}
SENDER = {"name": "Склад Москва", "phone": "+7 495 123-45-67", "company": "Магазин"}


def booking(quote: dict[str, Any], offer_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "quote_id": quote["quote_id"],
        "offer_id": offer_id,
        "order_number": "A-1001",
        "recipient": RECIPIENT,
        "sender": SENDER,
        "items": [{"name": "Кружка", "sku": "MUG-1", "quantity": 2, "unit_price": "450.00", "weight_g": 400}],
        **changes,
    }


async def quote(
    api: Any, body: dict[str, Any] = MOSCOW_NOVOSIBIRSK, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    resp = await api.post("/v1/quotes", json=body, headers=headers or {})
    assert resp.status in (200, 201), await resp.text()
    return dict(await resp.json())


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def test_a_partner_pickup_offer_is_booked_at_the_quoted_price_with_a_number_from_its_range(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    offer = next(o for o in q["offers"] if o["id"] == "vestnik:parcel")

    resp = await api.post("/v1/shipments", json=booking(q, offer["id"], pickup_point_id="vestnik:02379"), headers=key())

    assert resp.status == 201, await resp.text()
    shipment = await resp.json()
    assert shipment["status"] == "booked"
    assert shipment["price"] == offer["price"]["total"]
    assert shipment["tracking_number"] == "VE0000000001"
    assert shipment["ship_date"] == offer["eta"]["ship_date"]
    assert resp.headers["Location"] == f"/v1/shipments/{shipment['id']}"
    second = await api.post(
        "/v1/shipments", json=booking(q, offer["id"], pickup_point_id="vestnik:02379"), headers=key()
    )
    assert (await second.json())["tracking_number"] == "VE0000000002"


async def test_the_same_key_and_body_sent_concurrently_make_one_shipment_and_identical_answers(
    make_api, records_url
) -> None:
    api = await make_api(Settings(database_url=records_url) if records_url.startswith("postgresql") else None)
    q = await quote(api)
    body = booking(q, "magistral:door")
    headers = key()

    answers = await asyncio.gather(*(api.post("/v1/shipments", json=body, headers=headers) for _ in range(20)))

    bodies = [await r.read() for r in answers]
    assert {r.status for r in answers} == {201}
    assert len(set(bodies)) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 19
    listed = await (await api.get("/v1/shipments")).json()
    assert len(listed["shipments"]) == 1


async def test_the_same_key_with_another_body_is_a_409_and_books_nothing_more(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    headers = key()
    first = await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers=headers)
    assert first.status == 201

    resp = await api.post("/v1/shipments", json=booking(q, "magistral:door", order_number="A-1002"), headers=headers)

    assert resp.status == 409 and resp.content_type == "application/problem+json"
    assert (await resp.json())["title"] == "Idempotency-Key reused with another request"
    assert len((await (await api.get("/v1/shipments")).json())["shipments"]) == 1


async def test_a_booking_without_an_idempotency_key_is_refused_naming_the_header(make_api) -> None:
    api = await make_api()
    q = await quote(api)

    resp = await api.post("/v1/shipments", json=booking(q, "magistral:door"))

    assert resp.status == 422
    assert [e["path"] for e in (await resp.json())["errors"]] == ["Idempotency-Key"]


async def test_bad_recipient_data_is_a_422_naming_each_field_before_any_carrier_is_asked(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    landline = booking(
        q, "magistral:pickup", recipient={**RECIPIENT, "phone": "+7 495 123-45-67"}
    )  # no SMS for the buyer
    too_heavy = booking(
        q,
        "magistral:pickup",
        items=[{"name": "Гиря", "sku": "W-32", "quantity": 1, "unit_price": "900", "weight_g": 32000}],
    )

    phone = await api.post("/v1/shipments", json=landline, headers=key())
    parcel = await api.post("/v1/shipments", json=too_heavy, headers=key())

    assert phone.status == 422 and [e["path"] for e in (await phone.json())["errors"]] == ["recipient.phone"]
    assert parcel.status == 422
    assert sorted(e["path"] for e in (await parcel.json())["errors"]) == ["items", "pickup_point_id"]
    assert (await (await api.get("/v1/shipments")).json())["shipments"] == []


async def test_a_pickup_offer_refuses_another_carriers_point_and_a_point_type_it_does_not_serve(make_api) -> None:
    api = await make_api()
    q = await quote(api)

    other = await api.post(
        "/v1/shipments", json=booking(q, "magistral:pickup", pickup_point_id="vestnik:02379"), headers=key()
    )
    courier = await api.post(
        "/v1/shipments", json=booking(q, "magistral:door", pickup_point_id="magistral:03185"), headers=key()
    )

    assert other.status == 422 and "vestnik's point" in (await other.json())["errors"][0]["message"]
    assert courier.status == 422 and (await courier.json())["errors"][0]["path"] == "pickup_point_id"


async def test_cash_to_collect_on_a_quote_made_without_it_is_refused(make_api) -> None:
    api = await make_api()
    q = await quote(api)

    resp = await api.post("/v1/shipments", json=booking(q, "magistral:door", cash_to_collect="900"), headers=key())

    assert resp.status == 422
    assert [e["path"] for e in (await resp.json())["errors"]] == ["cash_to_collect"]


async def test_an_unknown_quote_is_404_and_an_offer_not_in_it_422(make_api) -> None:
    api = await make_api()
    q = await quote(api)

    missing = await api.post("/v1/shipments", json=booking({"quote_id": "q_nope"}, "magistral:door"), headers=key())
    no_offer = await api.post("/v1/shipments", json=booking(q, "nobody:fast"), headers=key())

    assert missing.status == 404
    assert no_offer.status == 422 and (await no_offer.json())["errors"][0]["path"] == "offer_id"


async def test_a_shipment_belongs_to_the_key_that_booked_it(make_api, tmp_path) -> None:
    settings = Settings(state_dir=tmp_path / "state")
    _, first = await create_key(settings.state_dir, KeyKind.SECRET, "shop-a")
    _, second = await create_key(settings.state_dir, KeyKind.SECRET, "shop-b")
    api = await make_api(settings)
    a = {"Authorization": f"Bearer {first}"}
    q = await quote(api, headers=a)
    made = await (await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers={**a, **key()})).json()

    b = {"Authorization": f"Bearer {second}"}
    assert (await api.get(f"/v1/shipments/{made['id']}", headers=b)).status == 404
    assert (await api.post(f"/v1/shipments/{made['id']}/cancel", headers=b)).status == 404
    assert (await (await api.get("/v1/shipments", headers=b)).json())["shipments"] == []
    assert (await api.get(f"/v1/shipments/{made['id']}", headers=a)).status == 200


async def test_shipments_are_listed_newest_first_filtered_and_paged(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    for n in range(5):
        body = booking(q, "magistral:door" if n % 2 else "sibgonets:door", order_number=f"N-{n}")
        assert (await api.post("/v1/shipments", json=body, headers=key())).status == 201

    page = await (await api.get("/v1/shipments", params={"limit": "2"})).json()
    rest = await (await api.get("/v1/shipments", params={"limit": "10", "cursor": page["next_cursor"]})).json()
    only = await (await api.get("/v1/shipments", params={"carrier": "magistral"})).json()
    one = await (await api.get("/v1/shipments", params={"order_number": "N-3"})).json()
    bad = await api.get("/v1/shipments", params={"status": "lost", "colour": "red"})

    assert [s["order_number"] for s in page["shipments"] + rest["shipments"]] == ["N-4", "N-3", "N-2", "N-1", "N-0"]
    assert rest["next_cursor"] is None
    assert {s["carrier"] for s in only["shipments"]} == {"magistral"} and len(only["shipments"]) == 2
    assert [s["order_number"] for s in one["shipments"]] == ["N-3"]
    assert bad.status == 422 and sorted(e["path"] for e in (await bad.json())["errors"]) == ["colour", "status"]


async def test_a_partner_shipment_is_cancelled_once_and_cancelling_again_answers_the_same(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    made = await (await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers=key())).json()

    first = await api.post(f"/v1/shipments/{made['id']}/cancel")
    again = await api.post(f"/v1/shipments/{made['id']}/cancel")

    assert first.status == 200 and (await first.json())["status"] == "cancelled"
    assert again.status == 200 and (await again.json())["status"] == "cancelled"
    detail = await (await api.get(f"/v1/shipments/{made['id']}")).json()
    assert detail["status"] == "cancelled" and detail["booking_job"]["state"] == "done"


async def test_a_partner_label_is_a_pdf_whose_barcode_reads_back_as_the_tracking_number(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    made = await (
        await api.post(
            "/v1/shipments", json=booking(q, "vestnik:parcel", pickup_point_id="vestnik:02379"), headers=key()
        )
    ).json()

    resp = await api.get(f"/v1/shipments/{made['id']}/label")

    assert resp.status == 200 and resp.content_type == "application/pdf"
    pdf = await resp.read()
    assert barcodes(pdf) == [made["tracking_number"]]
    assert "Анна Петрова" in text(pdf)


async def test_labels_of_many_shipments_come_as_one_pdf_four_to_an_a4_page_in_the_order_asked(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    made = [
        await (
            await api.post("/v1/shipments", json=booking(q, "magistral:door", order_number=f"B-{n}"), headers=key())
        ).json()
        for n in range(5)
    ]
    ids = [m["id"] for m in reversed(made)]

    resp = await api.post("/v1/labels", json={"shipment_ids": ids, "format": "a4"})

    assert resp.status == 200
    pdf = await resp.read()
    assert len(pages(pdf)) == 2
    found = barcodes(pdf, 0)
    assert sorted(found) == sorted(m["tracking_number"] for m in reversed(made[1:]))
    assert barcodes(pdf, 1) == [made[0]["tracking_number"]]


async def test_a_cancelled_shipment_has_no_label_and_a_stranger_cannot_print_one(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    made = await (await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers=key())).json()
    await api.post(f"/v1/shipments/{made['id']}/cancel")

    gone = await api.get(f"/v1/shipments/{made['id']}/label")
    unknown = await api.post("/v1/labels", json={"shipment_ids": ["shp_nobody"]})

    assert gone.status == 422 and (await gone.json())["errors"][0]["path"] == "shipment_id"
    assert unknown.status == 404


async def test_a_partners_manifest_lists_the_days_booked_parcels_of_one_warehouse(make_api) -> None:
    import csv
    import io

    api = await make_api()
    q = await quote(api)
    booked = []
    for n, warehouse in enumerate(["MSK", "MSK", "EKB"]):
        body = booking(q, "magistral:door", order_number=f"M-{n}", warehouse=warehouse)
        booked.append(await (await api.post("/v1/shipments", json=body, headers=key())).json())
    await api.post(f"/v1/shipments/{booked[1]['id']}/cancel")
    day = booked[0]["ship_date"]

    resp = await api.get("/v1/manifests", params={"carrier": "magistral", "date": day, "warehouse": "MSK"})
    as_pdf = await api.get("/v1/manifests", params={"carrier": "magistral", "date": day, "format": "pdf"})
    unknown = await api.get("/v1/manifests", params={"carrier": "cdek", "date": day})  # no CDEK on this service

    assert resp.status == 200 and resp.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO((await resp.read()).decode())))
    assert [r["tracking_number"] for r in rows] == [booked[0]["tracking_number"]]
    assert as_pdf.status == 200 and "M-2" in text(await as_pdf.read())
    assert unknown.status == 404


async def test_a_partner_pick_up_is_recorded_and_points_at_its_manifest(make_api) -> None:
    api = await make_api()
    q = await quote(api)
    made = await (await api.post("/v1/shipments", json=booking(q, "magistral:door"), headers=key())).json()
    body = {
        "carrier": "magistral",
        "day": made["ship_date"],
        "address": "ул. Складская, 5",
        "city": "Москва",
        "contact": SENDER,
        "shipment_ids": [made["id"]],
    }

    resp = await api.post("/v1/pickups", json=body)
    late = await api.post("/v1/pickups", json={**body, "time_from": "18:00", "time_to": "09:00"})

    assert resp.status == 201, await resp.text()
    pickup = await resp.json()
    assert pickup["status"] == "requested" and "/v1/manifests?carrier=magistral" in pickup["note"]
    assert late.status == 422 and (await late.json())["errors"][0]["path"] == "time_to"
    cancelled = await api.post(f"/v1/pickups/{pickup['id']}/cancel")
    assert (await cancelled.json())["status"] == "cancelled"


async def test_a_partners_first_bookings_at_once_take_distinct_numbers_in_turn(make_api, records_url) -> None:
    api = await make_api(Settings(database_url=records_url) if records_url.startswith("postgresql") else None)
    q = await quote(api)

    answers = await asyncio.gather(
        *(
            api.post("/v1/shipments", json=booking(q, "magistral:door", order_number=f"R-{n}"), headers=key())
            for n in range(12)
        )
    )

    numbers = sorted([(await r.json())["tracking_number"] for r in answers])
    assert numbers == [f"MA{n:010d}" for n in range(1, 13)]
