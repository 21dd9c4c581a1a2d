"""`carrier-router allocate --book`: book every planned order with its carrier, then ask for the pick-ups.

The plan's prices come from quotes made in this process, which hold nothing; a booking needs a
held quote. So each order is quoted again through the quote book, for its planned warehouse and
as the plan quoted it (cheapest first), and the planned carrier and service's offer in that quote
is booked through the `Shipper`, as `POST /v1/shipments` books it. The idempotency key is the
day's and the order's (`allocate:<day>:<order id>`): a re-run finds what the first run booked and
books nothing twice; an order that failed to book is reported, not retried under its key.

After booking, each carrier with an API is asked to collect the day's booked parcels from each
warehouse, once: a pick-up already requested for that carrier, day and warehouse is not asked again.
Partners without an API collect by their manifest (`carrier-router manifest`).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

import click
import msgspec
import sqlalchemy as sa
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pickup_points.model import PickupPoint
from router.allocation import Order, Plan, Warehouse
from router.cli.records import where
from router.core.errors import RouterError
from router.core.models import DeliveryType, Policy, PolicyKind
from router.core.settings import Settings
from router.quoting.wiring import Wired
from router.records import RecordsUnavailable
from router.records.networks import Networks, served_points
from router.records.tables import pickups
from router.shipping.answers import shipment_answer
from router.shipping.model import PickupRequest, Shipment, ShipmentRequest, ShipmentStatus
from router.shipping.ordering import read_quote
from router.shipping.shipper import Shipper

CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class Sender:
    name: str
    phone: str
    company: str | None = None


@dataclass(frozen=True, slots=True)
class Booked:
    """One planned order after booking: its shipment, or why there is none."""

    order_id: str
    carrier: str
    warehouse: str
    shipment_id: str | None = None
    status: ShipmentStatus | None = None
    ship_date: date | None = None
    new: bool = False  # booked by this run, not found from an earlier one
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PickupAsked:
    carrier: str
    warehouse: str
    day: date
    shipments: int
    pickup_id: str | None = None  # None: not asked (see `note`)
    note: str = ""


@dataclass(slots=True)
class Booking:
    booked: list[Booked] = field(default_factory=list)
    pickups: list[PickupAsked] = field(default_factory=list)

    @property
    def failed(self) -> list[Booked]:
        return [b for b in self.booked if b.status in (None, ShipmentStatus.FAILED)]


def book_day(
    settings: Settings,
    plan: Plan,
    orders: Sequence[Order],
    warehouses: Sequence[Warehouse],
    ship_at: datetime | None,
    owner: str,
    sender: Sender | None,
    pickup_addresses: Mapping[str, str],
    err: Console,
) -> Booking:
    """`book_plan` in a process of its own, wired as the service is, with a progress bar."""
    from router.cli.shipments import check_owner
    from router.quoting.wiring import open_engine
    from router.shipping.shipper import working
    from router.tracking.wiring import shipper_for

    day = ship_at.date() if ship_at is not None else datetime.now().astimezone().date()

    async def go() -> Booking:
        async with open_engine(settings) as opened:
            await check_owner(opened.records, owner)
            points = await _points(settings, opened) if any(o.pickup_point_id for o in orders) else {}
            # Jobs run here: a partner is booked at once, an API carrier followed while this runs;
            # what is still undecided at the end is claimed by the service's workers.
            async with working(shipper_for(opened, settings, points.get)) as shipper:
                columns = (TextColumn("booking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
                total = len(plan.assignments)
                with Progress(*columns, console=err, transient=True, disable=total < 2) as bar:
                    task = bar.add_task("booking", total=total)
                    return await book_plan(
                        opened, shipper, plan, orders, warehouses,
                        day=day, ship_at=ship_at, owner=owner, sender=sender, pickup_addresses=pickup_addresses,
                        progress=lambda n: bar.advance(task, n),
                    )  # fmt: skip

    try:
        return asyncio.run(go())
    except RecordsUnavailable as exc:
        raise click.ClickException(f"{exc} ({where(settings)})") from None


async def _points(settings: Settings, opened: Wired) -> dict[str, PickupPoint]:
    """The points the service serves (bundled and imported), by id, to check the buyers' choices against."""
    served = await served_points(settings.data_dir / "pickup_points", Networks(opened.records))
    return {p.id: p for p in served.points}


def booking_key(day: date, order_id: str) -> str:
    return f"allocate:{day.isoformat()}:{order_id}"


async def book_plan(
    wired: Wired,
    shipper: Shipper,
    plan: Plan,
    orders: Sequence[Order],
    warehouses: Sequence[Warehouse],
    *,
    day: date,
    ship_at: datetime | None,
    owner: str,
    sender: Sender | None,
    pickup_addresses: Mapping[str, str],
    pickup_hours: tuple[str, str] = ("10:00", "18:00"),
    progress: Callable[[int], None] | None = None,
) -> Booking:
    """Book every assigned order of `plan` (`ship_at` as the plan was made), then ask for the pick-ups."""
    by_id = {o.id: o for o in orders}
    by_code = {w.code: w for w in warehouses}
    gate = asyncio.Semaphore(CONCURRENCY)
    # The plan's quotes were cheapest-first; the held quote is made the same way, so its offers
    # and prices are the ones the plan chose among.
    policy = Policy(kind=PolicyKind.CHEAPEST)

    async def one(order: Order, planned: Booked, service: str) -> Booked:
        key = booking_key(day, order.id)
        kept = await shipper.ledger.by_key(owner, key)
        if kept is not None:
            return replace(
                planned,
                shipment_id=kept.id,
                status=kept.status,
                ship_date=kept.ship_date,
                reason=_why(shipment_answer(kept)),
            )
        who = sender or Sender(order.sender_name, order.sender_phone)
        missing = [
            column
            for column, value in (
                ("recipient_name", order.recipient_name),
                ("recipient_phone", order.recipient_phone),
                ("sender_name (or --sender-name)", who.name),
                ("sender_phone (or --sender-phone)", who.phone),
            )
            if not value
        ]
        if missing:
            return replace(planned, reason="no " + ", ".join(missing) + " in the orders file")
        origin = by_code[planned.warehouse].location
        held = await wired.book.create(wired.engine, order.shipment(origin, ship_at), policy, owner=owner)
        quote = read_quote(held.body)
        offer = next((o for o in quote.offers if o.carrier == planned.carrier and o.service == service), None)
        if offer is None:
            return replace(
                planned,
                reason=f"{planned.carrier}:{service} no longer offers it from {planned.warehouse}; plan the day again",
            )
        to_point = offer.delivery_type is DeliveryType.PICKUP
        body = {
            "quote_id": quote.quote_id,
            "offer_id": offer.id,
            "pickup_point_id": (order.pickup_point_id or None) if to_point else None,
            "order_number": order.id,
            "recipient": {"name": order.recipient_name, "phone": order.recipient_phone},
            "sender": {"name": who.name, "phone": who.phone, "company": who.company},
            "warehouse": planned.warehouse,
            "delivery_address": None if to_point else (order.address or None),
            "cash_to_collect": str(order.declared_value if order.cod else Decimal(0)),
        }
        try:
            # Read as the API reads its body, so a name too long is refused here as it is there.
            request = msgspec.convert(body, ShipmentRequest)
        except msgspec.ValidationError as exc:
            return replace(planned, reason=str(exc))
        shipment, made = await shipper.book(request, owner=owner, idempotency_key=key, readers={owner})
        return replace(
            planned,
            shipment_id=shipment.id,
            status=shipment.status,
            ship_date=shipment.ship_date,
            new=made,
            reason=_why(shipment),
        )

    async def guarded(order_id: str, carrier: str, service: str, warehouse: str) -> Booked:
        planned = Booked(order_id, carrier, warehouse)
        async with gate:
            try:
                return await one(by_id[order_id], planned, service)
            except RouterError as exc:
                return replace(planned, reason=str(exc))
            finally:
                if progress is not None:
                    progress(1)

    booked = await asyncio.gather(
        *(guarded(a.order_id, a.option.carrier, a.option.service, a.option.warehouse) for a in plan.assignments)
    )
    # What the runner still holds (the machine was busy past the wait) is finished here, so the
    # summary tells a partner's booking as decided; a carrier still deciding stays "booking".
    await shipper.runner.drain()
    result = Booking([await _refreshed(shipper, b) for b in booked])
    result.pickups = await request_pickups(shipper, result.booked, owner, pickup_addresses, pickup_hours)
    return result


async def _refreshed(shipper: Shipper, booked: Booked) -> Booked:
    if booked.status is not ShipmentStatus.BOOKING or booked.shipment_id is None:
        return booked
    now = shipment_answer(await shipper.ledger.get(booked.shipment_id))
    return replace(booked, status=now.status, ship_date=now.ship_date, reason=_why(now))


def _why(shipment: Shipment) -> str:
    return "; ".join(f"{e.field + ': ' if e.field else ''}{e.message}" for e in shipment.errors)


async def request_pickups(
    shipper: Shipper,
    booked: Sequence[Booked],
    owner: str,
    addresses: Mapping[str, str],
    hours: tuple[str, str],
) -> list[PickupAsked]:
    """One pick-up per carrier with an API, warehouse and day of the booked shipments, unless one is asked already."""
    groups: dict[tuple[str, str, date], list[str]] = defaultdict(list)
    for b in booked:
        if b.status is ShipmentStatus.BOOKED and b.shipment_id and b.ship_date and b.carrier in shipper.bookings:
            groups[(b.carrier, b.warehouse, b.ship_date)].append(b.shipment_id)
    asked: list[PickupAsked] = []
    for (carrier, warehouse, day), ids in sorted(groups.items()):
        done = PickupAsked(carrier, warehouse, day, len(ids))
        already = await _pickup_asked(shipper, owner, carrier, warehouse, day)
        if already is not None:
            asked.append(replace(done, pickup_id=already, note="asked already"))
            continue
        first = (await shipper.ledger.many(owner, ids[:1]))[0].document
        origin = first.order.origin
        address = addresses.get(warehouse) or origin.address
        if not address or not origin.city:
            note = f"no street address for warehouse {warehouse}: give --pickup-address {warehouse}=ADDRESS"
            asked.append(replace(done, note=note))
            continue
        request = PickupRequest(
            carrier=carrier,
            day=day,
            time_from=hours[0],
            time_to=hours[1],
            warehouse=warehouse,
            address=address,
            city=origin.city,
            contact=first.request.sender,
            shipment_ids=ids,
        )
        try:
            pickup = await shipper.papers.request_pickup(owner, request)
        except RouterError as exc:
            asked.append(replace(done, note=str(exc)))
            continue
        asked.append(replace(done, pickup_id=pickup.id, note=pickup.status))
    return asked


async def _pickup_asked(shipper: Shipper, owner: str, carrier: str, warehouse: str, day: date) -> str | None:
    query = sa.select(pickups.c.id, pickups.c.document).where(
        pickups.c.owner == owner, pickups.c.carrier == carrier, pickups.c.day == day, pickups.c.status != "cancelled"
    )
    async with shipper.database.read() as conn:
        rows = (await conn.execute(query)).all()
    return next((r.id for r in rows if r.document.get("request", {}).get("warehouse") == warehouse), None)


def print_booking(console: Console, booking: Booking) -> None:
    per: dict[str, Counter[str]] = defaultdict(Counter)
    for b in booking.booked:
        if b.status is None:
            column = "failed"
        elif b.status is ShipmentStatus.BOOKED:
            column = "booked" if b.new else "booked before"
        else:
            column = {ShipmentStatus.BOOKING: "booking", ShipmentStatus.FAILED: "failed"}.get(b.status, b.status.value)
        per[b.carrier][column] += 1
    columns = ("booked", "booked before", "booking", "failed", "cancelled")
    table = Table(title="Booked")
    table.add_column("carrier")
    for col in columns:
        table.add_column(col, justify="right")
    for carrier in sorted(per):
        table.add_row(carrier, *(str(per[carrier][c]) for c in columns))
    table.add_row("[bold]all[/bold]", *(str(sum(per[k][c] for k in per)) for c in columns))
    console.print(table)
    if any(per[k]["booking"] for k in per):
        console.print("[yellow]still booking: the service's workers follow them to the carrier's answer[/yellow]")
    for b in booking.failed:
        why = b.reason or (b.status.value if b.status else "")
        console.print(f"[red]not booked: {escape(b.order_id)} ({b.carrier}): {escape(why)}[/red]", soft_wrap=True)
    if booking.pickups:
        table = Table(title="Pick-ups")
        for col in ("carrier", "warehouse", "day", "shipments", "pick-up", "note"):
            table.add_column(col, justify="right" if col == "shipments" else "left")
        for p in booking.pickups:
            table.add_row(
                p.carrier, escape(p.warehouse), p.day.isoformat(), str(p.shipments), p.pickup_id or "", escape(p.note)
            )
        console.print(table)
    partners = sorted({b.carrier for b in booking.booked if b.status is ShipmentStatus.BOOKED} - _api(booking))
    for carrier in partners:
        days = sorted({b.ship_date for b in booking.booked if b.carrier == carrier and b.ship_date})
        for d in days:
            console.print(
                f"{carrier} collects by its manifest: carrier-router manifest --carrier {carrier} --date {d}",
                soft_wrap=True,
            )


def _api(booking: Booking) -> set[str]:
    return {p.carrier for p in booking.pickups}
