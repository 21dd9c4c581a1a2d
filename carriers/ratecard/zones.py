"""Which tariff zone a shipment falls in.

Three ways a rate card draws its zones, all answering `resolve(origin, destination) -> ZoneMatch`:

- `PolygonZones`: destination zones as polygons, optionally with the carrier's home area for
  origins (outside it a parcel is refused, or carried in by line-haul when the card says so).
  A point on a border shared by two zones is covered by both; the zone listed first wins.
- `DistanceBands`: zones by great-circle distance from origin to destination; a band includes its
  upper bound, so a distance exactly on a band edge belongs to the nearer band.
- `CityZones`: a city courier's zones; both ends must lie within one city's radius. Where two
  cities' circles overlap, the city listed first wins.

Everything costly (the STRtree, prepared geometries) is built once when a rate card loads.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

import numpy as np
import numpy.typing as npt
import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from router.core.geo import distance_km
from router.core.models import Place
from router.core.wording import RejectionCode, said


@dataclass(frozen=True, slots=True)
class ZoneMatch:
    """The zone a shipment is in, or why it is in none."""

    zone: str | None
    reason: str = ""
    # Origin-to-destination distance when the lookup had to measure it anyway.
    distance_km: float | None = None
    # The origin is outside the carrier's home area and the parcel reaches it by line-haul.
    inbound: bool = False
    code: str = ""  # the reason's (router/core/wording.py), and the reason in Russian
    reason_ru: str = ""


def refused(code: RejectionCode, detail: str = "", /, **figures: object) -> ZoneMatch:
    """No zone, with the reason in both languages."""
    en, ru = said(code, detail, **figures)
    return ZoneMatch(None, en, code=code.value, reason_ru=ru)


class ZoneResolver(Protocol):
    @property
    def codes(self) -> tuple[str, ...]: ...

    def resolve(self, origin: Place, destination: Place) -> ZoneMatch: ...


# Building a shapely Point costs more than testing it against a prepared polygon; every
# polygon carrier in a quote asks about the same two ends, so the points are shared.
_point = lru_cache(maxsize=4096)(shapely.Point)

OUTSIDE_DESTINATION = "destination outside service area"
OUTSIDE_ORIGIN = "origin outside service area"


class PolygonZones:
    """Destination zones as polygons (lon/lat, GeoJSON order), tie-break by list order."""

    def __init__(
        self,
        zones: Sequence[tuple[str, BaseGeometry]],
        origin_area: BaseGeometry | None = None,
        inbound: bool = False,
    ) -> None:
        if not zones:
            raise ValueError("at least one zone is needed")
        self._codes = tuple(code for code, _ in zones)
        self._geoms = np.array([geom for _, geom in zones], dtype=object)
        shapely.prepare(self._geoms)
        self._tree = STRtree(self._geoms)
        self._origin_area = origin_area
        self._inbound = inbound
        if origin_area is not None:
            shapely.prepare(origin_area)

    @property
    def codes(self) -> tuple[str, ...]:
        return self._codes

    def zone_at(self, lat: float, lon: float) -> str | None:
        point = _point(lon, lat)
        # The tree narrows by bounding box; the prepared polygons answer `covers` (the converse
        # of covered_by) in log time. Candidates come back in tree order, not file order, so
        # the smallest index is taken explicitly: that is the documented tie-break.
        best = -1
        for idx in self._tree.query(point):
            if (best < 0 or idx < best) and self._geoms[idx].covers(point):
                best = int(idx)
        return None if best < 0 else self._codes[best]

    def zones_at(self, lats: npt.ArrayLike, lons: npt.ArrayLike) -> list[str | None]:
        """The zone of each of many points, with the same tie-break as `zone_at`."""
        points = shapely.points(np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64))
        points = np.atleast_1d(points)
        inputs, hits = self._tree.query(points, predicate="covered_by")
        first = np.full(len(points), len(self._codes), dtype=np.int64)
        np.minimum.at(first, inputs, hits)
        return [self._codes[i] if i < len(self._codes) else None for i in first.tolist()]

    def origin_served(self, lat: float, lon: float) -> bool:
        return self._origin_area is None or bool(self._origin_area.covers(_point(lon, lat)))

    def resolve(self, origin: Place, destination: Place) -> ZoneMatch:
        home = self.origin_served(origin.lat, origin.lon)
        if not home and not self._inbound:
            return refused(RejectionCode.ORIGIN_NOT_SERVED)
        zone = self.zone_at(destination.lat, destination.lon)
        if zone is None:
            return refused(RejectionCode.DESTINATION_NOT_SERVED)
        return ZoneMatch(zone, inbound=not home)


class DistanceBands:
    """Zones by distance from origin: band i covers (max_km[i-1], max_km[i]]."""

    def __init__(self, bands: Sequence[tuple[str, float]]) -> None:
        if not bands:
            raise ValueError("at least one band is needed")
        limits = [km for _, km in bands]
        if any(b <= a for a, b in pairwise(limits)) or limits[0] <= 0:
            raise ValueError("band limits must be positive and strictly increasing")
        self._codes = tuple(code for code, _ in bands)
        self._limits = limits

    @property
    def codes(self) -> tuple[str, ...]:
        return self._codes

    @property
    def max_km(self) -> float:
        return self._limits[-1]

    def zone_for_km(self, km: float) -> str | None:
        i = bisect.bisect_left(self._limits, km)
        return self._codes[i] if i < len(self._codes) else None

    def resolve(self, origin: Place, destination: Place) -> ZoneMatch:
        km = distance_km(origin.lat, origin.lon, destination.lat, destination.lon)
        zone = self.zone_for_km(km)
        if zone is None:
            return replace(
                refused(RejectionCode.DESTINATION_NOT_SERVED, "beyond_km", km=km, max_km=self.max_km), distance_km=km
            )
        return ZoneMatch(zone, distance_km=km)


@dataclass(frozen=True, slots=True)
class City:
    zone: str
    name: str
    lat: float
    lon: float
    radius_km: float


class CityZones:
    """A city courier's cities; both ends of the trip must be within one city's radius."""

    def __init__(self, cities: Sequence[City]) -> None:
        if not cities:
            raise ValueError("at least one city is needed")
        self._cities = tuple(cities)
        self._lat_reach = tuple(c.radius_km / 110.5 for c in self._cities)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.zone for c in self._cities)

    @property
    def cities(self) -> tuple[City, ...]:
        return self._cities

    def resolve(self, origin: Place, destination: Place) -> ZoneMatch:
        for city, lat_reach in zip(self._cities, self._lat_reach, strict=True):
            # A degree of latitude is never shorter than ~110.5 km, so a point further north or
            # south than this cannot be inside the radius: most misses skip the distance call.
            if abs(origin.lat - city.lat) > lat_reach or abs(destination.lat - city.lat) > lat_reach:
                continue
            if (
                distance_km(city.lat, city.lon, origin.lat, origin.lon) <= city.radius_km
                and distance_km(city.lat, city.lon, destination.lat, destination.lon) <= city.radius_km
            ):
                return ZoneMatch(city.zone)
        names = ", ".join(c.name for c in self._cities)
        return refused(RejectionCode.DESTINATION_NOT_SERVED, "within", names=names)
