from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import box

from carriers.ratecard.zones import City, CityZones, DistanceBands, PolygonZones
from router.core.geo import EARTH_RADIUS_KM, distance_km, haversine_km
from tests.carriers.conftest import place

ONE_DEGREE_KM = math.pi * EARTH_RADIUS_KM / 180

# Two squares sharing the meridian 40°E between 50°N and 60°N.
WEST = box(30, 50, 40, 60)
EAST = box(40, 50, 50, 60)


# --- polygons


def test_point_inside_one_zone_gets_that_zone() -> None:
    zones = PolygonZones([("W", WEST), ("E", EAST)])
    assert zones.zone_at(55.0, 35.0) == "W"
    assert zones.zone_at(55.0, 45.0) == "E"


def test_point_outside_every_zone_gets_none() -> None:
    zones = PolygonZones([("W", WEST), ("E", EAST)])
    assert zones.zone_at(55.0, 55.0) is None
    assert zones.zone_at(45.0, 35.0) is None


def test_point_on_a_shared_border_is_not_lost_and_the_zone_listed_first_wins() -> None:
    assert PolygonZones([("W", WEST), ("E", EAST)]).zone_at(55.0, 40.0) == "W"
    assert PolygonZones([("E", EAST), ("W", WEST)]).zone_at(55.0, 40.0) == "E"


def test_point_on_the_outer_edge_or_a_corner_is_covered() -> None:
    zones = PolygonZones([("W", WEST), ("E", EAST)])
    assert zones.zone_at(50.0, 35.0) == "W"  # southern edge
    assert zones.zone_at(60.0, 50.0) == "E"  # north-east corner
    assert zones.zone_at(60.0, 40.0) == "W"  # corner shared by both


def test_overlapping_zones_resolve_to_the_one_listed_first() -> None:
    big = box(30, 50, 50, 60)
    small = box(38, 54, 42, 56)
    assert PolygonZones([("SMALL", small), ("BIG", big)]).zone_at(55.0, 41.0) == "SMALL"
    assert PolygonZones([("BIG", big), ("SMALL", small)]).zone_at(55.0, 41.0) == "BIG"


def test_bulk_lookup_agrees_with_single_lookups_including_borders_and_misses() -> None:
    zones = PolygonZones([("E", EAST), ("W", WEST)])
    lats = [55.0, 55.0, 55.0, 50.0, 70.0]
    lons = [35.0, 40.0, 45.0, 40.0, 35.0]
    assert zones.zones_at(lats, lons) == [zones.zone_at(a, o) for a, o in zip(lats, lons, strict=True)]
    assert zones.zones_at(lats, lons) == ["W", "E", "E", "E", None]


def test_origin_outside_the_origin_area_is_refused_with_a_reason() -> None:
    zones = PolygonZones([("W", WEST)], origin_area=box(30, 50, 35, 60))
    assert zones.resolve(place(55.0, 32.0), place(55.0, 38.0)).zone == "W"
    miss = zones.resolve(place(55.0, 36.0), place(55.0, 38.0))
    assert miss.zone is None
    assert "origin" in miss.reason


def test_origin_outside_the_home_area_is_marked_inbound_when_line_haul_is_offered() -> None:
    zones = PolygonZones([("W", WEST)], origin_area=box(30, 50, 35, 60), inbound=True)
    assert zones.resolve(place(55.0, 32.0), place(55.0, 38.0)).inbound is False
    away = zones.resolve(place(55.0, 36.0), place(55.0, 38.0))
    assert (away.zone, away.inbound) == ("W", True)


def test_destination_outside_the_zones_is_refused_with_a_reason() -> None:
    miss = PolygonZones([("W", WEST)]).resolve(place(55.0, 32.0), place(55.0, 60.0))
    assert miss.zone is None
    assert "destination outside service area" in miss.reason


# --- distance


def test_one_degree_along_a_meridian_is_one_degree_of_arc() -> None:
    assert distance_km(55.0, 37.0, 56.0, 37.0) == pytest.approx(ONE_DEGREE_KM, rel=1e-9)
    assert float(haversine_km(55.0, 37.0, 56.0, 37.0)) == pytest.approx(ONE_DEGREE_KM, rel=1e-9)


def test_antipodes_are_half_the_circumference_apart_without_nan() -> None:
    assert float(haversine_km(0.0, 0.0, 0.0, 180.0)) == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_bulk_haversine_matches_single_pair_distances_and_broadcasts() -> None:
    rng = np.random.default_rng(7)
    lat = rng.uniform(41, 70, 50)
    lon = rng.uniform(20, 180, 50)
    from_one = haversine_km(55.75, 37.62, lat, lon)
    assert from_one.shape == (50,)
    expected = [distance_km(55.75, 37.62, a, o) for a, o in zip(lat, lon, strict=True)]
    assert from_one == pytest.approx(expected, rel=1e-9)
    matrix = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    assert matrix.shape == (50, 50)
    assert np.allclose(np.diag(matrix), 0.0)
    assert np.allclose(matrix, matrix.T)


# --- distance bands


def test_distance_band_includes_its_upper_edge() -> None:
    bands = DistanceBands([("1", 100.0), ("2", 500.0)])
    assert bands.zone_for_km(0.0) == "1"
    assert bands.zone_for_km(100.0) == "1"
    assert bands.zone_for_km(100.001) == "2"
    assert bands.zone_for_km(500.0) == "2"
    assert bands.zone_for_km(500.001) is None


def test_distance_bands_measure_from_origin_to_destination() -> None:
    bands = DistanceBands([("near", 1.5 * ONE_DEGREE_KM), ("far", 3.5 * ONE_DEGREE_KM)])
    origin = place(55.0, 37.0)
    near = bands.resolve(origin, place(56.0, 37.0))
    assert (near.zone, near.distance_km) == ("near", pytest.approx(ONE_DEGREE_KM))
    assert bands.resolve(origin, place(58.0, 37.0)).zone == "far"
    beyond = bands.resolve(origin, place(59.0, 37.0))
    assert beyond.zone is None
    assert "destination outside service area" in beyond.reason


def test_distance_bands_must_grow() -> None:
    with pytest.raises(ValueError):
        DistanceBands([("1", 500.0), ("2", 100.0)])


# --- cities


MOSCOW = City("MOW", "Moscow", 55.75, 37.62, 40.0)
NEAR_MOSCOW = City("NEAR", "Big Moscow", 55.75, 37.62, 80.0)


def test_city_zone_needs_both_ends_within_the_radius() -> None:
    zones = CityZones([MOSCOW])
    ten_km_north = place(55.75 + 10 / ONE_DEGREE_KM, 37.62)
    fifty_km_south = place(55.75 - 50 / ONE_DEGREE_KM, 37.62)
    assert zones.resolve(ten_km_north, place(55.75, 37.62)).zone == "MOW"
    assert zones.resolve(ten_km_north, fifty_km_south).zone is None
    assert zones.resolve(fifty_km_south, ten_km_north).zone is None


def test_city_radius_is_inclusive_and_measured_east_west_too() -> None:
    zones = CityZones([MOSCOW])
    centre = place(55.75, 37.62)
    # Along a parallel a degree of longitude is shorter: 40 km east is ~0.64°, not 0.36°.
    just_inside = place(55.75, 37.62 + 39.9 / (ONE_DEGREE_KM * math.cos(math.radians(55.75))))
    assert zones.resolve(centre, just_inside).zone == "MOW"
    assert zones.resolve(centre, place(55.75, 38.4)).zone is None


def test_overlapping_cities_resolve_to_the_one_listed_first() -> None:
    a, b = place(55.76, 37.6), place(55.7, 37.5)
    assert CityZones([MOSCOW, NEAR_MOSCOW]).resolve(a, b).zone == "MOW"
    assert CityZones([NEAR_MOSCOW, MOSCOW]).resolve(a, b).zone == "NEAR"
