"""The same-day courier's statuses (Dostavista/Borzo business API 1.5) in our status language.

The courier reports two things: the order's `status` (`GET /orders`, the `order_changed`
callback) and each delivery's `status` (`delivery_changed`), one delivery per drop point. The
codes are those of the API 1.5 reference ("Order statuses", "Delivery statuses"), the delivery
ones checked against public Borzo integrations, which also receive `courier_at_pickup` and the
`reattempt_*` family of a second attempt.

A same-day courier drives the parcel straight from the shop to the buyer: there is no warehouse
and no transit, so picking the parcel up is `out_for_delivery`, and everything before it
(waiting for a courier, a courier on the way to the shop, postponed) is `created`. A delivery the
courier could not make (`failed`) is `delivery_failed`; the courier brings the parcel back the
same day, which the API does not report as a status of its own. `invalid` and `deleted` (the
delivery refused or withdrawn) are `cancelled`. An unknown code is `Status.UNKNOWN`, kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from carriers.errors import CarrierResponseError
from carriers.tracking import Status, TrackingEvent

__all__ = [
    "COURIER_DELIVERY_STATUSES",
    "COURIER_ORDER_STATUSES",
    "CourierStatusCall",
    "courier_delivery_status",
    "courier_order_status",
    "read_callback",
]

CARRIER = "courier"
_S = Status

# code -> (our status, English text)
COURIER_ORDER_STATUSES: dict[str, tuple[Status, str]] = {
    "new": (_S.CREATED, "New order, awaiting approval"),
    "available": (_S.CREATED, "Offered to couriers"),
    "active": (_S.OUT_FOR_DELIVERY, "A courier is carrying out the order"),
    "completed": (_S.DELIVERED, "Completed"),
    "reactivated": (_S.CREATED, "Offered to couriers again"),
    "draft": (_S.CREATED, "Draft"),
    "canceled": (_S.CANCELLED, "Cancelled"),
    "delayed": (_S.CREATED, "Postponed"),
}

COURIER_DELIVERY_STATUSES: dict[str, tuple[Status, str]] = {
    "invalid": (_S.CANCELLED, "Invalid delivery"),
    "draft": (_S.CREATED, "Draft"),
    "planned": (_S.CREATED, "Planned"),
    "active": (_S.OUT_FOR_DELIVERY, "Being delivered"),
    "finished": (_S.DELIVERED, "Delivered"),
    "canceled": (_S.CANCELLED, "Cancelled"),
    "delayed": (_S.CREATED, "Postponed"),
    "failed": (_S.DELIVERY_FAILED, "Delivery failed"),
    "courier_assigned": (_S.CREATED, "Courier assigned"),
    "courier_departed": (_S.CREATED, "Courier on the way to the pick-up"),
    "courier_at_pickup": (_S.CREATED, "Courier at the pick-up"),
    "parcel_picked_up": (_S.OUT_FOR_DELIVERY, "Parcel picked up"),
    "courier_arrived": (_S.OUT_FOR_DELIVERY, "Courier at the recipient's address"),
    "deleted": (_S.CANCELLED, "Deleted"),
    "reattempt_planned": (_S.DELIVERY_FAILED, "Another attempt planned"),
    "reattempt_courier_assigned": (_S.DELIVERY_FAILED, "Courier assigned for another attempt"),
    "reattempt_courier_departed": (_S.OUT_FOR_DELIVERY, "Courier on the way for another attempt"),
    "reattempt_courier_picked_up": (_S.OUT_FOR_DELIVERY, "Parcel picked up for another attempt"),
    "reattempt_finished": (_S.DELIVERED, "Delivered at another attempt"),
}


def courier_order_status(code: str) -> Status:
    found = COURIER_ORDER_STATUSES.get(code.strip().lower())
    return found[0] if found else Status.UNKNOWN


def courier_delivery_status(code: str) -> Status:
    found = COURIER_DELIVERY_STATUSES.get(code.strip().lower())
    return found[0] if found else Status.UNKNOWN


# ---------------------------------------------------------------- callbacks


class _Order(msgspec.Struct):
    order_id: int | str
    status: str
    status_description: str | None = None
    created_datetime: str | None = None
    finish_datetime: str | None = None


class _Delivery(msgspec.Struct):
    status: str
    order_id: int | str | None = None
    delivery_id: int | str | None = None
    status_datetime: str | None = None
    client_order_id: str | None = None  # our shipment id, where the order was made with it


class _Callback(msgspec.Struct):
    event_type: str  # order_changed | delivery_changed
    event_datetime: str = ""
    order: _Order | None = None
    delivery: _Delivery | None = None


_callback_decoder = msgspec.json.Decoder(_Callback)


@dataclass(frozen=True, slots=True)
class CourierStatusCall:
    event: TrackingEvent
    order_id: str  # the courier's order id (our `carrier_ref`)


def _time(text: str | None) -> datetime:
    if not text:
        raise CarrierResponseError(f"{CARRIER}: status call has no time")
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CarrierResponseError(f"{CARRIER}: status time {text!r} is not a date and time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def read_callback(body: bytes, *, carrier: str = CARRIER) -> CourierStatusCall:
    """An `order_changed` or `delivery_changed` callback (its signature checked before this)."""
    try:
        call = _callback_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise CarrierResponseError(f"{carrier}: unreadable callback ({exc})") from None
    if call.event_type == "delivery_changed" and call.delivery is not None:
        d = call.delivery
        order_id = d.order_id if d.order_id is not None else (call.order.order_id if call.order else None)
        if order_id is None:
            raise CarrierResponseError(f"{carrier}: delivery callback names no order")
        known = COURIER_DELIVERY_STATUSES.get(d.status.strip().lower())
        status, text = known if known else (Status.UNKNOWN, d.status)
        at = _time(d.status_datetime or call.event_datetime)
    elif call.event_type == "order_changed" and call.order is not None:
        o = call.order
        order_id = o.order_id
        known = COURIER_ORDER_STATUSES.get(o.status.strip().lower())
        status, text = known if known else (Status.UNKNOWN, o.status_description or o.status)
        code, at = o.status, _time(call.event_datetime)
        event = TrackingEvent(carrier, code, text, status, at)
        return CourierStatusCall(event, str(order_id))
    else:
        raise CarrierResponseError(f"{carrier}: a {call.event_type!r} callback without its order or delivery")
    return CourierStatusCall(TrackingEvent(carrier, d.status, text, status, at), str(order_id))
