"""CDEK booking's builders and readers: what goes out for an order and what an answer means."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from decimal import Decimal
from typing import Any

import orjson
import pytest

from carriers.booking import CarrierOrder, Contact, IntakeRequest, Item, OrderParcel, OrderStatus
from carriers.cdek import orders_wire as ow
from carriers.cdek.booking import (
    barcode_body,
    intake_request,
    is_not_found,
    label_url,
    order_body,
    read_entity,
    read_order,
)
from carriers.errors import ApiErrorDetail, CarrierApiError, CarrierUnavailable
from router.core.models import DeliveryType
from tests.carriers.sandbox_fixtures import MOSCOW, MOSCOW_EAST, NOVOSIBIRSK

SENDER = Contact("Warehouse 1", "+74950000000", company="Shop LLC")
RECIPIENT = Contact("Ivan Petrov", "+79161234567", email="ivan@example.ru")
MUG = Item("Mug", "MUG-1", quantity=2, unit_price_rub=Decimal("450.50"), weight_g=300)


def pickup_order(**changes: Any) -> CarrierOrder:
    order = CarrierOrder(
        number="shp_0001",
        service="136",
        delivery_type=DeliveryType.PICKUP,
        origin=MOSCOW,
        destination=NOVOSIBIRSK,
        sender=SENDER,
        recipient=RECIPIENT,
        parcels=(OrderParcel("1", 1200, 30, 20, 10, items=(MUG,)),),
        ship_date=date(2025, 4, 11),
        pickup_point_id="NSK12",
    )
    return replace(order, **changes)


def sent(order: CarrierOrder) -> dict[str, Any]:
    return orjson.loads(order_body(order))  # type: ignore[no-any-return]


def test_a_pickup_order_goes_to_the_office_with_our_number_and_the_tariff() -> None:
    body = sent(pickup_order())
    assert body["type"] == 1
    assert body["number"] == "shp_0001"
    assert body["tariff_code"] == 136
    assert body["delivery_point"] == "NSK12"
    assert "to_location" not in body
    assert body["recipient"] == {
        "name": "Ivan Petrov",
        "phones": [{"number": "+79161234567"}],
        "email": "ivan@example.ru",
    }
    assert body["sender"] == {"name": "Warehouse 1", "phones": [{"number": "+74950000000"}], "company": "Shop LLC"}


def test_without_a_drop_off_office_the_parcels_are_collected_from_the_origin() -> None:
    body = sent(pickup_order())
    assert "shipment_point" not in body
    assert body["from_location"]["city"] == "Moscow"
    assert body["from_location"]["postal_code"] == "101000"
    assert body["from_location"]["country_code"] == "RU"


def test_with_a_drop_off_office_the_sender_side_is_that_office() -> None:
    body = sent(pickup_order(shipment_point_id="MSK5"))
    assert body["shipment_point"] == "MSK5"
    assert "from_location" not in body


def test_a_courier_order_goes_to_the_address() -> None:
    body = sent(pickup_order(delivery_type=DeliveryType.COURIER, destination=MOSCOW_EAST, pickup_point_id=None))
    assert "delivery_point" not in body
    assert body["to_location"]["address"] == "Izmaylovsky prospekt, 73"
    assert body["to_location"]["city"] == "Moscow"
    assert body["to_location"]["latitude"] == pytest.approx(55.7887)


def test_a_pickup_order_without_its_office_is_not_sent() -> None:
    with pytest.raises(ValueError, match="pickup point"):
        order_body(pickup_order(pickup_point_id=None))


def test_packages_are_in_grams_and_whole_centimetres_and_money_is_a_json_number() -> None:
    body = sent(pickup_order())
    package = body["packages"][0]
    assert (package["number"], package["weight"], package["length"], package["width"], package["height"]) == (
        "1",
        1200,
        30,
        20,
        10,
    )
    item = package["items"][0]
    assert item == {
        "name": "Mug",
        "ware_key": "MUG-1",
        "payment": {"value": 0},
        "cost": 450.50,
        "weight": 300,
        "amount": 2,
    }
    assert b'"cost":450.50' in order_body(pickup_order())  # written digit for digit, not as a string


def test_cash_on_delivery_is_asked_per_unit() -> None:
    cod_mug = replace(MUG, cod_per_unit_rub=Decimal("500.00"))
    body = sent(pickup_order(parcels=(OrderParcel("1", 1200, 30, 20, 10, items=(cod_mug,)),)))
    assert body["packages"][0]["items"][0]["payment"] == {"value": 500.00}


def test_a_label_is_asked_once_in_russian_on_the_paper_given() -> None:
    assert orjson.loads(barcode_body("u-1", "a6")) == {
        "orders": [{"order_uuid": "u-1"}],
        "copy_count": 1,
        "format": "A6",
        "lang": "RUS",
    }
    with pytest.raises(ValueError):
        barcode_body("u-1", "letter")


def test_a_pick_up_names_its_day_hours_weight_and_its_one_order() -> None:
    intake = IntakeRequest(
        number="pk_1",
        day=date(2025, 4, 14),
        time_from=time(10, 0),
        time_to=time(14, 30),
        origin=MOSCOW_EAST,
        sender=SENDER,
        weight_g=5000,
        parcels=3,
        order_refs=("u-1",),
    )
    body = orjson.loads(ow.encode(intake_request(intake)))
    assert (body["intake_date"], body["intake_time_from"], body["intake_time_to"]) == ("2025-04-14", "10:00", "14:30")
    assert body["weight"] == 5000
    assert body["order_uuid"] == "u-1"
    assert body["from_location"]["address"] == "Izmaylovsky prospekt, 73"
    several = orjson.loads(ow.encode(intake_request(replace(intake, order_refs=("u-1", "u-2")))))
    assert "order_uuid" not in several


# ---------------------------------------------------------------- answers


def answer(entity: dict[str, Any] | None, *requests: dict[str, Any]) -> bytes:
    body: dict[str, Any] = {"requests": list(requests)}
    if entity is not None:
        body["entity"] = entity
    return orjson.dumps(body)


CREATE_ACCEPTED = {"request_uuid": "r1", "type": "CREATE", "state": "ACCEPTED"}
CREATE_DONE = {"request_uuid": "r1", "type": "CREATE", "state": "SUCCESSFUL"}


def status(code: str, at: str) -> dict[str, str]:
    return {"code": code, "name": code, "date_time": at}


def test_an_accepted_order_without_a_number_is_pending() -> None:
    state = read_order(answer({"uuid": "u-1"}, CREATE_ACCEPTED), "cdek")
    assert state.status is OrderStatus.PENDING
    assert state.carrier_ref == "u-1"
    assert state.tracking_number is None


def test_an_order_with_a_cdek_number_is_booked_with_its_newest_status() -> None:
    entity = {
        "uuid": "u-1",
        "cdek_number": "1400000001",
        "statuses": [
            status("RECEIVED_AT_SHIPMENT_WAREHOUSE", "2025-04-11T12:00:00+0000"),
            status("CREATED", "2025-04-11T10:00:01+0000"),
            status("ACCEPTED", "2025-04-11T10:00:00+0000"),
        ],
    }
    state = read_order(answer(entity, CREATE_DONE), "cdek")
    assert state.status is OrderStatus.BOOKED
    assert state.tracking_number == "1400000001"
    assert state.carrier_status == "RECEIVED_AT_SHIPMENT_WAREHOUSE"
    assert state.tracking_url is not None and "1400000001" in state.tracking_url


def test_a_cdek_number_written_as_a_number_is_read_as_text() -> None:
    state = read_order(answer({"uuid": "u-1", "cdek_number": 1400000002}, CREATE_DONE), "cdek")
    assert state.tracking_number == "1400000002"


def test_a_refused_order_is_invalid_with_each_error_of_the_create_request() -> None:
    refused = {
        "type": "CREATE",
        "state": "INVALID",
        "errors": [
            {"code": "v2_invalid_format", "message": "recipient.phones[0].number: '123' is not a phone number"},
            {"code": "v2_order_location_to_and_delivery_point_empty", "message": "delivery_point"},
        ],
    }
    state = read_order(answer({"uuid": "u-1", "statuses": [status("INVALID", "2025")]}, refused), "cdek")
    assert state.status is OrderStatus.INVALID
    assert state.errors == (
        ApiErrorDetail("v2_invalid_format", "recipient.phones[0].number: '123' is not a phone number"),
        ApiErrorDetail("v2_order_location_to_and_delivery_point_empty", "delivery_point"),
    )


def test_a_removed_order_is_cancelled() -> None:
    entity = {
        "uuid": "u-1",
        "cdek_number": "1400000001",
        "statuses": [status("REMOVED", "2025-04-11T11:00:00+0000"), status("CREATED", "2025-04-11T10:00:00+0000")],
    }
    assert read_order(answer(entity, CREATE_DONE), "cdek").status is OrderStatus.CANCELLED
    deleted = {"type": "DELETE", "state": "SUCCESSFUL"}
    assert read_order(answer({"uuid": "u-1"}, CREATE_DONE, deleted), "cdek").status is OrderStatus.CANCELLED


def test_statuses_out_of_order_still_give_the_newest() -> None:
    entity = {
        "uuid": "u-1",
        "cdek_number": "1",
        "statuses": [status("CREATED", "2025-04-11T10:00:00+0000"), status("DELIVERED", "2025-04-15T10:00:00+0000")],
    }
    assert read_order(answer(entity, CREATE_DONE), "cdek").carrier_status == "DELIVERED"


def test_unknown_fields_are_ignored_and_a_broken_answer_raises() -> None:
    body = orjson.dumps({"entity": {"uuid": "u-1", "delivery_detail": {"total_sum": 1}}, "related_entities": []})
    assert read_order(body, "cdek").status is OrderStatus.PENDING
    with pytest.raises(CarrierApiError):
        read_order(b"{", "cdek")
    with pytest.raises(CarrierApiError):
        read_order(b"{}", "cdek")


def test_a_post_refused_at_once_raises_with_its_errors() -> None:
    refused = {"type": "CREATE", "state": "INVALID", "errors": [{"code": "v2_entity_empty", "message": "no order"}]}
    with pytest.raises(CarrierApiError) as caught:
        read_entity(answer(None, refused), "cdek", "label")
    assert caught.value.errors == (ApiErrorDetail("v2_entity_empty", "no order"),)
    assert read_entity(answer({"uuid": "p-1"}, CREATE_ACCEPTED), "cdek", "label").entity == ow.Entity("p-1")


def test_a_label_has_its_url_only_once_ready_and_an_invalid_one_raises() -> None:
    making = orjson.dumps({"entity": {"uuid": "p-1", "statuses": [status("PROCESSING", "2")]}})
    assert label_url(making, "cdek") is None
    ready = orjson.dumps({"entity": {"uuid": "p-1", "url": "https://x/p-1.pdf", "statuses": [status("READY", "3")]}})
    assert label_url(ready, "cdek") == "https://x/p-1.pdf"
    with pytest.raises(CarrierApiError):
        label_url(orjson.dumps({"entity": {"uuid": "p-1", "statuses": [status("INVALID", "3")]}}), "cdek")


def test_no_order_is_told_by_a_404_or_by_cdeks_not_found_codes_but_not_by_an_outage() -> None:
    assert is_not_found(CarrierApiError("cdek", "HTTP 404", status=404))
    by_code = CarrierApiError(
        "cdek", "HTTP 400", status=400, errors=(ApiErrorDetail("v2_entity_not_found_im_number", "x"),)
    )
    assert is_not_found(by_code)
    assert not is_not_found(CarrierApiError("cdek", "HTTP 400", status=400, errors=(ApiErrorDetail("v2_bad_request"),)))
    assert not is_not_found(CarrierUnavailable("cdek", "HTTP 503", status=503))
