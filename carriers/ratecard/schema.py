"""The rate-card file's shape, declared once as msgspec Structs: fields, defaults and constraints.

The format itself is described in `carriers/ratecard/__init__.py`. A file is decoded through
`RateCardFile` (`carriers.decoding.decode`), which names every field that breaks these types;
what a type cannot say (zone codes known, weight breaks rising, geometry valid) is checked by
`carriers/ratecard/loader.py` after decoding.

Money and percentages stay strings here, their form checked by pattern: a float cannot hold
kopecks, so `200.0` is refused and the loader turns the text into Decimal.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field

from router.core.models import DEFAULT_VOLUMETRIC_DIVISOR

CarrierCode = Annotated[
    str,
    Meta(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="a carrier code (lower-case letters, digits, - and _)",
    ),
]
ServiceCode = Annotated[
    str,
    Meta(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="a service code (lower-case letters, digits, - and _)",
    ),
]
ZoneCode = Annotated[
    str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", description="a zone code (letters, digits, - and _)")
]
Name = Annotated[str, Meta(pattern=r"\S", description="a name that is not blank")]
Money = Annotated[
    str,
    Meta(pattern=r"^\d{1,9}(\.\d{1,2})?$", description='an amount as a string like "250.00" (at most 2 decimals)'),
]
Percent = Annotated[
    str,
    Meta(
        pattern=r"^(100(\.0{1,4})?|\d{1,2}(\.\d{1,4})?)$",
        description='a percentage as a string like "12.5" (0 to 100)',
    ),
]
Clock = Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):([0-5]\d)$", description='a local time "HH:MM"')]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="an ISO 4217 currency code")]
Country = Annotated[str, Meta(pattern=r"^[A-Z]{2}$", description="an ISO 3166-1 alpha-2 code")]
Days = Annotated[int, Meta(ge=0)]
Grams = Annotated[int, Meta(ge=1)]
# Bounded above so that an infinity (possible in a document built in code) is refused as well.
Positive = Annotated[float, Meta(gt=0, le=1_000_000, description="a positive number")]
Latitude = Annotated[float, Meta(ge=-90, le=90, description="a number between -90 and 90")]
Longitude = Annotated[float, Meta(ge=-180, le=180, description="a number between -180 and 180")]


class Spec(Struct, frozen=True, forbid_unknown_fields=True):
    """A part of the file whose every key is known: any other is a typo."""


class Names(Spec, frozen=True):
    """A name a buyer reads, in both languages a widget speaks: neither may be missing, so a
    Russian page never falls back to English."""

    ru: Name
    en: Name


# --- zones


class PolygonGeometry(Struct, frozen=True, tag_field="type", tag="Polygon"):
    coordinates: list[Any]  # checked by shapely in the loader, which knows GeoJSON's rules

    def geojson(self) -> dict[str, Any]:
        return {"type": "Polygon", "coordinates": self.coordinates}


class MultiPolygonGeometry(Struct, frozen=True, tag_field="type", tag="MultiPolygon"):
    coordinates: list[Any]

    def geojson(self) -> dict[str, Any]:
        return {"type": "MultiPolygon", "coordinates": self.coordinates}


Geometry = PolygonGeometry | MultiPolygonGeometry


class ZoneProperties(Struct, frozen=True):
    zone: ZoneCode  # other properties (names, colours for a map) are the file's own business


class ZoneFeature(Spec, frozen=True):
    type: Literal["Feature"]
    properties: ZoneProperties
    geometry: Geometry
    id: Any = None
    bbox: Any = None


class ZoneCollection(Spec, frozen=True):
    type: Literal["FeatureCollection"]
    features: Annotated[list[ZoneFeature], Meta(min_length=1)]
    bbox: Any = None
    name: Any = None
    crs: Any = None


class AreaFeature(Struct, frozen=True):
    geometry: Geometry


class AreaCollection(Struct, frozen=True, tag_field="type", tag="FeatureCollection"):
    features: Annotated[list[AreaFeature], Meta(min_length=1)]


class InboundSpec(Spec, frozen=True):
    fee: Money
    extra_days: Days


class PolygonZonesSpec(Spec, frozen=True, tag_field="type", tag="polygons"):
    destination: ZoneCollection
    origin: AreaCollection | PolygonGeometry | MultiPolygonGeometry | UnsetType = UNSET
    inbound: InboundSpec | UnsetType = UNSET


class Band(Spec, frozen=True):
    zone: ZoneCode
    max_km: Positive


class DistanceZonesSpec(Spec, frozen=True, tag_field="type", tag="distance"):
    bands: Annotated[list[Band], Meta(min_length=1)]


class CitySpec(Spec, frozen=True):
    zone: ZoneCode
    name: Name
    lat: Latitude
    lon: Longitude
    radius_km: Positive


class CityZonesSpec(Spec, frozen=True, tag_field="type", tag="cities"):
    cities: Annotated[list[CitySpec], Meta(min_length=1)]


ZonesSpec = PolygonZonesSpec | DistanceZonesSpec | CityZonesSpec


# --- surcharges and services


class PercentFeeSpec(Spec, frozen=True):
    pct: Percent
    minimum: Money = field(default="0", name="min")


class RemoteAreaSpec(Spec, frozen=True):
    fee: Money
    zones: Annotated[list[Name], Meta(min_length=1)]


class SurchargesSpec(Spec, frozen=True):
    fuel_pct: Percent = "0"
    insurance: PercentFeeSpec | UnsetType = UNSET
    cod: PercentFeeSpec | UnsetType = UNSET
    remote_area: RemoteAreaSpec | UnsetType = UNSET


class WeightBreakSpec(Spec, frozen=True):
    max_g: Grams
    price: Money


class TransitDays(Spec, frozen=True):
    min_days: Days = field(name="min")
    max_days: Days = field(name="max")


class ZoneTariffSpec(Spec, frozen=True):
    base: Money
    weight_breaks: Annotated[list[WeightBreakSpec], Meta(min_length=1)]
    transit_days: TransitDays
    per_extra_kg: Money | UnsetType = UNSET
    per_km: Money | UnsetType = UNSET


class LimitsSpec(Spec, frozen=True):
    max_weight_g: Grams
    max_side_cm: Positive | UnsetType = UNSET
    max_sum_sides_cm: Positive | UnsetType = UNSET


class ServiceSpec(Spec, frozen=True):
    code: ServiceCode
    name: Names
    delivery_type: Literal["courier", "pickup"]
    limits: LimitsSpec
    zones: Annotated[dict[str, ZoneTariffSpec], Meta(min_length=1)]  # zone code → its tariff
    cod: bool = True


class TrackingSpec(Spec, frozen=True):
    """The tracking numbers the partner gave this shop: `prefix` then `first`…`last`, zero-padded
    to `digits`. Parcels booked here take them in turn."""

    prefix: Annotated[str, Meta(max_length=10, pattern=r"^[A-Z0-9]*$")]
    first: Annotated[int, Meta(ge=0)]
    last: Annotated[int, Meta(ge=0)]
    digits: Annotated[int, Meta(ge=1, le=20)]


class RateCardFile(Spec, frozen=True):
    code: CarrierCode
    name: Names
    cutoff: Clock
    zones: ZonesSpec
    services: Annotated[list[ServiceSpec], Meta(min_length=1)]
    demo: bool = False
    currency: Currency = "RUB"
    volumetric_divisor: Annotated[int, Meta(ge=1)] = DEFAULT_VOLUMETRIC_DIVISOR
    countries: Annotated[list[Country], Meta(min_length=1)] | UnsetType = UNSET  # unset: any
    surcharges: SurchargesSpec = field(default_factory=SurchargesSpec)
    tracking: TrackingSpec | UnsetType = UNSET  # unset: the partner is quoted, not booked
