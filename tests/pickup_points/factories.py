"""Small builders so each test states only what it is about."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pickup_points.hours import parse_hours
from pickup_points.model import Cell, Feature, Limits, PickupPoint, PointType, Status

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


def every_field(lat: float = 64.7, **changes: Any) -> list[PickupPoint]:
    """Two points between them setting every field a network keeps: what a store must give back as it got."""
    full = point(
        "a",
        lat,
        -179.5,
        network="n",
        carrier="magistral",
        type=PointType.LOCKER,
        timezone="Asia/Anadyr",
        hours=parse_hours("Mo-Fr 09:00-13:00,14:00-20:00; Fr 22:00-04:00; 2027-01-01 off"),
        features=frozenset({Feature.CARD, Feature.COD}),
        limits=Limits(max_weight_g=15000, cells=(Cell((64.0, 36.0, 9.5)),)),
        status=Status.TEMPORARILY_CLOSED,
        postal_code="689000",
        **changes,
    )
    bare = point("b", network="n", city=None, region=None, limits=Limits(max_sides_cm=(60.0, 40.0, 40.0)))
    return [full, bare]
