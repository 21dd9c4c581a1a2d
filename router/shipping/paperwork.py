"""What is printed and handed over for booked shipments: labels, partners' manifests, pick-ups.

A carrier that prints its own labels (CDEK) has its PDF fetched by the `label` job after booking
and kept with the shipment; asked for before that, it is fetched then, or the caller is told to
come back. Every other shipment gets the service's own label, one per parcel, drawn from what
the shipment keeps. A batch of up to 500 comes out as one PDF, in the order asked.

A carrier that makes labels in its own time (`PrintsByCall`) is asked once per shipment: its
print request is kept with the shipment (`label_ref`), and when it calls to say the label is made
(CDEK's `PRINT_FORM`, `label_made`), the PDF is fetched at once and kept. With those calls coming
(a public URL configured), the job takes one look and then waits for the call, looking again
only every minute in case it never comes; without them it polls as before. The shop hears
`shipment.label_ready` once, whichever brought the label first.

A partner without an API learns what to collect from its manifest: the day's booked parcels
from one warehouse, as CSV or as a PDF to sign at hand-over. A carrier with an API is asked to
send a courier (`request_pickup`); a partner's pick-up is recorded, and its manifest says what.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from carriers.booking import BookingApi, IntakeRequest, PrintsByCall
from carriers.booking import Contact as CarrierContact
from carriers.errors import CarrierApiError, CarriersError
from carriers.ratecard.tariff import TrackingRange
from router.core.errors import FieldError, InvalidRequest
from router.core.models import DeliveryType
from router.printing import (
    LabelData,
    ManifestHeader,
    ManifestLine,
    Paper,
    manifest_csv,
    manifest_pdf,
    merge,
    render_labels,
)
from router.records import Database
from router.records.jobs import Done, Job, Later, Outcome, Retry
from router.records.tables import pickups, shipments
from router.shipping.answers import shipment_answer
from router.shipping.errors import CarrierUnknown, LabelNotReady, NotCancellable, PickupNotFound, PickupRefused
from router.shipping.ledger import Filters, Ledger, ShipmentRow
from router.shipping.model import Pickup, PickupRequest, ShipmentStatus
from router.shipping.ordering import phone_number
from router.webhooks import EventType, emit

MAX_BATCH = 500
# With the carrier calling when a label is made, how long the job waits before looking anyway.
LABEL_CALL_WAIT_S = 60.0
Call = Callable[[ShipmentRow, str, Awaitable[Any]], Awaitable[Any]]


def label_data(row: ShipmentRow) -> list[LabelData]:
    """One label a parcel, from what the shipment keeps."""
    document = row.document
    order, offer = document.order, document.offer
    sender_at = ", ".join(p for p in (order.origin.address, order.origin.city) if p)
    to = ", ".join(p for p in (order.destination.address, order.destination.city, order.destination.postal_code) if p)
    point = None
    if order.delivery_type is DeliveryType.PICKUP and document.request.pickup_point_id:
        point = f"{document.request.pickup_point_id}: {order.destination.address or ''}".rstrip(": ")
    return [
        LabelData(
            tracking_number=row.tracking_number or row.id,
            carrier_name=offer.carrier_name_ru or offer.carrier_name,
            service_name=offer.service_name_ru or offer.service_name,
            shipment_id=row.id,
            shop_order_number=row.shop_order_number,
            sender_name=order.sender.company or order.sender.name,
            sender_phone=order.sender.phone,
            sender_address=sender_at,
            recipient_name=order.recipient.name,
            recipient_phone=order.recipient.phone,
            recipient_address=to,
            pickup_point=point,
            weight_g=parcel.weight_g,
            parcel_index=n,
            parcel_count=len(order.parcels),
            cod_rub=order.cod_rub if n == 1 else Decimal(0),  # the cash is collected once, with the first parcel
            ship_date=order.ship_date,
        )
        for n, parcel in enumerate(order.parcels, start=1)
    ]


class Paperwork:
    def __init__(
        self,
        database: Database,
        ledger: Ledger,
        bookings: Mapping[str, BookingApi],
        partners: Mapping[str, TrackingRange],
        call: Call,
        *,
        labels_called_back: bool = False,
    ) -> None:
        self.database = database
        self.ledger = ledger
        self.bookings = bookings
        self.partners = partners
        self._call = call
        self.labels_called_back = labels_called_back  # the carriers that can are told where to call
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def label(self, shipment_id: str, owner: str, paper: Paper) -> bytes:
        return await self.labels([shipment_id], owner, paper)

    async def labels(self, shipment_ids: list[str], owner: str, paper: Paper) -> bytes:
        if len(shipment_ids) > MAX_BATCH:
            raise InvalidRequest([FieldError("shipment_ids", f"at most {MAX_BATCH} labels in one PDF")])
        rows = await self.ledger.many(owner, shipment_ids)
        for n, row in enumerate(rows):
            if row.status is not ShipmentStatus.BOOKED:
                where = f"shipment_ids[{n}]" if len(rows) > 1 else "shipment_id"
                if row.status is ShipmentStatus.BOOKING:
                    raise LabelNotReady(f"shipment {row.id} is still being booked", retry_after_s=2)
                raise InvalidRequest([FieldError(where, f"shipment {row.id} is {row.status.value}: it has no label")])
        if not any(row.carrier in self.bookings and self.bookings[row.carrier].prints_labels for row in rows):
            return render_labels([d for row in rows for d in label_data(row)], paper)
        # Carriers' own PDFs and runs of ours, in the order asked, then placed on the paper.
        pdfs: list[bytes] = []
        ours: list[LabelData] = []
        for row in rows:
            api = self.bookings.get(row.carrier)
            if api is None or not api.prints_labels:
                ours += label_data(row)
                continue
            if ours:
                pdfs.append(render_labels(ours, Paper.A6))
                ours = []
            pdfs.append(await self._carrier_label(row, api))
        if ours:
            pdfs.append(render_labels(ours, Paper.A6))
        return merge(pdfs, paper)

    async def _carrier_label(self, row: ShipmentRow, api: BookingApi) -> bytes:
        async with self._fetching(row.id):
            kept = await self.ledger.label(row.id)
            if kept is not None:
                return kept
            try:
                pdf = await self._fetch(await self.ledger.get(row.id), api, wait=True)
            except CarriersError as exc:
                raise LabelNotReady(
                    f"{row.carrier} did not give the label of {row.id} ({exc}); try again", retry_after_s=5
                ) from None
            if pdf is None:
                raise LabelNotReady(f"{row.carrier} is still making the label of {row.id}", retry_after_s=2)
            await self.keep_label(row.id, pdf)
            return bytes(pdf)

    def _fetching(self, shipment_id: str) -> asyncio.Lock:
        """One fetch of a shipment's label at a time on this worker: a caller asking for the label
        while the job fetches it waits for that PDF rather than fetching it again."""
        lock = self._locks.get(shipment_id)
        if lock is None:
            lock = self._locks[shipment_id] = asyncio.Lock()
        return lock

    async def _fetch(self, row: ShipmentRow, api: BookingApi, *, wait: bool) -> bytes | None:
        """The carrier's label, or None while it is being made."""
        assert row.carrier_ref is not None  # booked with an API carrier
        if not isinstance(api, PrintsByCall):
            return await self._call(row, "label", api.label(row.carrier_ref, "A6"))  # type: ignore[no-any-return]
        ref = row.label_ref
        if ref is None:
            ref = await self._call(row, "label_request", api.order_label(row.carrier_ref, "A6"))
            await self._note_label_ref(row.id, ref)
        try:
            return await self._call(row, "label", api.made_label(ref, wait=wait))  # type: ignore[no-any-return]
        except CarrierApiError:
            # Refused, or gone (CDEK keeps a print request for an hour): the next try asks anew.
            await self._note_label_ref(row.id, None)
            raise

    async def _note_label_ref(self, shipment_id: str, ref: str | None) -> None:
        # The service's own bookkeeping, not a change of the shipment: `updated_at` stays.
        async with self.database.write() as conn:
            await conn.execute(shipments.update().where(shipments.c.id == shipment_id).values(label_ref=ref))

    async def run_label(self, job: Job) -> Outcome:
        """The `label` job: the carrier's label fetched after booking and kept."""
        async with self._fetching(job.subject):
            row = await self.ledger.get(job.subject)
            api = self.bookings.get(row.carrier)
            if row.status is not ShipmentStatus.BOOKED or row.carrier_ref is None or api is None or row.has_label:
                return Done()
            called = self.labels_called_back and isinstance(api, PrintsByCall)
            try:
                pdf = await self._fetch(row, api, wait=not called)
            except CarriersError as error:
                return Retry(f"{row.carrier}: {error}")
            if pdf is not None:
                await self.keep_label(row.id, pdf)
                return Done()
        if called:
            return Later(LABEL_CALL_WAIT_S)  # the carrier calls when it is made; this is in case it never does
        return Retry(f"{row.carrier} is still making the label")

    async def label_made(self, carrier: str, print_ref: str, url: str) -> bool:
        """The carrier's call that a label is made (CDEK's PRINT_FORM): the PDF at `url` fetched at
        once and kept for the shipment whose print request it names. False, and nothing fetched,
        for a request that is not ours (another system on the same account) or a label kept already."""
        api = self.bookings.get(carrier)
        query = sa.select(shipments.c.id).where(shipments.c.carrier == carrier, shipments.c.label_ref == print_ref)
        async with self.database.read() as conn:
            shipment_id = (await conn.execute(query)).scalar_one_or_none()
        if shipment_id is None or not isinstance(api, PrintsByCall):
            return False
        async with self._fetching(shipment_id):
            row = await self.ledger.get(shipment_id)
            if row.has_label or row.status is not ShipmentStatus.BOOKED:
                return False
            pdf = await self._call(row, "label", api.fetch_label(url))
            return await self.keep_label(row.id, pdf)

    async def keep_label(self, shipment_id: str, pdf: bytes) -> bool:
        """Keep the label and tell the shop, once: the job and the carrier's call may both bring
        it, at the same moment, and a call may come twice. Whether this one kept it."""
        async with self.database.write() as conn:
            kept = await conn.execute(
                sa.select(shipments.c.label_pdf.is_not(None)).where(shipments.c.id == shipment_id).with_for_update()
            )
            if kept.scalar_one():
                return False
            await self.ledger.update(conn, shipment_id, label_pdf=pdf, label_ref=None)
            row = await self.ledger.read(conn, shipment_id)
            await emit(conn, row.owner, row.id, EventType.LABEL_READY, msgspec.to_builtins(shipment_answer(row)))
        return True

    async def manifest(self, owner: str, carrier: str, day: date, warehouse: str | None, form: str) -> bytes:
        if carrier in self.bookings:
            raise InvalidRequest(
                [
                    FieldError(
                        "carrier", f"{carrier} gets its orders through its API: manifests are for partners without one"
                    )
                ]
            )
        if carrier not in self.partners:
            raise CarrierUnknown(f"no carrier {carrier!r} is booked through this service")
        rows: list[ShipmentRow] = []
        cursor = None
        filters = Filters(carrier=carrier, ship_date=day, status=ShipmentStatus.BOOKED, warehouse=warehouse)
        while True:
            page, cursor = await self.ledger.page(owner, filters, limit=200, cursor=cursor)
            rows += page
            if cursor is None:
                break
        rows.reverse()  # in the order they were booked
        first = rows[0].document if rows else None
        header = ManifestHeader(
            carrier_code=carrier,
            carrier_name=(first.offer.carrier_name_ru or first.offer.carrier_name) if first else carrier,
            warehouse_id=warehouse or "",
            warehouse_address=", ".join(p for p in (first.order.origin.address, first.order.origin.city) if p)
            if first
            else "",
            day=day,
            generated_at=datetime.now(UTC),
        )
        lines = [
            ManifestLine(
                shipment_id=r.id,
                tracking_number=r.tracking_number or "",
                shop_order_number=r.shop_order_number,
                recipient_name=r.document.order.recipient.name,
                recipient_city=r.document.order.destination.city or "",
                recipient_address=r.document.order.destination.address or "",
                parcels=len(r.document.order.parcels),
                weight_g=sum(p.weight_g for p in r.document.order.parcels),
                declared_value_rub=r.document.order.declared_value_rub,
                cod_rub=r.document.order.cod_rub,
            )
            for r in rows
        ]
        return manifest_csv(header, lines) if form == "csv" else manifest_pdf(header, lines)

    async def request_pickup(self, owner: str, request: PickupRequest) -> Pickup:
        if request.carrier not in self.bookings and request.carrier not in self.partners:
            raise CarrierUnknown(f"no carrier {request.carrier!r} is booked through this service")
        errors: list[FieldError] = []
        phone = phone_number(request.contact.phone, mobile=False)
        if phone is None:
            errors.append(FieldError("contact.phone", f"{request.contact.phone!r} is not a Russian phone number"))
        start, end = time.fromisoformat(request.time_from), time.fromisoformat(request.time_to)
        if end <= start:
            errors.append(FieldError("time_to", "must be after time_from"))
        if request.day < datetime.now(UTC).date():
            errors.append(FieldError("day", "is in the past"))
        api = self.bookings.get(request.carrier)
        rows = await self.ledger.many(owner, request.shipment_ids) if request.shipment_ids else []
        for n, row in enumerate(rows):
            if row.carrier != request.carrier or row.status is not ShipmentStatus.BOOKED:
                errors.append(FieldError(f"shipment_ids[{n}]", f"{row.id} is not a booked {request.carrier} shipment"))
        if api is not None and not rows:
            errors.append(FieldError("shipment_ids", f"name the {request.carrier} parcels its courier collects"))
        if errors:
            raise InvalidRequest(errors, title="The pick-up cannot be requested as asked")
        assert phone is not None
        pickup_id = "pku_" + secrets.token_hex(10)
        weight_g = sum(p.weight_g for r in rows for p in r.document.order.parcels)
        status, carrier_ref, note = "requested", None, ""
        if api is not None:
            origin = rows[0].document.order.origin
            intake = IntakeRequest(
                number=pickup_id,
                day=request.day,
                time_from=start,
                time_to=end,
                origin=replace(origin, address=request.address, city=request.city),
                sender=CarrierContact(name=request.contact.name, phone=phone, company=request.contact.company),
                weight_g=weight_g,
                parcels=sum(len(r.document.order.parcels) for r in rows),
                order_refs=tuple(r.carrier_ref for r in rows if r.carrier_ref),
                comment=request.comment,
            )
            try:
                carrier_ref = await self._call(rows[0], "intake", api.request_intake(intake))
            except CarriersError as exc:
                raise PickupRefused(f"{request.carrier} did not take the pick-up: {exc}") from None
            status = "arranged"
        else:
            note = (
                f"{request.carrier} collects by the day's manifest: "
                f"GET /v1/manifests?carrier={request.carrier}&date={request.day.isoformat()}"
            )
        now = datetime.now(UTC)
        answer = Pickup(
            id=pickup_id,
            carrier=request.carrier,
            day=request.day,
            time_from=request.time_from,
            time_to=request.time_to,
            warehouse=request.warehouse,
            status=status,  # type: ignore[arg-type]
            carrier_pickup_id=carrier_ref,
            shipments=len(rows),
            weight_g=weight_g,
            note=note,
            created_at=now,
        )
        async with self.database.write() as conn:
            await _keep_pickup(conn, owner, answer, request)
        return answer

    async def cancel_pickup(self, owner: str, pickup_id: str) -> Pickup:
        """The pick-up called off (at the carrier, for one arranged through its API)."""
        query = sa.select(pickups.c.document, pickups.c.carrier, pickups.c.carrier_ref, pickups.c.status).where(
            pickups.c.id == pickup_id, pickups.c.owner == owner
        )
        async with self.database.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise PickupNotFound(f"no pick-up {pickup_id!r}")
        kept = msgspec.convert(row.document["answer"], Pickup)
        if row.status == "cancelled":
            return kept
        api = self.bookings.get(row.carrier)
        if api is not None and row.carrier_ref:
            try:
                await api.cancel_intake(row.carrier_ref)
            except CarriersError as exc:
                raise NotCancellable(f"{row.carrier} did not call off pick-up {pickup_id}: {exc}") from None
        cancelled = msgspec.structs.replace(kept, status="cancelled")
        document = {**row.document, "answer": msgspec.to_builtins(cancelled)}
        async with self.database.write() as conn:
            await conn.execute(
                pickups.update().where(pickups.c.id == pickup_id).values(status="cancelled", document=document)
            )
        return cancelled


async def _keep_pickup(conn: AsyncConnection, owner: str, pickup: Pickup, request: PickupRequest) -> None:
    await conn.execute(
        pickups.insert().values(
            id=pickup.id,
            owner=owner,
            carrier=pickup.carrier,
            day=pickup.day,
            status=pickup.status,
            carrier_ref=pickup.carrier_pickup_id,
            document={"request": msgspec.to_builtins(request), "answer": msgspec.to_builtins(pickup)},
            created_at=pickup.created_at,
        )
    )
