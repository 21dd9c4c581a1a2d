"""The webhooks' requests and answers, and the events a shop can ask for."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from router.core.answers import Out


class EventType(enum.StrEnum):
    BOOKED = "shipment.booked"
    BOOKING_FAILED = "shipment.booking_failed"
    CANCELLED = "shipment.cancelled"
    LABEL_READY = "shipment.label_ready"
    STATUS_CHANGED = "shipment.status_changed"


EVENT_TYPES = tuple(EventType)


class WebhookRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: Annotated[
        str,
        Meta(
            min_length=8,
            max_length=2000,
            # Printable ASCII after the host (a URL's other characters are percent-encoded): the
            # schema's regex engine and Python's agree on that class, not on what `\s` holds.
            pattern=r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][!-~]*)?$",
            description="http or https, to a host name or address; percent-encoded beyond ASCII",
        ),
    ]
    events: Annotated[list[EventType], Meta(min_length=1, max_length=len(EVENT_TYPES))] = msgspec.field(
        default_factory=lambda: list(EVENT_TYPES)
    )


class ReplayRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Whole numbers as JSON Schema has them (3.0 too); no event id is anywhere near 2^53.
    event_ids: (
        Annotated[
            list[Annotated[float, Meta(ge=1, le=2**53, multiple_of=1)]],
            Meta(max_length=1_000, description="These events only; by default every delivery that failed"),
        ]
        | None
    ) = None


class DeliveryQuery(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    state: Literal["pending", "delivered", "failed"] | None = None
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100


class Webhook(Out, kw_only=True):
    id: str
    url: str
    events: list[EventType]
    created_at: datetime
    secret: Annotated[str | None, Meta(description="Shown once, when the endpoint is made; null after")] = None


class WebhookList(Out, kw_only=True):
    webhooks: list[Webhook]


class Attempt(Out, kw_only=True):
    at: datetime
    status: int | None
    error: str | None
    ms: int


class Delivery(Out, kw_only=True):
    event_id: int
    type: EventType
    subject: str
    created_at: datetime
    state: Literal["pending", "delivered", "failed"]
    attempts: list[Attempt]
    delivered_at: datetime | None


class DeliveryList(Out, kw_only=True):
    deliveries: list[Delivery]


class Replayed(Out, kw_only=True):
    replayed: int


class Event(Out, kw_only=True):
    """What an endpoint receives: the event and the shipment as it then stood."""

    id: int
    type: EventType
    created_at: datetime
    subject: str
    data: dict[str, Any]
