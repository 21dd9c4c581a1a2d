"""`carrier-router outcomes import|show|rebuild` and `carrier-router carriers reinstate`.

These write to the track record shared by every worker, so they need Redis: kept in this
process's memory, an import would vanish when the command ends. Imported outcomes are kept in
the records database too, which `rebuild` refolds the track record from.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from rich.console import Console
from rich.table import Table

from router.core.errors import ConfigError
from router.core.settings import Settings
from router.history.archive import RefoldRefused, rebuild
from router.history.outcome_files import parse_csv, parse_ndjson, sniff_format
from router.history.outcomes import OutcomeFileError
from router.history.reliability import Tally
from router.history.suspension import Suspension
from router.history.track_record import MAX_REJECTED_ROWS, ImportReport
from router.quoting.wiring import Wired, open_engine
from router.records import RecordsError
from router.store import RedisStore, StoreUnavailable

T = TypeVar("T")
redis_option = click.option("--redis-url", default=None, help="Redis holding the track record (default REDIS_URL).")


def _run(settings: Settings, redis_url: str | None, work: Callable[[Wired], Awaitable[T]]) -> T:
    url = redis_url or settings.redis_url
    if not url:
        raise click.ClickException(
            "set REDIS_URL or --redis-url: the track record lives in Redis, shared by every worker "
            "(a running service without Redis takes outcomes through POST /v1/outcomes)"
        )

    async def go() -> T:
        # Redis itself, not the store that falls back to memory: an import kept in memory would
        # vanish with the command, so a Redis that does not answer must stop it.
        async with open_engine(settings, store=RedisStore(url, settings.redis_prefix)) as opened:
            return await work(opened)

    try:
        return asyncio.run(go())
    except StoreUnavailable as exc:
        raise click.ClickException(f"Redis at {url} does not answer: {exc}") from None
    except (ConfigError, RefoldRefused, RecordsError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def outcomes() -> None:
    """Delivery outcomes: what really happened, to learn each carrier's times and reliability."""


@outcomes.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "csv", "ndjson"]), default="auto", show_default=True)
@click.option("--show-problems", type=click.IntRange(min=0), default=20, show_default=True, help="Bad rows to list.")
@redis_option
@click.pass_context
def import_file(ctx: click.Context, file: Path, fmt: str, show_problems: int, redis_url: str | None) -> None:
    """Import FILE (CSV with a header, or NDJSON); shipments already imported are skipped."""
    with file.open("rb") as f:
        first = f.readline().decode("utf-8", errors="replace").removeprefix("\ufeff")
        f.seek(0)
        kind = sniff_format(file.name, first) if fmt == "auto" else fmt
        rows = parse_csv(f) if kind == "csv" else parse_ndjson(f)
        started = time.perf_counter()

        async def work(opened: Wired) -> ImportReport:
            return await opened.record.record(rows)

        try:
            report = _run(ctx.obj, redis_url, work)
        except OutcomeFileError as exc:
            raise click.ClickException(f"{file}: {exc}") from None
    elapsed = time.perf_counter() - started
    click.echo(
        f"{file}: {report.rows} rows in {elapsed:.1f} s — {report.imported} imported, "
        f"{report.duplicates} already known, {report.rejected} rejected"
    )
    for p in report.problems[:show_problems]:
        click.echo(f"  line {p.line}: {p.field or 'row'}: {p.reason}", err=True)
    if report.rejected > show_problems:
        click.echo(f"  … {report.rejected} rejected rows in all", err=True)
    if report.stopped_at is not None:
        after = _count_lines(file) - report.stopped_at
        click.echo(
            f"  stopped after {MAX_REJECTED_ROWS} rejected rows: line {report.stopped_at} and {after} more "
            "were not read; mend the file and import it again (rows already imported are skipped)",
            err=True,
        )
    for s in report.suspended:
        click.echo(f"{s.carrier} {s.reason}")


def _count_lines(file: Path) -> int:
    with file.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


@outcomes.command("rebuild")
@click.option("--force", is_flag=True, help="Even if the track record counts outcomes the records do not keep.")
@redis_option
@click.pass_context
def rebuild_command(ctx: click.Context, force: bool, redis_url: str | None) -> None:
    """Replace the track record with every outcome the records keep, counted afresh.

    For a track record lost or damaged while the service kept running (one that is missing
    outcomes is completed whenever the service starts). Run it while no import is in flight.
    """

    async def work(opened: Wired) -> ImportReport:
        assert opened.record.archive is not None, "the engine keeps outcomes in the records"
        return await rebuild(opened.record, opened.record.archive, force=force)

    started = time.perf_counter()
    report = _run(ctx.obj, redis_url, work)
    click.echo(f"{report.imported} outcomes counted again in {time.perf_counter() - started:.1f} s")
    for s in report.suspended:
        click.echo(f"{s.carrier} {s.reason}")


def _percentile(hist: list[int], q: float) -> int | None:
    total = sum(hist)
    if not total:
        return None
    running = 0
    for days, n in enumerate(hist):
        running += n
        if running >= q * total:
            return days
    return len(hist) - 1


@outcomes.command("show")
@click.argument("carrier", required=False)
@redis_option
@click.pass_context
def show(ctx: click.Context, carrier: str | None, redis_url: str | None) -> None:
    """What the track record holds for each configured carrier and service (all lanes)."""
    settings: Settings = ctx.obj
    pairs: list[tuple[str, str]] = []

    async def work(opened: Wired) -> list[tuple[Tally | None, list[str]]]:
        pairs.extend(
            (c.code, s.code)
            for c in opened.engine.carrier_infos()
            for s in c.services
            if carrier is None or c.code == carrier
        )
        record = opened.record
        if record.archive is not None:
            await record.archive.restored()  # a store found missing outcomes shows them all
        suspended = {(s.carrier, s.lane): s for s in await record.suspensions()}
        rows = []
        for code, service in pairs:
            notes = [s.reason for (c, _), s in suspended.items() if c == code]
            rows.append((await record.tallies(code, service), notes))
        return rows

    table = Table()
    for col in ("carrier", "service", "outcomes", "on time", "lost/damaged", "p50", "p80", "p95 days"):
        table.add_column(col, justify="left" if col in ("carrier", "service") else "right")
    notes: dict[str, list[str]] = {}
    found = _run(settings, redis_url, work)
    for (code, service), (tally, why) in zip(pairs, found, strict=False):
        notes.setdefault(code, why)
        if tally is None:
            table.add_row(code, service, "0", "", "", "", "", "")
            continue
        on_time = f"{tally.on_time / tally.promised:.1%}" if tally.promised else ""
        p = [_percentile(tally.transit, q) for q in (0.5, 0.8, 0.95)]
        table.add_row(
            code,
            service,
            str(tally.n),
            on_time,
            f"{tally.failed / tally.n:.2%}",
            *(str(x) if x is not None else "" for x in p),
        )
    console = Console()
    console.print(table)
    for code, why in notes.items():
        for line in why:
            console.print(f"[red]{code} {line}[/red]")


@click.command("reinstate")
@click.argument("code")
@click.option("--lane", default=None, help="Only this lane, e.g. RU-MOW>RU-NVS (default: every suspension of CODE).")
@redis_option
@click.pass_context
def reinstate(ctx: click.Context, code: str, lane: str | None, redis_url: str | None) -> None:
    """Lift a carrier's suspension and forgive the failures behind it."""

    async def work(opened: Wired) -> list[Suspension]:
        return await opened.record.reinstate(code, lane)

    lifted = _run(ctx.find_root().obj, redis_url, work)
    if not lifted:
        where = f" on {lane}" if lane else ""
        click.echo(f"{code} was not suspended{where}")
        return
    for s in lifted:
        click.echo(f"reinstated {code} on {s.lane or 'every lane'} (was {s.reason})")
