"""Shipments, fixture files and the sandbox emulators for the API-carrier tests.

Test modules import the fixtures they use from here (pytest finds fixtures in a module's
namespace), so these stay out of any conftest other suites share.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from router.core.models import Location, Parcel, Place, RateRequest, Shipment

if TYPE_CHECKING:
    from carriers.sandbox import SandboxServers

FIXTURES = Path(__file__).parent / "fixtures"
MSK = ZoneInfo("Europe/Moscow")

MOSCOW = Place(
    lat=55.7558,
    lon=37.6173,
    country="RU",
    city="Moscow",
    region="RU-MOW",
    timezone="Europe/Moscow",
    postal_code="101000",
)
MOSCOW_EAST = Place(
    lat=55.7887,
    lon=37.7494,
    country="RU",
    city="Moscow",
    region="RU-MOW",
    timezone="Europe/Moscow",
    address="Izmaylovsky prospekt, 73",
)
NOVOSIBIRSK = Place(
    lat=55.0415,
    lon=82.9346,
    country="RU",
    city="Novosibirsk",
    region="RU-NVS",
    timezone="Asia/Novosibirsk",
    postal_code="630099",
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def rate_request(
    origin: Place = MOSCOW,
    destination: Place = NOVOSIBIRSK,
    *,
    parcels: tuple[Parcel, ...] = (Parcel(1200, 30, 20, 10),),
    ship_at: datetime = datetime(2025, 4, 11, 10, 0, tzinfo=MSK),  # a Friday, before any cut-off
    declared_value: str = "0",
    cod: bool = False,
) -> RateRequest:
    from decimal import Decimal

    shipment = Shipment(
        origin=Location(city=origin.city),
        destination=Location(city=destination.city),
        parcels=parcels,
        declared_value=Decimal(declared_value),
        cod=cod,
        ship_at=ship_at,
    )
    return RateRequest(shipment, origin, destination, ship_at)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxServers]:
    from carriers.sandbox import start_sandbox

    servers = await start_sandbox(seed=7)
    try:
        yield servers
    finally:
        await servers.close()
