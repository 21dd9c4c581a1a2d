"""`carrier-router points`: import or sync a network's points into the records, list, remove, see what is served.

Imported networks live in the records database (`router.records.networks`), never under the data
directory: that is the repository's `data/` in a checkout and site-packages once installed, and
it holds only the bundled networks.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import aiohttp
import click
import orjson
from rich.console import Console
from rich.table import Table

from pickup_points.errors import NetworkNameError
from pickup_points.importers import ImportFormatError, ImportResult, import_cdek, import_csv, import_geojson
from pickup_points.model import network_name
from pickup_points.search import PickupDirectory
from pickup_points.storage import load_points
from pickup_points.timezones import TimezoneLookup
from router.cli.records import with_records
from router.core.errors import ConfigError
from router.core.settings import Settings
from router.records import Database
from router.records.networks import NetworkRecordError, Networks, ServedPoints, UnknownNetwork, served_points
from router.store import StoreError, open_store
from router.syncing import PAGE_SIZE, Syncer, SyncError, SyncReport, point_sources

FORMATS = ("geojson", "csv", "cdek")
_BY_SUFFIX = {".geojson": "geojson", ".csv": "csv", ".json": "cdek"}
T = TypeVar("T")


def _region_at(country: str, lat: float, lon: float) -> str | None:
    # Only a region written in words no table knows needs the places, which take seconds to build.
    from router.quoting.wiring import bundled_places

    return bundled_places().region_at(country, lat, lon)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_root().obj
    return settings if isinstance(settings, Settings) else Settings.from_env()


def _points_dir(ctx: click.Context) -> Path:
    return _settings(ctx).data_dir / "pickup_points"


def _with_networks(ctx: click.Context, work: Callable[[Networks], Awaitable[T]]) -> T:
    return with_records(_settings(ctx), lambda records: work(Networks(records)))


@click.group()
def points() -> None:
    """Pickup points: import networks, show what is loaded."""


@points.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--network", required=True, help="Network code; the points' ids become NETWORK:CODE.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Default: from the file's suffix (.geojson, .csv, .json = CDEK).",
)
@click.option("--carrier", help="Carrier code that delivers to these points (default: the network code).")
@click.pass_context
def import_points(ctx: click.Context, file: Path, network: str, fmt: str | None, carrier: str | None) -> None:
    """Read FILE, report every record that cannot be used, and keep the rest as NETWORK's points.

    The points replace the network's previous import, or its bundled points, all at once.
    Running workers serve them within CARRIER_ROUTER_POINTS_RELOAD_S seconds (after a restart
    when that is 0).
    """
    try:
        network_name(network)
    except NetworkNameError as exc:
        raise click.BadParameter(str(exc), param_hint="--network") from None
    fmt = fmt or _BY_SUFFIX.get(file.suffix.lower())
    if fmt is None:
        raise click.BadParameter(f"cannot tell the format from {file.name!r}; give --format", param_hint="--format")
    zones = TimezoneLookup()
    try:
        if fmt == "csv":
            result: ImportResult = import_csv(file.read_bytes(), network, carrier, zones, _region_at)
        elif fmt == "geojson":
            result = import_geojson(file.read_bytes(), network, carrier, zones, _region_at)
        else:
            result = import_cdek(file.read_bytes(), network, carrier, zones, _region_at)
    except ImportFormatError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    for error in result.errors:
        click.echo(f"{file.name}:{error.line}: {error.field or 'record'}: {error.reason}", err=True)
    if result.unlisted:
        click.echo(f"{file.name}: and {result.unlisted} more rejected records", err=True)
    if not result.points:
        raise click.ClickException(f"no usable points in {file} ({result.rejected} rejected); nothing written")
    try:
        _with_networks(ctx, lambda networks: networks.save(network, result.points, str(file.resolve())))
    except NetworkRecordError as exc:
        raise click.ClickException(f"{file}: {exc}; nothing imported") from None
    click.echo(f"{len(result.points)} points of {network} imported; {result.rejected} rejected")


@points.command("sync")
@click.argument("carrier")
@click.option(
    "--page-size", type=click.IntRange(1, 5000), default=PAGE_SIZE, show_default=True, help="Points asked per page."
)
@click.pass_context
def sync_points(ctx: click.Context, carrier: str, page_size: int) -> None:
    """Read CARRIER's delivery points from its API, every page, and keep them as the network CARRIER.

    CARRIER is the code of a `kind = "cdek"` carrier in the carriers TOML (--config or
    CARRIER_ROUTER_CONFIG), with its credentials in the variables it names. Records that cannot
    be used are reported as a file import reports them; the rest replace the network at once, so
    a point the carrier no longer lists is gone. A sync that fails changes nothing.
    """
    settings = _settings(ctx)

    async def sync(records: Database) -> SyncReport:
        async with aiohttp.ClientSession() as http:
            sources = point_sources(settings, http)
            if carrier not in sources:
                where = settings.config_path or "no carriers TOML (give --config or CARRIER_ROUTER_CONFIG)"
                known = ", ".join(sorted(sources)) or "none"
                raise click.ClickException(f'{where}: no kind = "cdek" carrier {carrier!r} (CDEK carriers: {known})')
            source = replace(sources[carrier], page_size=page_size)
            store = open_store(settings.redis_url, settings.redis_prefix)
            try:
                return await Syncer({carrier: source}, Networks(records), store, region_at=_region_at).sync(carrier)
            finally:
                await store.close()

    try:
        report = with_records(settings, sync)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except (SyncError, StoreError) as exc:
        raise click.ClickException(f"{exc}; the network is unchanged") from None
    result = report.result
    for error in result.errors:
        click.echo(f"{carrier} {report.record_name(error.line)}: {error.field or 'record'}: {error.reason}", err=True)
    if result.unlisted:
        click.echo(f"{carrier}: and {result.unlisted} more rejected records", err=True)
    before = "" if report.before is None else f" (was {report.before})"
    click.echo(
        f"{len(result.points)} points of {report.record.name} synced{before} from {report.record.source}"
        f" in {report.pages} pages; {result.rejected} rejected"
    )


@points.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_networks(ctx: click.Context, as_json: bool) -> None:
    """Every network served: imported ones with their source and moment, then the bundled ones."""
    try:
        bundled = load_points(_points_dir(ctx))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    imported = _with_networks(ctx, lambda networks: networks.networks())
    counts: dict[str, int] = {}
    for p in bundled.points:
        counts[p.network] = counts.get(p.network, 0) + 1
    rows: list[tuple[str, str, int, str | None]] = [
        (n.name, n.source, n.point_count, n.imported_at.isoformat(timespec="seconds")) for n in imported
    ]
    names = {n.name for n in imported}
    bundled_source = f"bundled ({_points_dir(ctx)})"
    rows += [(name, bundled_source, count, None) for name, count in sorted(counts.items()) if name not in names]
    if as_json:
        body = [{"network": n, "source": s, "points": c, "imported_at": at} for n, s, c, at in rows]
        sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
        return
    table = Table()
    for column in ("network", "source", "points", "imported at"):
        table.add_column(column)
    for name, source, count, at in rows:
        table.add_row(name, source, str(count), at or "")
    Console().print(table)


@points.command("remove")
@click.argument("network")
@click.pass_context
def remove_network(ctx: click.Context, network: str) -> None:
    """Remove an imported network; a bundled network of its name is served again once workers reload."""
    try:
        removed = _with_networks(ctx, lambda networks: networks.remove(network))
    except UnknownNetwork:
        raise click.ClickException(f"no imported network {network!r} (see `carrier-router points list`)") from None
    click.echo(f"removed {removed.name}: {removed.point_count} points imported {removed.imported_at:%Y-%m-%d %H:%M}")


@points.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Points per network, type and status; shared sites; rows that could not be loaded."""
    try:
        loaded: ServedPoints = _with_networks(ctx, lambda networks: served_points(_points_dir(ctx), networks))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    summary = PickupDirectory.build(loaded.points).stats()
    if as_json:
        body = {
            "points": summary.points,
            "sites": summary.sites,
            "shared_sites": summary.shared_sites,
            "files": list(loaded.files),
            "networks": [
                {
                    "network": n.network,
                    "carriers": list(n.carriers),
                    "points": n.points,
                    "by_type": dict(n.by_type),
                    "by_status": dict(n.by_status),
                    "timezones": n.timezones,
                }
                for n in summary.networks
            ],
            "imported": sorted(loaded.marks),
            "errors": list(loaded.skipped),
        }
        sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
        return
    table = Table(
        title=f"{summary.points} points at {summary.sites} sites ({summary.shared_sites} shared by several networks)"
    )
    for column in ("network", "carrier", "points", "types", "status", "time zones"):
        table.add_column(column)
    for n in summary.networks:
        table.add_row(
            n.network,
            ", ".join(n.carriers),
            str(n.points),
            ", ".join(f"{k} {v}" for k, v in n.by_type),
            ", ".join(f"{k} {v}" for k, v in n.by_status),
            str(n.timezones),
        )
    console = Console()
    console.print(table)
    console.print(f"files: {', '.join(loaded.files) or 'none'}; imported: {', '.join(sorted(loaded.marks)) or 'none'}")
    for error in loaded.skipped:
        click.echo(f"skipped {error}", err=True)
