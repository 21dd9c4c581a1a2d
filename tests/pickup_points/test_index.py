"""Nearest, radius and bbox answers checked against brute-force haversine scans."""

from __future__ import annotations

import numpy as np
import pytest

from pickup_points.columns import PointColumns
from pickup_points.filters import PointFilter
from pickup_points.geo import wrap_lon
from pickup_points.index import BBox, PointIndex
from pickup_points.model import PointType, Status
from router.core.geo import haversine_km
from tests.pickup_points.factories import point

ALL = PointFilter(statuses=frozenset(Status))


def random_points(rng: np.random.Generator, n: int, lat: tuple[float, float], lon: tuple[float, float]) -> list:
    lats = rng.uniform(*lat, n)
    lons = np.array([wrap_lon(x) for x in rng.uniform(*lon, n)])
    types = list(PointType)
    return [
        point(str(i), float(a), float(b), network=f"n{i % 3}", type=types[i % 4])
        for i, (a, b) in enumerate(zip(lats, lons, strict=False))
    ]


def build(points: list) -> PointIndex:
    return PointIndex(PointColumns.from_points(points, np.arange(len(points))))


def brute_nearest(points: list, lat: float, lon: float, k: int, radius_km: float | None = None, keep=lambda p: True):
    lats = np.array([p.lat for p in points])
    lons = np.array([p.lon for p in points])
    km = haversine_km(lat, lon, lats, lons)
    order = [i for i in np.argsort(km, kind="stable") if keep(points[i]) and (radius_km is None or km[i] <= radius_km)]
    return order[:k], km


REGIONS = {
    "european russia": ((41.0, 70.0), (19.0, 60.0)),
    "arctic": ((70.0, 78.0), (30.0, 180.0)),
    "across 180": ((60.0, 72.0), (165.0, 195.0)),
    "kaliningrad": ((54.0, 55.5), (19.5, 22.9)),
    "caucasus and primorye": ((41.2, 46.0), (38.0, 135.0)),
}


@pytest.mark.parametrize("region", REGIONS)
def test_nearest_equals_a_brute_force_haversine_scan(region: str) -> None:
    rng = np.random.default_rng(7)
    lat_range, lon_range = REGIONS[region]
    points = random_points(rng, 3000, lat_range, lon_range)
    index = build(points)
    for _ in range(60):
        lat = rng.uniform(*lat_range)
        lon = wrap_lon(rng.uniform(*lon_range))
        found = index.nearest(lat, lon, k=15, where=ALL)
        expected, km = brute_nearest(points, lat, lon, 15)
        assert found.rows.tolist() == expected
        np.testing.assert_allclose(found.km, km[expected], rtol=1e-9, atol=1e-6)


def test_nearest_with_a_filter_equals_a_filtered_scan() -> None:
    rng = np.random.default_rng(11)
    points = random_points(rng, 4000, (50.0, 60.0), (30.0, 50.0))
    index = build(points)
    rare = PointFilter(networks=frozenset({"n1"}), types=frozenset({PointType.LOCKER}))  # 1 in 12 points
    for _ in range(40):
        lat, lon = rng.uniform(50, 60), rng.uniform(30, 50)
        found = index.nearest(lat, lon, k=25, where=rare)
        expected, _ = brute_nearest(
            points, lat, lon, 25, keep=lambda p: p.network == "n1" and p.type is PointType.LOCKER
        )
        assert found.rows.tolist() == expected


def test_a_filter_almost_nothing_passes_still_finds_the_exact_nearest() -> None:
    rng = np.random.default_rng(3)
    points = random_points(rng, 5000, (45.0, 65.0), (30.0, 90.0))
    index = build(points)
    where = PointFilter(networks=frozenset({"n2"}), types=frozenset({PointType.STORE}))  # i % 12 == 11
    nowhere = PointFilter(networks=frozenset({"no-such-network"}))
    lat, lon = 55.0, 60.0
    assert index.nearest(lat, lon, k=3, where=nowhere).rows.size == 0
    found = index.nearest(lat, lon, k=500, where=where)
    expected, _ = brute_nearest(points, lat, lon, 500, keep=lambda p: p.network == "n2" and p.type is PointType.STORE)
    assert found.rows.tolist() == expected


def test_radius_limits_nearest_and_within() -> None:
    rng = np.random.default_rng(5)
    points = random_points(rng, 3000, (55.0, 57.0), (36.0, 40.0))
    index = build(points)
    expected, km = brute_nearest(points, 56.0, 38.0, 10_000, radius_km=25.0)
    assert index.nearest(56.0, 38.0, k=10_000, radius_km=25.0, where=ALL).rows.tolist() == expected
    within = index.within(56.0, 38.0, 25.0)
    assert within.rows.tolist() == expected
    np.testing.assert_allclose(within.km, km[expected], rtol=1e-9)


def test_anadyr_radius_finds_points_on_both_sides_of_180_nearest_first() -> None:
    # Anadyr is at 177.5° E; 180° is about 120 km east of it.
    west = [point("w1", 64.80, 178.40), point("w2", 65.00, 179.90), point("w3", 64.50, 176.00)]
    east = [point("e1", 64.90, -179.80), point("e2", 65.10, -178.90), point("far", 66.00, -171.00)]
    points = west + east
    index = build(points)
    found = index.nearest(64.73, 177.51, k=20, radius_km=300.0, where=ALL)
    ids = [points[i].code for i in found.rows]
    expected, km = brute_nearest(points, 64.73, 177.51, 20, radius_km=300.0)
    assert ids == [points[i].code for i in expected]
    assert {"e1", "e2"} <= set(ids) and "far" not in ids
    assert list(found.km) == sorted(found.km)


def test_bbox_across_180_returns_both_sides_and_nothing_between() -> None:
    points = [point("w", 64.9, 179.5), point("e", 64.9, -179.5), point("mid", 64.9, 0.0), point("out", 70.0, 179.5)]
    index = build(points)
    rows = index.in_bbox(BBox(west=179.0, south=64.0, east=-179.0, north=66.0), where=ALL).rows
    assert sorted(points[i].code for i in rows) == ["e", "w"]


@pytest.mark.parametrize(
    "box",
    [
        BBox(35.1, 54.2, 40.2, 57.0),  # Moscow region
        BBox(19.6, 54.3, 22.9, 55.3),  # Kaliningrad region
        BBox(170.0, 62.0, -170.0, 70.0),  # Chukotka across 180
        BBox(-180.0, 41.0, 180.0, 82.0),  # the whole country
        BBox(37.6, 55.7, 37.6, 55.8),  # zero width
    ],
)
def test_bbox_equals_a_brute_force_scan(box: BBox) -> None:
    rng = np.random.default_rng(2)
    points = random_points(rng, 6000, (41.0, 78.0), (19.0, 191.0)) + [point("edge", 55.75, 37.6)]
    index = build(points)
    lat = np.array([p.lat for p in points])
    lon = np.array([p.lon for p in points])
    if box.west <= box.east:
        inside = (lat >= box.south) & (lat <= box.north) & (lon >= box.west) & (lon <= box.east)
    else:
        inside = (lat >= box.south) & (lat <= box.north) & ((lon >= box.west) | (lon <= box.east))
    assert sorted(index.in_bbox(box, where=ALL).rows.tolist()) == np.flatnonzero(inside).tolist()


def test_within_across_180_equals_a_brute_force_scan() -> None:
    rng = np.random.default_rng(13)
    points = random_points(rng, 4000, (62.0, 68.0), (170.0, 190.0))
    index = build(points)
    expected, km = brute_nearest(points, 64.73, 177.51, 10_000, radius_km=300.0)
    found = index.within(64.73, 177.51, 300.0, where=ALL)
    assert found.rows.tolist() == expected
    assert any(points[i].lon < 0 for i in expected) and any(points[i].lon > 0 for i in expected)
