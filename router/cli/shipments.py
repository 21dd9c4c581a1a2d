"""`carrier-router shipments list|show|label|cancel`.

Staff work on the records directly, through the same `open_engine` wiring and the same
`Shipper` (`shipper_for`) the API uses, so what they see and do is what the shop's API calls
see and do. Every command acts for one owner (`--owner`: an API key id, a RetailCRM account id,
or `open` on a service without keys): the shipments are a shop's, and another shop's are
"not found" here as over the API.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click
import msgspec
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from router.cli.records import where
from router.core.settings import Settings
from router.printing import Paper, merge
from router.quoting.book import OPEN
from router.records import Database, RecordsUnavailable
from router.shipping.ledger import Filters
from router.shipping.model import Contact, Recipient, Shipment, ShipmentPage, ShipmentStatus
from router.shipping.ordering import PointLookup
from router.shipping.shipper import Shipper

T = TypeVar("T")
# Labels are fetched this many at a time, so a batch of thousands shows its progress and no
# single read holds more than a page of shipments.
LABEL_CHUNK = 50
PAGE = 200  # the ledger's largest page, as the API's

owner_option = click.option(
    "--owner",
    default=OPEN,
    show_default=True,
    envvar="CARRIER_ROUTER_OWNER",
    help="Whose shipments: an API key id (key_…), a RetailCRM account id, or 'open' (a service without keys).",
)


def _no_points(point_id: str) -> None:
    return None


async def check_owner(records: Database, owner: str) -> None:
    """Refuse an owner nobody is: a mistyped id would otherwise show an empty list, as if the
    shop had no shipments."""
    from router.integrations.retailcrm.accounts import AccountBook
    from router.records.keys import KeyRing

    if owner == OPEN or any(k.id == owner for k in await KeyRing(records).keys()):
        return
    if await AccountBook(records).get(owner) is not None:
        return
    raise click.BadParameter(
        f"{owner!r} is no API key id (carrier-router keys list), RetailCRM account id, or {OPEN}",
        param_hint="--owner",
    )


def with_shipper(
    settings: Settings,
    owner: str,
    work: Callable[[Shipper], Awaitable[T]],
    *,
    points: PointLookup = _no_points,
    run_jobs: bool = False,
) -> T:
    """Open the engine as the service does, build its Shipper, do `work` for `owner`, close everything.

    Without `run_jobs` this process claims no background work: reading and cancelling need none,
    and a running service's workers keep doing theirs."""
    from router.quoting.wiring import open_engine
    from router.shipping.shipper import working
    from router.tracking.wiring import shipper_for

    async def go() -> T:
        async with open_engine(settings) as opened:
            await check_owner(opened.records, owner)
            async with working(shipper_for(opened, settings, points), run_jobs) as shipper:
                return await work(shipper)

    try:
        return asyncio.run(go())
    except RecordsUnavailable as exc:
        raise click.ClickException(f"{exc} ({where(settings)})") from None


def echo_json(answer: msgspec.Struct) -> None:
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(answer), indent=2) + b"\n")


def _status(status: ShipmentStatus) -> str:
    colour = {
        ShipmentStatus.BOOKED: "green",
        ShipmentStatus.BOOKING: "yellow",
        ShipmentStatus.FAILED: "red",
        ShipmentStatus.CANCELLED: "dim",
    }.get(status, "default")
    return f"[{colour}]{status.value}[/{colour}]"


def print_shipments(console: Console, shipments: Sequence[Shipment], title: str | None = None) -> None:
    table = Table(title=title)
    for col in ("id", "status", "order", "carrier", "service", "ship date", "warehouse", "price", "tracking"):
        table.add_column(col, justify="right" if col == "price" else "left")
    for s in shipments:
        table.add_row(
            s.id,
            _status(s.status),
            escape(s.order_number),
            s.carrier,
            s.service,
            s.ship_date.isoformat(),
            escape(s.warehouse or ""),
            f"{s.price} {s.currency}",
            s.tracking_number or "",
        )
    console.print(table)


@click.group()
def shipments() -> None:
    """Booked shipments: list, show, print labels, cancel."""


@shipments.command("list")
@click.option("--status", type=click.Choice([s.value for s in ShipmentStatus]), help="Only shipments in this state.")
@click.option("--carrier", help="Only this carrier's (its code).")
@click.option("--order-number", help="Only the shipments of this shop order.")
@click.option("--date", "ship_date", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only those shipped on this day.")
@click.option("--warehouse", help="Only those leaving from this warehouse.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=50, show_default=True, help="At most this many, newest first."
)
@click.option("--json", "as_json", is_flag=True, help="Print what GET /v1/shipments answers.")
@owner_option
@click.pass_context
def list_command(
    ctx: click.Context,
    status: str | None,
    carrier: str | None,
    order_number: str | None,
    ship_date: datetime | None,
    warehouse: str | None,
    limit: int,
    as_json: bool,
    owner: str,
) -> None:
    """List the owner's shipments, newest first."""
    filters = Filters(
        status=ShipmentStatus(status) if status else None,
        carrier=carrier,
        order_number=order_number,
        ship_date=ship_date.date() if ship_date else None,
        warehouse=warehouse,
    )

    async def work(shipper: Shipper) -> ShipmentPage:
        found: list[Shipment] = []
        cursor = None
        while True:
            page = await shipper.page(owner, filters, limit=min(PAGE, limit - len(found)), cursor=cursor)
            found += page.shipments
            cursor = page.next_cursor
            if cursor is None or len(found) >= limit:
                return ShipmentPage(shipments=found, next_cursor=cursor)

    page = with_shipper(ctx.obj, owner, work)
    if as_json:
        echo_json(page)
        return
    console = Console()
    print_shipments(console, page.shipments)
    more = "; there are more (raise --limit)" if page.next_cursor else ""
    console.print(f"{len(page.shipments)} shipment(s){more}")


@shipments.command("show")
@click.argument("shipment_id")
@click.option("--json", "as_json", is_flag=True, help="Print what GET /v1/shipments/{id} answers.")
@owner_option
@click.pass_context
def show_command(ctx: click.Context, shipment_id: str, as_json: bool, owner: str) -> None:
    """One shipment: who, what, the carrier's answer and every call made to the carrier for it."""
    detail = with_shipper(ctx.obj, owner, lambda shipper: shipper.get(shipment_id, owner))
    if as_json:
        echo_json(detail)
        return
    console = Console()
    console.print(f"[bold]{detail.id}[/bold]  {_status(detail.status)}  order {escape(detail.order_number)}")
    facts = Table(show_header=False, box=None)
    facts.add_column(style="dim")
    facts.add_column()

    def contact(c: Contact | Recipient) -> str:
        return ", ".join(p for p in (c.company, c.name, c.phone, c.email) if p)

    rows = [
        ("carrier", f"{detail.carrier_name} ({detail.carrier}), {detail.service_name} ({detail.service})"),
        ("delivery", detail.delivery_type.value + (f" to {detail.pickup_point_id}" if detail.pickup_point_id else "")),
        ("price", f"{detail.price} {detail.currency}"),
        ("cash to collect", f"{detail.cash_to_collect} {detail.currency}"),
        ("ship date", detail.ship_date.isoformat()),
        ("warehouse", detail.warehouse or ""),
        ("tracking", detail.tracking_number or ""),
        ("tracking url", detail.tracking_url or ""),
        ("carrier order", detail.carrier_order_id or ""),
        ("quote / offer", f"{detail.quote_id} / {detail.offer_id}"),
        ("sender", contact(detail.sender)),
        ("recipient", contact(detail.recipient)),
        ("items", "; ".join(f"{i.name} ({i.sku}) × {i.quantity}" for i in detail.items)),
        ("created", f"{detail.created_at:%Y-%m-%d %H:%M:%S %Z}"),
        ("updated", f"{detail.updated_at:%Y-%m-%d %H:%M:%S %Z}"),
    ]
    if detail.booking_job is not None:
        job = detail.booking_job
        rows.append(
            (
                "booking job",
                f"{job.state}, {job.attempts} attempt(s)" + (f": {job.last_error}" if job.last_error else ""),
            )
        )
    for name, value in rows:
        if value:
            facts.add_row(name, escape(value))
    console.print(facts)
    for problem in detail.errors:
        where = f" ({problem.field})" if problem.field else ""
        console.print(f"[red]{escape(problem.code)}{escape(where)}: {escape(problem.message)}[/red]", soft_wrap=True)
    if detail.calls:
        calls = Table(title="Calls to the carrier")
        for col in ("at", "operation", "outcome", "ms", "detail"):
            calls.add_column(col, justify="right" if col == "ms" else "left")
        for call in detail.calls:
            calls.add_row(
                f"{call.at:%Y-%m-%d %H:%M:%S}",
                call.operation,
                call.outcome,
                str(call.duration_ms),
                escape(msgspec.json.encode(call.detail).decode()),
            )
        console.print(calls)
    else:
        console.print("[dim]no calls to the carrier (a partner booked here, or not sent yet)[/dim]")


def _progress(console: Console, what: str, total: int) -> Progress:
    columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    return Progress(*columns, console=console, transient=True, disable=total < 2)


@shipments.command("label")
@click.argument("shipment_ids", nargs=-1, required=True)
@click.option(
    "--format",
    "paper",
    type=click.Choice([p.value for p in Paper]),
    default="a6",
    show_default=True,
    help="a6: one label a page (thermal printers); a4: four to a page.",
)
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@owner_option
@click.pass_context
def label_command(ctx: click.Context, shipment_ids: tuple[str, ...], paper: str, out: Path, owner: str) -> None:
    """Write the labels of SHIPMENT_IDS, in that order, into one PDF.

    Any number of shipments: they are fetched 50 at a time, with progress."""
    err = Console(stderr=True)
    ids = list(shipment_ids)

    async def work(shipper: Shipper) -> bytes:
        if len(ids) <= LABEL_CHUNK:
            return await shipper.papers.labels(ids, owner, Paper(paper))
        # Each chunk comes at A6 and the whole is placed on the paper once, so four-to-a-page
        # sheets run on across chunks rather than leaving a part-empty sheet after every 50.
        parts: list[bytes] = []
        with _progress(err, "labels", len(ids)) as bar:
            task = bar.add_task("labels", total=len(ids))
            for start in range(0, len(ids), LABEL_CHUNK):
                chunk = ids[start : start + LABEL_CHUNK]
                parts.append(await shipper.papers.labels(chunk, owner, Paper.A6))
                bar.advance(task, len(chunk))
        return await asyncio.to_thread(merge, parts, Paper(paper))

    pdf = with_shipper(ctx.obj, owner, work)
    out.write_bytes(pdf)
    click.echo(f"{len(ids)} label(s) written to {out} ({len(pdf):,} bytes)")


@shipments.command("cancel")
@click.argument("shipment_id")
@click.option("--json", "as_json", is_flag=True, help="Print what POST /v1/shipments/{id}/cancel answers.")
@owner_option
@click.pass_context
def cancel_command(ctx: click.Context, shipment_id: str, as_json: bool, owner: str) -> None:
    """Cancel a shipment (with its carrier, for one booked through an API); refused, with the
    reason, once the carrier has the parcel."""
    shipment = with_shipper(ctx.obj, owner, lambda shipper: shipper.cancel(shipment_id, owner))
    if as_json:
        echo_json(shipment)
        return
    click.echo(f"{shipment.id} is {shipment.status.value}")
