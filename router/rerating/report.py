"""A re-rating run shown to people: terminal tables, a per-shipment CSV, JSON, and a PNG chart."""

from __future__ import annotations

import csv
import heapq
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from rich import box
from rich.console import Console
from rich.table import Table

from router.allocation.orders import RowError
from router.rerating.results import Rerated, Verdict
from router.rerating.summary import GroupTotals, RerateSummary

ROW_COLUMNS = (
    "line", "id", "shipped_at", "month", "origin", "destination", "region", "carrier", "service",
    "billed", "tariff", "difference", "verdict", "note",
    "best_carrier", "best_service", "best_price", "whatif_saving",
    "plan_carrier", "plan_service", "plan_price", "plan_saving",
    "old_tariff", "new_tariff", "tariff_change",
)  # fmt: skip
TOP_OVERCHARGES = 10


def _s(value: Decimal | None) -> str:
    return "" if value is None else str(value)


class RowWriter:
    """The per-shipment CSV, written as rows arrive.

    Each line is joined here rather than by `csv.writer`, which walks every character of a row
    (about three quarters of the cost of writing it); a cell is quoted exactly as `csv.writer`
    quotes it, and only text from the file or a reason can need it: amounts, dates and codes
    we write never hold a comma, a quote or a line end.
    """

    def __init__(self, stream: IO[str], header: bool = True) -> None:
        self._write = stream.write
        self._moments: dict[object, str] = {}
        self._cells: dict[str, str] = {}  # text as its cell reads: places, carriers, reasons repeat
        if header:
            csv.writer(stream).writerow(ROW_COLUMNS)

    def write(self, r: Rerated) -> None:
        s = r.shipment
        billed, tariff, best, plan, old, new = s.billed, r.tariff, r.best, r.plan, r.old, r.new
        paid = billed if billed is not None else tariff  # Rerated.paid
        # Aware datetimes are equal across zones; the zone in the key keeps each row's own text.
        when = (s.shipped_at, s.shipped_at.tzinfo)
        moment = self._moments.get(when)
        if moment is None:
            if len(self._moments) > 4096:
                self._moments.clear()
            moment = self._moments[when] = s.shipped_at.isoformat()
        cell = self._cell
        if best is not None:
            best_cells = [cell(best.carrier), cell(best.service), str(best.price)]
            saving = "" if paid is None else str(paid - best.price)
        else:
            best_cells, saving = ["", "", ""], ""
        if plan is best:  # planned alone, the plan is the pick
            plan_cells, plan_saving = best_cells, saving
        elif plan is not None:
            plan_cells = [cell(plan.carrier), cell(plan.service), str(plan.price)]
            plan_saving = "" if paid is None else str(paid - plan.price)
        else:
            plan_cells, plan_saving = ["", "", ""], ""
        self._write(
            ",".join(
                [
                    str(s.line), _quoted(s.id), moment, r.month, cell(s.origin_label), cell(s.destination_label),
                    cell(r.region), cell(s.carrier), cell(s.service),
                    "" if billed is None else str(billed), "" if tariff is None else str(tariff),
                    "" if billed is None or tariff is None else str(billed - tariff),  # Rerated.difference
                    r.verdict.value, cell(r.tariff_note), *best_cells, saving, *plan_cells, plan_saving,
                    "" if old is None else str(old), "" if new is None else str(new),
                    "" if old is None or new is None else str(new - old),
                ]
            )
            + "\r\n"
        )  # fmt: skip

    def _cell(self, text: str) -> str:
        found = self._cells.get(text)
        if found is None:
            if len(self._cells) >= 10_000:
                self._cells.clear()
            found = self._cells[text] = _quoted(text)
        return found


_NEEDS_QUOTES = re.compile('[,"\r\n]').search  # the excel dialect's delimiter, quote and line end


def _quoted(text: str) -> str:
    """A text cell as `csv.writer` writes it (excel dialect, minimal quoting)."""
    if _NEEDS_QUOTES(text) is None:
        return text
    return '"' + text.replace('"', '""') + '"'


class RejectWriter:
    def __init__(self, stream: IO[str]) -> None:
        self._out = csv.writer(stream)
        self._out.writerow(("line", "reason"))

    def write(self, e: RowError) -> None:
        self._out.writerow((e.line, e.message))


class Overcharges:
    """The largest overcharges seen, kept without holding every row."""

    def __init__(self, keep: int = TOP_OVERCHARGES) -> None:
        self._keep = keep
        self._heap: list[tuple[Decimal, int, Rerated]] = []

    def add(self, r: Rerated) -> None:
        if r.verdict is not Verdict.OVERBILLED or r.difference is None:
            return
        item = (r.difference, -r.shipment.line, r)
        if len(self._heap) < self._keep:
            heapq.heappush(self._heap, item)
        elif item[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, item)

    def merge(self, other: Overcharges) -> None:
        for _, _, r in other._heap:
            self.add(r)

    def largest(self) -> list[Rerated]:
        return [r for _, _, r in sorted(self._heap, key=lambda i: i[:2], reverse=True)]


# --- terminal


def _rub(value: Decimal) -> str:
    """Kopecks exact, thousands apart; a terminal column wide enough for millions."""
    return f"{value:,.2f}".replace(",", "\u202f")


def _whole(value: Decimal) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def _share(amount: Decimal, of: Decimal) -> str:
    return f"{amount / of:+.1%}" if of else ""


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for n, col in enumerate(columns):
        # Labels may wrap; numbers must not, or a column of amounts turns unreadable.
        table.add_column(col, justify="left" if n == 0 else "right", no_wrap=n > 0)
    return table


def print_summary(
    console: Console,
    summary: RerateSummary,
    largest: Sequence[Rerated],
    *,
    source: str,
    tariffs: str,
    policy: str,
    tolerance: str,
    compare: tuple[str, str] | None,
) -> None:
    t = summary.total
    console.print(
        f"[bold]Re-rated {t.shipments:,} shipments[/bold] from {source} under {tariffs} "
        f"(what-if policy {policy}, tolerance {tolerance}); amounts in RUB"
    )
    if summary.rejected:
        console.print(f"[yellow]{summary.rejected:,} row(s) rejected; each is listed with its line[/yellow]")
    if summary.no_tariff:
        console.print(f"[yellow]{summary.no_tariff:,} shipment(s) have no price in these tariffs[/yellow]")

    if t.billed:
        console.print()
        console.print(
            f"[bold]Invoice audit[/bold]: {summary.overbilled:,} shipment(s) billed above the tariff of their "
            f"carrier and service by more than {tolerance}, [red]{_rub(t.overbilled)}[/red] in all"
        )
        audits: tuple[tuple[str, Sequence[GroupTotals]], ...] = (
            ("carrier", summary.by_carrier),
            ("month", summary.by_month),
        )
        for title, groups in audits:
            table = _table(f"by {title}", title, "n", "billed", "tariff", "difference", "flagged", "overcharge")
            for g in (*groups, t):
                table.add_row(
                    g.label if g is not t else "total", f"{g.shipments:,}", _whole(g.billed), _whole(g.tariff),
                    _rub(g.billed - g.tariff), f"{g.overbilled_count:,}", _rub(g.overbilled),
                    style="bold" if g is t else None, end_section=g is groups[-1],
                )  # fmt: skip
            console.print(table)
        if largest:
            table = _table("largest overcharges", "id", "line", "date", "carrier/service", "billed", "tariff", "over")
            for r in largest:
                s = r.shipment
                table.add_row(
                    s.id, str(s.line), s.day.isoformat(), f"{s.carrier}/{s.service}", _rub(s.billed or Decimal(0)),
                    _rub(r.tariff or Decimal(0)), f"[red]{_rub(r.difference or Decimal(0))}[/red]",
                )  # fmt: skip
            console.print(table)

    console.print()
    planned = t.plan != t.best
    statuses = ", ".join(f"{n} {s}" for s, n in summary.plan_statuses)
    console.print(
        f"[bold]What-if[/bold]: the {policy} offer for each shipment"
        + (f", and one allocation plan per shipping day ({summary.days} days: {statuses})" if planned else "")
    )
    views: tuple[tuple[str, Sequence[GroupTotals]], ...] = (
        ("carrier", summary.by_carrier),
        ("region", _top(summary.by_region)),
        ("month", summary.by_month),
    )
    for title, groups in views:
        caption = f"by {title}" + (" (the 10 largest savings)" if title == "region" else "")
        # Nine columns do not fit a terminal's 80: with day plans the shares give way.
        columns = [title, "n", "paid", policy, "saving"] + (["plans", "saving"] if planned else ["%"])
        table = _table(caption, *columns)
        for g in (*groups, t):
            cells = [
                g.label if g is not t else "total", f"{g.shipments:,}", _whole(g.paid), _whole(g.best),
                _whole(g.whatif_saving),
            ]  # fmt: skip
            cells += [_whole(g.plan), _whole(g.plan_saving)] if planned else [_share(g.whatif_saving, g.paid)]
            table.add_row(*cells, style="bold" if g is t else None, end_section=g is groups[-1])
        console.print(table)
    if not planned:
        console.print(
            "[dim]The day plans equal the per-shipment offers: give --capacity or --tiers to plan under "
            "the carriers' limits and discounts.[/dim]"
        )
    if summary.out_of_order_days:
        console.print(
            f"[yellow]{summary.out_of_order_days} day(s) came back after other days; sort the file by date "
            "for one plan per day[/yellow]"
        )

    if compare is not None and t.compared:
        console.print()
        console.print(f"[bold]Tariff change[/bold]: {compare[0]} → {compare[1]}, same carrier and service")
        table = _table("by carrier", "carrier", "n", "old", "new", "change", "%")
        shown = [g for g in summary.by_carrier if g.compared]
        for g in (*shown, t):
            change = f"[red]{_rub(g.change)}[/red]" if g.change > 0 else f"[green]{_rub(g.change)}[/green]"
            table.add_row(
                g.label if g is not t else "total", f"{g.compared:,}", _rub(g.old), _rub(g.new), change,
                _share(g.change, g.old), style="bold" if g is t else None, end_section=bool(shown) and g is shown[-1],
            )  # fmt: skip
        console.print(table)


def _top(groups: Sequence[GroupTotals]) -> list[GroupTotals]:
    return sorted(groups, key=lambda g: g.whatif_saving, reverse=True)[:10]


# --- JSON


def _group_json(g: GroupTotals) -> dict[str, Any]:
    return {
        "key": g.key,
        "label": g.label,
        "shipments": g.shipments,
        "paid": str(g.paid),
        "audit": {
            "billed": str(g.billed),
            "tariff": str(g.tariff),
            "overbilled_shipments": g.overbilled_count,
            "overcharge": str(g.overbilled),
        },
        "what_if": {
            "best": str(g.best),
            "saving": str(g.whatif_saving),
            "plan": str(g.plan),
            "plan_saving": str(g.plan_saving),
        },
        "tariff_change": {"shipments": g.compared, "old": str(g.old), "new": str(g.new), "change": str(g.change)},
    }


def summary_json(summary: RerateSummary, largest: Sequence[Rerated]) -> dict[str, Any]:
    return {
        "rows": summary.rows,
        "rejected": summary.rejected,
        "no_tariff": summary.no_tariff,
        "overbilled": summary.overbilled,
        "total": _group_json(summary.total),
        "by_carrier": [_group_json(g) for g in summary.by_carrier],
        "by_month": [_group_json(g) for g in summary.by_month],
        "by_region": [_group_json(g) for g in summary.by_region],
        "day_plans": {"days": summary.days, "statuses": dict(summary.plan_statuses)},
        "largest_overcharges": [
            {
                "line": r.shipment.line,
                "id": r.shipment.id,
                "carrier": r.shipment.carrier,
                "service": r.shipment.service,
                "billed": _s(r.shipment.billed),
                "tariff": _s(r.tariff),
                "difference": _s(r.difference),
            }
            for r in largest
        ],
    }


# --- chart


def write_chart(path: Path, summary: RerateSummary, title: str) -> None:
    """Overcharges and savings by carrier and by month (and the tariff change, when compared)."""
    # The object API with the Agg canvas: no global pyplot state, no display needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels: list[tuple[str, Sequence[GroupTotals]]] = [
        ("by carrier", summary.by_carrier),
        ("by month", summary.by_month),
    ]
    compared = [g for g in summary.by_carrier if g.compared]
    fig = Figure(figsize=(11, 4.2 * (len(panels) + bool(compared))), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels) + bool(compared), 1, squeeze=False)[:, 0]
    series: tuple[tuple[str, str, Callable[[GroupTotals], Decimal]], ...] = (
        ("overcharge", "#d62728", lambda g: g.overbilled),
        ("what-if saving", "#1f77b4", lambda g: g.whatif_saving),
        ("plan saving", "#2ca02c", lambda g: g.plan_saving),
    )
    for ax, (name, groups) in zip(axes, panels, strict=False):
        labels = [g.label for g in groups]
        width = 0.8 / len(series)
        for n, (label, colour, value) in enumerate(series):
            xs = [i + (n - 1) * width for i in range(len(groups))]
            ax.bar(xs, [float(value(g)) for g in groups], width, label=label, color=colour)
        crowded = len(groups) > 6
        ax.set_xticks(range(len(groups)), labels, rotation=30 if crowded else 0, ha="right" if crowded else "center")
        ax.set_ylabel("RUB")
        ax.set_title(name)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.grid(axis="y", alpha=0.3)
        ax.legend()
    if compared:
        ax = axes[-1]
        changes = [float(g.change) for g in compared]
        ax.bar([g.label for g in compared], changes, color=["#d62728" if c > 0 else "#2ca02c" for c in changes])
        ax.set_title("tariff change by carrier (new − old, same shipments)")
        ax.set_ylabel("RUB")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
