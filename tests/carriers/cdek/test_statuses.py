"""CDEK's status codes in our status language: the whole table, histories and webhook calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from carriers.cdek import orders_wire as ow
from carriers.cdek.booking import read_order
from carriers.cdek.statuses import CDEK_STATUSES, cdek_status, read_statuses, read_webhook
from carriers.errors import CarrierResponseError
from carriers.tracking import FINAL_STATUSES, Status, TrackingEvent, final

# CDEK's appendix "order statuses" as its API v2 documentation lists them today.
DOCUMENTED = {
    "ACCEPTED",
    "CREATED",
    "REMOVED",
    "INVALID",
    "RECEIVED_AT_SHIPMENT_WAREHOUSE",
    "READY_FOR_SHIPMENT_IN_SENDER_CITY",
    "RETURNED_TO_SENDER_CITY_WAREHOUSE",
    "TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY",
    "SENT_TO_TRANSIT_CITY",
    "ACCEPTED_IN_TRANSIT_CITY",
    "ACCEPTED_AT_TRANSIT_WAREHOUSE",
    "RETURNED_TO_TRANSIT_WAREHOUSE",
    "READY_FOR_SHIPMENT_IN_TRANSIT_CITY",
    "TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY",
    "SENT_TO_SENDER_CITY",
    "SENT_TO_RECIPIENT_CITY",
    "ACCEPTED_IN_SENDER_CITY",
    "ACCEPTED_IN_RECIPIENT_CITY",
    "ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE",
    "ACCEPTED_AT_PICK_UP_POINT",
    "TAKEN_BY_COURIER",
    "RETURNED_TO_RECIPIENT_CITY_WAREHOUSE",
    "DELIVERED",
    "NOT_DELIVERED",
    "ENTERED_TO_OFFICE_TRANSIT_WAREHOUSE",
    "ENTERED_TO_DELIVERY_WAREHOUSE",
    "ENTERED_TO_WAREHOUSE_ON_DEMAND",
    "IN_CUSTOMS_INTERNATIONAL",
    "SHIPPED_TO_DESTINATION",
    "PASSED_TO_TRANSIT_CARRIER",
    "IN_CUSTOMS_LOCAL",
    "CUSTOMS_COMPLETE",
    "POSTOMAT_POSTED",
    "POSTOMAT_SEIZED",
    "POSTOMAT_RECEIVED",
}
NSK = timezone(timedelta(hours=7))
MSK = timezone(timedelta(hours=3))


def test_every_documented_code_is_in_the_table() -> None:
    assert DOCUMENTED <= CDEK_STATUSES.keys()


@pytest.mark.parametrize("code", sorted(CDEK_STATUSES))
def test_every_code_in_the_table_maps_to_a_known_status_both_ways(code: str) -> None:
    assert cdek_status(code) is not Status.UNKNOWN
    assert cdek_status(code, is_return=True) is not Status.UNKNOWN


def test_every_code_has_a_russian_and_an_english_name() -> None:
    for code, info in CDEK_STATUSES.items():
        assert info.name_ru and info.name_en, code
        assert info.name_ru != info.name_en, code


def test_the_table_has_each_code_once_and_in_capitals() -> None:
    codes = list(CDEK_STATUSES)
    assert len(codes) == len(set(codes))
    assert all(code == code.strip().upper() for code in codes)


def test_the_codes_that_matter_most_map_as_documented() -> None:
    assert cdek_status("CREATED") is Status.CREATED
    assert cdek_status("RECEIVED_AT_SHIPMENT_WAREHOUSE") is Status.ACCEPTED
    assert cdek_status("SENT_TO_RECIPIENT_CITY") is Status.IN_TRANSIT
    assert cdek_status("ACCEPTED_AT_PICK_UP_POINT") is Status.AT_PICKUP_POINT
    assert cdek_status("POSTOMAT_POSTED") is Status.AT_PICKUP_POINT
    assert cdek_status("TAKEN_BY_COURIER") is Status.OUT_FOR_DELIVERY
    assert cdek_status("DELIVERED") is Status.DELIVERED
    assert cdek_status("POSTOMAT_RECEIVED") is Status.DELIVERED
    assert cdek_status("NOT_DELIVERED") is Status.DELIVERY_FAILED
    assert cdek_status("REMOVED") is Status.CANCELLED
    assert cdek_status("INVALID") is Status.CANCELLED


def test_on_the_way_back_moving_is_returning_and_arriving_is_returned() -> None:
    assert cdek_status("SENT_TO_SENDER_CITY") is Status.RETURNING
    assert cdek_status("TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY", is_return=True) is Status.RETURNING
    assert cdek_status("RETURNED_TO_SENDER_CITY_WAREHOUSE", is_return=True) is Status.RETURNED
    assert cdek_status("DELIVERED", is_return=True) is Status.RETURNED
    assert cdek_status("RETURNED_TO_SENDER_CITY_WAREHOUSE") is Status.ACCEPTED  # not a return, says CDEK


def test_codes_are_read_whatever_their_case_and_spacing() -> None:
    assert cdek_status(" delivered ") is Status.DELIVERED


def test_an_unknown_code_is_unknown_not_an_error() -> None:
    assert cdek_status("TELEPORTED") is Status.UNKNOWN


def test_the_final_statuses_are_the_ends_of_a_journey() -> None:
    assert {s for s in Status if final(s)} == FINAL_STATUSES
    assert FINAL_STATUSES == {Status.DELIVERED, Status.RETURNED, Status.LOST, Status.DAMAGED, Status.CANCELLED}
    assert not final(Status.DELIVERY_FAILED)


def statuses(*rows: tuple[str, str, str | None]) -> bytes:
    return orjson.dumps([{"code": c, "name": f"name of {c}", "date_time": t, "city": city} for c, t, city in rows])


def test_a_history_is_read_oldest_first_each_event_in_its_own_zone() -> None:
    body = statuses(  # newest first, as CDEK lists them
        ("DELIVERED", "2026-12-10T15:00:00+0700", "Новосибирск"),
        ("ACCEPTED_IN_RECIPIENT_CITY", "2026-12-09T08:30:00+0700", "Новосибирск"),
        ("RECEIVED_AT_SHIPMENT_WAREHOUSE", "2026-12-08T10:15:00+0300", "Москва"),
    )
    events = read_statuses(body)
    assert [e.carrier_code for e in events] == [
        "RECEIVED_AT_SHIPMENT_WAREHOUSE",
        "ACCEPTED_IN_RECIPIENT_CITY",
        "DELIVERED",
    ]
    assert [e.status for e in events] == [Status.ACCEPTED, Status.IN_TRANSIT, Status.DELIVERED]
    assert events[0].at == datetime(2026, 12, 8, 10, 15, tzinfo=MSK)
    assert events[0].at.utcoffset() == timedelta(hours=3)
    assert events[2].at.utcoffset() == timedelta(hours=7)
    assert events[2].city == "Новосибирск"
    assert events[2].carrier == "cdek"
    assert events[2].carrier_text == "name of DELIVERED"
    assert events[2].final


def test_an_unknown_code_in_a_history_is_kept_with_its_code_and_text() -> None:
    (event,) = read_statuses(
        [ow.Status(code="NEW_SHINY_STATUS", name="Новый статус", date_time="2026-12-08T10:15:00+0300")]
    )
    assert event.status is Status.UNKNOWN
    assert event.carrier_code == "NEW_SHINY_STATUS"
    assert event.carrier_text == "Новый статус"


def test_after_a_failed_delivery_the_rest_of_a_history_is_the_way_back() -> None:
    events = read_statuses(
        statuses(
            ("RETURNED_TO_SENDER_CITY_WAREHOUSE", "2026-12-20T12:00:00+0300", "Москва"),
            ("ACCEPTED_IN_SENDER_CITY", "2026-12-19T09:00:00+0300", "Москва"),
            ("SENT_TO_SENDER_CITY", "2026-12-17T09:00:00+0700", "Новосибирск"),
            ("NOT_DELIVERED", "2026-12-16T18:00:00+0700", "Новосибирск"),
            ("ACCEPTED_AT_PICK_UP_POINT", "2026-12-09T18:00:00+0700", "Новосибирск"),
        )
    )
    assert [e.status for e in events] == [
        Status.AT_PICKUP_POINT,
        Status.DELIVERY_FAILED,
        Status.RETURNING,
        Status.RETURNING,
        Status.RETURNED,
    ]
    assert [e.is_return for e in events] == [False, False, True, True, True]


def test_events_at_the_same_moment_keep_cdeks_order() -> None:
    events = read_statuses(
        statuses(
            ("CREATED", "2026-12-08T10:00:00+0300", None),
            ("ACCEPTED", "2026-12-08T10:00:00+0300", None),
        )
    )
    assert [e.carrier_code for e in events] == ["ACCEPTED", "CREATED"]


def test_a_time_without_an_offset_is_utc() -> None:
    (event,) = read_statuses(statuses(("CREATED", "2026-12-08T10:00:00", None)))
    assert event.at == datetime(2026, 12, 8, 10, tzinfo=UTC)


@pytest.mark.parametrize("body", [b"{", b'{"code": "CREATED"}', b'[{"name": "no code"}]', b"[1, 2]"])
def test_unreadable_histories_are_refused_clearly(body: bytes) -> None:
    with pytest.raises(CarrierResponseError, match="cdek: unreadable statuses"):
        read_statuses(body)


def test_a_status_with_a_time_that_is_not_a_time_is_refused_clearly() -> None:
    with pytest.raises(CarrierResponseError, match="not a date and time"):
        read_statuses(statuses(("CREATED", "yesterday", None)))


def test_a_booked_orders_answer_carries_its_events() -> None:
    body = orjson.dumps(
        {
            "entity": {
                "uuid": "u-1",
                "cdek_number": "1400000001",
                "statuses": [
                    {"code": "CREATED", "name": "Создан", "date_time": "2026-12-08T10:05:00+0300", "city": "Москва"},
                    {"code": "ACCEPTED", "name": "Принят", "date_time": "2026-12-08T10:00:00+0300", "city": "Москва"},
                ],
            },
            "requests": [{"type": "CREATE", "state": "SUCCESSFUL"}],
        }
    )
    state = read_order(body, "cdek")
    assert [e.carrier_code for e in state.events] == ["ACCEPTED", "CREATED"]
    assert all(isinstance(e, TrackingEvent) for e in state.events)


def webhook(**attributes: object) -> bytes:
    attrs = {
        "is_return": False,
        "cdek_number": "1400000001",
        "number": "shp_0001",
        "code": "ACCEPTED_AT_PICK_UP_POINT",
        "status_reason_code": None,
        "status_date_time": "2026-12-09T18:00:00+0700",
        "city_name": "Новосибирск",
        "city_code": 270,
        **attributes,
    }
    return orjson.dumps(
        {"type": "ORDER_STATUS", "date_time": "2026-12-09T14:00:05+0300", "uuid": "u-1", "attributes": attrs}
    )


def test_a_webhook_call_reads_as_an_event_and_what_matches_it_to_our_order() -> None:
    call = read_webhook(webhook())
    assert (call.uuid, call.cdek_number, call.number) == ("u-1", "1400000001", "shp_0001")
    event = call.event
    assert event.status is Status.AT_PICKUP_POINT
    assert event.carrier_code == "ACCEPTED_AT_PICK_UP_POINT"
    assert event.carrier_text == "Принят на склад до востребования"
    assert event.at == datetime(2026, 12, 9, 18, tzinfo=NSK)
    assert event.at.utcoffset() == timedelta(hours=7)
    assert (event.city, event.city_code) == ("Новосибирск", "270")


def test_a_return_flagged_call_is_read_as_the_return() -> None:
    call = read_webhook(webhook(code="DELIVERED", is_return=True, status_reason_code="11"))
    assert call.event.status is Status.RETURNED
    assert call.event.is_return
    assert call.event.reason_code == "11"


def test_a_webhook_with_an_unknown_code_keeps_it() -> None:
    call = read_webhook(webhook(code="SOMETHING_NEW", cdek_number=1400000001))
    assert call.event.status is Status.UNKNOWN
    assert call.event.carrier_code == call.event.carrier_text == "SOMETHING_NEW"
    assert call.cdek_number == "1400000001"


def test_a_call_without_its_own_status_time_takes_the_calls_time() -> None:
    call = read_webhook(webhook(status_date_time=""))
    assert call.event.at == datetime(2026, 12, 9, 14, 0, 5, tzinfo=MSK)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "unreadable status call"),
        (b"not json", "unreadable status call"),
        (b"[]", "unreadable status call"),
        (b'{"type": "ORDER_STATUS", "uuid": "u-1"}', "unreadable status call"),
        (b'{"type": "ORDER_STATUS", "uuid": "u-1", "attributes": {"code": 5}}', "unreadable status call"),
        (b'{"type": "PRINT_FORM", "uuid": "u-1", "attributes": {"code": "READY"}}', "not an ORDER_STATUS call"),
        (b'{"type": "ORDER_STATUS", "uuid": "", "attributes": {"code": "CREATED"}}', "names no order"),
    ],
)
def test_garbage_webhook_bodies_are_refused_clearly(body: bytes, says: str) -> None:
    with pytest.raises(CarrierResponseError, match=says):
        read_webhook(body)
