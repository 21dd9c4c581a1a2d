"""`carrier-router allocate`: plan a day's orders from CSV files and write the plan as CSV."""

from __future__ import annotations

import asyncio
import csv
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from router.allocation import (
    CarrierCapacity,
    DiscountTier,
    Method,
    Order,
    Plan,
    SolverOptions,
    Terms,
    Warehouse,
    allocate,
    check_warehouses,
)
from router.allocation.codec import plan_answer
from router.allocation.orders import (
    RowError,
    Rows,
    location_from_text,
    open_text,
    read_capacities,
    read_orders,
    read_tiers,
    read_warehouses,
)
from router.cli.booking import Sender, book_day, print_booking
from router.cli.shipments import owner_option
from router.core.codec import indented
from router.core.errors import ConfigError, RouterError
from router.core.settings import Settings

EXIT_REJECTED_ROWS = 3
EXIT_NOT_BOOKED = 4
PLAN_COLUMNS = (
    "order_id", "status", "warehouse", "carrier", "service", "price", "days", "eta_max_date", "reason", "detail",
)  # fmt: skip


def _pairs(values: Sequence[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip() or not rest.strip():
            raise click.BadParameter(f"{value!r}: give {what}")
        pairs.append((key.strip(), rest.strip()))
    return pairs


def _strict(rows: Rows, path: Path) -> tuple:  # type: ignore[type-arg]
    """Terms files must be right in full: a dropped capacity row would silently lift a limit."""
    if rows.errors:
        raise click.ClickException(f"{path}: " + "; ".join(f"line {e.line}: {e.message}" for e in rows.errors))
    return rows.items


@click.command("allocate")
@click.argument("orders_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--warehouses",
    "warehouses_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='CSV: code, location (a city, postal code or "lat,lon").',
)
@click.option(
    "--warehouse",
    "inline_warehouses",
    multiple=True,
    metavar="CODE=PLACE",
    help="A warehouse without a file, e.g. --warehouse MSK=Москва; repeatable.",
)
@click.option(
    "--capacity",
    "capacity_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV: carrier, warehouse, max_parcels (parcels a day; unlisted pairs are unlimited).",
)
@click.option(
    "--tiers",
    "tiers_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV: carrier, min_parcels, percent (volume discounts on the month's parcels).",
)
@click.option(
    "--month-to-date",
    "month_to_date",
    multiple=True,
    metavar="CARRIER=PARCELS",
    help="Parcels already sent this month, for the tiers; repeatable.",
)
@click.option(
    "--day-value",
    type=Decimal,
    default=Decimal(0),
    show_default=True,
    help="RUB per business day in transit added to the cost being minimised.",
)
@click.option(
    "--ship-at",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
    metavar="ISO",
    help="When the parcels are handed over, with a zone offset (default now).",
)
@click.option(
    "--method",
    type=click.Choice([m.value for m in Method]),
    default="auto",
    show_default=True,
    help="auto: min-cost flow, or CP-SAT when tiers apply.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds the CP-SAT search may run.",
)
@click.option(
    "--gap",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Stop once the plan is proved within this fraction of the best possible, e.g. 0.001.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=8,
    show_default=True,
    help="CP-SAT search workers (they share the cores); 0 is one per core.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the plan, one row per order, as CSV.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as POST /v1/allocations answers it.")
@click.option("--book", is_flag=True, help="Book every planned order with its carrier, then ask for the pick-ups.")
@click.option("--sender-name", help="With --book: who sends (else each order's sender_name column).")
@click.option("--sender-phone", help="With --book: the sender's phone (else each order's sender_phone column).")
@click.option(
    "--pickup-address",
    "pickup_addresses",
    multiple=True,
    metavar="CODE=ADDRESS",
    help="With --book: the street address a carrier's courier collects from at a warehouse; repeatable.",
)
@owner_option
@click.pass_context
def allocate_command(
    ctx: click.Context,
    orders_csv: Path,
    warehouses_csv: Path | None,
    inline_warehouses: tuple[str, ...],
    capacity_csv: Path | None,
    tiers_csv: Path | None,
    month_to_date: tuple[str, ...],
    day_value: Decimal,
    ship_at: datetime | None,
    method: str,
    time_limit: float,
    gap: float,
    workers: int,
    out: Path | None,
    as_json: bool,
    book: bool,
    sender_name: str | None,
    sender_phone: str | None,
    pickup_addresses: tuple[str, ...],
    owner: str,
) -> None:
    """Plan a day's orders: one warehouse, carrier and service per order at the lowest total cost.

    \b
    ORDERS_CSV columns (header row; extra columns ignored):
      id, destination, weight_g, length_cm, width_cm, height_cm      required
      parcels          identical parcels in the order (default 1)
      declared_value   RUB;  cod  true/false
      warehouses       codes it may ship from, "MSK|EKB" (default: any)
      deadline         latest delivery date, YYYY-MM-DD
      exclude          carriers it must not use, "vestnik|magistral"

    Every order is quoted from each of its warehouses; the plan respects the daily capacities
    and applies the discount tiers, and is shown beside the greedy cheapest-per-order plan.
    A bad order row is reported with its line and left out; the exit code is then 3.

    \b
    With --book every planned order is booked (ORDERS_CSV then also gives
    recipient_name, recipient_phone, and address for the door or pickup_point_id
    for a pickup point; sender_name, sender_phone unless --sender-*), each once
    a day however often it is run, and the carriers with an API are asked to
    collect; orders that cannot be booked are listed and the exit code is 4.

    \b
    Example (today's demo orders, and the bundled demo files):
      carrier-router demo-orders --day --n 500 --out orders.csv
      carrier-router allocate orders.csv --warehouses data/demo/warehouses.csv \\
          --capacity data/demo/capacity.csv --tiers data/demo/tiers.csv \\
          --month-to-date magistral=4800 --month-to-date vestnik=2900 --out plan.csv
    """
    settings: Settings = ctx.obj
    err = Console(stderr=True)
    warehouses: list[Warehouse] = []
    if warehouses_csv:
        warehouses.extend(_strict(read_warehouses(open_text(warehouses_csv)), warehouses_csv))
    for code, place in _pairs(inline_warehouses, "CODE=PLACE"):
        warehouses.append(Warehouse(code, location_from_text(place)))
    if not warehouses:
        raise click.UsageError("give the warehouses: --warehouses FILE or --warehouse CODE=PLACE")
    if len({w.code for w in warehouses}) != len(warehouses):
        raise click.UsageError("a warehouse code is given twice")
    capacities: tuple[CarrierCapacity, ...] = ()
    if capacity_csv:
        capacities = _strict(read_capacities(open_text(capacity_csv)), capacity_csv)
    tiers: tuple[DiscountTier, ...] = ()
    if tiers_csv:
        tiers = _strict(read_tiers(open_text(tiers_csv)), tiers_csv)
    mtd: dict[str, int] = {}
    for carrier, count in _pairs(month_to_date, "CARRIER=PARCELS"):
        if not count.isdigit():
            raise click.BadParameter(f"{carrier}={count}: parcels must be a whole number", param_hint="--month-to-date")
        mtd[carrier] = int(count)
    if day_value < 0 or day_value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise click.BadParameter("a non-negative amount with at most kopecks", param_hint="--day-value")
    if ship_at is not None and ship_at.tzinfo is None:
        raise click.BadParameter("needs a zone offset, e.g. 2026-11-24T10:00+03:00", param_hint="--ship-at")
    if Method(method) is Method.FLOW and tiers:
        raise click.UsageError("--method flow cannot price discount tiers")
    if (sender_name is None) != (sender_phone is None):
        raise click.UsageError("give both --sender-name and --sender-phone, or neither")
    if (sender_name or pickup_addresses) and not book:
        raise click.UsageError("--sender-* and --pickup-address are for --book")
    addresses = dict(_pairs(pickup_addresses, "CODE=ADDRESS"))

    rows = read_orders(open_text(orders_csv), {w.code for w in warehouses})
    for e in rows.errors:
        err.print(f"[yellow]{orders_csv}:{e.line}: {e.message}[/yellow]", soft_wrap=True)
    terms = Terms(capacities, tiers, mtd, day_value)
    options = SolverOptions(time_limit_s=time_limit, num_workers=workers, relative_gap=gap)
    try:
        plan = asyncio.run(_plan(settings, rows.items, warehouses, terms, options, Method(method), ship_at, err))
    except (RouterError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None

    if out:
        write_plan_csv(out, plan, rows.items)
    if as_json:
        sys.stdout.buffer.write(indented(plan_answer(plan)) + b"\n")
    else:
        print_plan(Console(), plan, rows.errors, out)
    if book:
        sender = Sender(sender_name, sender_phone) if sender_name and sender_phone else None
        booking = book_day(settings, plan, rows.items, warehouses, ship_at, owner, sender, addresses, err)
        print_booking(err if as_json else Console(), booking)
        if booking.failed:
            ctx.exit(EXIT_NOT_BOOKED)
    if rows.errors:
        ctx.exit(EXIT_REJECTED_ROWS)


async def _plan(
    settings: Settings,
    orders: Sequence[Order],
    warehouses: Sequence[Warehouse],
    terms: Terms,
    options: SolverOptions,
    method: Method,
    ship_at: datetime | None,
    err: Console,
) -> Plan:
    from router.quoting.wiring import open_engine

    async with open_engine(settings) as opened:
        engine = opened.engine
        check_warehouses(engine, warehouses)
        quotes = sum(len(o.warehouses) or len(warehouses) for o in orders)
        columns = (TextColumn("quoting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True, disable=quotes < 2000) as bar:
            task = bar.add_task("quotes", total=len(orders))
            return await allocate(
                engine, orders, warehouses, terms, options, method, ship_at,
                progress=lambda n: bar.advance(task, n),
            )  # fmt: skip


def write_plan_csv(path: Path, plan: Plan, orders: Sequence[Order]) -> None:
    """One row per order, in the input's order."""
    assigned = {a.order_id: a for a in plan.assignments}
    unserved = {u.order_id: u for u in plan.unserved}
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(PLAN_COLUMNS)
        for order in orders:
            if order.id in assigned:
                o = assigned[order.id].option
                out.writerow([order.id, "assigned", o.warehouse, o.carrier, o.service, o.price, o.days,
                              o.eta_max_date.isoformat(), "", ""])  # fmt: skip
            else:
                u = unserved[order.id]
                out.writerow([order.id, "unserved", "", "", "", "", "", "", u.reason.value, u.detail])


def _per_order(total: Decimal, served: int) -> str:
    return f"{(total / served).quantize(Decimal('0.01')):,.2f} RUB" if served else "—"


def print_plan(console: Console, plan: Plan, rejected: Sequence[RowError], out: Path | None) -> None:
    proof = "proved optimal" if plan.gap == 0 else f"within {plan.gap:.2%} of the best possible"
    if plan.status.value == "GREEDY":
        proof = "the solver found nothing better than greedy in the time limit"
    console.print(f"[bold]Plan[/bold] by {plan.method}: {plan.status.value}, {proof}, {plan.wall_time_s:.2f} s")
    table = Table()
    for col in ("", "served", "unserved", "cost, RUB", "objective, RUB"):
        table.add_column(col, justify="left" if not col else "right")
    table.add_row("plan", str(len(plan.assignments)), str(len(plan.unserved)), f"{plan.total_cost:,.2f}",
                  f"{plan.objective:,.2f}")  # fmt: skip
    g = plan.greedy
    table.add_row(
        "greedy", str(len(g.assignments)), str(len(g.unserved)), f"{g.total_cost:,.2f}", f"{g.objective:,.2f}"
    )
    console.print(table)
    if len(plan.assignments) == len(g.assignments):
        share = f" ({plan.saving / g.total_cost:.1%})" if g.total_cost else ""
        console.print(f"Saving against greedy: [bold]{plan.saving:,.2f} RUB[/bold]{share}")
    else:
        # Totals over different sets of orders are not a saving: serving more orders costs more.
        console.print(
            f"The plan serves {len(plan.assignments)} orders and greedy {len(g.assignments)} "
            f"({len(plan.unserved)} and {len(g.unserved)} unserved): per served order "
            f"[bold]{_per_order(plan.total_cost, len(plan.assignments))}[/bold] against "
            f"{_per_order(g.total_cost, len(g.assignments))}."
        )

    spend: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    count: Counter[tuple[str, str]] = Counter()
    for a in plan.assignments:
        spend[(a.option.carrier, a.option.warehouse)] += a.option.price
        count[(a.option.carrier, a.option.warehouse)] += 1
    by_pickup = Table(title="By carrier and warehouse")
    for col in ("carrier", "warehouse", "orders", "spend, RUB"):
        by_pickup.add_column(col, justify="right" if col in ("orders", "spend, RUB") else "left")
    for key in sorted(spend):
        by_pickup.add_row(key[0], key[1], str(count[key]), f"{spend[key]:,.2f}")
    console.print(by_pickup)
    for d in plan.discounts:
        console.print(
            f"Discount {d.carrier}: {d.percent}% at {d.month_parcels} parcels this month: −{d.amount:,.2f} RUB"
        )
    reasons = Counter(u.reason.value for u in plan.unserved)
    for reason, n in reasons.most_common():
        example = next(u for u in plan.unserved if u.reason.value == reason)
        console.print(f"[yellow]unserved, {reason}: {n}[/yellow] — e.g. {example.order_id}: {example.detail}")
    if rejected:
        console.print(f"[yellow]{len(rejected)} order row(s) rejected; see the messages above[/yellow]")
    if out:
        console.print(f"Plan written to {out}")
