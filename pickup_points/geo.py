"""Great-circle geometry on a sphere, vectorised.

Points become 3-D unit vectors so that Euclidean (chord) distance is monotonic in great-circle
distance: a k-d tree over them answers exact nearest and radius queries anywhere on Earth,
across the 180° meridian and at any latitude, which flat lat/lon cannot.
"""

from __future__ import annotations

import numpy as np

# The same sphere as every other distance in the service (`router.core.geo`), so a point's
# distance in a pickup search matches the one a carrier's distance band is priced on.
from router.core.geo import EARTH_RADIUS_KM


def unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    cos_lat = np.cos(lat)
    return np.stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)), axis=-1)


def chord_to_km(chord: np.ndarray | float) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))


def km_to_chord(km: float) -> float:
    return float(2.0 * np.sin(min(km / EARTH_RADIUS_KM, np.pi) / 2.0))


def wrap_lon(lon: float) -> float:
    """Longitude in [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0
