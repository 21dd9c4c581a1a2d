"""Exact great-circle k-nearest, radius and bounding-box queries over pickup points.

Nearest and radius use a k-d tree over 3-D unit vectors (see `geo`). Bounding boxes use a
lat/lon grid of buckets instead: a box is a lat/lon rectangle, not a disc, and a map's box at
low zoom holds most of the country, where a tree would walk every node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from pickup_points.clustering import mercator_x, mercator_y
from pickup_points.columns import PointColumns
from pickup_points.filters import PointFilter, matches
from pickup_points.geo import chord_to_km, km_to_chord, unit_vectors

BUCKET_DEG = 0.25
_LAT_BUCKETS = int(180 / BUCKET_DEG)
_LON_BUCKETS = int(360 / BUCKET_DEG)
# Once a selective filter has widened the tree query past this share of all points, one
# vectorised pass over every point is cheaper than widening again.
_WIDEN_LIMIT = 0.125


@dataclass(frozen=True, slots=True)
class BBox:
    """south..north, and west..east eastwards: west > east crosses the 180° meridian."""

    west: float
    south: float
    east: float
    north: float

    @property
    def crosses_antimeridian(self) -> bool:
        return self.west > self.east

    def contains(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        in_lat = (lat >= self.south) & (lat <= self.north)
        if self.crosses_antimeridian:
            return in_lat & ((lon >= self.west) | (lon <= self.east))
        return in_lat & (lon >= self.west) & (lon <= self.east)


@dataclass(frozen=True, slots=True)
class InBox:
    rows: np.ndarray
    lat: np.ndarray  # of each row, degrees
    lon: np.ndarray
    x: np.ndarray  # of each row, Web Mercator 0..1
    y: np.ndarray


@dataclass(frozen=True, slots=True)
class Neighbours:
    rows: np.ndarray  # nearest first
    km: np.ndarray


class PointIndex:
    def __init__(self, columns: PointColumns) -> None:
        self.columns = columns
        self._xyz = unit_vectors(columns.lat, columns.lon)
        # balanced_tree=False splits at the midpoint: a faster build, same exact answers.
        self._tree = cKDTree(self._xyz, leafsize=16, balanced_tree=False, compact_nodes=False)
        keys = _bucket(columns.lat, columns.lon)
        self._by_bucket = np.argsort(keys, kind="stable").astype(np.int32)
        self._bucket_keys = keys[self._by_bucket]
        # Copies in bucket order: a box reads them in a few contiguous runs, not 200,000 random
        # reads. Web Mercator is computed once here for map clustering, not per map view.
        self._lat = columns.lat[self._by_bucket]
        self._lon = columns.lon[self._by_bucket]
        self._x = mercator_x(self._lon)
        self._y = mercator_y(self._lat)

    def __len__(self) -> int:
        return len(self.columns)

    @property
    def nbytes(self) -> int:
        tree = self._tree.indices.nbytes + self._tree.data.nbytes
        # cKDTree keeps one node per leaf and split (~2n/leafsize), each about 100 bytes.
        tree += 2 * len(self) // 16 * 100
        mercator = self._lat.nbytes + self._lon.nbytes + self._x.nbytes + self._y.nbytes
        return int(self.columns.nbytes + tree + mercator + self._by_bucket.nbytes + self._bucket_keys.nbytes)

    def nearest(
        self, lat: float, lon: float, k: int, radius_km: float | None = None, where: PointFilter | None = None
    ) -> Neighbours:
        n = len(self)
        if n == 0 or k <= 0:
            return _empty()
        here = unit_vectors(np.array(lat), np.array(lon))
        bound = np.inf if radius_km is None else km_to_chord(radius_km) * (1 + 1e-12)
        # Most filters pass most points (active ones, a parcel that fits): start just above k and
        # widen fourfold while too few pass.
        want = k if where is None or where.selects_all else k + max(8, k // 4)
        while True:
            want = min(want, n)
            chord, rows = self._tree.query(here, k=want, distance_upper_bound=bound)
            chord, rows = np.atleast_1d(chord), np.atleast_1d(rows)
            found = rows < n
            chord, rows = chord[found], rows[found]
            if where is not None:
                keep = matches(self.columns, rows, where)
                chord, rows = chord[keep], rows[keep]
            exhausted = not found.all() or want == n
            if rows.shape[0] >= k or exhausted:
                return Neighbours(rows[:k], chord_to_km(chord[:k]))
            want *= 4
            if want > n * _WIDEN_LIMIT and where is not None:
                return self._scan(here, k, bound, where)

    def within(self, lat: float, lon: float, radius_km: float, where: PointFilter | None = None) -> Neighbours:
        here = unit_vectors(np.array(lat), np.array(lon))
        rows = np.asarray(self._tree.query_ball_point(here, km_to_chord(radius_km) * (1 + 1e-12)), dtype=np.intp)
        if where is not None:
            rows = rows[matches(self.columns, rows, where)]
        chord = np.linalg.norm(self._xyz[rows] - here, axis=1)
        order = np.argsort(chord, kind="stable")
        return Neighbours(rows[order], chord_to_km(chord[order]))

    def in_bbox(self, box: BBox, where: PointFilter | None = None) -> InBox:
        """Points inside the box, in no particular order."""
        if not box.crosses_antimeridian:
            spans = [(box.west, box.east)]
        elif _lon_bucket(box.west) > _lon_bucket(box.east):
            spans = [(box.west, 180.0), (-180.0, box.east)]
        else:  # both halves reach into one bucket: read every longitude once
            spans = [(-180.0, 180.0)]
        lat_rows = np.arange(int(_lat_bucket(box.south)), int(_lat_bucket(box.north)) + 1, dtype=np.int64)
        runs: list[np.ndarray] = []
        for west, east in spans:
            starts = np.searchsorted(self._bucket_keys, lat_rows * _LON_BUCKETS + _lon_bucket(west), "left")
            ends = np.searchsorted(self._bucket_keys, lat_rows * _LON_BUCKETS + _lon_bucket(east), "right")
            runs.extend(np.arange(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=False) if e > s)
        at = np.concatenate(runs) if runs else np.empty(0, dtype=np.int64)
        at = at[box.contains(self._lat[at], self._lon[at])]
        rows = self._by_bucket[at]
        if where is not None:
            keep = matches(self.columns, rows, where)
            at, rows = at[keep], rows[keep]
        return InBox(rows, self._lat[at], self._lon[at], self._x[at], self._y[at])

    def _scan(self, here: np.ndarray, k: int, bound: float, where: PointFilter) -> Neighbours:
        rows = np.flatnonzero(matches(self.columns, np.arange(len(self)), where))
        chord = np.linalg.norm(self._xyz[rows] - here, axis=1)
        inside = chord <= bound
        rows, chord = rows[inside], chord[inside]
        if rows.shape[0] > k:
            top = np.argpartition(chord, k - 1)[:k]
            rows, chord = rows[top], chord[top]
        order = np.argsort(chord, kind="stable")
        return Neighbours(rows[order], chord_to_km(chord[order]))


def _empty() -> Neighbours:
    return Neighbours(np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64))


def _lat_bucket(lat: float | np.ndarray) -> np.ndarray:
    return np.clip(np.floor((np.asarray(lat) + 90.0) / BUCKET_DEG), 0, _LAT_BUCKETS - 1).astype(np.int64)


def _lon_bucket(lon: float | np.ndarray) -> np.ndarray:
    return np.clip(np.floor((np.asarray(lon) + 180.0) / BUCKET_DEG), 0, _LON_BUCKETS - 1).astype(np.int64)


def _bucket(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    buckets: np.ndarray = _lat_bucket(lat) * _LON_BUCKETS + _lon_bucket(lon)
    return buckets
