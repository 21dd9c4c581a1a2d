"""The JSON answers of `/v1/pickup-points`, declared once as msgspec Structs: pickup_points/render.py
builds them, msgspec writes them, and the OpenAPI document is generated from them.

One point (`PickupPoint`) carries the site it shares; a point in a list (`NearbyPoint`) carries
its distance, its site's id and, when priced, the carrier's offer.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import UNSET, Meta, UnsetType

from router.core.answers import CarrierError, Offer, Out


class Span(Out):
    """Local times HH:MM; closes <= opens runs past midnight; 24:00 is the day's end."""

    opens: str
    closes: str


Spans = list[Span]


class Day(Out):
    day: str
    spans: Spans
    breaks: Spans


class DayException(Out):
    date: date
    spans: Spans


class Hours(Out):
    text: str
    week: list[Day]
    exceptions: list[DayException]


class Limits(Out):
    max_weight_g: int | None
    max_sides_cm: list[float] | None
    cells_cm: list[list[float]]


class Site(Out):
    id: str
    point_ids: list[str]
    networks: list[str]


class PointFields(Out):
    id: Annotated[str, Meta(description="network:code")]
    network: str
    carrier: Annotated[str, Meta(description="The carrier that delivers to this point")]
    type: Literal["pvz", "locker", "post", "store"]
    name: str
    address: str
    city: str | None
    region: Annotated[
        str | None,
        Meta(
            description="ISO 3166-2 (RU-MOW); outside Russia the country and a code of its own (UA-12); null if unknown"
        ),
    ]
    postal_code: str | None
    country: str
    lat: float
    lon: float
    timezone: str
    status: Literal["active", "temporarily_closed", "closed"]
    hours: Hours
    features: list[Literal["fitting_room", "returns", "partial_handout", "cod", "card"]]
    limits: Limits
    open_now: bool


class PickupPoint(PointFields):
    site: Annotated[Site | UnsetType, Meta(description="The place it shares with other networks' points")] = UNSET


class NearbyPoint(PointFields):
    distance_km: float
    site_id: str
    offer: Annotated[
        Offer | None | UnsetType,
        Meta(description="With a parcel and origin: the carrier's offer to this point (null: none)"),
    ] = UNSET


class PickupPointList(Out):
    count: int
    points: Annotated[list[NearbyPoint], Meta(description="Nearest first")]
    errors: list[CarrierError]


class Geometry(Out):
    type: Literal["Point"]
    coordinates: list[float]


class MapProperties(Out, omit_defaults=True):
    """A cluster has its count; a site also its points and networks."""

    kind: Literal["cluster", "site"]
    count: int
    points: list[str] = []
    networks: list[str] = []


class MapFeature(Out):
    type: Literal["Feature"]
    id: str
    geometry: Geometry
    properties: MapProperties


class PickupPointMap(Out):
    type: Literal["FeatureCollection"]
    zoom: Annotated[int, Meta(description="The zoom cells were drawn for; lower than asked for a box too big")]
    total: int
    features: list[MapFeature]
