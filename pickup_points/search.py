"""The pickup-point directory: every network's points, merged into sites, indexed and searchable.

This is the one object the API and the CLI hold. It answers nearest-first lists (with distance
and, given a way to quote, each point's price and dates), map views of a bounding box clustered
for the zoom, and single points by id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from pickup_points.clustering import grid_cells, view_zoom
from pickup_points.columns import PointColumns
from pickup_points.filters import PointFilter, open_at
from pickup_points.index import BBox, PointIndex
from pickup_points.merge import merge_sites
from pickup_points.model import PickupPoint, Site
from pickup_points.pricing import QuoteFor, price_points
from router.core.models import CarrierError, Offer

# Frozen, so one instance serves every call that filters nothing.
EVERY_POINT = PointFilter()


@dataclass(frozen=True, slots=True)
class Nearby:
    point: PickupPoint
    distance_km: float
    site_id: str
    open_now: bool
    offer: Offer | None = None


@dataclass(frozen=True, slots=True)
class Nearest:
    results: tuple[Nearby, ...]  # nearest first
    errors: tuple[CarrierError, ...] = ()  # carriers that could not price their points


@dataclass(frozen=True, slots=True)
class Cluster:
    id: str  # zoom/cell, stable while the map pans
    lat: float  # mean of the members, so the marker sits where the points are
    lon: float
    count: int  # points, not sites


@dataclass(frozen=True, slots=True)
class SiteMarker:
    """A site on the map with the points of it that passed the filter."""

    id: str
    lat: float
    lon: float
    address: str
    point_ids: tuple[str, ...]
    networks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MapView:
    zoom: int  # the zoom the cells were drawn for; lower than asked when the box was too big
    total: int  # points in the box that passed the filter
    clusters: tuple[Cluster, ...]
    sites: tuple[SiteMarker, ...]


@dataclass(frozen=True, slots=True)
class NetworkStats:
    network: str
    carriers: tuple[str, ...]
    points: int
    by_type: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    timezones: int


@dataclass(frozen=True, slots=True)
class DirectoryStats:
    points: int
    sites: int
    shared_sites: int  # sites served by more than one network
    networks: tuple[NetworkStats, ...]


class PickupDirectory:
    def __init__(
        self,
        points: Sequence[PickupPoint],
        sites: Sequence[Site],
        columns: PointColumns,
        index: PointIndex | None = None,
    ) -> None:
        self.points = points
        self.sites = sites
        self.columns = columns
        self.index = index if index is not None else PointIndex(columns)
        self._row_of: dict[str, int] | None = None

    @classmethod
    def build(cls, points: Sequence[PickupPoint]) -> PickupDirectory:
        sites, site_of = merge_sites(points)
        return cls(points, sites, PointColumns.from_points(points, site_of))

    def __len__(self) -> int:
        return len(self.points)

    def get(self, point_id: str) -> PickupPoint | None:
        row = self._row(point_id)
        return None if row is None else self.points[row]

    def site_of(self, point_id: str) -> Site | None:
        row = self._row(point_id)
        return None if row is None else self.sites[int(self.columns.site_id[row])]

    def _row(self, point_id: str) -> int | None:
        if self._row_of is None:  # built on first use: most requests never ask by id
            self._row_of = {p.id: i for i, p in enumerate(self.points)}
        return self._row_of.get(point_id)

    def nearest(
        self,
        lat: float,
        lon: float,
        limit: int,
        radius_km: float | None = None,
        where: PointFilter = EVERY_POINT,
        now: datetime | None = None,
    ) -> Nearest:
        found = self.index.nearest(lat, lon, limit, radius_km, where)
        is_open = open_at(self.columns, found.rows, now or datetime.now(UTC))
        return Nearest(
            tuple(
                Nearby(self.points[row], float(km), self.sites[int(self.columns.site_id[row])].id, bool(now_open))
                for row, km, now_open in zip(found.rows.tolist(), found.km.tolist(), is_open.tolist(), strict=False)
            )
        )

    async def nearest_priced(
        self,
        lat: float,
        lon: float,
        limit: int,
        quote_for: QuoteFor,
        radius_km: float | None = None,
        where: PointFilter = EVERY_POINT,
        now: datetime | None = None,
    ) -> Nearest:
        plain = self.nearest(lat, lon, limit, radius_km, where, now)
        pricing = await price_points([n.point for n in plain.results], quote_for)
        results = tuple(
            Nearby(n.point, n.distance_km, n.site_id, n.open_now, offer)
            for n, offer in zip(plain.results, pricing.offers, strict=False)
        )
        return Nearest(results, pricing.errors)

    def map_view(self, box: BBox, zoom: int, where: PointFilter = EVERY_POINT) -> MapView:
        zoom = view_zoom(box.west, box.south, box.east, box.north, zoom)
        found = self.index.in_bbox(box, where)
        rows = found.rows
        cells = grid_cells(found.x, found.y, found.lat, found.lon, self.columns.site_id[rows], zoom, box.west)
        crowded = ~cells.one_site
        clusters = tuple(
            Cluster(f"{zoom}/{key}", round(float(a), 5), round(float(b), 5), int(c))
            for key, a, b, c in zip(
                cells.keys[crowded].tolist(),
                cells.lat[crowded],
                cells.lon[crowded],
                cells.counts[crowded],
                strict=False,
            )
        )
        alone = cells.one_site[cells.of_row]
        alone_rows, alone_cells = rows[alone], cells.of_row[alone]
        order = np.argsort(alone_cells, kind="stable")
        alone_rows, alone_cells = alone_rows[order], alone_cells[order]
        starts = np.flatnonzero(np.diff(alone_cells, prepend=-1))
        ends = np.append(starts[1:], alone_rows.shape[0])
        markers = tuple(self._marker(alone_rows[s:e]) for s, e in zip(starts.tolist(), ends.tolist(), strict=False))
        return MapView(zoom, int(rows.shape[0]), clusters, markers)

    def _marker(self, rows: np.ndarray) -> SiteMarker:
        site = self.sites[int(self.columns.site_id[rows[0]])]
        points = [self.points[row] for row in rows.tolist()]
        return SiteMarker(
            id=site.id,
            lat=round(site.lat, 6),
            lon=round(site.lon, 6),
            address=site.address,
            point_ids=tuple(sorted(p.id for p in points)),
            networks=tuple(sorted({p.network for p in points})),
        )

    def stats(self) -> DirectoryStats:
        by_network: dict[str, list[PickupPoint]] = {}
        for point in self.points:
            by_network.setdefault(point.network, []).append(point)
        networks = tuple(
            NetworkStats(
                network=name,
                carriers=tuple(sorted({p.carrier for p in members})),
                points=len(members),
                by_type=tuple(sorted(Counter(p.type.value for p in members).items())),
                by_status=tuple(sorted(Counter(p.status.value for p in members).items())),
                timezones=len({p.timezone for p in members}),
            )
            for name, members in sorted(by_network.items())
        )
        shared = sum(1 for s in self.sites if len(s.networks) > 1)
        return DirectoryStats(len(self.points), len(self.sites), shared, networks)
