"""The same-day courier's order and delivery statuses in our status language, and its callbacks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest

from carriers.courier.statuses import (
    COURIER_DELIVERY_STATUSES,
    COURIER_ORDER_STATUSES,
    courier_delivery_status,
    courier_order_status,
    read_callback,
)
from carriers.errors import CarrierResponseError
from carriers.tracking import Status

ORDER_CODES = {"new", "available", "active", "completed", "reactivated", "draft", "canceled", "delayed"}
DELIVERY_CODES = {
    "planned",
    "active",
    "finished",
    "canceled",
    "delayed",
    "failed",
    "courier_assigned",
    "courier_departed",
    "parcel_picked_up",
    "courier_arrived",
    "deleted",
}


def test_every_documented_code_is_in_the_tables() -> None:
    assert ORDER_CODES <= COURIER_ORDER_STATUSES.keys()
    assert DELIVERY_CODES <= COURIER_DELIVERY_STATUSES.keys()


@pytest.mark.parametrize("code", sorted(COURIER_ORDER_STATUSES))
def test_every_order_code_maps_to_a_known_status(code: str) -> None:
    assert courier_order_status(code) is not Status.UNKNOWN


@pytest.mark.parametrize("code", sorted(COURIER_DELIVERY_STATUSES))
def test_every_delivery_code_maps_to_a_known_status(code: str) -> None:
    assert courier_delivery_status(code) is not Status.UNKNOWN


def test_the_tables_have_each_code_once_in_the_apis_spelling() -> None:
    for table in (COURIER_ORDER_STATUSES, COURIER_DELIVERY_STATUSES):
        assert len(list(table)) == len(set(table))
        assert all(code == code.strip().lower() for code in table)


def test_a_same_day_journey_maps_as_the_buyer_sees_it() -> None:
    assert courier_delivery_status("courier_assigned") is Status.CREATED
    assert courier_delivery_status("parcel_picked_up") is Status.OUT_FOR_DELIVERY
    assert courier_delivery_status("finished") is Status.DELIVERED
    assert courier_delivery_status("failed") is Status.DELIVERY_FAILED
    assert courier_order_status("completed") is Status.DELIVERED
    assert courier_order_status("canceled") is Status.CANCELLED


def test_unknown_codes_are_unknown() -> None:
    assert courier_order_status("teleported") is Status.UNKNOWN
    assert courier_delivery_status("teleported") is Status.UNKNOWN


def test_a_delivery_callback_reads_as_an_event_in_its_own_zone() -> None:
    body = orjson.dumps(
        {
            "event_datetime": "2026-12-08T12:00:05+03:00",
            "event_type": "delivery_changed",
            "delivery": {
                "delivery_id": 77,
                "order_id": 123456,
                "status": "parcel_picked_up",
                "status_datetime": "2026-12-08T12:00:00+03:00",
            },
        }
    )
    call = read_callback(body)
    assert call.order_id == "123456"
    assert call.event.status is Status.OUT_FOR_DELIVERY
    assert call.event.carrier == "courier"
    assert call.event.carrier_code == "parcel_picked_up"
    assert call.event.at == datetime(2026, 12, 8, 12, tzinfo=timezone(timedelta(hours=3)))


def test_an_order_callback_with_an_unknown_status_keeps_it() -> None:
    body = orjson.dumps(
        {
            "event_datetime": "2026-12-08T12:00:05+03:00",
            "event_type": "order_changed",
            "order": {"order_id": 1, "status": "hovering", "status_description": "Hovering"},
        }
    )
    call = read_callback(body)
    assert call.event.status is Status.UNKNOWN
    assert (call.event.carrier_code, call.event.carrier_text) == ("hovering", "Hovering")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        b'{"event_type": "order_changed"}',
        b'{"event_type": "delivery_changed", "delivery": {"status": "finished"}, "event_datetime": "2026-12-08T12:00:00+03:00"}',
        b'{"event_type": "order_changed", "order": {"order_id": 1, "status": "new"}, "event_datetime": "soon"}',
    ],
)
def test_garbage_callbacks_are_refused_clearly(body: bytes) -> None:
    with pytest.raises(CarrierResponseError, match="courier: "):
        read_callback(body)
