"""Distances on the Earth's surface, in kilometres.

Both functions use the same sphere (geopy's mean radius), so a distance measured one pair at a
time and the same distance measured in bulk agree to float precision: a parcel must not land in
one distance band when quoted and another when a pickup index is built.

A sphere rather than the WGS-84 ellipsoid because geopy's geodesic costs ~140 µs a pair, which
would eat the per-quote budget on its own, while the sphere is off by at most ~0.5 % — far inside
the width of any tariff band.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from geopy.distance import EARTH_RADIUS, great_circle

EARTH_RADIUS_KM: float = EARTH_RADIUS

ArrayLike = npt.ArrayLike


# Every distance-priced carrier in a quote measures the same pair; geopy builds two Point
# objects per call, so remembering recent pairs keeps it to one measurement per quote.
@lru_cache(maxsize=4096)
def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points (degrees)."""
    return float(great_circle((lat1, lon1), (lat2, lon2)).km)


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> npt.NDArray[np.float64]:
    """Great-circle distances for many points at once (degrees, numpy broadcasting rules).

    `haversine_km(lat, lon, lats, lons)` measures from one point to an array of points;
    arrays of equal shape are measured pairwise.
    """
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2.0) ** 2
    # Rounding can push `a` a hair past 1 for antipodal points; arcsin would return NaN.
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64)
