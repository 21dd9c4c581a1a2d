"""Cities by coordinates: the nearest city to a point, with big cities' districts folded in.

Cities are points on the unit sphere in a k-d tree (`pickup_points.geo`): chord length grows
with great-circle distance, so the nearest point in 3-D is the nearest on the globe, across the
antimeridian and near the poles too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.spatial import cKDTree

from pickup_points.geo import chord_to_km, km_to_chord

BIG_CITY = 500_000  # smaller cities are not split into districts in geonames
# A city's coordinates and a point given with its name may be this far apart before they are
# taken to mean two places: suburbs, airports and the districts around a town lie within it.
CONFLICT_KM = 50.0


def city_radius_km(population: int) -> float:
    # A city's built-up area grows roughly with its population: about 19 km for Moscow,
    # 14 km for St Petersburg, 8 km for Novosibirsk.
    return 0.006 * math.sqrt(population)


def conflict_km(population: int) -> float:
    """How far from a city's centre a point given with its name may lie: its extent, at least `CONFLICT_KM`."""
    return max(CONFLICT_KM, 2 * city_radius_km(population))


def distance_km(point: tuple[float, float, float], city_point: np.ndarray) -> float:
    return float(chord_to_km(math.dist(point, city_point)))


def unit_vector(lat: float, lon: float) -> tuple[float, float, float]:
    """One point as `pickup_points.geo.unit_vectors` makes many, without numpy's per-call cost."""
    cos_lat = math.cos(math.radians(lat))
    lon_rad = math.radians(lon)
    return (cos_lat * math.cos(lon_rad), cos_lat * math.sin(lon_rad), math.sin(math.radians(lat)))


def find_parents(
    tree: cKDTree,
    points: np.ndarray,
    population: Sequence[int],
    country: Sequence[str],
    region: Sequence[str | None],
) -> list[int]:
    """For each city (by rank, most populous first), the big city it is a district of, or -1.

    geonames lists the districts of big cities as cities of their own ("Yasenevo", "Mar'ino" in
    Moscow), so the nearest "city" to a Moscow address is often a district. A district within
    its big city's radius and region is filed under that city.
    """
    parent = [-1] * len(population)
    big = [rank for rank, people in enumerate(population) if people >= BIG_CITY]
    radii = [km_to_chord(city_radius_km(population[rank])) for rank in big]
    members = tree.query_ball_point(points[big], radii) if big else []
    for rank, inside in zip(big, members, strict=True):
        for member in inside:
            if (
                member > rank
                and parent[member] < 0
                and country[member] == country[rank]
                and region[member] == region[rank]
            ):
                parent[member] = rank
    return parent


def within_city(point: tuple[float, float, float], city_point: np.ndarray, population: int) -> bool:
    """Whether `point` lies inside the built-up area of a city of `population` at `city_point`."""
    return math.dist(point, city_point) <= km_to_chord(city_radius_km(population))
