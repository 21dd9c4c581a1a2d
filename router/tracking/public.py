"""What a buyer may see of a parcel by its tracking number: where it has been, city by city, and
when it should arrive; nothing personal (no names, phones, addresses, prices or shop order)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import sqlalchemy as sa
from msgspec import Meta

from router.core.answers import Out
from router.core.errors import Refused
from router.records import Database
from router.records.tables import shipments
from router.shipping.ledger import Ledger


class TrackingNotFound(Refused):
    status = 404
    title = "No parcel with this tracking number"


class PublicStep(Out, kw_only=True):
    status: str
    text: Annotated[str, Meta(description="The carrier's own words")]
    at: datetime
    city: str | None


class Tracking(Out, kw_only=True):
    tracking_number: str
    carrier: str
    carrier_name: str
    service_name: str
    status: str | None
    expected_from: date
    expected_by: date
    history: list[PublicStep]


async def track(database: Database, tracking_number: str) -> Tracking:
    query = (
        sa.select(shipments.c.id)
        .where(shipments.c.tracking_number == tracking_number, shipments.c.status.in_(["booked", "cancelled"]))
        .order_by(shipments.c.created_at.desc())
        .limit(1)
    )
    async with database.read() as conn:
        shipment_id = (await conn.execute(query)).scalar_one_or_none()
    if shipment_id is None:
        raise TrackingNotFound(f"no parcel {tracking_number!r}")
    ledger = Ledger(database)
    row = await ledger.get(shipment_id)
    offer = row.document.offer
    return Tracking(
        tracking_number=tracking_number,
        carrier=row.carrier,
        carrier_name=offer.carrier_name_ru or offer.carrier_name,
        service_name=offer.service_name_ru or offer.service_name,
        status=row.tracking_status or ("cancelled" if row.status.value == "cancelled" else "created"),
        expected_from=offer.eta.min_date,
        expected_by=offer.eta.max_date,
        history=[
            PublicStep(status=s.status, text=s.carrier_text, at=s.at, city=s.city) for s in await ledger.history(row.id)
        ],
    )
