"""`carrier-router manifest` and `pickups request|cancel`: the parcels handed to carriers.

The same wiring, owner and answers as `router.cli.shipments`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import msgspec

from router.cli.shipments import echo_json, owner_option, with_shipper
from router.shipping.model import PickupRequest


@click.command("manifest")
@click.option("--carrier", required=True, help="The partner's code (partners without an API).")
@click.option("--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="The ship date.")
@click.option("--warehouse", help="Only the parcels leaving from this warehouse.")
@click.option("--format", "form", type=click.Choice(["csv", "pdf"]), default="csv", show_default=True)
@click.option("-o", "--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@owner_option
@click.pass_context
def manifest(
    ctx: click.Context, carrier: str, day: datetime, warehouse: str | None, form: str, out: Path, owner: str
) -> None:
    """Write a partner's manifest for a day: the booked parcels it collects, as CSV or a PDF to sign."""
    document = with_shipper(
        ctx.obj, owner, lambda shipper: shipper.papers.manifest(owner, carrier, day.date(), warehouse, form)
    )
    out.write_bytes(document)
    click.echo(f"{carrier} manifest for {day.date().isoformat()} written to {out} ({len(document):,} bytes)")


@click.group()
def pickups() -> None:
    """Carriers' couriers sent to collect from a warehouse."""


@pickups.command("request")
@click.argument("shipment_ids", nargs=-1)
@click.option("--carrier", required=True, help="The carrier's code.")
@click.option("--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="The day to collect.")
@click.option("--from", "time_from", default="10:00", show_default=True, help="From, HH:MM.")
@click.option("--to", "time_to", default="18:00", show_default=True, help="Until, HH:MM.")
@click.option("--address", required=True, help="Street and house to collect from.")
@click.option("--city", required=True)
@click.option("--warehouse", help="The warehouse's code, as the shipments name it.")
@click.option("--contact-name", required=True, help="Who hands the parcels over.")
@click.option("--contact-phone", required=True)
@click.option("--company", help="The sender's company.")
@click.option("--comment", default="", help="For the courier.")
@click.option("--json", "as_json", is_flag=True, help="Print what POST /v1/pickups answers.")
@owner_option
@click.pass_context
def request_pickup(
    ctx: click.Context,
    shipment_ids: tuple[str, ...],
    carrier: str,
    day: datetime,
    time_from: str,
    time_to: str,
    address: str,
    city: str,
    warehouse: str | None,
    contact_name: str,
    contact_phone: str,
    company: str | None,
    comment: str,
    as_json: bool,
    owner: str,
) -> None:
    """Ask CARRIER to collect SHIPMENT_IDS (booked with it) on a day; a partner without an API
    is recorded as asked and collects by its manifest."""
    try:
        request = msgspec.convert(
            {
                "carrier": carrier,
                "day": day.date().isoformat(),
                "time_from": time_from,
                "time_to": time_to,
                "warehouse": warehouse,
                "address": address,
                "city": city,
                "contact": {"name": contact_name, "phone": contact_phone, "company": company},
                "shipment_ids": list(shipment_ids),
                "comment": comment,
            },
            PickupRequest,
        )
    except msgspec.ValidationError as exc:
        raise click.UsageError(str(exc)) from None
    pickup = with_shipper(ctx.obj, owner, lambda shipper: shipper.papers.request_pickup(owner, request))
    if as_json:
        echo_json(pickup)
        return
    click.echo(f"{pickup.id}: {pickup.status}, {pickup.shipments} shipment(s), {pickup.weight_g} g")
    if pickup.carrier_pickup_id:
        click.echo(f"{carrier}'s pick-up number: {pickup.carrier_pickup_id}")
    if pickup.note:
        click.echo(pickup.note)


@pickups.command("cancel")
@click.argument("pickup_id")
@owner_option
@click.pass_context
def cancel_pickup(ctx: click.Context, pickup_id: str, owner: str) -> None:
    """Call a pick-up off (at the carrier, for one arranged through its API)."""
    pickup = with_shipper(ctx.obj, owner, lambda shipper: shipper.papers.cancel_pickup(owner, pickup_id))
    click.echo(f"{pickup.id} is {pickup.status}")
