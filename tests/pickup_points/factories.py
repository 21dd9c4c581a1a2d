"""Small builders so each test states only what it is about."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pickup_points.hours import parse_hours
from pickup_points.model import PickupPoint, PointType

# A 1.2 kg, 30 x 20 x 10 cm parcel as query parameters.
PARCEL_QUERY = {"weight_g": "1200", "length_cm": "30", "width_cm": "20", "height_cm": "10"}


def point(code: str = "1", lat: float = 55.75, lon: float = 37.62, network: str = "net", **changes: Any) -> PickupPoint:
    base = PickupPoint(
        id=PickupPoint.make_id(network, code),
        network=network,
        code=code,
        carrier=network,
        type=PointType.PVZ,
        name=f"Point {code}",
        address=f"ул. Тестовая, {code}",
        city="Москва",
        region="RU-MOW",
        lat=lat,
        lon=lon,
        timezone="Europe/Moscow",
        hours=parse_hours("24/7"),
    )
    return replace(base, **changes)
