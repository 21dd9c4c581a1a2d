"""Shipments as the API takes and answers them and as the records keep them, declared once.

`ShipmentRequest` is the body of `POST /v1/shipments` (and what the CRM module and the CLI
build); `ShipmentDocument` is what the records keep of a shipment beyond its indexed columns:
the request, the offer as it was quoted, the order as the carrier is asked to take it
(`carriers.booking.CarrierOrder`) and what the carrier answered. `Shipment` and
`ShipmentDetail` are the answers; the OpenAPI document is generated from all of these.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from carriers.booking import CarrierOrder
from router.core import answers
from router.core.answers import NOT_BLANK, Money, Out
from router.core.models import DeliveryType

MAX_ITEMS = 500
MAX_CASH = Decimal("10000000")

Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=NOT_BLANK)]
# The shapes `router.shipping.ordering.phone_number` reads: 11 digits from +7 or 8 with the usual
# separators; a recipient's must be a mobile (its second digit 9), to be told of the parcel by SMS.
_SEP = r"[\s().-]*"
PHONE_PATTERN = rf"^\s*(\+\s*7|7|8){_SEP}(\d{_SEP}){{9}}\d\s*$"
MOBILE_PATTERN = rf"^\s*(\+\s*7|7|8){_SEP}9{_SEP}(\d{_SEP}){{8}}\d\s*$"
Phone = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=32,
        pattern=PHONE_PATTERN,
        description="A Russian number: +7 XXX XXX-XX-XX, in any usual spelling (8 XXX…, spaces, dashes, brackets)",
    ),
]
MobilePhone = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=32,
        pattern=MOBILE_PATTERN,
        description="A Russian mobile number: +7 9XX XXX-XX-XX, in any usual spelling (8 9XX…, spaces, dashes)",
    ),
]
Email = Annotated[str, Meta(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Reference = Annotated[str, Meta(min_length=1, max_length=100, pattern=NOT_BLANK)]
Roubles = Annotated[
    Decimal,
    Meta(
        description='Roubles, as a string ("1234.50") or a number; kopecks at most',
        extra_json_schema={
            "anyOf": [
                {"type": "string", "pattern": r"^(?:10000000(?:\.0{1,2})?|[0-9]{1,7}(?:\.[0-9]{1,2})?)$"},
                {"type": "number", "minimum": 0, "maximum": int(MAX_CASH), "multipleOf": 0.01},
            ]
        },
    ),
]


class ShipmentStatus(enum.StrEnum):
    BOOKING = "booking"  # kept here; the carrier has not confirmed the order yet
    BOOKED = "booked"  # the carrier took it: a tracking number and a label
    FAILED = "failed"  # the carrier refused it (`errors`), or booking kept failing
    CANCELLED = "cancelled"


class Contact(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    phone: Phone
    email: Email | None = None
    company: Annotated[str, Meta(max_length=200)] | None = None


class Recipient(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    phone: MobilePhone
    email: Email | None = None
    company: Annotated[str, Meta(max_length=200)] | None = None


class ItemIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    sku: Reference
    # Whole numbers as JSON Schema has them (2.0 too); kept as ints (`ordering.normalized`).
    quantity: Annotated[float, Meta(ge=1, le=10_000, multiple_of=1)]
    unit_price: Roubles
    weight_g: Annotated[float, Meta(ge=0, le=1_000_000, multiple_of=1, description="One unit's weight, whole grams")]
    cod_per_unit: Annotated[
        Roubles | None,
        Meta(
            description="What the buyer pays for one unit on delivery; by default its unit price when cash is collected"
        ),
    ] = None


class ItemOut(Out, kw_only=True):
    name: str
    sku: str
    quantity: int
    unit_price: Decimal
    weight_g: int
    cod_per_unit: Decimal | None = None


class ShipmentRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    quote_id: Reference
    offer_id: Annotated[str, Meta(min_length=1, max_length=200)]
    pickup_point_id: (
        Annotated[
            str,
            Meta(min_length=1, max_length=200, description="The point the buyer chose; required for a pickup offer"),
        ]
        | None
    ) = None
    order_number: Annotated[str, Meta(min_length=1, max_length=100, description="The shop's own order number")]
    recipient: Recipient
    sender: Contact
    warehouse: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=100,
                description="The shop's warehouse the parcel leaves from; manifests are per warehouse",
            ),
        ]
        | None
    ) = None
    delivery_address: (
        Annotated[
            str, Meta(max_length=500, description="Street and house, for a courier offer whose quote named no address")
        ]
        | None
    ) = None
    items: Annotated[list[ItemIn], Meta(max_length=MAX_ITEMS)] = msgspec.field(default_factory=list)
    cash_to_collect: Roubles = Decimal("0")
    comment: Annotated[str, Meta(max_length=500)] = ""


class CarrierProblem(Out, kw_only=True):
    code: str
    message: str
    field: str | None = None


class Booking(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the carrier said of the order, kept with the shipment."""

    create_sent_at: datetime | None = None  # the order may be at the carrier from here on
    errors: list[CarrierProblem] = msgspec.field(default_factory=list)
    carrier_status: str | None = None
    tracking_url: str | None = None
    failure: str | None = None  # why booking stopped short of the carrier's answer
    cancel_reason: str | None = None


class ShipmentDocument(msgspec.Struct, kw_only=True):
    request: ShipmentRequest
    offer: answers.Offer
    order: CarrierOrder
    booking: Booking = msgspec.field(default_factory=Booking)


class CarrierCall(Out, kw_only=True):
    at: datetime
    operation: str
    outcome: str
    duration_ms: int
    detail: dict[str, Any]


class TrackingStep(Out, kw_only=True):
    status: Annotated[str, Meta(description="In the service's status language (docs/tracking.md)")]
    carrier_code: str
    carrier_text: str
    at: Annotated[datetime, Meta(description="When it happened, with the offset of the place it happened")]
    city: str | None
    source: Literal["webhook", "poll", "import", "manual"]


class JobState(Out, kw_only=True):
    state: Literal["ready", "done", "failed"]
    attempts: int
    last_error: str | None


class Shipment(Out, kw_only=True):
    id: str
    status: ShipmentStatus
    order_number: str
    quote_id: str
    offer_id: str
    carrier: str
    carrier_name: str
    service: str
    service_name: str
    delivery_type: DeliveryType
    pickup_point_id: str | None
    warehouse: str | None
    price: Money
    currency: str
    cash_to_collect: Money
    ship_date: date
    tracking_number: str | None
    tracking_url: str | None
    tracking_status: Annotated[
        str | None, Meta(description="The latest tracking event's status; null before the first")
    ]
    carrier_order_id: str | None
    label_url: str | None
    errors: list[CarrierProblem]
    created_at: datetime
    updated_at: datetime


class ShipmentDetail(Shipment, kw_only=True):
    recipient: Recipient
    sender: Contact
    items: list[ItemOut]
    booking_job: JobState | None
    calls: list[CarrierCall]
    history: list[TrackingStep]


class ShipmentPage(Out, kw_only=True):
    shipments: list[Shipment]
    next_cursor: Annotated[str | None, Meta(description="Pass as `cursor` for the next page; null on the last")]


class LabelsRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    shipment_ids: Annotated[list[Reference], Meta(min_length=1, max_length=500)]
    format: Literal["a6", "a4"] = "a4"


class PickupRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    carrier: Reference
    day: date
    time_from: Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "10:00"
    time_to: Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "18:00"
    warehouse: Reference | None = None
    address: Annotated[str, Meta(min_length=1, max_length=500)]
    city: Annotated[str, Meta(min_length=1, max_length=200)]
    contact: Contact
    shipment_ids: Annotated[list[Reference], Meta(max_length=5000)] = msgspec.field(default_factory=list)
    comment: Annotated[str, Meta(max_length=500)] = ""


class Pickup(Out, kw_only=True):
    id: str
    carrier: str
    day: date
    time_from: str
    time_to: str
    warehouse: str | None
    status: Literal["requested", "arranged", "cancelled"]
    carrier_pickup_id: str | None
    shipments: int
    weight_g: int
    note: str
    created_at: datetime
