"""Imported pickup-point networks, kept in the records instead of under the data directory.

`carrier-router points import` replaces a network's points here in one transaction: readers
see the network as it was or as it is now, never half of each. Each point is the GeoJSON
feature `pickup_points.storage.point_feature` writes, and it is read back by the GeoJSON
importer, so the records hold the importers' vocabulary rather than a second one. Loading reads
every network's points in one statement, which is one snapshot on PostgreSQL as on SQLite.

A network's `imported_at` changes with every import and removal is a deleted row, so `marks()`
is all a running service needs to learn that what it loaded is out of date.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from pickup_points.importers import import_geojson
from pickup_points.model import PickupPoint, network_name
from pickup_points.storage import load_points, point_feature, replace_networks
from router.records.database import Database
from router.records.errors import RecordsError
from router.records.tables import pickup_network_points, pickup_networks

# Each batch is converted off the event loop; a few thousand points is a few milliseconds.
_BATCH = 5_000


def _length(column: sa.Column[Any]) -> int:
    assert isinstance(column.type, sa.String) and column.type.length, column
    return column.type.length


_CODE_CHARS = _length(pickup_network_points.c.point_id)
_SOURCE_CHARS = _length(pickup_networks.c.source)


Marks = dict[str, datetime]  # each imported network's imported_at


class NetworkRecordError(RecordsError):
    """A network that cannot be kept as given (a code too long for its column, a stray point)."""


class UnknownNetwork(NetworkRecordError):
    """No imported network has this name."""


@dataclass(frozen=True, slots=True)
class NetworkRecord:
    name: str
    source: str  # what it was imported from, as the importer named it
    imported_at: datetime
    point_count: int


@dataclass(frozen=True, slots=True)
class StoredPointError:
    """A stored point the importer no longer reads (a time zone dropped from tzdata, say)."""

    network: str
    code: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"records: {self.network}:{self.code}: {self.field or 'point'}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LoadedNetworks:
    points: tuple[PickupPoint, ...]
    errors: tuple[StoredPointError, ...]
    marks: Marks


def _record(row: sa.Row[Any]) -> NetworkRecord:
    return NetworkRecord(row.name, row.source, row.imported_at, row.point_count)


class Networks:
    """The imported networks in the records database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def save(self, name: str, points: Sequence[PickupPoint], source: str) -> NetworkRecord:
        """Replace network `name`'s points with `points`, all at once."""
        network_name(name)
        if not points:
            raise NetworkRecordError(f"no points for {name!r}: remove the network instead")
        for p in points:
            if p.network != name:
                raise NetworkRecordError(f"point {p.id} belongs to {p.network!r}, not to {name!r}")
            if len(p.code) > _CODE_CHARS:
                raise NetworkRecordError(f"point code {p.code[:20]!r}… is longer than {_CODE_CHARS} characters")
        record = NetworkRecord(name, source[:_SOURCE_CHARS], datetime.now(UTC), len(points))
        rows = await asyncio.to_thread(
            lambda: [{"network": name, "point_id": p.code, "document": point_feature(p)} for p in points]
        )
        async with self.db.write() as conn:
            await self._one_writer(conn)
            await conn.execute(pickup_network_points.delete().where(pickup_network_points.c.network == name))
            await conn.execute(pickup_networks.delete().where(pickup_networks.c.name == name))
            await conn.execute(
                pickup_networks.insert().values(
                    name=name, source=record.source, imported_at=record.imported_at, point_count=record.point_count
                )
            )
            for start in range(0, len(rows), _BATCH):
                await conn.execute(pickup_network_points.insert(), rows[start : start + _BATCH])
        return record

    async def _one_writer(self, conn: AsyncConnection) -> None:
        # Two first imports of one name would both find nothing to delete and collide on the
        # insert; SQLite's BEGIN IMMEDIATE already queues writers, PostgreSQL needs the lock.
        # SHARE ROW EXCLUSIVE lets readers through and queues only other writers of networks.
        if self.db.dialect == "postgresql":
            await conn.execute(sa.text("LOCK TABLE pickup_networks IN SHARE ROW EXCLUSIVE MODE"))

    async def networks(self) -> list[NetworkRecord]:
        async with self.db.read() as conn:
            rows = await conn.execute(sa.select(pickup_networks).order_by(pickup_networks.c.name))
            return [_record(r) for r in rows]

    async def marks(self) -> Marks:
        """Each imported network's `imported_at`: cheap enough to ask often."""
        query = sa.select(pickup_networks.c.name, pickup_networks.c.imported_at)
        async with self.db.read() as conn:
            return {name: moment for name, moment in await conn.execute(query)}

    async def remove(self, name: str) -> NetworkRecord:
        async with self.db.write() as conn:
            await self._one_writer(conn)
            row = (await conn.execute(sa.select(pickup_networks).where(pickup_networks.c.name == name))).first()
            if row is None:
                raise UnknownNetwork(name)
            await conn.execute(pickup_network_points.delete().where(pickup_network_points.c.network == name))
            await conn.execute(pickup_networks.delete().where(pickup_networks.c.name == name))
        return _record(row)

    async def load(self) -> LoadedNetworks:
        """Every imported network's points; a stored point that no longer reads is reported, not fatal."""
        query = (
            sa.select(
                pickup_networks.c.name,
                pickup_networks.c.imported_at,
                pickup_network_points.c.point_id,
                # As text: the importer parses it once, not the driver and then the importer again.
                sa.cast(pickup_network_points.c.document, sa.Text),
            )
            .join(pickup_network_points, pickup_network_points.c.network == pickup_networks.c.name)
            .order_by(pickup_networks.c.name, pickup_network_points.c.point_id)
        )
        points: list[PickupPoint] = []
        errors: list[StoredPointError] = []
        marks: Marks = {}
        async with self.db.read() as conn:
            result = await conn.stream(query)
            async for batch in result.partitions(_BATCH):
                for name, moment, _, _ in batch:
                    marks[name] = moment
                stored = [(name, code, document) for name, _, code, document in batch]
                read, failed = await asyncio.to_thread(_read, stored)
                points.extend(read)
                errors.extend(failed)
        return LoadedNetworks(tuple(points), tuple(errors), marks)


def _read(stored: list[tuple[str, str, str]]) -> tuple[list[PickupPoint], list[StoredPointError]]:
    features = ",".join(document for _, _, document in stored)
    result = import_geojson(f'{{"type":"FeatureCollection","features":[{features}]}}')
    errors = []
    for error in result.errors:
        network, code, _ = stored[error.line - 1]
        errors.append(StoredPointError(network, code, error.field, error.reason))
    return list(result.points), errors


@dataclass(frozen=True, slots=True)
class ServedPoints:
    """What the service serves: the bundled files' networks, each replaced by an imported one of its name."""

    points: tuple[PickupPoint, ...]
    skipped: tuple[str, ...]  # rows of files and stored points that could not be read, each named
    files: tuple[str, ...]
    marks: Marks


async def served_points(bundled: Path, networks: Networks) -> ServedPoints:
    """Read the bundled CSV files in `bundled`, then every imported network from the records."""
    files = await asyncio.to_thread(load_points, bundled)
    imported = await networks.load()
    points = await asyncio.to_thread(replace_networks, files.points, imported.points)
    skipped = (*(str(e) for e in files.errors), *(str(e) for e in imported.errors))
    return ServedPoints(points, skipped, files.files, imported.marks)
