"""`carrier-router`: serve the API, quote from the terminal, check the carrier files."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
from rich.console import Console
from rich.table import Table

from router.cli import tracking as _tracking  # noqa: F401  (its commands join `shipments`)
from router.cli.allocate import allocate_command
from router.cli.handover import manifest, pickups
from router.cli.outcomes import outcomes, reinstate
from router.cli.points import points
from router.cli.rerate import demo_orders, rerate
from router.cli.retailcrm import integrations
from router.cli.shipments import shipments
from router.core.errors import ConfigError, RouterError
from router.core.models import Location, OfferInsight, Parcel, Policy, PolicyKind, Quote, Shipment
from router.core.settings import Settings

if TYPE_CHECKING:
    from router.records.keys import KeyRing

T = TypeVar("T")


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj  # type: ignore[no-any-return]


class _Commands(click.Group):
    """Every command's configuration mistake is one line naming the file, field or variable."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (ConfigError, RouterError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Commands)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Bundled data (carriers, places).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Carriers TOML file.")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, config_path: Path | None) -> None:
    """Quote every delivery carrier at once and pick the best."""
    settings = Settings.from_env()
    if data_dir:
        settings = settings.with_(data_dir=data_dir)
    if config_path:
        settings = settings.with_(config_path=config_path)
    ctx.obj = settings


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8080).")
@click.option("--redis-url", default=None, help="Keep quotes in Redis (also REDIS_URL); memory otherwise.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes (need Redis)."
)
@click.option("--sandbox", is_flag=True, help="Start the carrier API emulators and route the API carriers to them.")
@click.option("--insecure", is_flag=True, help="Serve without API keys on a non-loopback interface.")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    redis_url: str | None,
    workers: int,
    sandbox: bool,
    insecure: bool,
) -> None:
    """Run the HTTP API."""
    from router.http.serving import RefuseToStart, preflight, run

    settings = _settings(ctx)
    settings = settings.with_(
        host=host or settings.host,
        port=port or settings.port,
        redis_url=redis_url or settings.redis_url,
        sandbox=sandbox,
        insecure=insecure,
    )
    try:
        click.echo(preflight(settings, workers))
    except RefuseToStart as exc:
        raise click.ClickException(f"refusing to start: {exc}") from None
    run(settings, workers)


def _size(value: str) -> tuple[float, float, float]:
    try:
        a, b, c = (float(x) for x in value.lower().replace("×", "x").split("x"))
    except ValueError:
        raise click.BadParameter("give LxWxH in cm, e.g. 30x20x10") from None
    return a, b, c


@main.command()
@click.option("--from", "origin", required=True, help="Origin city, postal code, or 'lat,lon'.")
@click.option("--to", "destination", required=True, help="Destination city, postal code, or 'lat,lon'.")
@click.option("--weight-g", type=click.IntRange(min=1), required=True, help="Parcel weight in grams.")
@click.option("--size", "size_cm", default="10x10x10", show_default=True, help="Parcel LxWxH in cm.")
@click.option("--parcels", type=click.IntRange(1, 50), default=1, show_default=True, help="Identical parcels.")
@click.option("--declared-value", type=Decimal, default=Decimal("0"), help="Declared value, RUB.")
@click.option("--cod", is_flag=True, help="Cash on delivery.")
@click.option("--policy", type=click.Choice([k.value for k in PolicyKind]), default="balanced", show_default=True)
@click.option("--deadline", type=click.DateTime(formats=["%Y-%m-%d"]), help="For --policy deadline.")
@click.option("--ship-at", help="When the parcel is handed over, ISO 8601 with a zone offset (default now).")
@click.option("--json", "as_json", is_flag=True, help="Print the quote as the API would answer it.")
@click.option("--url", help="Ask the service running at this URL, which holds the price (POST /v1/quotes).")
@click.option("--api-key", envvar="CARRIER_ROUTER_API_KEY", help="Secret key for --url (also CARRIER_ROUTER_API_KEY).")
@click.pass_context
def quote(
    ctx: click.Context,
    origin: str,
    destination: str,
    weight_g: int,
    size_cm: str,
    parcels: int,
    declared_value: Decimal,
    cod: bool,
    policy: str,
    deadline: datetime | None,
    ship_at: str | None,
    as_json: bool,
    url: str | None,
    api_key: str | None,
) -> None:
    """Quote one shipment and print the offers.

    Without --url the quote is made in this process and kept nowhere: its price is not held.
    With --url the running service makes it, holds its price and gives it an id."""
    from router.core.codec import indented, quote_answer
    from router.quoting.wiring import open_engine

    settings = _settings(ctx)
    kind = PolicyKind(policy)
    if kind is PolicyKind.DEADLINE and deadline is None:
        raise click.BadParameter("--deadline is required with --policy deadline", param_hint="--deadline")
    if url:
        from router.cli import remote

        body = {
            "origin": _place(origin),
            "destination": _place(destination),
            "parcels": [dict(zip(_SIDES, (weight_g, *_size(size_cm)), strict=True))] * parcels,
            "declared_value": str(declared_value),
            "cod": cod,
            **({"ship_at": remote.wire_moment(ship_at)} if ship_at else {}),
            "policy": {"kind": kind.value, **({"deadline": f"{deadline:%Y-%m-%d}"} if deadline else {})},
        }
        answer = remote.ask(url, body, api_key)
        if as_json:
            sys.stdout.buffer.write(answer.body.rstrip(b"\n") + b"\n")
        if answer.status not in (200, 201):
            raise click.ClickException(remote.refusal(url, answer))
        if not as_json:
            remote.print_answer(url, remote.decode(url, answer))
        return
    shipment = Shipment(
        origin=_location(origin),
        destination=_location(destination),
        parcels=tuple(Parcel(weight_g, *_size(size_cm)) for _ in range(parcels)),
        declared_value=declared_value,
        cod=cod,
        ship_at=_moment(ship_at) if ship_at else None,
    )
    chosen = Policy(kind=kind, day_value=settings.day_value, deadline=deadline.date() if deadline else None)

    async def run() -> Quote:
        # Wired as the service is: with Redis, the same breakers, last good answers and delivery
        # history (learned dates, badges, suspensions), so staff see at the terminal what a
        # buyer is shown.
        async with open_engine(settings) as opened:
            return await opened.engine.quote(shipment, chosen)

    try:
        result = asyncio.run(run())
    except (RouterError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        sys.stdout.buffer.write(indented(quote_answer(result)) + b"\n")
        return
    _print_quote(result)


def _moment(text: str) -> datetime:
    from router.core.calendar import PLAUSIBLE_DAYS, plausible_moment

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO 8601 moment", param_hint="--ship-at") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give a zone offset, e.g. 2026-12-08T10:00+03:00", param_hint="--ship-at")
    if not plausible_moment(moment):
        raise click.BadParameter(f"must be within {PLAUSIBLE_DAYS} days of today", param_hint="--ship-at")
    return moment


_SIDES = ("weight_g", "length_cm", "width_cm", "height_cm")


def _place(text: str) -> dict[str, object]:
    """`_location` as the API's JSON takes it."""
    place = _location(text)
    if place.lat is not None:
        return {"lat": place.lat, "lon": place.lon}
    if place.postal_code:
        return {"postal_code": place.postal_code}
    return {"city": place.city}


def _location(text: str) -> Location:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2:
        try:
            return Location(lat=float(parts[0]), lon=float(parts[1]))
        except ValueError:
            pass
    if text.strip().isdigit():
        return Location(postal_code=text.strip())
    return Location(city=text)


def _handed_over(q: Quote) -> str:
    moment = q.shipment.ship_at
    return "now" if moment is None else f"{moment:%d %b %H:%M %z}"


def _print_quote(q: Quote) -> None:
    from rich.markup import escape

    from router.cli.quote_table import ESTIMATE_MARK, Learned, Row, marks, print_quote_table

    def learned(insight: OfferInsight | None) -> Learned | None:
        if insight is None:
            return None
        return Learned(insight.p95_date, insight.on_time_rate, insight.sample_size, insight.badge)

    rows = [
        Row(
            marks=marks(o.id, q.recommended, q.cheapest, q.fastest) + (ESTIMATE_MARK if o.stale else ""),
            carrier_name=o.carrier_name,
            service_name=o.service_name,
            delivery_type=o.delivery_type.value,
            total=f"{o.price.total:.2f}",
            min_days=o.eta.min_days,
            max_days=o.eta.max_days,
            min_date=o.eta.min_date,
            max_date=o.eta.max_date,
            learned=learned(q.insights.get(o.id)),
        )
        for o in q.offers
    ]
    chosen = next((o for o in q.offers if o.id == q.recommended), None)
    print_quote_table(
        f"[bold]{escape(f'{q.origin.city} → {q.destination.city}')}[/bold]  handed over {_handed_over(q)}; "
        "quoted here and not held (--url asks a running service, which holds the price)",
        rows,
        with_history=bool(q.insights),
        recommended=q.recommended,
        reason=q.reason,
        breakdown=", ".join(f"{ln_.label} {ln_.amount:.2f}" for ln_ in chosen.price.lines) if chosen else None,
        notes=[f"[dim]left out: {escape(f'{r.carrier}/{r.service}: {r.reason}')}[/dim]" for r in q.rejections]
        + [f"[red]{escape(f'{e.carrier}: {e.kind}: {e.message}')}[/red]" for e in q.errors],
    )


@main.group(invoke_without_command=True)
@click.pass_context
def carriers(ctx: click.Context) -> None:
    """List the carriers and check every carrier file; exits 1 if any is wrong."""
    if ctx.invoked_subcommand is not None:
        return
    from carriers.ratecard import validate_directory
    from carriers.registry import load_carriers

    settings = _settings(ctx)
    problems = validate_directory(settings.carriers_dir)
    for p in problems:
        click.echo(f"error: {p}", err=True)
    if problems:
        sys.exit(1)
    table = Table()
    for col in ("code", "name", "kind", "services"):
        table.add_column(col)
    for carrier in load_carriers(settings, None):
        info = carrier.info()
        services = ", ".join(f"{s.code} ({s.delivery_type.value})" for s in info.services)
        table.add_row(info.code, info.name + (" [demo]" if info.demo else ""), info.kind, services)
    Console().print(table)


main.add_command(points)
main.add_command(allocate_command)
main.add_command(rerate)
main.add_command(demo_orders)
main.add_command(integrations)
main.add_command(outcomes)
main.add_command(shipments)
main.add_command(manifest)
main.add_command(pickups)
carriers.add_command(reinstate)


@main.group()
def keys() -> None:
    """API keys: secret (sk_…) for servers, publishable (pk_…) for the widget."""


def _with_keys(ctx: click.Context, work: Callable[[KeyRing], Awaitable[T]]) -> T:
    from router.cli.records import with_records
    from router.records.keys import KeyRing

    return with_records(_settings(ctx), lambda records: work(KeyRing(records)))


@keys.command("create")
@click.option("--kind", type=click.Choice(["secret", "publishable"]), default="secret", show_default=True)
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option("--origin", "origins", multiple=True, help="Allowed browser origin (publishable keys), repeatable.")
@click.option("--rate", type=click.IntRange(min=1), default=None, help="Requests per minute (default by kind).")
@click.pass_context
def keys_create(ctx: click.Context, kind: str, name: str, origins: tuple[str, ...], rate: int | None) -> None:
    """Create a key; its token is printed once and kept nowhere."""
    from router.records.keys import KeyKind

    key_kind = KeyKind(kind)
    if key_kind is KeyKind.PUBLISHABLE and not origins:
        raise click.BadParameter("a publishable key needs at least one --origin", param_hint="--origin")
    key, token = _with_keys(ctx, lambda ring: ring.create(key_kind, name, origins, rate))
    click.echo(f"{key.id}  {key.kind.value}  {key.name}")
    click.echo(token)


@keys.command("list")
@click.pass_context
def keys_list(ctx: click.Context) -> None:
    """List keys (never their tokens)."""
    table = Table()
    for col in ("id", "kind", "name", "starts", "origins", "created", "revoked"):
        table.add_column(col)
    for k in _with_keys(ctx, lambda ring: ring.keys()):
        table.add_row(
            k.id,
            k.kind.value,
            k.name,
            k.hint + "…",
            ", ".join(k.origins),
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    Console().print(table)


@keys.command("revoke")
@click.argument("key_id")
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key; running workers refuse it from their next request."""
    from router.records.keys import UnknownKey

    try:
        key = _with_keys(ctx, lambda ring: ring.revoke(key_id))
    except UnknownKey:
        raise click.ClickException(f"no key {key_id}") from None
    click.echo(f"revoked {key.id} ({key.name})")


@main.group()
def db() -> None:
    """The records database (keys, accounts, networks, outcomes): SQLite by default, DATABASE_URL for PostgreSQL."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the schema up to this release's (the service also does it when it starts)."""
    from router.cli.records import where, with_records
    from router.records.database import head_revision

    revision = with_records(_settings(ctx), lambda records: records.revision())
    click.echo(f"{where(_settings(ctx))}: schema at revision {revision} (this release's head: {head_revision()})")


if __name__ == "__main__":
    main()
