"""`carrier-router points`: import a network's points from a file, and see what is loaded."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table

from pickup_points.errors import NetworkNameError
from pickup_points.importers import ImportFormatError, ImportResult, import_cdek, import_csv, import_geojson
from pickup_points.model import network_name
from pickup_points.search import PickupDirectory
from pickup_points.storage import load_points, save_network
from pickup_points.timezones import TimezoneLookup
from router.core.errors import ConfigError
from router.core.settings import DEFAULT_DATA_DIR, Settings

FORMATS = ("geojson", "csv", "cdek")
_BY_SUFFIX = {".geojson": "geojson", ".csv": "csv", ".json": "cdek"}


def _points_dir(ctx: click.Context) -> Path:
    settings = ctx.find_root().obj
    data_dir = settings.data_dir if isinstance(settings, Settings) else DEFAULT_DATA_DIR
    return data_dir / "pickup_points"


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
    """Read FILE, report every record that cannot be used, and keep the rest as NETWORK's points."""
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
            result: ImportResult = import_csv(file.read_bytes(), network, carrier, zones)
        elif fmt == "geojson":
            result = import_geojson(file.read_bytes(), network, carrier, zones)
        else:
            result = import_cdek(file.read_bytes(), network, carrier, zones)
    except ImportFormatError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    for error in result.errors:
        click.echo(f"{file.name}:{error.line}: {error.field or 'record'}: {error.reason}", err=True)
    if result.unlisted:
        click.echo(f"{file.name}: and {result.unlisted} more rejected records", err=True)
    if not result.points:
        raise click.ClickException(f"no usable points in {file} ({result.rejected} rejected); nothing written")
    target = save_network(result.points, _points_dir(ctx), network)
    click.echo(f"{len(result.points)} points of {network} written to {target}; {result.rejected} rejected")


@points.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Points per network, type and status; shared sites; rows that could not be loaded."""
    try:
        loaded = load_points(_points_dir(ctx))
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
            "errors": [str(e) for e in loaded.errors],
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
    console.print(f"files: {', '.join(loaded.files) or 'none'}")
    for error in loaded.errors:
        click.echo(f"skipped {error}", err=True)
