"""One status language for every carrier: where a parcel is, said the same way whoever carries it.

Each carrier's module maps its own codes to a `Status` (`carriers.cdek.statuses`,
`carriers.courier.statuses`) and reads its answers into `TrackingEvent`s: the carrier's code and
text kept as it said them, our status beside them, when (in the event's own time zone) and where.
A code no table knows is kept as `Status.UNKNOWN` with its code and text, never dropped: a new
carrier code shows up in the history and can be mapped later.

The statuses, and what each means to the shop and to its buyer:

    created           the carrier has the order on record; the parcel is still with the shop.
                      The shop: hand it over (drop it off or wait for the pick-up). The buyer: packed.
    accepted          the carrier has the parcel in hand (at its first office or warehouse).
                      From here the carrier answers for it; it can no longer be cancelled simply.
    in_transit        on its way between the carrier's cities and warehouses.
    at_pickup_point   waiting at the office or locker the buyer chose. The buyer: go and collect it.
    out_for_delivery  with a courier on the way to the buyer's door (or to the parcel locker).
    delivered         handed to the buyer.                                              (final)
    delivery_failed   a delivery attempt failed or the buyer refused; another attempt or the
                      return to the shop follows. The shop: call the buyer.
    returning         on its way back to the shop.
    returned          back with the shop (or at the shop's office, ready for it).       (final)
    lost              the carrier lost it; a claim follows.                             (final)
    damaged           the carrier damaged or destroyed it; a claim follows.             (final)
    cancelled         the order was withdrawn (or refused by the carrier) before the parcel
                      was handed over; nothing travels.                                 (final)
    unknown           a code we have no mapping for; the carrier's code and text say what it is.

A final status ends the shipment's tracking: nothing the carrier says afterwards changes what
became of it (and polling stops).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

__all__ = ["FINAL_STATUSES", "Status", "TrackingEvent", "final"]


class Status(enum.StrEnum):
    CREATED = "created"
    ACCEPTED = "accepted"
    IN_TRANSIT = "in_transit"
    AT_PICKUP_POINT = "at_pickup_point"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    DELIVERY_FAILED = "delivery_failed"
    RETURNING = "returning"
    RETURNED = "returned"
    LOST = "lost"
    DAMAGED = "damaged"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


FINAL_STATUSES = frozenset({Status.DELIVERED, Status.RETURNED, Status.LOST, Status.DAMAGED, Status.CANCELLED})


def final(status: Status) -> bool:
    """Whether the parcel's journey is over: nothing after this status changes its outcome."""
    return status in FINAL_STATUSES


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One step of a parcel's history, as its carrier reported it and as we read it."""

    carrier: str  # our code for the carrier ("cdek", "courier")
    carrier_code: str  # the carrier's own status code, as it spells it
    carrier_text: str  # the carrier's own words for it (CDEK's are Russian)
    status: Status
    at: datetime  # aware; in the event's own zone where the carrier gives an offset
    city: str | None = None
    city_code: str | None = None  # the carrier's code for the city, where it gives one
    is_return: bool = False  # the event belongs to the parcel's way back to the shop
    reason_code: str | None = None  # the carrier's reason (a failed delivery's, a return's)

    @property
    def final(self) -> bool:
        return final(self.status)
