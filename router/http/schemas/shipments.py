"""The query strings of the shipping endpoints; their bodies and answers are `router.shipping.model`'s."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

# Not blank by the document's pattern as well as by the code, which strips what it is given:
# a value of only control characters is refused by both alike.
from router.shipping.model import Reference, ShipmentStatus


class _Query(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class ShipmentQuery(_Query):
    """`GET /v1/shipments`: newest first, filtered by any of these."""

    status: ShipmentStatus | None = None
    carrier: Reference | None = None
    order_number: Reference | None = None
    created_from: (
        Annotated[datetime, Meta(tz=True, description="Made at or after, e.g. 2026-12-01T00:00:00Z")] | None
    ) = None
    created_to: Annotated[datetime, Meta(tz=True, description="Made before")] | None = None
    ship_date: date | None = None
    warehouse: Reference | None = None
    limit: Annotated[int, Meta(ge=1, le=200)] = 50
    cursor: Annotated[str, Meta(min_length=1, max_length=200)] | None = None


class LabelQuery(_Query):
    format: Annotated[
        Literal["a6", "a4"], Meta(description="a6: one label a page (thermal printers); a4: four to a page")
    ] = "a6"


class ManifestQuery(_Query):
    """`GET /v1/manifests`: a partner's parcels booked for one day, as the partner receives them."""

    carrier: Reference
    date: date
    warehouse: Reference | None = None
    format: Literal["csv", "pdf"] = "csv"
