"""Reading rate-card files into carriers; every problem named by file and field path.

A file is decoded through its declared shape (`carriers/ratecard/schema.py`), which names every
field of the wrong type or form. What a type cannot say is checked here, after decoding, the
same way: zone codes unique and known to the services that price them, weight breaks and
distance bands rising, transit days in order, geometry valid. Only a file without a problem
becomes a `RateCardCarrier`.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import shapely
from msgspec import UNSET, Struct, UnsetType
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from carriers.decoding import Problem, decode
from carriers.ratecard.carrier import RateCardCarrier
from carriers.ratecard.schema import (
    AreaCollection,
    CityZonesSpec,
    DistanceZonesSpec,
    Geometry,
    PercentFeeSpec,
    PolygonZonesSpec,
    RateCardFile,
    ServiceSpec,
    SurchargesSpec,
    ZonesSpec,
    ZoneTariffSpec,
)
from carriers.ratecard.tariff import (
    ZERO,
    Inbound,
    Limits,
    PercentFee,
    RateCard,
    Service,
    Surcharges,
    TrackingRange,
    WeightBreak,
    ZoneTariff,
)
from carriers.ratecard.zones import City, CityZones, DistanceBands, PolygonZones, ZoneResolver
from router.core.errors import ConfigError
from router.core.models import DeliveryType


def parse_ratecard(document: Any, source: str) -> RateCardCarrier:
    """Build a carrier from an already-decoded JSON document; raises the first ConfigError."""
    carrier, errors = _parse(document, source)
    if errors:
        raise _with_count(errors)
    assert carrier is not None
    return carrier


def load_ratecard(path: Path) -> RateCardCarrier:
    """Read and validate one file; raises ConfigError naming the file and the field."""
    carrier, errors = _load(path)
    if errors:
        raise _with_count(errors)
    assert carrier is not None
    return carrier


def load_ratecards(directory: Path) -> list[RateCardCarrier]:
    """Every `*.json` rate card in `directory`, in file-name order.

    Raises the first ConfigError found (its notes say how many more there are), so a service
    never starts with part of its carriers.
    """
    carriers, errors = _scan(directory)
    if errors:
        raise _with_count(errors)
    return carriers


def validate_directory(directory: Path) -> list[ConfigError]:
    """Every problem in every file of `directory` (empty when all is well)."""
    return _scan(directory)[1]


def _with_count(errors: list[ConfigError]) -> ConfigError:
    first = errors[0]
    if len(errors) > 1:
        first.add_note(f"{len(errors) - 1} more problem(s); `carrier-router carriers` lists them all")
    return first


def _scan(directory: Path) -> tuple[list[RateCardCarrier], list[ConfigError]]:
    if not directory.is_dir():
        return [], [ConfigError(str(directory), "$", "no such directory")]
    carriers: list[RateCardCarrier] = []
    errors: list[ConfigError] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.json")):
        carrier, problems = _load(path)
        errors.extend(problems)
        if carrier is None:
            continue
        if carrier.code in seen:
            errors.append(
                ConfigError(
                    path.name,
                    "code",
                    f"duplicate carrier code {carrier.code!r}, also in {seen[carrier.code]}",
                )
            )
            continue
        seen[carrier.code] = path.name
        carriers.append(carrier)
    return carriers, errors


def _load(path: Path) -> tuple[RateCardCarrier | None, list[ConfigError]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [ConfigError(path.name, "$", f"cannot read: {exc.strerror or exc}")]
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, [ConfigError(path.name, "$", f"not valid JSON: {exc}")]
    return _parse(document, path.name)


def _parse(document: Any, source: str) -> tuple[RateCardCarrier | None, list[ConfigError]]:
    spec, problems = decode(document, RateCardFile)
    if spec is None:
        return None, [ConfigError(source, p.path, p.message) for p in _unknown_zones_first(document, problems)]
    checks = _Checks(source)
    card = checks.card(spec)
    if checks.errors or card is None:
        return None, checks.errors
    return RateCardCarrier(card), []


def _unknown_zones_first(document: Any, problems: list[Problem]) -> list[Problem]:
    """A tariff for a zone the card does not draw is named as that, not for what is inside it."""
    if not isinstance(document, dict) or not isinstance(document.get("services"), list):
        return problems
    part, _ = decode({"zones": document.get("zones")}, _ZonesPart)
    if part is None:
        return problems
    codes = _zone_codes(part.zones)
    out = list(problems)
    for i, service in enumerate(document["services"]):
        tariffs = service.get("zones") if isinstance(service, dict) else None
        for zone in tariffs if isinstance(tariffs, dict) else ():
            if zone in codes:
                continue
            path = f"services[{i}].zones.{zone}"
            inside = [n for n, p in enumerate(out) if p.path == path or p.path.startswith(path + ".")]
            at = inside[0] if inside else len(out)
            out = [p for n, p in enumerate(out) if n not in inside]
            out.insert(at, Problem(path, f"unknown zone {zone!r}; the zones are {', '.join(codes)}"))
    return out


class _ZonesPart(Struct, frozen=True):
    zones: ZonesSpec


def _zone_codes(spec: ZonesSpec) -> list[str]:
    if isinstance(spec, PolygonZonesSpec):
        return [f.properties.zone for f in spec.destination.features]
    if isinstance(spec, DistanceZonesSpec):
        return [b.zone for b in spec.bands]
    return [c.zone for c in spec.cities]


class _Checks:
    """What the schema cannot say, checked on a decoded file; every problem kept with its path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[ConfigError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(ConfigError(self.source, path, message))

    def card(self, spec: RateCardFile) -> RateCard | None:
        zones, inbound = self.zones(spec.zones)
        codes = zones.codes if zones is not None else None
        surcharges = self.surcharges(spec.surcharges, codes)
        seen: set[str] = set()
        services = []
        for i, s in enumerate(spec.services):
            if s.code in seen:
                self.fail(f"services[{i}].code", f"duplicate service code {s.code!r}")
            seen.add(s.code)
            services.append(self.service(s, f"services[{i}]", codes))
        tracking = None
        if spec.tracking is not UNSET:
            t = spec.tracking
            if t.last < t.first:
                self.fail("tracking.last", f"{t.last} is before tracking.first ({t.first})")
            elif len(str(t.last)) > t.digits:
                self.fail("tracking.digits", f"{t.last} has more than {t.digits} digits")
            tracking = TrackingRange(t.prefix, t.first, t.last, t.digits)
        if self.errors or zones is None:
            return None
        return RateCard(
            source=self.source,
            code=spec.code,
            name=spec.name.en,
            name_ru=spec.name.ru,
            demo=spec.demo,
            currency=spec.currency,
            volumetric_divisor=spec.volumetric_divisor,
            cutoff=time(int(spec.cutoff[:2]), int(spec.cutoff[3:])),
            countries=frozenset(spec.countries) if spec.countries is not UNSET else frozenset(),
            zones_kind=spec.zones.__struct_config__.tag,  # type: ignore[arg-type]
            zones=zones,
            inbound=inbound,
            surcharges=surcharges,
            services=tuple(services),
            tracking=tracking,
        )

    # --- zones

    def zones(self, spec: ZonesSpec) -> tuple[ZoneResolver | None, Inbound | None]:
        if isinstance(spec, PolygonZonesSpec):
            return self.polygons(spec)
        if isinstance(spec, DistanceZonesSpec):
            return self.bands(spec), None
        return self.cities(spec), None

    def unique(self, code: str, path: str, seen: set[str]) -> None:
        if code in seen:
            self.fail(path, f"duplicate zone {code!r}")
        seen.add(code)

    def polygons(self, spec: PolygonZonesSpec) -> tuple[PolygonZones | None, Inbound | None]:
        inbound = None
        if spec.inbound is not UNSET:
            if spec.origin is UNSET:
                self.fail("zones.inbound", "needs zones.origin: line-haul is for origins outside that area")
            else:
                inbound = Inbound(Decimal(spec.inbound.fee), spec.inbound.extra_days)
        before = len(self.errors)
        zones: list[tuple[str, BaseGeometry]] = []
        seen: set[str] = set()
        for i, feature in enumerate(spec.destination.features):
            path = f"zones.destination.features[{i}]"
            self.unique(feature.properties.zone, f"{path}.properties.zone", seen)
            geometry = self.geometry(feature.geometry, f"{path}.geometry")
            if geometry is not None:
                zones.append((feature.properties.zone, geometry))
        origin = None if spec.origin is UNSET else self.area(spec.origin, "zones.origin")
        if len(self.errors) != before:
            return None, inbound
        return PolygonZones(zones, origin, inbound=inbound is not None), inbound

    def area(self, spec: AreaCollection | Geometry, path: str) -> BaseGeometry | None:
        if not isinstance(spec, AreaCollection):
            return self.geometry(spec, path)
        found = [self.geometry(f.geometry, f"{path}.features[{i}].geometry") for i, f in enumerate(spec.features)]
        geometries = [g for g in found if g is not None]
        return shapely.union_all(geometries) if len(geometries) == len(found) else None

    def geometry(self, spec: Geometry, path: str) -> BaseGeometry | None:
        kind = spec.geojson()["type"]
        try:
            geometry = shape(spec.geojson())
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, shapely.errors.ShapelyError) as exc:
            self.fail(f"{path}.coordinates", f"not valid {kind} coordinates ({exc})")
            return None
        if geometry.is_empty:
            self.fail(f"{path}.coordinates", "is empty")
            return None
        minx, miny, maxx, maxy = geometry.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            self.fail(f"{path}.coordinates", "must be [longitude, latitude] pairs in degrees (GeoJSON order)")
            return None
        if not geometry.is_valid:
            self.fail(f"{path}.coordinates", f"not a valid polygon: {explain_validity(geometry)}")
            return None
        return geometry

    def bands(self, spec: DistanceZonesSpec) -> DistanceBands | None:
        before = len(self.errors)
        seen: set[str] = set()
        previous = 0.0
        for i, band in enumerate(spec.bands):
            self.unique(band.zone, f"zones.bands[{i}].zone", seen)
            if band.max_km <= previous:
                self.fail(f"zones.bands[{i}].max_km", f"must be greater than the previous band's {previous:g} km")
            previous = max(previous, band.max_km)
        if len(self.errors) != before:
            return None
        return DistanceBands([(band.zone, band.max_km) for band in spec.bands])

    def cities(self, spec: CityZonesSpec) -> CityZones | None:
        before = len(self.errors)
        seen: set[str] = set()
        for i, city in enumerate(spec.cities):
            self.unique(city.zone, f"zones.cities[{i}].zone", seen)
        if len(self.errors) != before:
            return None
        return CityZones([City(c.zone, c.name, c.lat, c.lon, c.radius_km) for c in spec.cities])

    # --- surcharges and services

    def known(self, code: str, path: str, codes: tuple[str, ...] | None) -> bool:
        if codes is not None and code not in codes:
            self.fail(path, f"unknown zone {code!r}; the zones are {', '.join(codes)}")
            return False
        return True

    def surcharges(self, spec: SurchargesSpec, codes: tuple[str, ...] | None) -> Surcharges:
        fee, remote = ZERO, frozenset[str]()
        if spec.remote_area is not UNSET:
            fee = Decimal(spec.remote_area.fee)
            path = "surcharges.remote_area.zones"
            remote = frozenset(c for i, c in enumerate(spec.remote_area.zones) if self.known(c, f"{path}[{i}]", codes))
        return Surcharges(Decimal(spec.fuel_pct), _fee(spec.insurance), _fee(spec.cod), fee, remote)

    def service(self, spec: ServiceSpec, path: str, codes: tuple[str, ...] | None) -> Service:
        limits = Limits(
            spec.limits.max_weight_g,
            None if spec.limits.max_side_cm is UNSET else spec.limits.max_side_cm,
            None if spec.limits.max_sum_sides_cm is UNSET else spec.limits.max_sum_sides_cm,
        )
        tariffs = {
            zone: self.tariff(tariff, f"{path}.zones.{zone}", limits)
            for zone, tariff in spec.zones.items()
            if self.known(zone, f"{path}.zones.{zone}", codes)
        }
        return Service(
            spec.code, spec.name.en, DeliveryType(spec.delivery_type), limits, tariffs, spec.cod, spec.name.ru
        )

    def tariff(self, spec: ZoneTariffSpec, path: str, limits: Limits) -> ZoneTariff:
        previous = 0
        for i, wb in enumerate(spec.weight_breaks):
            if wb.max_g <= previous:
                self.fail(f"{path}.weight_breaks[{i}].max_g", f"must be greater than the previous break's {previous} g")
            previous = max(previous, wb.max_g)
        last = spec.weight_breaks[-1].max_g
        if spec.per_extra_kg is UNSET and last < limits.max_weight_g:
            self.fail(
                f"{path}.per_extra_kg",
                f"required: the weight breaks stop at {last} g "
                f"but the service takes parcels up to {limits.max_weight_g} g",
            )
        days = spec.transit_days
        if days.max_days < days.min_days:
            self.fail(f"{path}.transit_days.max", f"must be at least min ({days.min_days}), not {days.max_days}")
        return ZoneTariff(
            Decimal(spec.base),
            tuple(WeightBreak(wb.max_g, Decimal(wb.price)) for wb in spec.weight_breaks),
            None if spec.per_extra_kg is UNSET else Decimal(spec.per_extra_kg),
            None if spec.per_km is UNSET else Decimal(spec.per_km),
            days.min_days,
            days.max_days,
        )


def _fee(spec: PercentFeeSpec | UnsetType) -> PercentFee | None:
    if not isinstance(spec, PercentFeeSpec):
        return None
    return PercentFee(Decimal(spec.pct), Decimal(spec.minimum))
