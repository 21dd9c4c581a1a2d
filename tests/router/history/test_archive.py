"""Raw outcomes kept in the records database, and the track record refolded from them."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from router.history.archive import OutcomeArchive, RefoldRefused, rebuild, restore
from router.history.layout import REFOLDING
from router.history.outcomes import MAX_ID, Coordinates, Outcome, OutcomeStatus, RowProblem
from router.history.track_record import TrackRecord
from router.records import Database, open_database
from router.records.tables import delivery_outcomes
from router.store import MemoryStore, Store
from tests.router.history.test_reliability import LANE, outcome, serious
from tests.router.outcome_sim import simulate

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.fixture
async def db(records_url: str) -> AsyncIterator[Database]:
    async with open_database(records_url) as database:
        yield database


class Clock:
    """Moves on a second each time it is read: every import and reinstatement has its own moment."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def track_record(store: Store, db: Database | None) -> TrackRecord:
    return TrackRecord(store, clock=Clock(), archive=OutcomeArchive(db) if db is not None else None)


def history() -> list[Outcome]:
    """Two carriers over a few lanes and services, with three failures close together on LANE."""
    rnd = random.Random(3)
    found: list[Outcome] = []
    for carrier, service, lane in [("acme", "std", LANE), ("acme", "fast", LANE), ("other", "std", "RU-48>RU-66")]:
        found += simulate(carrier, service, lane, 40, {2: 0.5, 3: 0.3, 5: 0.2}, 3, rnd, start=date(2026, 6, 1))[0]
    found += [serious(i, date(2026, 11, 2 + i)) for i in range(3)]
    return found


async def figures(record: TrackRecord) -> dict[str, Any]:
    """What quotes are made from: every tally a quote may read, and the suspensions in force."""
    keys = [("acme", None, None), ("other", None, None)]
    keys += [(c, s, None) for c, s in [("acme", "std"), ("acme", "fast"), ("other", "std")]]
    keys += [("acme", "std", LANE), ("acme", "fast", LANE), ("other", "std", "RU-48>RU-66")]
    suspended = [(s.carrier, s.lane, s.failures, s.first_day, s.last_day, s.kinds) for s in await record.suspensions()]
    return {"tallies": {k: await record.tallies(*k) for k in keys}, "suspended": suspended}


async def kept_rows(db: Database) -> dict[str, sa.Row[Any]]:
    async with db.read() as conn:
        return {row.shipment_id: row for row in await conn.execute(sa.select(delivery_outcomes))}


async def test_an_import_keeps_every_accepted_row_in_the_records(db: Database) -> None:
    record = track_record(MemoryStore(), db)
    at_places = outcome(1, origin=Coordinates(55.75, 37.62), complaint=True, promised_on=date(2026, 11, 3))
    lost = serious(2, date(2026, 11, 5))
    rows: Iterable[Outcome | RowProblem] = [at_places, RowProblem(3, "carrier", "is required"), lost]
    report = await record.record(rows)
    assert (report.rows, report.imported, report.rejected) == (3, 2, 1)

    kept = await kept_rows(db)
    assert set(kept) == {at_places.shipment_id, lost.shipment_id}
    row = kept[at_places.shipment_id]
    assert (row.carrier, row.service, row.handed_over_on, row.status) == ("acme", "std", date(2026, 11, 2), "delivered")
    assert row.imported_at > NOW
    assert row.document == {
        "origin": {"lat": 55.75, "lon": 37.62},
        "destination": "RU-NVS",  # written RU-53 (GeoNames): kept as read, in ISO 3166-2
        "lane": None,  # no places to resolve the coordinates with: counted without a lane, kept so
        "delivered_on": "2026-11-05",  # two working days on: 4 November is a holiday
        "promised_on": "2026-11-03",
        "complaint": True,
    }
    assert kept[lost.shipment_id].document["lane"] == LANE


async def test_a_shipment_sent_again_is_a_duplicate_within_an_import_and_across_imports(db: Database) -> None:
    store = MemoryStore()
    first = [outcome(i) for i in range(5)]
    report = await track_record(store, db).record([*first, first[0]])
    assert (report.imported, report.duplicates) == (5, 1)

    # Another worker, sharing nothing with the first but the records: a store that never saw
    # them still counts none of the five again (a Redis wiped between two imports).
    again = track_record(MemoryStore(), db)
    report = await again.record([*first, outcome(9)])
    assert (report.imported, report.duplicates) == (1, 5)
    tally = await again.tallies("acme", "std")
    assert tally is not None and tally.n == 1
    assert len(await kept_rows(db)) == 6
    first_tally = await track_record(store, db).tallies("acme", "std")
    assert first_tally is not None and first_tally.n == 5


async def test_after_the_store_is_wiped_a_rebuild_gives_the_same_figures(db: Database, store: Store) -> None:
    record = track_record(store, db)
    report = await record.record(history(), batch_size=50)
    assert [(s.carrier, s.lane) for s in report.suspended] == [("acme", LANE)]
    before = await figures(record)

    await store.delete_prefix("rel:")
    assert (await figures(record))["tallies"][("acme", None, None)] is None
    assert record.archive is not None
    rebuilt = await rebuild(record, record.archive)
    assert (rebuilt.imported, rebuilt.duplicates) == (report.imported, 0)
    assert await figures(record) == before

    # Rebuilding a store that is whole replaces it with the same, never adds to it.
    await rebuild(record, record.archive)
    assert await figures(record) == before
    assert (await record.record(history()[:10])).duplicates == 10


async def test_a_store_that_lost_its_figures_is_restored_once_however_many_workers_restore(db: Database) -> None:
    record = track_record(MemoryStore(), db)
    await record.record(history())
    before = await figures(record)

    shared = MemoryStore()  # an empty Redis every worker shares
    workers = [track_record(shared, db) for _ in range(3)]
    counted = await asyncio.gather(*(restore(w, w.archive) for w in workers))  # type: ignore[arg-type]
    assert sum(counted) == len(history())
    assert await figures(workers[0]) == before
    assert await restore(workers[0], workers[0].archive) == 0  # type: ignore[arg-type]


async def test_a_reinstatement_still_forgives_its_failures_after_a_rebuild(db: Database) -> None:
    store = MemoryStore()
    record = track_record(store, db)
    await record.record(history())
    (lifted,) = await record.reinstate("acme", LANE)
    assert lifted.lane == LANE
    await store.delete_prefix("rel:")
    assert record.archive is not None
    await rebuild(record, record.archive)
    assert await record.suspensions() == []

    # Only failures imported after the reinstatement count: with the old three, these two
    # would make five within seven days; alone they are two, and a third suspends again.
    more = [serious(10 + i, date(2026, 11, 6 + i)) for i in range(2)]
    assert (await record.record(more)).suspended == []
    assert len((await record.record([serious(20, date(2026, 11, 7))])).suspended) == 1


async def test_outcomes_counted_before_the_records_kept_them_stay_counted(db: Database, store: Store) -> None:
    # The previous release counted outcomes in the store (Redis) only.
    older = history()
    await track_record(store, None).record(older)
    upgraded = track_record(store, db)
    before = await figures(upgraded)
    assert upgraded.archive is not None
    assert await restore(upgraded, upgraded.archive) == 0

    with pytest.raises(RefoldRefused, match="would be lost"):
        await rebuild(upgraded, upgraded.archive)
    # Sent again, they are duplicates, and kept from now on: then a rebuild loses nothing.
    report = await upgraded.record(older)
    assert (report.imported, report.duplicates) == (0, len(older))
    assert len(await kept_rows(db)) == len(older)
    await rebuild(upgraded, upgraded.archive)
    assert await figures(upgraded) == before


async def test_one_process_refolds_at_a_time(db: Database) -> None:
    store = MemoryStore()
    record = track_record(store, db)
    await record.record(history())
    await store.delete_prefix("rel:a:")
    await store.add(REFOLDING, b"1", 60)
    assert record.archive is not None
    with pytest.raises(RefoldRefused, match="another process"):
        await rebuild(record, record.archive)
    assert await restore(record, record.archive) == 0


async def test_kept_outcomes_come_back_as_they_were_imported(db: Database) -> None:
    sent = [
        outcome(
            1, origin=Coordinates(55.75, 37.62), destination=Coordinates(-33.9, 151.2), promised_on=date(2026, 11, 3)
        ),
        serious(2, date(2026, 11, 2), status=OutcomeStatus.DAMAGED, delivered_on=date(2026, 11, 6), complaint=True),
    ]
    archive = OutcomeArchive(db)
    assert await archive.keep(sent, [None, LANE], NOW) == {o.shipment_id for o in sent}
    got = [k async for page in archive.pages(size=1) for k in page]
    assert sorted(((k.outcome, k.lane, k.imported_at) for k in got), key=lambda k: k[0].shipment_id) == sorted(
        zip(sent, [None, LANE], [NOW, NOW], strict=True), key=lambda k: k[0].shipment_id
    )


async def test_the_longest_shipment_id_the_importer_accepts_is_kept(db: Database) -> None:
    longest = "x" * MAX_ID
    report = await track_record(MemoryStore(), db).record([replace(outcome(1), shipment_id=longest)])
    assert report.imported == 1
    assert set(await kept_rows(db)) == {longest}


async def test_outcomes_kept_at_the_first_revision_are_still_there_after_the_upgrade(records_url: str) -> None:
    async with open_database(records_url, upgrade=False) as db:
        await db.upgrade("0001")
        row = {
            "shipment_id": "s1",
            "carrier": "acme",
            "service": "std",
            "handed_over_on": date(2026, 11, 2),
            "status": "lost",
            "imported_at": NOW,
            "document": {"origin": "RU-48", "destination": "RU-53", "lane": LANE, "complaint": False},
        }
        async with db.write() as conn:
            await conn.execute(sa.insert(delivery_outcomes), [row])
        await db.upgrade()
        (kept,) = [k async for page in OutcomeArchive(db).pages() for k in page]
    assert (kept.outcome.shipment_id, kept.outcome.status, kept.lane, kept.imported_at) == (
        "s1",
        OutcomeStatus.LOST,
        LANE,
        NOW,
    )
