"""Booking a held quote exactly once, following the carrier until it decides, and cancelling.

`book` keys every shipment by its owner and the caller's idempotency key: the first request
writes the shipment and its `book` job in one transaction; a retry or a concurrent twin finds
that row (the unique index decides between racers) and answers the same shipment, or a 409 if
its body differs. The job (`run_booking`, on whichever worker claims it) makes the one carrier
order: before sending, it notes in the shipment that the order may now exist, so a later attempt
(the carrier answered 500, the worker was killed) first asks the carrier for an order with our
number, and books again only if there is none.

A request waits a few seconds for its booking to be decided, so the usual answer is final;
every twin of it waits the same way and reads the same row.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from carriers.booking import BookingApi, CancelRefused, OrderState, OrderStatus
from carriers.errors import CarrierApiError, CarriersError
from carriers.ratecard.tariff import TrackingRange
from router.quoting.book import QuoteBook
from router.records import Database
from router.records.jobs import Done, Fail, Handler, Job, JobQueue, JobRunner, Later, Outcome, Retry, schedule
from router.shipping.answers import error_detail, replace_booking, shipment_answer
from router.shipping.errors import IdempotencyConflict, NotCancellable, QuoteNotBookable
from router.shipping.ledger import Filters, Ledger, ShipmentRow
from router.shipping.model import (
    CarrierProblem,
    ItemOut,
    JobState,
    Shipment,
    ShipmentDetail,
    ShipmentDocument,
    ShipmentPage,
    ShipmentRequest,
    ShipmentStatus,
)
from router.shipping.ordering import PointLookup, normalized, order_from, read_quote
from router.shipping.paperwork import Paperwork
from router.webhooks import EventType, emit

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

BOOK = "book"
LABEL = "label"
TRACK = "track"  # polled for tracking events (router.tracking.poller)
T = TypeVar("T")


def new_shipment_id() -> str:
    return "shp_" + secrets.token_hex(10)


def request_digest(request: ShipmentRequest) -> str:
    """The same request however it was spelled (spacing, key order, 500 or "500.00")."""
    return hashlib.sha256(msgspec.json.encode(request)).hexdigest()


class Shipper:
    """Shipments for every owner; `runner` does their background work on this worker."""

    def __init__(
        self,
        database: Database,
        quotes: QuoteBook,
        bookings: Mapping[str, BookingApi],
        partners: Mapping[str, TrackingRange],
        points: PointLookup,
        *,
        settle_s: float = 10.0,
        follow_s: float = 0.5,
        lease_s: float = 30.0,
        worker: str | None = None,
        poll_s: float = 0.0,
        jobs: Mapping[str, Handler] | None = None,
        labels_called_back: bool = False,
    ) -> None:
        self.database = database
        self.quotes = quotes
        self.bookings = dict(bookings)
        self.partners = dict(partners)
        self.points = points
        self.settle_s = settle_s
        self.follow_s = follow_s
        self.ledger = Ledger(database)
        self.queue = JobQueue(database, worker=worker, lease_s=lease_s)
        self.poll_s = poll_s  # 0: booked shipments are not polled for tracking
        # Other rooms' work this worker runs beside its own: the shop's webhooks, tracking polls.
        self.papers = Paperwork(
            database, self.ledger, self.bookings, self.partners, self._call, labels_called_back=labels_called_back
        )
        self.runner = JobRunner(self.queue, {BOOK: self.run_booking, LABEL: self.papers.run_label, **(jobs or {})})

    def books_with(self, carrier: str) -> bool:
        return carrier in self.bookings or carrier in self.partners

    # ---------------------------------------------------------------- booking

    async def book(
        self, request: ShipmentRequest, *, owner: str, idempotency_key: str, readers: set[str]
    ) -> tuple[Shipment, bool]:
        """The shipment for this key, and whether this call made it."""
        request = normalized(request)
        digest = request_digest(request)
        kept = await self.ledger.by_key(owner, idempotency_key)
        if kept is not None:
            return await self._same(kept, digest), False
        quote = read_quote(await self.quotes.get(request.quote_id, readers))
        shipment_id = new_shipment_id()
        ordered = order_from(shipment_id, request, quote, self.points)
        if not self.books_with(ordered.offer.carrier):
            raise QuoteNotBookable(f"{ordered.offer.carrier} takes no bookings through this service")
        now = datetime.now(UTC)
        row = ShipmentRow(
            id=shipment_id,
            owner=owner,
            idempotency_key=idempotency_key,
            request_sha256=digest,
            carrier=ordered.offer.carrier,
            service=ordered.offer.service,
            shop_order_number=request.order_number,
            status=ShipmentStatus.BOOKING,
            ship_date=ordered.order.ship_date,
            warehouse=request.warehouse,
            price_kopecks=int(ordered.price * 100),
            tracking_number=None,
            carrier_ref=None,
            document=ShipmentDocument(request=request, offer=ordered.offer, order=ordered.order),
            created_at=now,
            updated_at=now,
        )
        try:
            async with self.database.write() as conn:
                await self.ledger.insert(conn, row)
                await schedule(conn, BOOK, shipment_id)
        except sa.exc.IntegrityError:
            # A twin of this request was written first: answer its shipment.
            kept = await self.ledger.by_key(owner, idempotency_key)
            if kept is None:
                raise
            return await self._same(kept, digest), False
        await self.runner.run(BOOK, shipment_id)
        return await self._settled(shipment_id, owner), True

    async def _same(self, kept: ShipmentRow, digest: str) -> Shipment:
        if kept.request_sha256 != digest:
            raise IdempotencyConflict(
                f"this Idempotency-Key booked shipment {kept.id} with another request; use a new key for a new shipment"
            )
        return await self._settled(kept.id, kept.owner)

    async def _settled(self, shipment_id: str, owner: str) -> Shipment:
        """The shipment once booking is decided, or as it stands after `settle_s`."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self.settle_s
        pause = 0.02
        while True:
            row = await self.ledger.get(shipment_id, owner)
            if row.status is not ShipmentStatus.BOOKING or loop.time() >= until:
                return shipment_answer(row)
            await asyncio.sleep(min(pause, max(0.0, until - loop.time())))
            pause = min(pause * 1.5, 0.25)

    async def run_booking(self, job: Job) -> Outcome:
        row = await self.ledger.get(job.subject)
        if row.status is not ShipmentStatus.BOOKING:
            return Done()
        if row.carrier in self.partners:
            return await self._book_partner(row)
        api = self.bookings.get(row.carrier)
        if api is None:
            return await self._fail(row, f"{row.carrier} is no longer configured to take bookings")
        try:
            state = await self._carrier_state(row, api)
        except CarriersError as error:
            return await self._failed_call(row, job, error)
        return await self._apply(row, api, state)

    async def _carrier_state(self, row: ShipmentRow, api: BookingApi) -> OrderState:
        if row.carrier_ref is not None:
            return await self._call(row, "follow", api.follow(row.carrier_ref))
        booking = row.document.booking
        if booking.create_sent_at is not None:
            # An earlier attempt may have reached the carrier: look before booking again.
            found = await self._call(row, "find", api.find(row.id))
            if found is not None:
                return found
        document = replace_booking(row, create_sent_at=datetime.now(UTC))
        async with self.database.write() as conn:
            await self.ledger.update(conn, row.id, document=document)
        return await self._call(row, "create", api.create(row.document.order))

    async def _call(self, row: ShipmentRow, operation: str, call: Awaitable[T]) -> T:
        started = datetime.now(UTC)
        try:
            result = await call
        except CarriersError as exc:
            await self.ledger.record_call(row.id, row.carrier, operation, started, exc.kind, error_detail(exc))
            raise
        detail: dict[str, Any] = {}
        if isinstance(result, OrderState):
            detail = {"status": result.status.value, "carrier_ref": result.carrier_ref}
            if result.tracking_number:
                detail["tracking_number"] = result.tracking_number
            if result.errors:
                detail["errors"] = [{"code": e.code, "message": e.message} for e in result.errors]
        elif result is None:
            detail = {"found": False}
        await self.ledger.record_call(row.id, row.carrier, operation, started, "ok", detail)
        return result

    async def _apply(self, row: ShipmentRow, api: BookingApi, state: OrderState) -> Outcome:
        booking = dict(carrier_status=state.carrier_status, tracking_url=state.tracking_url)
        if state.status is OrderStatus.PENDING:
            if state.carrier_ref != row.carrier_ref:
                async with self.database.write() as conn:
                    await self.ledger.update(conn, row.id, carrier_ref=state.carrier_ref)
            return Later(self.follow_s)
        async with self.database.write() as conn:
            if state.status is OrderStatus.BOOKED:
                await self.ledger.update(
                    conn,
                    row.id,
                    status=ShipmentStatus.BOOKED,
                    carrier_ref=state.carrier_ref,
                    tracking_number=state.tracking_number,
                    document=replace_booking(row, **booking),
                )
                if api.prints_labels:
                    await schedule(conn, LABEL, row.id)
                if self.poll_s > 0:
                    await schedule(conn, TRACK, row.id, at=datetime.now(UTC) + timedelta(seconds=self.poll_s))
                await self._tell(conn, row.id, EventType.BOOKED)
            elif state.status is OrderStatus.INVALID:
                problems = [CarrierProblem(code=e.code, message=e.message, field=e.field) for e in state.errors]
                await self.ledger.update(
                    conn,
                    row.id,
                    status=ShipmentStatus.FAILED,
                    carrier_ref=state.carrier_ref,
                    document=replace_booking(row, errors=problems, **booking),
                )
                await self._tell(conn, row.id, EventType.BOOKING_FAILED)
            else:
                await self.ledger.update(conn, row.id, status=ShipmentStatus.CANCELLED, carrier_ref=state.carrier_ref)
                await self._tell(conn, row.id, EventType.CANCELLED)
        return Done()

    async def _tell(self, conn: AsyncConnection, shipment_id: str, kind: EventType) -> None:
        """The shop's webhooks told of the change, in the transaction that makes it (the outbox)."""
        row = await self.ledger.read(conn, shipment_id)
        await emit(conn, row.owner, row.id, kind, msgspec.to_builtins(shipment_answer(row)))

    async def _failed_call(self, row: ShipmentRow, job: Job, error: CarriersError) -> Outcome:
        if isinstance(error, CarrierApiError) and not error.transient and error.errors:
            # The carrier refused the order itself, field by field: that is its answer, not an outage.
            problems = [CarrierProblem(code=e.code, message=e.message, field=e.field) for e in error.errors]
            async with self.database.write() as conn:
                await self.ledger.update(
                    conn, row.id, status=ShipmentStatus.FAILED, document=replace_booking(row, errors=problems)
                )
                await self._tell(conn, row.id, EventType.BOOKING_FAILED)
            return Done()
        cause = f"{row.carrier}: {error}"
        if job.attempts >= self.queue.max_attempts or not error.transient and not isinstance(error, CarrierApiError):
            return await self._fail(row, cause)
        return Retry(cause)

    async def _fail(self, row: ShipmentRow, cause: str) -> Outcome:
        sent = row.document.booking.create_sent_at is not None
        failure = cause + (
            f" (the carrier may hold an order numbered {row.id}; ask it before booking again)" if sent else ""
        )
        async with self.database.write() as conn:
            await self.ledger.update(
                conn, row.id, status=ShipmentStatus.FAILED, document=replace_booking(row, failure=failure)
            )
            await self._tell(conn, row.id, EventType.BOOKING_FAILED)
        return Fail(cause)

    async def _book_partner(self, row: ShipmentRow) -> Outcome:
        numbers = self.partners[row.carrier]
        async with self.database.write() as conn:
            taken = await self.ledger.take_number(conn, row.carrier, numbers.first)
            if taken > numbers.last:
                failure = f"{row.carrier}'s tracking numbers are used up ({numbers.number(numbers.last)} was the last)"
                await self.ledger.update(
                    conn, row.id, status=ShipmentStatus.FAILED, document=replace_booking(row, failure=failure)
                )
                await self._tell(conn, row.id, EventType.BOOKING_FAILED)
                return Fail(failure)
            number = numbers.number(taken)
            await self.ledger.update(
                conn, row.id, status=ShipmentStatus.BOOKED, tracking_number=number, carrier_ref=number
            )
            await self._tell(conn, row.id, EventType.BOOKED)
        return Done()

    # ---------------------------------------------------------------- reading and cancelling

    async def get(self, shipment_id: str, owner: str) -> ShipmentDetail:
        row = await self.ledger.get(shipment_id, owner)
        job = await self.queue.state(BOOK, row.id)
        calls = await self.ledger.calls(row.id)
        request = row.document.request
        base = msgspec.structs.asdict(shipment_answer(row))
        return ShipmentDetail(
            **base,
            recipient=request.recipient,
            sender=request.sender,
            items=[
                ItemOut(
                    name=i.name,
                    sku=i.sku,
                    quantity=int(i.quantity),
                    unit_price=i.unit_price,
                    weight_g=int(i.weight_g),
                    cod_per_unit=i.cod_per_unit,
                )
                for i in request.items
            ],
            booking_job=None if job is None else JobState(state=job[0], attempts=job[1], last_error=job[2]),  # type: ignore[arg-type]
            calls=calls,
            history=await self.ledger.history(row.id),
        )

    async def page(self, owner: str, filters: Filters, *, limit: int, cursor: str | None) -> ShipmentPage:
        rows, next_cursor = await self.ledger.page(owner, filters, limit=limit, cursor=cursor)
        return ShipmentPage(shipments=[shipment_answer(r) for r in rows], next_cursor=next_cursor)

    async def cancel(self, shipment_id: str, owner: str) -> Shipment:
        row = await self.ledger.get(shipment_id, owner)
        if row.status is ShipmentStatus.CANCELLED:
            return shipment_answer(row)
        if row.status is ShipmentStatus.BOOKING:
            raise NotCancellable(
                f"shipment {row.id} is still being booked with {row.carrier}; cancel it once it is booked",
                retry_after_s=2,
            )
        api = self.bookings.get(row.carrier)
        if row.status is ShipmentStatus.BOOKED and api is not None and row.carrier_ref is not None:
            try:
                await self._call(row, "cancel", api.cancel(row.carrier_ref))
            except CancelRefused as refused:
                raise NotCancellable(f"{row.carrier} will not cancel shipment {row.id}: {refused.reason}") from None
            except CarriersError as error:
                raise NotCancellable(
                    f"{row.carrier} could not be asked to cancel shipment {row.id} ({error}); try again",
                    retry_after_s=5,
                ) from None
        async with self.database.write() as conn:
            await self.ledger.update(conn, row.id, status=ShipmentStatus.CANCELLED)
            await self._tell(conn, row.id, EventType.CANCELLED)
        return shipment_answer(await self.ledger.get(row.id, owner))


@asynccontextmanager
async def working(shipper: Shipper, run_jobs: bool = True) -> AsyncIterator[Shipper]:
    """`shipper` with its background work running on this worker (unless `run_jobs` is off)
    until the block ends; jobs it holds then are claimed again by any worker once their lease runs out."""
    if run_jobs:
        shipper.runner.start()
    try:
        yield shipper
    finally:
        await shipper.runner.stop()
