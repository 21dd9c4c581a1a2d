"""The CRM books, cancels, prints and sends for the courier through the callbacks, as it sends them.

The demo network's rate-card partners book here, with numbers from their ranges, so these run
with no carrier at all; the CDEK-format carrier is booked against its emulator at the end.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from router.http import appkeys as keys
from router.http.routes import openapi_document as document
from router.shipping.ledger import Filters
from router.shipping.model import ShipmentStatus
from tests.integrations.conftest import Connected, StartCrm
from tests.integrations.crm_client import Answer, address
from tests.integrations.test_retailcrm_callbacks import COLLECTING_3000, calculated, documented, pick, save_payload
from tests.pdfs import barcodes, pages

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one app per module: see conftest

A6_PT = (297.64, 419.53)


def shipper(connected: Connected) -> Any:
    return connected.api.server.app[keys.SHIPPER]


async def shipments(connected: Connected) -> list[Any]:
    page = await shipper(connected).page(connected.account.id, Filters(), limit=100, cursor=None)
    return list(page.shipments)


def tomorrow() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d 00:00:00")


def pickup_payload(*delivery_ids: str, **more: Any) -> dict[str, Any]:
    """A RequestShipmentSave as the CRM sends it: the day, the hours, the warehouse, the orders."""
    return {
        "date": tomorrow(),
        "time": {"from": "10:00", "to": "14:00"},
        "address": address("Москва", "101000", street="Тверская", building="1"),
        "orders": [{"deliveryId": d} for d in delivery_ids],
        "manager": {"id": 1, "firstName": "Олег", "phone": "+7 495 123-45-67"},
        "comment": "Второй подъезд",
        **more,
    }


async def test_save_books_the_offer_and_answers_the_carriers_tracking_number(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    for kind in ("selfDelivery", "courier"):
        offer = pick(results, kind)
        saved = (await connected.crm.save(save_payload(offer, order=f"b-{kind}"))).result
        shipment = await shipper(connected).get(saved["extraData"]["shipmentId"], connected.account.id)
        assert saved["status"] == "booked" and shipment.status is ShipmentStatus.BOOKED
        assert saved["trackNumber"] == shipment.tracking_number and shipment.tracking_number
        assert shipment.carrier == offer["code"].split(":")[0] and shipment.order_number == f"b-{kind}A"
        assert shipment.price == f"{offer['cost']:.2f}"
        assert shipment.recipient.name == "Петрова Анна" and shipment.recipient.phone == "+79990000000"
        assert shipment.sender.phone == "+7 495 123-45-67" and shipment.sender.company == "ООО Магазин"
        assert [(i.name, i.sku, i.quantity) for i in shipment.items] == [("Чайник", "sku-17", 1)] * 2
        assert (await connected.crm.load(saved["deliveryId"])).result["trackNumber"] == saved["trackNumber"]


async def test_a_save_retried_or_sent_twice_at_once_books_one_shipment(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    payload = save_payload(pick(results, "courier"))
    answers = await asyncio.gather(*(connected.crm.save(payload) for _ in range(5)))
    again = await connected.crm.save(payload)
    assert len({str(a.result) for a in (*answers, again)}) == 1
    assert len(await shipments(connected)) == 1


async def test_a_pickup_delivery_is_booked_to_the_point_the_manager_chose(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    offer = pick(results, "selfDelivery")
    saved = (await connected.crm.save(save_payload(offer))).result
    shipment = await shipper(connected).get(saved["extraData"]["shipmentId"], connected.account.id)
    assert shipment.pickup_point_id == offer["pickuppointList"][0]["code"] == saved["extraData"]["pickupPoint"]


async def test_cash_the_items_do_not_break_down_is_collected_as_a_line_of_its_own(connect_crm: StartCrm) -> None:
    connected, collecting = await calculated(connect_crm, COLLECTING_3000)
    saved = (await connected.crm.save(save_payload(pick(collecting, "courier"), withCod=True, cod=3450.5))).result
    shipment = await shipper(connected).get(saved["extraData"]["shipmentId"], connected.account.id)
    assert shipment.cash_to_collect == "3450.50"
    assert [(i.name, i.cod_per_unit) for i in shipment.items][-1][1] is not None
    assert sum(i.cod_per_unit * i.quantity for i in shipment.items if i.cod_per_unit) == 3450.5


async def test_delete_cancels_the_shipment_at_the_carrier(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    saved = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    assert (await connected.crm.delete(saved["deliveryId"])).status == 200
    shipment = await shipper(connected).get(saved["extraData"]["shipmentId"], connected.account.id)
    assert shipment.status is ShipmentStatus.CANCELLED
    assert (await connected.crm.load(saved["deliveryId"])).status == 404


async def test_print_answers_the_label_pdf_whose_barcode_is_the_tracking_number(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    one = (await connected.crm.save(save_payload(pick(results, "courier"), order="p1"))).result
    two = (await connected.crm.save(save_payload(pick(results, "selfDelivery"), order="p2"))).result
    pdf = await connected.crm.print([one["deliveryId"]])
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF")
    # One label a parcel: the order has two packages.
    assert [(round(w, 2), round(h, 2)) for w, h in pages(pdf)] == [A6_PT, A6_PT]
    assert barcodes(pdf, 0) == barcodes(pdf, 1) == [one["trackNumber"]]
    both = await connected.crm.print([one["deliveryId"], two["deliveryId"]])
    assert isinstance(both, bytes)
    assert len(pages(both)) == 1 and pages(both)[0][0] > A6_PT[0]  # A4, four to a page
    assert barcodes(both) == sorted([one["trackNumber"]] * 2 + [two["trackNumber"]] * 2)


async def test_print_refuses_naming_what_is_wrong(connect_crm: StartCrm) -> None:
    connected = await connect_crm()
    unknown = await connected.crm.print(["d_never_saved"])
    assert isinstance(unknown, Answer) and unknown.status == 404 and "d_never_saved" in unknown.error
    resp = await connected.api.post(
        "/integrations/retailcrm/print",
        data={"clientId": connected.crm.client_id, "print": '{"entityType": "invoice", "deliveryIds": ["d_1"]}'},
    )
    body = await resp.json()
    assert resp.status == 400 and body["errorMsg"].startswith("print.entityType: ")
    empty = await connected.api.post(
        "/integrations/retailcrm/print",
        data={"clientId": connected.crm.client_id, "print": '{"entityType": "order", "deliveryIds": []}'},
    )
    assert empty.status == 400 and (await empty.json())["errorMsg"].startswith("print.deliveryIds")


async def test_bad_recipient_or_sender_data_is_refused_naming_the_crms_field_and_books_nothing(
    connect_crm: StartCrm,
) -> None:
    connected, results = await calculated(connect_crm)
    offer = pick(results, "courier")
    landline = save_payload(offer, order="x1")
    landline["customer"]["phones"] = [{"number": "+7 495 000-00-00"}]
    no_buyer = {k: v for k, v in save_payload(offer, order="x2").items() if k != "customer"}
    no_phone = save_payload(offer, order="x3")
    del no_phone["manager"]["phone"]
    for payload, field in (
        (landline, "save.customer.phones: "),
        (no_buyer, "save.customer.firstName: "),
        (no_phone, "save.manager.phone: "),
    ):
        refused = await connected.crm.save(payload)
        assert refused.status == 400 and refused.error.startswith(field), refused
    assert await shipments(connected) == []


async def test_a_delivery_deleted_and_saved_again_is_booked_anew(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    offer = pick(results, "courier")
    saved = (await connected.crm.save(save_payload(offer))).result
    assert (await connected.crm.delete(saved["deliveryId"])).status == 200
    again = (await connected.crm.save(save_payload(offer))).result
    assert again["trackNumber"] != saved["trackNumber"]
    assert [s.status for s in await shipments(connected)] == [ShipmentStatus.BOOKED, ShipmentStatus.CANCELLED]


async def test_shipment_save_for_a_partner_records_the_pickup_and_shipment_delete_calls_it_off(
    connect_crm: StartCrm,
) -> None:
    connected, results = await calculated(connect_crm)
    saved = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    arranged = (await connected.crm.shipment_save(pickup_payload(saved["deliveryId"]))).result
    assert arranged["shipmentId"].startswith("pku_")
    assert arranged["extraData"]["status"] == "requested" and "manifest" in arranged["extraData"]["note"]
    pdf = await connected.crm.print([arranged["shipmentId"]], entity_type="shipment")
    assert isinstance(pdf, bytes) and barcodes(pdf, 0) == barcodes(pdf, 1) == [saved["trackNumber"]]
    assert (await connected.crm.shipment_delete(arranged["shipmentId"])).status == 200
    assert (await connected.crm.shipment_delete("pku_never")).status == 404


async def test_shipment_save_refuses_bad_input_naming_the_field(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    saved = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    cases = (
        (pickup_payload(saved["deliveryId"], date="tomorrow"), "shipmentSave.date: "),
        (pickup_payload(saved["deliveryId"], time={"from": "25:00", "to": "18:00"}), "shipmentSave.time.from: "),
        (pickup_payload(saved["deliveryId"], time={"from": "15:00", "to": "11:00"}), "shipmentSave.time.to: "),
        (pickup_payload(saved["deliveryId"], manager={"firstName": "Олег"}), "shipmentSave.manager.phone: "),
        (pickup_payload(saved["deliveryId"], date="2020-01-01 00:00:00"), "shipmentSave.date: "),
        (pickup_payload(), "shipmentSave.orders: "),
    )
    for payload, field in cases:
        refused = await connected.crm.shipment_save(payload)
        assert refused.status == 400 and refused.error.startswith(field), (field, refused)
    unknown = await connected.crm.shipment_save(pickup_payload("d_never_saved"))
    assert unknown.status == 404


async def test_the_new_callbacks_answer_as_the_services_openapi_document_says(connect_crm: StartCrm) -> None:
    connected, results = await calculated(connect_crm)
    saved = (await connected.crm.save(save_payload(pick(results, "courier")))).result
    arranged = await connected.crm.shipment_save(pickup_payload(saved["deliveryId"]))
    refused = await connected.crm.shipment_save(pickup_payload(saved["deliveryId"], date="later"))
    answers = [
        ("/integrations/retailcrm/shipmentSave", "200", arranged.body),
        ("/integrations/retailcrm/shipmentSave", "400", refused.body),
        (
            "/integrations/retailcrm/shipmentDelete",
            "200",
            (await connected.crm.shipment_delete(arranged.result["shipmentId"])).body,
        ),
        ("/integrations/retailcrm/shipmentDelete", "404", (await connected.crm.shipment_delete("pku_none")).body),
    ]
    for path, status, body in answers:
        jsonschema.Draft202012Validator(documented(path, "post", status)).validate(body)
    printed = document()["paths"]["/integrations/retailcrm/print"]["post"]["responses"]["200"]["content"]
    assert set(printed) == {"application/pdf"}
