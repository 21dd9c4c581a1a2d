"""`carrier-router shipments status|events`: a partner's statuses told by hand or from its file.

Partners without an API tell where their parcels are by phone, e-mail or a daily file; staff
record it here, as `POST /v1/shipments/{id}/events` does, and the shop's webhooks, the buyer's
page and the delivery statistics follow (docs/tracking.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click
from rich.console import Console
from rich.markup import escape

from carriers.tracking import Status, TrackingEvent
from router.cli.records import where
from router.cli.shipments import check_owner, owner_option, shipments
from router.core.settings import Settings
from router.records import RecordsUnavailable
from router.shipping.errors import ShippingError
from router.tracking.tracker import Tracker

T = TypeVar("T")


def with_tracker(settings: Settings, owner: str, work: Callable[[Tracker], Awaitable[T]]) -> T:
    from router.quoting.wiring import open_engine

    async def go() -> T:
        async with open_engine(settings) as opened:
            await check_owner(opened.records, owner)
            return await work(Tracker(opened.records, opened.record))

    try:
        return asyncio.run(go())
    except RecordsUnavailable as exc:
        raise click.ClickException(f"{exc} ({where(settings)})") from None
    except ShippingError as exc:
        raise click.ClickException(exc.detail) from None


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a moment; e.g. 2026-12-09T12:00:00+03:00") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the moment's offset, e.g. 2026-12-09T12:00:00+03:00")
    return moment


@shipments.command("status")
@click.argument("shipment_id")
@click.option("--status", "status", required=True, type=click.Choice([s.value for s in Status]), help="What happened.")
@click.option("--at", "at", required=True, help="When, with its offset: 2026-12-09T12:00:00+03:00.")
@click.option("--city", help="Where.")
@click.option("--text", help="The partner's own words.")
@click.option("--code", help="The partner's own code for it.")
@owner_option
@click.pass_context
def status_command(
    ctx: click.Context,
    shipment_id: str,
    status: str,
    at: str,
    city: str | None,
    text: str | None,
    code: str | None,
    owner: str,
) -> None:
    """Record a tracking event of a partner's shipment."""
    moment = _moment(at)

    async def work(tracker: Tracker) -> bool:
        row = await tracker.ledger.get(shipment_id, owner)
        event = TrackingEvent(row.carrier, code or status, text or status, Status(status), moment, city)
        return await tracker.take(row.id, [event], "manual")

    changed = with_tracker(ctx.obj, owner, work)
    click.echo(f"{shipment_id}: {status} recorded" + ("; its status is now " + status if changed else ""))


@shipments.command("events")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@owner_option
@click.pass_context
def events_command(ctx: click.Context, csv_file: Path, owner: str) -> None:
    """Import a partner's statuses from a CSV file (shipment,status,at,city,text,code)."""
    from router.tracking.imports import import_events

    report = with_tracker(ctx.obj, owner, lambda tracker: import_events(tracker, owner, csv_file.read_bytes()))
    console = Console(stderr=True)
    for problem in report.problems:
        column = f" {problem.field}:" if problem.field else ""
        console.print(f"line {problem.line}:{escape(column)} {escape(problem.reason)}")
    click.echo(f"{report.events} events taken; {report.shipments_changed} shipments changed status")
    if report.problems:
        ctx.exit(4)
