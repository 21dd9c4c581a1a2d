"""Shipments, the calls made to carriers for them, and partners' tracking numbers, in the records.

Every read by an owner is filtered by that owner: another caller's shipment is the same 404 as
one never made. Listings page by a cursor over (created_at, id), newest first, so a page is
stable while new shipments arrive.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from router.core.errors import FieldError, InvalidRequest
from router.records import Database
from router.records.tables import carrier_calls, partner_numbers, shipments, tracking_events
from router.shipping.errors import ShipmentNotFound
from router.shipping.model import CarrierCall, ShipmentDocument, ShipmentStatus, TrackingStep

_COLUMNS = [c for c in shipments.c if c.name != "label_pdf"]


@dataclass(frozen=True, slots=True)
class ShipmentRow:
    id: str
    owner: str
    idempotency_key: str
    request_sha256: str
    carrier: str
    service: str
    shop_order_number: str
    status: ShipmentStatus
    ship_date: date
    warehouse: str | None
    price_kopecks: int
    tracking_number: str | None
    carrier_ref: str | None
    document: ShipmentDocument
    created_at: datetime
    updated_at: datetime
    tracking_status: str | None = None  # the latest tracking event's (router.tracking)
    has_label: bool = False
    label_ref: str | None = None  # the carrier's print request for the label, while it is made


@dataclass(frozen=True, slots=True)
class Filters:
    status: ShipmentStatus | None = None
    carrier: str | None = None
    order_number: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    ship_date: date | None = None
    warehouse: str | None = None


def encode_document(document: ShipmentDocument) -> Any:
    return msgspec.to_builtins(document)


def _row(row: sa.Row[Any]) -> ShipmentRow:
    values = row._asdict()
    values["document"] = msgspec.convert(values["document"], ShipmentDocument)
    values["status"] = ShipmentStatus(values["status"])
    return ShipmentRow(**values)


class Ledger:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def insert(self, conn: AsyncConnection, row: ShipmentRow) -> None:
        values = {c.name: getattr(row, c.name) for c in _COLUMNS}
        values["document"] = encode_document(row.document)
        values["status"] = row.status.value
        await conn.execute(shipments.insert().values(values))

    async def by_key(self, owner: str, idempotency_key: str) -> ShipmentRow | None:
        query = self._select().where(shipments.c.owner == owner, shipments.c.idempotency_key == idempotency_key)
        async with self.database.read() as conn:
            found = (await conn.execute(query)).first()
        return None if found is None else _row(found)

    async def get(self, shipment_id: str, owner: str | None = None) -> ShipmentRow:
        """The shipment; `owner` None only for the service's own work (jobs), never for a caller."""
        query = self._select().where(shipments.c.id == shipment_id)
        if owner is not None:
            query = query.where(shipments.c.owner == owner)
        async with self.database.read() as conn:
            found = (await conn.execute(query)).first()
        if found is None:
            raise ShipmentNotFound(shipment_id)
        return _row(found)

    async def read(self, conn: AsyncConnection, shipment_id: str) -> ShipmentRow:
        """The shipment as the caller's transaction sees it."""
        found = (await conn.execute(self._select().where(shipments.c.id == shipment_id))).first()
        if found is None:
            raise ShipmentNotFound(shipment_id)
        return _row(found)

    async def many(self, owner: str, ids: Sequence[str]) -> list[ShipmentRow]:
        """The owner's shipments among `ids`, in that order; an id not theirs raises `ShipmentNotFound`."""
        query = self._select().where(shipments.c.owner == owner, shipments.c.id.in_(list(set(ids))))
        async with self.database.read() as conn:
            found = {r.id: _row(r) for r in (await conn.execute(query)).all()}
        for shipment_id in ids:
            if shipment_id not in found:
                raise ShipmentNotFound(shipment_id)
        return [found[i] for i in ids]

    async def update(
        self,
        conn: AsyncConnection,
        shipment_id: str,
        *,
        document: ShipmentDocument | None = None,
        **values: Any,
    ) -> None:
        if document is not None:
            values["document"] = encode_document(document)
        if isinstance(values.get("status"), ShipmentStatus):
            values["status"] = values["status"].value
        values["updated_at"] = datetime.now(UTC)
        await conn.execute(shipments.update().where(shipments.c.id == shipment_id).values(values))

    async def page(
        self, owner: str, filters: Filters, *, limit: int, cursor: str | None = None
    ) -> tuple[list[ShipmentRow], str | None]:
        query = self._select().where(shipments.c.owner == owner)
        if filters.status is not None:
            query = query.where(shipments.c.status == filters.status.value)
        if filters.carrier is not None:
            query = query.where(shipments.c.carrier == filters.carrier)
        if filters.order_number is not None:
            query = query.where(shipments.c.shop_order_number == filters.order_number)
        if filters.created_from is not None:
            query = query.where(shipments.c.created_at >= filters.created_from)
        if filters.created_to is not None:
            query = query.where(shipments.c.created_at < filters.created_to)
        if filters.ship_date is not None:
            query = query.where(shipments.c.ship_date == filters.ship_date)
        if filters.warehouse is not None:
            query = query.where(shipments.c.warehouse == filters.warehouse)
        if cursor is not None:
            at, last_id = read_cursor(cursor)
            query = query.where(
                sa.or_(shipments.c.created_at < at, sa.and_(shipments.c.created_at == at, shipments.c.id < last_id))
            )
        query = query.order_by(shipments.c.created_at.desc(), shipments.c.id.desc()).limit(limit + 1)
        async with self.database.read() as conn:
            rows = [_row(r) for r in (await conn.execute(query)).all()]
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (make_cursor(rows[-1]) if more and rows else None)

    async def label(self, shipment_id: str) -> bytes | None:
        async with self.database.read() as conn:
            return (
                await conn.execute(sa.select(shipments.c.label_pdf).where(shipments.c.id == shipment_id))
            ).scalar_one_or_none()

    async def record_call(
        self,
        subject: str,
        carrier: str,
        operation: str,
        started: datetime,
        outcome: str,
        detail: dict[str, Any],
        conn: AsyncConnection | None = None,
    ) -> None:
        duration = max(0, round((datetime.now(UTC) - started).total_seconds() * 1000))
        statement = carrier_calls.insert().values(
            subject=subject,
            carrier=carrier,
            operation=operation,
            at=started,
            duration_ms=duration,
            outcome=outcome,
            detail=detail,
        )
        if conn is not None:
            await conn.execute(statement)
            return
        async with self.database.write() as own:
            await own.execute(statement)

    async def calls(self, subject: str) -> list[CarrierCall]:
        query = (
            sa.select(
                carrier_calls.c.at,
                carrier_calls.c.operation,
                carrier_calls.c.outcome,
                carrier_calls.c.duration_ms,
                carrier_calls.c.detail,
            )
            .where(carrier_calls.c.subject == subject)
            .order_by(carrier_calls.c.id)
        )
        async with self.database.read() as conn:
            return [CarrierCall(**r._asdict()) for r in (await conn.execute(query)).all()]

    async def history(self, shipment_id: str) -> list[TrackingStep]:
        """The shipment's tracking events in the carrier's order of time, each in its own zone."""
        query = (
            sa.select(
                tracking_events.c.status,
                tracking_events.c.carrier_code,
                tracking_events.c.carrier_text,
                tracking_events.c.at,
                tracking_events.c.utc_offset_min,
                tracking_events.c.city,
                tracking_events.c.source,
            )
            .where(tracking_events.c.shipment_id == shipment_id)
            .order_by(tracking_events.c.at, tracking_events.c.id)
        )
        async with self.database.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            TrackingStep(
                status=r.status,
                carrier_code=r.carrier_code,
                carrier_text=r.carrier_text,
                at=r.at.astimezone(timezone(timedelta(minutes=r.utc_offset_min))),
                city=r.city,
                source=r.source,
            )
            for r in rows
        ]

    async def take_number(self, conn: AsyncConnection, carrier: str, first: int) -> int:
        """The partner's next tracking number, taken inside the caller's transaction: a booking
        that rolls back gives its number back, and two bookings never share one."""
        # The counter is made if it is missing, by whichever booking comes first; the others
        # find it made (two plain INSERTs of the first bookings at once would collide).
        insert = (postgresql.insert if self.database.dialect == "postgresql" else sqlite.insert)(partner_numbers)
        await conn.execute(
            insert.values(carrier=carrier, next_number=first).on_conflict_do_nothing(index_elements=["carrier"])
        )
        taken = await conn.execute(
            partner_numbers.update()
            .where(partner_numbers.c.carrier == carrier)
            .values(next_number=partner_numbers.c.next_number + 1)
            .returning(partner_numbers.c.next_number)
        )
        return int(taken.scalar_one()) - 1

    @staticmethod
    def _select() -> sa.Select[Any]:
        has_label = shipments.c.label_pdf.is_not(None).label("has_label")
        return sa.select(*_COLUMNS, has_label)


def make_cursor(row: ShipmentRow) -> str:
    raw = f"{row.created_at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, shipment_id = raw.split("|", 1)
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None:
            raise ValueError("naive")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest([FieldError("cursor", "not a cursor this service gave")]) from None
    return moment, shipment_id
