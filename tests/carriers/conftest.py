"""A small rate card whose numbers are easy to price by hand, and requests to quote it with.

Zones A and B are squares sharing the meridian 40°E (A listed first); B is a remote area.
The expected prices in the tests are worked out from the tariff below, not read back from code.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from router.core.models import Location, Parcel, Place, RateRequest, Shipment

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "carriers"

# A Wednesday morning in Moscow, before any cut-off in the fixtures.
SHIP_AT = datetime(2025, 3, 5, 9, 30, tzinfo=ZoneInfo("Europe/Moscow"))


def square(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]],
    }


TEST_CARD: dict[str, Any] = {
    "_note": "test tariff",
    "code": "testpost",
    "name": {"ru": "Тестовая почта", "en": "Test Post"},
    "cutoff": "14:00",
    "zones": {
        "type": "polygons",
        "destination": {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"zone": "A"}, "geometry": square(30, 50, 40, 60)},
                {"type": "Feature", "properties": {"zone": "B"}, "geometry": square(40, 50, 50, 60)},
            ],
        },
    },
    "surcharges": {
        "fuel_pct": "10",
        "insurance": {"pct": "1", "min": "10.00"},
        "cod": {"pct": "2", "min": "50.00"},
        "remote_area": {"fee": "100.00", "zones": ["B"]},
    },
    "services": [
        {
            "code": "courier",
            "name": {"ru": "Курьер", "en": "Courier"},
            "delivery_type": "courier",
            "limits": {"max_weight_g": 20000, "max_side_cm": 100, "max_sum_sides_cm": 200},
            "zones": {
                "A": {
                    "base": "200.00",
                    "weight_breaks": [{"max_g": 1000, "price": "0.00"}, {"max_g": 3000, "price": "50.00"}],
                    "per_extra_kg": "25.00",
                    "transit_days": {"min": 1, "max": 2},
                },
                "B": {
                    "base": "300.00",
                    "weight_breaks": [{"max_g": 1000, "price": "0.00"}, {"max_g": 3000, "price": "80.00"}],
                    "per_extra_kg": "40.00",
                    "transit_days": {"min": 2, "max": 4},
                },
            },
        },
        {
            "code": "pickup",
            "name": {"ru": "Пункт выдачи", "en": "Pickup point"},
            "delivery_type": "pickup",
            "cod": False,
            "limits": {"max_weight_g": 10000, "max_side_cm": 60, "max_sum_sides_cm": 120},
            "zones": {
                "A": {
                    "base": "150.00",
                    "weight_breaks": [{"max_g": 1000, "price": "0.00"}, {"max_g": 3000, "price": "30.00"}],
                    "per_extra_kg": "15.00",
                    "transit_days": {"min": 2, "max": 3},
                },
            },
        },
    ],
}


@pytest.fixture
def card() -> dict[str, Any]:
    """A fresh copy of the test tariff, free to mutate."""
    return copy.deepcopy(TEST_CARD)


def place(lat: float, lon: float, *, city: str | None = None, timezone: str = "Europe/Moscow") -> Place:
    return Place(lat=lat, lon=lon, country="RU", city=city, region=None, timezone=timezone)


ORIGIN = place(55.0, 35.0)  # in zone A
IN_A = place(55.0, 38.0)
IN_B = place(55.0, 45.0)
OUTSIDE = place(55.0, 60.0)


def request_for(
    *parcels: Parcel,
    destination: Place = IN_A,
    origin: Place = ORIGIN,
    declared_value: str = "0",
    cod: bool = False,
    ship_at: datetime = SHIP_AT,
) -> RateRequest:
    shipment = Shipment(
        origin=Location(lat=origin.lat, lon=origin.lon),
        destination=Location(lat=destination.lat, lon=destination.lon),
        parcels=parcels or (Parcel(1200, 30, 20, 10),),
        declared_value=Decimal(declared_value),
        cod=cod,
        ship_at=ship_at,
    )
    return RateRequest(shipment=shipment, origin=origin, destination=destination, ship_at=ship_at)


@pytest.fixture
def write_card(tmp_path: Path) -> Callable[[str, Any], Path]:
    """Write a document (or raw text) as a file in a fresh carriers directory."""

    def write(name: str, document: Any) -> Path:
        path = tmp_path / name
        path.write_bytes(document.encode() if isinstance(document, str) else orjson.dumps(document))
        return path

    return write
