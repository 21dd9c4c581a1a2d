"""Events kept once per shipment, the latest status beside it, the shop told, the outcome learned."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from carriers.tracking import Status, TrackingEvent, final
from router.core.models import Place
from router.core.regions import TABLE_COUNTRY, regions
from router.history.outcomes import Coordinates, Outcome, OutcomeStatus
from router.history.track_record import TrackRecord
from router.records import Database
from router.records.tables import shipments, tracking_events
from router.shipping.answers import shipment_answer
from router.shipping.ledger import Ledger, ShipmentRow
from router.webhooks import EventType, emit

log = logging.getLogger(__name__)

LEARNED = {
    Status.DELIVERED: OutcomeStatus.DELIVERED,
    Status.RETURNED: OutcomeStatus.RETURNED,
    Status.LOST: OutcomeStatus.LOST,
    Status.DAMAGED: OutcomeStatus.DAMAGED,
}
MAX_TEXT = 500
# Told of every new event kept for a shipment (a new transit city as much as a new status), with
# the shipment as it then stands and its latest status, inside the transaction that keeps it, so
# the work it schedules (router.records.jobs.schedule) is kept exactly when the events are: an
# integration pushing the history elsewhere (router.integrations.retailcrm.pushes) loses none.
# Duplicates keep nothing and tell nobody.
EventsHook = Callable[[AsyncConnection, ShipmentRow, Status], Awaitable[None]]


def _offset_min(moment: datetime) -> int:
    offset = moment.utcoffset()
    return 0 if offset is None else round(offset.total_seconds() / 60)


def _local_day(at: datetime, offset_min: int) -> date:
    """The day it was where it happened: the carrier's own calendar, not ours nor the buyer's."""
    return at.astimezone(timezone(timedelta(minutes=offset_min))).date()


class Tracker:
    def __init__(
        self, database: Database, record: TrackRecord | None = None, *, on_events: Sequence[EventsHook] = ()
    ) -> None:
        self.database = database
        self.ledger = Ledger(database)
        self.record = record
        self.on_events = tuple(on_events)

    def _insert(self) -> Any:
        return (postgresql.insert if self.database.dialect == "postgresql" else sqlite.insert)(tracking_events)

    async def take(self, shipment_id: str, events: Sequence[TrackingEvent], source: str) -> bool:
        """Keep the events not kept yet; whether the shipment's status changed."""
        if not events:
            return False
        now = datetime.now(UTC)
        rows = [
            {
                "shipment_id": shipment_id,
                "carrier_code": e.carrier_code[:64],
                "at": e.at,
                "utc_offset_min": _offset_min(e.at),
                "status": e.status.value,
                "carrier_text": e.carrier_text[:MAX_TEXT],
                "city": e.city,
                "source": source,
                "received_at": now,
            }
            for e in events
        ]
        learned: Outcome | None = None
        async with self.database.write() as conn:
            await conn.execute(sa.select(shipments.c.id).where(shipments.c.id == shipment_id).with_for_update())
            row = await self.ledger.read(conn, shipment_id)
            written = await conn.execute(
                self._insert()
                .values(rows)
                .on_conflict_do_nothing(index_elements=["shipment_id", "carrier_code", "at"])
                .returning(tracking_events.c.id)
            )
            if not written.all():
                return False
            latest = await self._latest(conn, shipment_id)  # there is one: events were just kept
            if latest.status == row.tracking_status:
                for hook in self.on_events:
                    await hook(conn, row, Status(latest.status))
                return False
            status = Status(latest.status)
            await conn.execute(
                shipments.update()
                .where(shipments.c.id == shipment_id)
                .values(tracking_status=status.value, updated_at=now)
            )
            changed = await self.ledger.read(conn, shipment_id)
            data = msgspec.to_builtins(shipment_answer(changed))
            data["event"] = {"status": status.value, "carrier_code": latest.carrier_code, "at": latest.at.isoformat()}
            await emit(conn, row.owner, row.id, EventType.STATUS_CHANGED, data)
            for hook in self.on_events:
                await hook(conn, changed, status)
            before = Status(row.tracking_status) if row.tracking_status else None
            if status in LEARNED and (before is None or not final(before)):
                learned = await self._outcome(conn, changed, status, _local_day(latest.at, latest.utc_offset_min))
        if learned is not None and self.record is not None:
            report = await self.record.record([learned])
            log.info("tracking: outcome of %s learned (%s)", shipment_id, report)
        return True

    async def _latest(self, conn: AsyncConnection, shipment_id: str) -> Any:
        query = (
            sa.select(
                tracking_events.c.status,
                tracking_events.c.carrier_code,
                tracking_events.c.at,
                tracking_events.c.utc_offset_min,
            )
            .where(tracking_events.c.shipment_id == shipment_id)
            .order_by(tracking_events.c.at.desc(), tracking_events.c.id.desc())
            .limit(1)
        )
        return (await conn.execute(query)).first()

    async def _outcome(self, conn: AsyncConnection, row: ShipmentRow, status: Status, day: date) -> Outcome:
        """What became of the parcel, dated as the carrier dated it: handed over on the day of its
        first event past `created` where that happened, ended on `day` (the final event's, where
        it happened), and promised for the last day of the quote's ETA the booking was made on."""
        order = row.document.order
        handed = (
            await conn.execute(
                sa.select(tracking_events.c.at, tracking_events.c.utc_offset_min)
                .where(
                    tracking_events.c.shipment_id == row.id,
                    tracking_events.c.status.notin_([Status.CREATED.value, Status.CANCELLED.value]),
                )
                .order_by(tracking_events.c.at, tracking_events.c.id)
                .limit(1)
            )
        ).first()
        return Outcome(
            shipment_id=row.id,
            carrier=row.carrier,
            service=row.service,
            origin=outcome_end(order.origin),
            destination=outcome_end(order.destination),
            handed_over_on=_local_day(handed.at, handed.utc_offset_min) if handed is not None else row.ship_date,
            status=LEARNED[status],
            delivered_on=day if status is Status.DELIVERED else None,
            promised_on=row.document.offer.eta.max_date,
        )


def outcome_end(place: Place) -> str | Coordinates:
    """A shipment's end as history keys it: its ISO 3166-2 region, or its coordinates.

    A shipment booked to a pickup point before points kept ISO codes holds the region as the
    network wrote it: a GeoNames admin1 code (`48`) is read as its ISO code; a name (CDEK's
    "Москва") cannot be, and the coordinates place it instead.
    """
    table = regions()
    region = table.of_written(place.country, place.region) if place.region else None
    if region is not None and place.country.upper() == TABLE_COUNTRY and table.get(region) is None:
        region = None  # a short name ("Уфа") read as a code
    return region or Coordinates(place.lat, place.lon)
