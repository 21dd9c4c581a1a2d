"""Great-circle geometry on a sphere, vectorised.

Points become 3-D unit vectors so that Euclidean (chord) distance is monotonic in great-circle
distance: a k-d tree over them answers exact nearest and radius queries anywhere on Earth,
across the 180° meridian and at any latitude, which flat lat/lon cannot.
"""

from __future__ import annotations

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


def unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    cos_lat = np.cos(lat)
    return np.stack((cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)), axis=-1)


def chord_to_km(chord: np.ndarray | float) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))


def km_to_chord(km: float) -> float:
    return float(2.0 * np.sin(min(km / EARTH_RADIUS_KM, np.pi) / 2.0))


def haversine_km(
    lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: np.ndarray | float, lon2: np.ndarray | float
) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def wrap_lon(lon: float) -> float:
    """Longitude in [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0
