"""The table `carrier-router quote` prints, whether the quote was made here or asked of a running service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from router.core.models import Badge

LEGEND = "★ recommended  $ cheapest  » fastest"
ESTIMATE_MARK = "~"


@dataclass(frozen=True, slots=True)
class Learned:
    p95_date: date
    on_time_rate: float | None
    sample_size: int
    badge: Badge


@dataclass(frozen=True, slots=True)
class Row:
    marks: str
    carrier_name: str
    service_name: str
    delivery_type: str
    total: str
    min_days: int
    max_days: int
    min_date: date
    max_date: date
    learned: Learned | None = None


def marks(offer_id: str, recommended: str | None, cheapest: str | None, fastest: str | None) -> str:
    return "".join(m for m, chosen in (("★", recommended), ("$", cheapest), ("»", fastest)) if chosen == offer_id)


def print_quote_table(
    header: str,
    rows: Sequence[Row],
    *,
    with_history: bool,
    recommended: str | None,
    reason: str,
    breakdown: str | None,
    notes: Sequence[str] = (),
) -> None:
    """`header` and `notes` are rich markup; every other text (carrier and city names) is printed literally."""
    console = Console()
    console.print(header)
    table = Table(show_lines=False)
    columns = ["", "carrier", "service", "type", "price, RUB", "days", "delivery dates"]
    if with_history:
        columns += ["95 % by", "on time", "history"]
    for col in columns:
        table.add_column(col, justify="right" if col in ("price, RUB", "days", "on time") else "left")
    for row in rows:
        days = f"{row.min_days}–{row.max_days}" if row.min_days != row.max_days else str(row.min_days)
        cells = [
            row.marks,
            escape(row.carrier_name),
            escape(row.service_name),
            row.delivery_type,
            row.total,
            days,
            f"{row.min_date:%d %b} – {row.max_date:%d %b}",
        ]
        if with_history:
            cells += _learned_cells(row.learned)
        table.add_row(*cells)
    console.print(table)
    legend = LEGEND
    if any(ESTIMATE_MARK in row.marks for row in rows):
        legend += f"  {ESTIMATE_MARK} estimate: the carrier's last good answer, not held"
    console.print(legend)
    console.print(f"[bold]Recommended:[/bold] {escape(recommended or 'none')} — {escape(reason)}")
    if breakdown:
        console.print("  " + escape(breakdown))
    for note in notes:
        console.print(note)


def _learned_cells(learned: Learned | None) -> list[str]:
    if learned is None:
        return ["", "", "no history"]
    on_time = "" if learned.on_time_rate is None else f"{learned.on_time_rate:.0%}"
    history = f"{learned.sample_size} on this lane"
    if learned.badge is not Badge.NONE:
        history += f", {learned.badge.value}"
    return [f"{learned.p95_date:%d %b}", on_time, history]
