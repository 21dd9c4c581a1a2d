"""The seam between booking and every carrier that books over an API.

A carrier that can take orders (CDEK's `/v2/orders`, the courier's `create-order`) offers a
`BookingApi`; rate-card partners have no API and are booked by the service itself
(`router.shipping`), with tracking numbers from the range in their data file.

Booking is not idempotent at any carrier, so every order carries our own shipment id as its
`number`: a booking that may have reached the carrier (a timeout, a 500, a worker killed mid-call)
is first looked up with `find(number)` before it is sent again, and never makes a second order.

CDEK answers asynchronously: `create` may come back `PENDING`, and `follow` is asked until the
order is `BOOKED` (with the carrier's tracking number) or `INVALID` (with the carrier's errors,
field by field). What goes wrong on the wire raises `carriers.errors` as quoting does; a refusal
that is about the order itself (bad phone, missing office) is data: an `INVALID` state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Protocol, runtime_checkable

from carriers.errors import ApiErrorDetail, CarriersError
from carriers.tracking import TrackingEvent
from router.core.models import DeliveryType, Place

__all__ = [
    "BookingApi",
    "CallsBack",
    "CancelRefused",
    "CarrierOrder",
    "Contact",
    "IntakeRequest",
    "Item",
    "OrderParcel",
    "OrderState",
    "OrderStatus",
    "PrintsByCall",
]


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    phone: str  # E.164, +7XXXXXXXXXX for Russian numbers
    email: str | None = None
    company: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    name: str
    sku: str
    quantity: int
    unit_price_rub: Decimal  # the declared value of one unit
    weight_g: int  # of one unit
    cod_per_unit_rub: Decimal = Decimal("0")  # what the buyer pays for one unit on delivery


@dataclass(frozen=True, slots=True)
class OrderParcel:
    number: str  # our parcel number, unique within the order
    weight_g: int
    length_cm: int
    width_cm: int
    height_cm: int
    items: tuple[Item, ...] = ()


@dataclass(frozen=True, slots=True)
class CarrierOrder:
    """One order as every carrier is asked to take it; the carrier's module maps it to its wire."""

    number: str  # our shipment id, the carrier's `number`: a retry finds the order by it
    service: str  # the offer's service code (CDEK: the tariff code)
    delivery_type: DeliveryType
    origin: Place
    destination: Place
    sender: Contact
    recipient: Contact
    parcels: tuple[OrderParcel, ...]
    ship_date: date
    shop_order_number: str = ""
    pickup_point_id: str | None = None  # the office or locker, for a pickup offer
    shipment_point_id: str | None = None  # the office the shop drops parcels at, if it does
    declared_value_rub: Decimal = Decimal("0")
    cod_rub: Decimal = Decimal("0")  # cash to collect from the buyer, in all
    comment: str = ""


class OrderStatus(enum.StrEnum):
    PENDING = "pending"  # the carrier has the request and has not decided yet
    BOOKED = "booked"  # the carrier took the order; `tracking_number` is its number
    INVALID = "invalid"  # the carrier refused the order; `errors` say why
    CANCELLED = "cancelled"  # the order was deleted at the carrier


@dataclass(frozen=True, slots=True)
class OrderState:
    status: OrderStatus
    carrier_ref: str  # the carrier's handle for the order (CDEK's uuid, the courier's order_id)
    tracking_number: str | None = None
    errors: tuple[ApiErrorDetail, ...] = ()
    carrier_status: str | None = None  # the carrier's own latest status code, as it spells it
    tracking_url: str | None = None
    events: tuple[TrackingEvent, ...] = ()  # the parcel's history so far, oldest first


@dataclass(frozen=True, slots=True)
class IntakeRequest:
    """A carrier's courier asked to collect parcels from a warehouse on a day."""

    number: str  # our pick-up id
    day: date
    time_from: time
    time_to: time
    origin: Place
    sender: Contact
    weight_g: int
    parcels: int
    order_refs: tuple[str, ...] = ()  # the carrier's orders to collect, where it wants them named
    comment: str = ""


class CancelRefused(CarriersError):
    """The carrier will not cancel: it already has the parcel, or the order is past cancelling."""

    def __init__(self, carrier: str, reason: str) -> None:
        super().__init__(f"{carrier}: {reason}")
        self.carrier = carrier
        self.reason = reason


@runtime_checkable
class BookingApi(Protocol):
    """What booking asks of a carrier with an API. Every call may raise `carriers.errors`."""

    code: str
    prints_labels: bool  # False: the service draws the label itself

    async def create(self, order: CarrierOrder) -> OrderState: ...

    async def find(self, number: str) -> OrderState | None:
        """The order made with our `number`, or None if the carrier has none."""
        ...

    async def follow(self, carrier_ref: str) -> OrderState: ...

    async def cancel(self, carrier_ref: str) -> None:
        """Raises `CancelRefused` when the carrier has the parcel already."""
        ...

    async def label(self, carrier_ref: str, paper: str) -> bytes | None:
        """The carrier's label as PDF (`paper`: A4, A5, A6), or None while it is being made."""
        ...

    async def request_intake(self, intake: IntakeRequest) -> str:
        """The carrier's id for the pick-up."""
        ...

    async def cancel_intake(self, carrier_ref: str) -> None: ...


@runtime_checkable
class CallsBack(Protocol):
    """A carrier that calls the service with its status events (and, some, when a label is made),
    once told where."""

    code: str
    calls: tuple[str, ...]  # the kinds of call it is subscribed to, in the carrier's words

    async def subscribe(self, url: str, kind: str) -> str:
        """The carrier's id for the subscription; asking again for the same url makes no second one."""
        ...


@runtime_checkable
class PrintsByCall(Protocol):
    """A carrier that makes a label in its own time after being asked for it, and that can call
    the service once it is made (CDEK's print forms and their `PRINT_FORM` call). The print
    request is kept with the shipment, so the call can be matched to it and later looks ask
    after the same request rather than making another."""

    code: str

    async def order_label(self, carrier_ref: str, paper: str) -> str:
        """The print request's id, which the carrier's call names."""
        ...

    async def made_label(self, print_ref: str, *, wait: bool = True) -> bytes | None:
        """The label as PDF once made, None while it is being made (`wait`: look for a few
        seconds first); a request refused or gone raises `carriers.errors`."""
        ...

    async def fetch_label(self, url: str) -> bytes:
        """The PDF at the address the carrier's call gave."""
        ...
