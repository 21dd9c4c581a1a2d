"""`carrier-router rerate` and `carrier-router demo-orders`: re-rate shipment history, or write some."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import click
import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from router.allocation import (
    CarrierCapacity,
    DiscountTier,
    SolverOptions,
    Terms,
    Warehouse,
)
from router.allocation.orders import (
    RowError,
    Rows,
    open_text,
    read_capacities,
    read_tiers,
    read_warehouses,
)
from router.core.errors import ConfigError
from router.core.models import Policy, PolicyKind
from router.core.settings import Settings
from router.rerating.pool import can_fork, merge_day_plans, rerate_chunks, rerate_into
from router.rerating.report import (
    Overcharges,
    RejectWriter,
    RowWriter,
    print_summary,
    summary_json,
    write_chart,
)
from router.rerating.results import Tolerance
from router.rerating.run import Rerater
from router.rerating.shipments import FIELDS, ColumnMap, read_history
from router.rerating.summary import SummaryBuilder

T = TypeVar("T")
EXIT_REJECTED_ROWS = 3
PROGRESS_FROM_BYTES = 1 << 20
POOL_FROM_BYTES = 4 << 20  # about 40,000 rows: below that, forking costs more than it saves
SHOWN_REJECTS = 20


def _lines(path: Path, advance: Callable[[int], None]) -> Iterator[str]:
    """The file's lines as text, reporting bytes read; the file is never read whole."""
    counted = 0
    with path.open("rb") as f:
        for n, raw in enumerate(f):
            counted += len(raw)
            if n % 2048 == 0:
                advance(counted)
                counted = 0
            yield raw.decode("utf-8-sig" if n == 0 else "utf-8", errors="replace")
    advance(counted)


def _tariffs(directory: Path) -> list:  # type: ignore[type-arg]
    from carriers.ratecard import load_ratecards

    try:
        carriers = load_ratecards(directory)
    except ConfigError as exc:
        raise click.ClickException(f"tariffs in {directory}: {exc}") from None
    if not carriers:
        raise click.ClickException(f"no rate card (*.json) in {directory}")
    return carriers


@click.command()
@click.argument("shipments_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tariffs",
    "tariffs_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Rate-card directory to price with (default: the service's data/carriers).",
)
@click.option(
    "--billed-column", default=None, metavar="NAME", help="The column holding the billed amount (default billed)."
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Read FIELD from another column, e.g. --map billed=amount_rub; repeatable.",
)
@click.option(
    "--tolerance",
    default="1%",
    show_default=True,
    help="How far above tariff a bill may be before it is flagged: a percentage (1%) or roubles (5.00).",
)
@click.option(
    "--compare-tariffs",
    nargs=2,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="OLD_DIR NEW_DIR",
    help="Also price each shipment's carrier and service under two tariff sets.",
)
@click.option(
    "--policy",
    type=click.Choice(["cheapest", "fastest", "balanced"]),
    default="cheapest",
    show_default=True,
    help="What-if: which offer each shipment should have taken.",
)
@click.option("--day-value", type=Decimal, default=None, help="RUB per day in transit for --policy balanced.")
@click.option(
    "--warehouses",
    "warehouses_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV code, location: shipments from that place count against that warehouse's capacity.",
)
@click.option(
    "--capacity",
    "capacity_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Day plans: CSV carrier, warehouse, max_parcels (a warehouse code, or the origin as written).",
)
@click.option(
    "--tiers",
    "tiers_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Day plans: CSV carrier, min_parcels, percent; months count from the file's first day.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds each day's plan may search.",
)
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Per-shipment CSV.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="CSV of the rows left out: line, reason.",
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="PNG: overcharges and savings by carrier and by month.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of tables.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="the CPU count",
    help="Processes re-rating a long file in parallel (not with --capacity/--tiers day plans).",
)
@click.pass_context
def rerate(
    ctx: click.Context,
    shipments_csv: Path,
    tariffs_dir: Path | None,
    billed_column: str | None,
    mapping: tuple[str, ...],
    tolerance: str,
    compare_tariffs: tuple[Path, Path] | None,
    policy: str,
    day_value: Decimal | None,
    warehouses_csv: Path | None,
    capacity_csv: Path | None,
    tiers_csv: Path | None,
    time_limit: float,
    out: Path | None,
    rejects: Path | None,
    chart: Path | None,
    as_json: bool,
    workers: int,
) -> None:
    """Re-price historical shipments under the current or candidate tariffs.

    \b
    Three uses in one pass:
      invoice audit   billed against the tariff of the carrier and service used;
                      bills above it beyond --tolerance are flagged (totals per carrier, month)
      what-if         the --policy offer per shipment, and an OR-Tools plan per shipping day
                      (with --capacity/--tiers); savings per carrier, destination region, month
      tariff change   --compare-tariffs OLD NEW: the same carrier and service under both

    \b
    SHIPMENTS_CSV columns (rename with --map FIELD=COLUMN):
      id, shipped_at (YYYY-MM-DD or ISO date-time), origin, destination, weight_g,
      length_cm, width_cm, height_cm, carrier, service      required
      parcels, declared_value, cod, billed                   optional

    The file streams: any length, memory flat. A bad row is left out with its line and reason
    (--rejects writes them all); the exit code is then 3.

    \b
    Example on the demo history:
      carrier-router rerate data/demo/shipments.csv --out rerated.csv --chart rerate.png
    """
    settings: Settings = ctx.obj
    columns = dict(_pair(m) for m in mapping)
    if billed_column:
        columns["billed"] = billed_column
    try:
        column_map = ColumnMap(columns)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--map") from None
    try:
        allowed = Tolerance.parse(tolerance)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tolerance") from None
    kind = PolicyKind(policy)
    chosen = Policy(kind=kind, day_value=day_value if day_value is not None else settings.day_value)
    capacities: tuple[CarrierCapacity, ...] = _strict(read_capacities, capacity_csv)
    tiers: tuple[DiscountTier, ...] = _strict(read_tiers, tiers_csv)
    warehouses: tuple[Warehouse, ...] = _strict(read_warehouses, warehouses_csv)

    from router.quoting.wiring import bundled_places

    tariff_dir = tariffs_dir or settings.carriers_dir
    compare = (_tariffs(compare_tariffs[0]), _tariffs(compare_tariffs[1])) if compare_tariffs else None
    rater = Rerater(
        _tariffs(tariff_dir), bundled_places(), chosen, allowed, Terms(capacities, tiers),
        SolverOptions(time_limit_s=time_limit), compare, warehouses,
    )  # fmt: skip

    err = Console(stderr=True)
    builder = SummaryBuilder()
    largest = Overcharges()
    shown = 0
    size = shipments_csv.stat().st_size
    pooled = workers > 1 and not rater.coupled and size >= POOL_FROM_BYTES and can_fork()
    columns_ = (TextColumn("re-rating"), BarColumn(), DownloadColumn(), TimeRemainingColumn())

    def show(item: RowError) -> None:
        nonlocal shown
        if rejected:
            rejected.write(item)
        if shown < SHOWN_REJECTS:
            err.print(f"[yellow]{shipments_csv}:{item.line}: {item.message}[/yellow]", soft_wrap=True)
            shown += 1

    with contextlib.ExitStack() as stack:
        out_file = stack.enter_context(out.open("w", newline="", encoding="utf-8")) if out else None
        rows = RowWriter(out_file) if out_file else None
        rejected = None
        if rejects:
            rejected = RejectWriter(stack.enter_context(rejects.open("w", newline="", encoding="utf-8")))
        # The pool forks its workers: no refresh thread may be running then, so its bar is redrawn by hand.
        bar = stack.enter_context(
            Progress(
                *columns_, console=err, transient=True, disable=size < PROGRESS_FROM_BYTES, auto_refresh=not pooled
            )
        )
        task = bar.add_task("file", total=size)
        if pooled:
            for chunk in rerate_chunks(shipments_csv, rater, column_map, workers, write_rows=out_file is not None):
                if out_file is not None:
                    out_file.write(chunk.rows_csv)
                for e in chunk.rejects:
                    show(e)
                builder.merge(chunk.summary)
                largest.merge(chunk.largest)
                merge_day_plans(rater.day_plans, chunk.day_plans)
                bar.advance(task, chunk.byte_count)
                bar.refresh()
        else:
            stream = read_history(_lines(shipments_csv, lambda n: bar.advance(task, n)), column_map)
            asyncio.run(rerate_into(rater, stream, builder, largest, rows, show))
    if builder.rejected > shown:
        err.print(f"[yellow]… {builder.rejected - shown} more rejected row(s)[/yellow]")

    summary = builder.build(rater.day_plans)
    if chart:
        write_chart(chart, summary, f"{shipments_csv.name} under {tariff_dir.name}")
    if as_json:
        document = summary_json(summary, largest.largest())
        sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        # Piped to a file, a console is 80 wide; at a million rows the amounts then crowd out the labels.
        console = Console() if sys.stdout.isatty() else Console(width=120)
        print_summary(
            console, summary, largest.largest(), source=str(shipments_csv), tariffs=str(tariff_dir), policy=policy,
            tolerance=str(allowed), compare=(str(compare_tariffs[0]), str(compare_tariffs[1])) if compare_tariffs else None,
        )  # fmt: skip
        for label, path in (("per-shipment CSV", out), ("rejects", rejects), ("chart", chart)):
            if path:
                console.print(f"{label}: {path}")
    if builder.rejected:
        ctx.exit(EXIT_REJECTED_ROWS)


def _pair(value: str) -> tuple[str, str]:
    field, sep, column = value.partition("=")
    if not sep or not field.strip() or not column.strip():
        raise click.BadParameter(f"{value!r}: give FIELD=COLUMN; fields: {', '.join(FIELDS)}", param_hint="--map")
    return field.strip(), column.strip()


def _strict(read: Callable[[Iterable[str]], Rows[T]], path: Path | None) -> tuple[T, ...]:
    """Terms files must be right in full: a dropped capacity row would silently lift a limit."""
    if path is None:
        return ()
    found = read(open_text(path))
    if found.errors:
        raise click.ClickException(f"{path}: " + "; ".join(f"line {e.line}: {e.message}" for e in found.errors))
    return found.items


@click.command("demo-orders")
@click.option(
    "--n", "count", type=click.IntRange(1, 50_000_000), default=20_000, show_default=True, help="How many rows."
)
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), required=True)
@click.option("--seed", type=int, default=7, show_default=True, help="The same seed writes the same file.")
@click.option("--day", "day_orders", is_flag=True, help="Write a day's orders for `allocate` instead of history.")
@click.pass_context
def demo_orders(ctx: click.Context, count: int, out: Path, seed: int, day_orders: bool) -> None:
    """Write demo shipment history (for `rerate`) over the demo network, a few overbilled on purpose.

    \b
      carrier-router demo-orders --n 100000 --out shipments.csv
      carrier-router rerate shipments.csv --chart rerate.png
    """
    from router.rerating.demo_data import write_demo_history, write_demo_orders

    settings: Settings = ctx.obj
    with out.open("w", newline="", encoding="utf-8") as f:
        if day_orders:
            write_demo_orders(f, count, seed)
            click.echo(f"{count:,} demo orders written to {out}")
            return
        from router.quoting.wiring import bundled_places

        history = write_demo_history(f, count, _tariffs(settings.carriers_dir), bundled_places(), seed)
    click.echo(
        f"{history.rows:,} demo shipments written to {out}; {len(history.overbilled_lines):,} are billed above "
        "tariff on purpose"
    )
