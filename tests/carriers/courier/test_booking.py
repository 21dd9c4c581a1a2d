"""Courier booking without a network: the create-order body, and answers read into order states."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import orjson
import pytest

from carriers.booking import CancelRefused, CarrierOrder, Contact, OrderParcel, OrderStatus
from carriers.courier import wire
from carriers.courier.booking import create_body, matching, parse_cancel, parse_create, parse_orders, phone_digits
from carriers.errors import ApiErrorDetail, CarrierApiError, CarrierAuthError, CarrierRateLimited
from router.core.models import DeliveryType
from tests.carriers.sandbox_fixtures import MOSCOW, MOSCOW_EAST


def order(**changes: Any) -> CarrierOrder:
    base = CarrierOrder(
        number="SHP-1001",
        service="same_day",
        delivery_type=DeliveryType.COURIER,
        origin=MOSCOW,
        destination=MOSCOW_EAST,
        sender=Contact("Warehouse desk", "+7 495 123-45-67", company="Shop LLC"),
        recipient=Contact("Anna Petrova", "+79161234567"),
        parcels=(OrderParcel("1", 700, 20, 15, 10), OrderParcel("2", 1600, 30, 20, 10)),
        ship_date=date(2025, 4, 11),
        shop_order_number="A-77",
    )
    return replace(base, **changes)


def body(o: CarrierOrder, **kw: Any) -> dict[str, Any]:
    """The create-order body as the JSON object sent."""
    result: dict[str, Any] = orjson.loads(wire.encode(create_body(o, **kw)))
    return result


def answer(**fields: Any) -> bytes:
    return orjson.dumps(fields)


def booked(order_id: int = 1001, status: str = "new", number: str = "SHP-1001") -> dict[str, Any]:
    return {
        "order_id": order_id,
        "status": status,
        "points": [
            {"client_order_id": None, "tracking_url": "https://t.example/1001/0"},
            {"client_order_id": number, "tracking_url": "https://t.example/1001/1"},
        ],
    }


# ------------------------------------------------------------------ the request


def test_phones_go_out_as_digits_with_the_country_code() -> None:
    assert phone_digits("+7 (916) 123-45-67") == "79161234567"


def test_sender_is_the_pick_up_contact_and_recipient_the_drop_off_contact() -> None:
    pickup, drop = body(order())["points"]
    assert pickup["contact_person"] == {"phone": "74951234567", "name": "Warehouse desk (Shop LLC)"}
    assert drop["contact_person"] == {"phone": "79161234567", "name": "Anna Petrova"}


def test_our_number_rides_on_the_drop_off_point_and_the_shop_number_in_its_note() -> None:
    pickup, drop = body(order(comment="ring twice"))["points"]
    assert drop["client_order_id"] == "SHP-1001"
    assert drop["note"] == "order A-77; ring twice"
    assert "client_order_id" not in pickup


def test_cash_on_delivery_is_collected_at_the_drop_off_point_as_a_decimal_string() -> None:
    pickup, drop = body(order(cod_rub=Decimal("1250.5")))["points"]
    assert drop["taking_amount"] == "1250.50"
    assert "taking_amount" not in pickup
    assert "taking_amount" not in body(order())["points"][1]


def test_weight_is_all_parcels_in_whole_kilograms_and_the_value_is_insured() -> None:
    sent = body(order(declared_value_rub=Decimal("3000")), matter="Documents", vehicle_type_id=7)
    assert sent["total_weight_kg"] == 3  # 700 g + 1600 g, rounded up
    assert sent["insurance_amount"] == "3000.00"
    assert (sent["matter"], sent["vehicle_type_id"]) == ("Documents", 7)


def test_points_keep_the_addresses_and_coordinates_quoting_sends() -> None:
    pickup, drop = body(order())["points"]
    assert (pickup["address"], pickup["latitude"]) == ("Moscow", "55.755800")
    assert drop["address"] == "Moscow, Izmaylovsky prospekt, 73"


# ------------------------------------------------------------------ the answers


def test_a_taken_order_is_booked_at_once_with_its_id_as_tracking_number() -> None:
    state = parse_create(answer(is_successful=True, order=booked()), carrier="courier")
    assert state.status is OrderStatus.BOOKED
    assert (state.carrier_ref, state.tracking_number) == ("1001", "1001")
    assert state.tracking_url == "https://t.example/1001/1"  # the drop-off point's page
    assert state.carrier_status == "new"


def test_a_refused_order_is_invalid_naming_the_refused_field() -> None:
    refused = answer(
        is_successful=False,
        errors=["invalid_parameters"],
        parameter_errors={"points": [None, {"contact_person": {"phone": ["invalid_phone"]}}]},
    )
    state = parse_create(refused, carrier="courier", status=400)
    assert state.status is OrderStatus.INVALID
    assert ApiErrorDetail("invalid_phone", "points[1].contact_person.phone") in state.errors


@pytest.mark.parametrize(
    ("code", "error"), [("requests_limit_exceeded", CarrierRateLimited), ("invalid_auth_token", CarrierAuthError)]
)
def test_refusals_about_the_service_raise_rather_than_invalidate_the_order(code: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_create(answer(is_successful=False, errors=[code]), carrier="courier")


def test_a_canceled_order_reads_as_cancelled() -> None:
    state = parse_create(answer(is_successful=True, order=booked(status="canceled")), carrier="courier")
    assert state.status is OrderStatus.CANCELLED


@pytest.mark.parametrize("raw", [b"{not json", b'{"is_successful": "maybe"}', b'{"is_successful": true}'])
def test_unreadable_create_answers_are_api_errors(raw: bytes) -> None:
    with pytest.raises(CarrierApiError):
        parse_create(raw, carrier="courier")


def test_an_order_past_cancelling_is_a_refused_cancel() -> None:
    with pytest.raises(CancelRefused):
        parse_cancel(answer(is_successful=False, errors=["order_cannot_be_canceled"]), carrier="courier")


def test_other_cancel_refusals_are_api_errors() -> None:
    with pytest.raises(CarrierApiError) as caught:
        parse_cancel(answer(is_successful=False, errors=["order_not_found"]), carrier="courier")
    assert not isinstance(caught.value, CancelRefused)


def test_a_cancelled_order_comes_back_cancelled() -> None:
    state = parse_cancel(answer(is_successful=True, order=booked(status="canceled")), carrier="courier")
    assert state is not None and state.status is OrderStatus.CANCELLED


def test_finding_by_our_number_prefers_a_live_order_to_a_cancelled_one() -> None:
    orders, total = parse_orders(
        answer(
            is_successful=True,
            orders=[booked(1003, "available", "other"), booked(1002, "canceled"), booked(1001, "active")],
            orders_count=3,
        ),
        carrier="courier",
    )
    assert total == 3
    found = matching(orders, "SHP-1001")
    assert found is not None and found.order_id == 1001
    assert matching(orders, "SHP-404") is None
