"""Raw delivery outcomes in the records database: the history the store's aggregates are made from.

An import writes its accepted rows to `delivery_outcomes` before it counts them in the store
(`router.history.track_record`), one multi-row insert per batch that skips shipment ids already
kept: a shipment is kept once, as first sent, just as the store's `seen` keys count it once.
Each row keeps the lane the outcome was counted on, so refolding gives the figures the import
gave without resolving coordinates again; `reinstatements` keeps what each reinstatement
forgave. The store's aggregates are shared and short-lived, these rows are the record:

- `restore` counts the kept outcomes the store has not counted (a wiped or new Redis, a
  memory store after a restart). It claims each shipment's `seen` key as an import does, so
  workers restoring at once, or restoring beside imports, count every outcome once. It runs
  in the background whenever the engine opens (`router.quoting.wiring`) and costs one count
  when there is nothing to do.
- `rebuild` deletes the track record from the store and refolds every kept outcome
  (`carrier-router outcomes rebuild`). It refuses when the store has counted more outcomes than
  the records hold (imported before the records kept outcomes: a rebuild would lose them)
  unless forced, and should run while no import is in flight.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from router.core.errors import RouterError
from router.history.layout import AGGREGATE, FAILURES, MONTHS, REFOLDING, SEEN, SUSPENSIONS
from router.history.outcomes import Coordinates, Outcome, OutcomeStatus
from router.history.track_record import ImportReport, TrackRecord
from router.records import Database, RecordsError
from router.records.tables import delivery_outcomes, reinstatements
from router.store import StoreError

log = logging.getLogger(__name__)

PAGE = 10_000  # kept outcomes read and counted at a time when refolding
# Long enough for any refold to finish; renewed with every page, so a crashed one frees it soon.
REFOLD_LEASE_S = 300.0
_EVERY_LANE = ""  # `reinstatements.lane` of a carrier-wide reinstatement


class RefoldRefused(RouterError):
    """A rebuild would lose counts, or another process is refolding."""


@dataclass(frozen=True, slots=True)
class Kept:
    outcome: Outcome
    lane: str | None  # as counted when imported
    imported_at: datetime


def _end(raw: Any) -> str | Coordinates:
    return Coordinates(raw["lat"], raw["lon"]) if isinstance(raw, dict) else str(raw)


def _day(raw: str | None) -> date | None:
    return date.fromisoformat(raw) if raw else None


def outcome_row(outcome: Outcome, lane: str | None) -> dict[str, Any]:
    """A row for `_inserting`: the document as JSON text (coordinates as lat and lon, days in ISO)."""
    document = {
        "origin": outcome.origin,
        "destination": outcome.destination,
        "lane": lane,
        "delivered_on": outcome.delivered_on,
        "promised_on": outcome.promised_on,
        "complaint": outcome.complaint,
    }
    return {
        "shipment_id": outcome.shipment_id,
        "carrier": outcome.carrier,
        "service": outcome.service,
        "handed_over_on": outcome.handed_over_on,
        "status": outcome.status.value,
        "document_json": orjson.dumps(document).decode(),
    }


def _kept(row: sa.Row[Any]) -> Kept:
    doc = row.document
    outcome = Outcome(
        shipment_id=row.shipment_id,
        carrier=row.carrier,
        service=row.service,
        origin=_end(doc["origin"]),
        destination=_end(doc["destination"]),
        handed_over_on=row.handed_over_on,
        status=OutcomeStatus(row.status),
        delivered_on=_day(doc.get("delivered_on")),
        promised_on=_day(doc.get("promised_on")),
        complaint=bool(doc.get("complaint")),
    )
    return Kept(outcome, doc.get("lane"), row.imported_at)


class OutcomeArchive:
    """The raw outcomes and reinstatements in the records database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._restoring: asyncio.Future[None] | None = None

    def start_restoring(self, record: TrackRecord) -> None:
        """`restore` in the background, until `stop_restoring`."""

        async def run() -> None:
            try:
                await restore(record, self)
            except (StoreError, RecordsError):
                log.warning("could not restore the track record from the records", exc_info=True)

        self._restoring = asyncio.ensure_future(run())

    async def restored(self) -> None:
        """Wait for the background restore, if one is running."""
        if self._restoring is not None:
            await asyncio.shield(self._restoring)

    async def stop_restoring(self) -> None:
        if self._restoring is not None:
            self._restoring.cancel()
            with suppress(asyncio.CancelledError):
                await self._restoring
            self._restoring = None

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert)(table)

    def _inserting(self, at: datetime) -> Any:
        """Insert the `outcome_row`s not kept yet, all imported `at`, giving back the ids written.

        SQLAlchemy sends it as multi-row INSERTs. Per row it would encode the document with the
        json module and convert the moment: most of an import's time in the records. Encoded by
        orjson as text instead, and the moment bound once, rows go in about twice as fast."""
        text = sa.bindparam("document_json", type_=sa.Text)
        document = sa.cast(text, postgresql.JSONB) if self.db.dialect == "postgresql" else text
        return (
            self._insert(delivery_outcomes)
            .values(imported_at=at, document=document)
            .on_conflict_do_nothing(index_elements=["shipment_id"])
            .returning(delivery_outcomes.c.shipment_id)
        )

    async def keep(self, outcomes: Sequence[Outcome], lanes: Sequence[str | None], at: datetime) -> set[str]:
        """Write the outcomes whose shipment is not kept yet; the shipment ids written now."""
        if not outcomes:
            return set()
        # The database, not a look-up before it, decides which shipments are new: two imports
        # of the same file at once each get the ids only they wrote.
        rows = [outcome_row(o, lane) for o, lane in zip(outcomes, lanes, strict=True)]
        async with self.db.write() as conn:
            return set((await conn.execute(self._inserting(at), rows)).scalars())

    async def count(self) -> int:
        async with self.db.read() as conn:
            return int((await conn.execute(sa.select(sa.func.count()).select_from(delivery_outcomes))).scalar_one())

    async def pages(self, size: int = PAGE) -> AsyncIterator[list[Kept]]:
        """Every kept outcome in the order imported, a page per short read (no transaction held open)."""
        c = delivery_outcomes.c
        after: tuple[datetime, str] | None = None
        while True:
            query = sa.select(delivery_outcomes).order_by(c.imported_at, c.shipment_id).limit(size)
            if after is not None:
                query = query.where(
                    sa.or_(c.imported_at > after[0], sa.and_(c.imported_at == after[0], c.shipment_id > after[1]))
                )
            async with self.db.read() as conn:
                page = [_kept(row) for row in await conn.execute(query)]
            if not page:
                return
            yield page
            after = (page[-1].imported_at, page[-1].outcome.shipment_id)

    async def forgive(self, scopes: Iterable[tuple[str, str | None]], at: datetime) -> None:
        """Reinstated: the serious failures imported until `at` no longer count in these scopes."""
        rows = [{"carrier": c, "lane": lane or _EVERY_LANE, "reinstated_at": at} for c, lane in scopes]
        if not rows:
            return
        insert = self._insert(reinstatements)
        statement = insert.on_conflict_do_update(
            index_elements=["carrier", "lane"], set_={"reinstated_at": insert.excluded.reinstated_at}
        )
        async with self.db.write() as conn:
            await conn.execute(statement, rows)

    async def reinstated(self) -> dict[tuple[str, str | None], datetime]:
        async with self.db.read() as conn:
            rows = await conn.execute(sa.select(reinstatements))
            return {(r.carrier, r.lane or None): r.reinstated_at for r in rows}


async def _refold(record: TrackRecord, archive: OutcomeArchive) -> ImportReport:
    forgiven = await archive.reinstated()
    report = ImportReport()
    async for page in archive.pages():
        await record.store.set(REFOLDING, b"1", REFOLD_LEASE_S)
        report.rows += len(page)
        await record.count([k.outcome for k in page], [k.lane for k in page], report, _unforgiven(page, forgiven))
    return report


def _unforgiven(
    page: Sequence[Kept], forgiven: Mapping[tuple[str, str | None], datetime]
) -> Callable[[Outcome, str | None], bool]:
    """Whether an outcome's failure counts in a scope: imported after the scope's last reinstatement."""
    imported_at = {k.outcome.shipment_id: k.imported_at for k in page}

    def counts(outcome: Outcome, lane: str | None) -> bool:
        until = forgiven.get((outcome.carrier, lane))
        return until is None or imported_at[outcome.shipment_id] > until

    return counts


@asynccontextmanager
async def _refolding(record: TrackRecord) -> AsyncIterator[bool]:
    """Whether this process may refold now; one at a time among all that share the store."""
    taken = await record.store.add(REFOLDING, b"1", REFOLD_LEASE_S)
    try:
        yield taken
    finally:
        if taken:
            await record.store.delete(REFOLDING)


async def restore(record: TrackRecord, archive: OutcomeArchive) -> int:
    """Count the kept outcomes the store has not counted; how many that was."""
    kept = await archive.count()
    if not kept:
        return 0
    (months,) = await record.store.hgetall([MONTHS])
    if sum(int(n) for n in months.values()) >= kept:
        return 0
    async with _refolding(record) as taken:
        if not taken:
            return 0
        report = await _refold(record, archive)
    if report.imported:
        log.info("restored %d of %d kept outcomes into the track record", report.imported, kept)
    return report.imported


async def rebuild(record: TrackRecord, archive: OutcomeArchive, force: bool = False) -> ImportReport:
    """The store's track record replaced by every kept outcome refolded."""
    await archive.restored()  # this process's own restore holds the refold until it is done
    (months,) = await record.store.hgetall([MONTHS])
    counted, kept = sum(int(n) for n in months.values()), await archive.count()
    if counted > kept and not force:
        raise RefoldRefused(
            f"the track record counts {counted} outcomes but the records keep {kept}: those imported "
            "before the records kept outcomes would be lost; import their files again first, or force it"
        )
    async with _refolding(record) as taken:
        if not taken:
            raise RefoldRefused("another process is refolding the outcomes; try again when it is done")
        for prefix in (AGGREGATE, FAILURES, SEEN):
            await record.store.delete_prefix(prefix)
        for key in (MONTHS, SUSPENSIONS):
            await record.store.delete(key)
        return await _refold(record, archive)
