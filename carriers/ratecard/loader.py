"""Reading and validating rate-card files; every problem named by file and field path."""

from __future__ import annotations

import math
import re
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from carriers.ratecard.carrier import RateCardCarrier
from carriers.ratecard.tariff import (
    HUNDRED,
    ZERO,
    Inbound,
    Limits,
    PercentFee,
    RateCard,
    Service,
    Surcharges,
    WeightBreak,
    ZoneTariff,
)
from carriers.ratecard.zones import (
    City,
    CityZones,
    DistanceBands,
    PolygonZones,
    ZoneResolver,
)
from router.core.errors import ConfigError
from router.core.models import (
    DEFAULT_VOLUMETRIC_DIVISOR,
    DeliveryType,
)

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_ZONE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_MONEY = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
_PERCENT = re.compile(r"^\d{1,3}(\.\d{1,4})?$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")

_MISSING = object()


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Reader:
    """Walks one document, collecting every problem with its field path instead of stopping."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[ConfigError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(ConfigError(self.source, path or "$", message))

    def obj(
        self,
        value: Any,
        path: str,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.fail(path, f"must be an object, not {_kind(value)}")
            return None
        for key in value:
            if key not in required and key not in optional and not key.startswith("_"):
                self.fail(_join(path, key), "unknown field")
        ok = True
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "required")
                ok = False
        return value if ok else None

    def items(self, value: Any, path: str) -> list[Any] | None:
        if not isinstance(value, list):
            self.fail(path, f"must be a list, not {_kind(value)}")
            return None
        if not value:
            self.fail(path, "must not be empty")
            return None
        return value

    def text(
        self,
        value: Any,
        path: str,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> str | None:
        if not isinstance(value, str):
            self.fail(path, f"must be a string, not {_kind(value)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.fail(path, f"{value!r} is not {hint}")
            return None
        if not value.strip():
            self.fail(path, "must not be blank")
            return None
        return value

    def boolean(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, not {_kind(value)}")
            return None
        return value

    def integer(self, value: Any, path: str, minimum: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"must be a whole number, not {_kind(value)}")
            return None
        if value < minimum:
            self.fail(path, f"must be at least {minimum}, not {value}")
            return None
        return value

    def positive(self, value: Any, path: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, f"must be a number, not {_kind(value)}")
            return None
        if not math.isfinite(value) or value <= 0:
            self.fail(path, f"must be a positive number, not {value}")
            return None
        return float(value)

    def coordinate(self, value: Any, path: str, limit: float) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -limit <= value <= limit:
            self.fail(path, f"must be a number between -{limit:g} and {limit:g}")
            return None
        return float(value)

    def money(self, value: Any, path: str) -> Decimal | None:
        if not isinstance(value, str) or not _MONEY.match(value):
            # Floats are refused outright: 0.1 + 0.2 money is how breakdowns stop adding up.
            self.fail(
                path,
                f'must be an amount as a string like "250.00" (at most 2 decimals), not {value!r}',
            )
            return None
        return Decimal(value)

    def percent(self, value: Any, path: str) -> Decimal | None:
        if not isinstance(value, str) or not _PERCENT.match(value) or Decimal(value) > HUNDRED:
            self.fail(
                path,
                f'must be a percentage as a string like "12.5" (0 to 100), not {value!r}',
            )
            return None
        return Decimal(value)

    def clock(self, value: Any, path: str) -> time | None:
        if not isinstance(value, str) or not _CLOCK.match(value):
            self.fail(path, f'must be a local time "HH:MM", not {value!r}')
            return None
        return time(int(value[:2]), int(value[3:]))


def _kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


_TOP_REQUIRED = ("code", "name", "cutoff", "zones", "services")
_TOP_OPTIONAL = ("demo", "currency", "volumetric_divisor", "countries", "surcharges")


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
    r = _Reader(source)
    top = r.obj(document, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    if top is None:
        return None, r.errors
    code = r.text(
        top["code"],
        "code",
        _CODE,
        "a carrier code (lower-case letters, digits, - and _)",
    )
    name = r.text(top["name"], "name")
    demo = r.boolean(top.get("demo", False), "demo")
    currency = r.text(top.get("currency", "RUB"), "currency", _CURRENCY, "an ISO 4217 currency code")
    divisor = r.integer(
        top.get("volumetric_divisor", DEFAULT_VOLUMETRIC_DIVISOR),
        "volumetric_divisor",
        1,
    )
    cutoff = r.clock(top["cutoff"], "cutoff")
    countries = _countries(r, top.get("countries", _MISSING))
    zones_kind, zones, inbound = _zones(r, top["zones"])
    zone_codes = zones.codes if zones is not None else None
    surcharges = _surcharges(r, top.get("surcharges", {}), zone_codes)
    services = _services(r, top["services"], zone_codes)
    if r.errors:
        return None, r.errors
    card = RateCard(
        source=source,
        code=code,  # type: ignore[arg-type]
        name=name,  # type: ignore[arg-type]
        demo=bool(demo),
        currency=currency,  # type: ignore[arg-type]
        volumetric_divisor=divisor,  # type: ignore[arg-type]
        cutoff=cutoff,  # type: ignore[arg-type]
        countries=countries,
        zones_kind=zones_kind,
        zones=zones,  # type: ignore[arg-type]
        inbound=inbound,
        surcharges=surcharges,  # type: ignore[arg-type]
        services=services,  # type: ignore[arg-type]
    )
    return RateCardCarrier(card), []


def _countries(r: _Reader, value: Any) -> frozenset[str]:
    if value is _MISSING:
        return frozenset()
    items = r.items(value, "countries")
    if items is None:
        return frozenset()
    found = (r.text(c, f"countries[{i}]", _COUNTRY, "an ISO 3166-1 alpha-2 code") for i, c in enumerate(items))
    return frozenset(c for c in found if c is not None)


# --- zones


def _zones(r: _Reader, value: Any) -> tuple[str, ZoneResolver | None, Inbound | None]:
    if not isinstance(value, dict):
        r.fail("zones", f"must be an object, not {_kind(value)}")
        return "", None, None
    if "type" not in value:
        r.fail("zones.type", 'required: "polygons", "distance" or "cities"')
        return "", None, None
    kind = value["type"]
    if kind == "polygons":
        return (kind, *_polygon_zones(r, value))
    if kind == "distance":
        return kind, _distance_zones(r, value), None
    if kind == "cities":
        return kind, _city_zones(r, value), None
    r.fail("zones.type", f'must be "polygons", "distance" or "cities", not {kind!r}')
    return "", None, None


def _zone_code(r: _Reader, value: Any, path: str, seen: set[str]) -> str | None:
    code = r.text(value, path, _ZONE, "a zone code (letters, digits, - and _)")
    if code is None:
        return None
    if code in seen:
        r.fail(path, f"duplicate zone {code!r}")
        return None
    seen.add(code)
    return code


def _inbound(r: _Reader, spec: dict[str, Any]) -> Inbound | None:
    if "inbound" not in spec:
        return None
    if "origin" not in spec:
        r.fail(
            "zones.inbound",
            "needs zones.origin: line-haul is for origins outside that area",
        )
        return None
    inbound = r.obj(spec["inbound"], "zones.inbound", ("fee", "extra_days"))
    if inbound is None:
        return None
    fee = r.money(inbound["fee"], "zones.inbound.fee")
    days = r.integer(inbound["extra_days"], "zones.inbound.extra_days", 0)
    return Inbound(fee, days) if fee is not None and days is not None else None


def _polygon_zones(r: _Reader, value: dict[str, Any]) -> tuple[PolygonZones | None, Inbound | None]:
    spec = r.obj(value, "zones", ("type", "destination"), ("origin", "inbound"))
    if spec is None:
        return None, None
    inbound = _inbound(r, spec)
    path = "zones.destination"
    collection = r.obj(spec["destination"], path, ("type", "features"), ("bbox", "name", "crs"))
    if collection is None:
        return None, inbound
    if collection["type"] != "FeatureCollection":
        r.fail(f"{path}.type", f'must be "FeatureCollection", not {collection["type"]!r}')
    features = r.items(collection["features"], f"{path}.features")
    if features is None:
        return None, inbound
    zones: list[tuple[str, BaseGeometry]] = []
    seen: set[str] = set()
    for i, feature in enumerate(features):
        fpath = f"{path}.features[{i}]"
        f = r.obj(feature, fpath, ("type", "properties", "geometry"), ("id", "bbox"))
        if f is None:
            continue
        if f["type"] != "Feature":
            r.fail(f"{fpath}.type", f'must be "Feature", not {f["type"]!r}')
        props = f["properties"]
        if not isinstance(props, dict) or "zone" not in props:
            r.fail(f"{fpath}.properties.zone", "required")
            code = None
        else:
            code = _zone_code(r, props["zone"], f"{fpath}.properties.zone", seen)
        geom = _geometry(r, f["geometry"], f"{fpath}.geometry")
        if code is not None and geom is not None:
            zones.append((code, geom))
    origin = None
    if "origin" in spec:
        origin = _area(r, spec["origin"], "zones.origin")
    if len(zones) != len(features) or ("origin" in spec and origin is None):
        return None, inbound
    return PolygonZones(zones, origin, inbound=inbound is not None), inbound


def _area(r: _Reader, value: Any, path: str) -> BaseGeometry | None:
    if isinstance(value, dict) and value.get("type") == "FeatureCollection":
        features = r.items(value.get("features"), f"{path}.features")
        if features is None:
            return None
        geoms = []
        for i, feature in enumerate(features):
            fpath = f"{path}.features[{i}]"
            if not isinstance(feature, dict) or "geometry" not in feature:
                r.fail(f"{fpath}.geometry", "required")
                continue
            geom = _geometry(r, feature["geometry"], f"{fpath}.geometry")
            if geom is not None:
                geoms.append(geom)
        return shapely.union_all(geoms) if len(geoms) == len(features) else None
    return _geometry(r, value, path)


def _geometry(r: _Reader, value: Any, path: str) -> BaseGeometry | None:
    if not isinstance(value, dict) or value.get("type") not in (
        "Polygon",
        "MultiPolygon",
    ):
        r.fail(
            f"{path}.type" if isinstance(value, dict) else path,
            "must be a GeoJSON Polygon or MultiPolygon",
        )
        return None
    try:
        geom = shape(value)
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        shapely.errors.ShapelyError,
    ) as exc:
        r.fail(f"{path}.coordinates", f"not valid {value['type']} coordinates ({exc})")
        return None
    if geom.is_empty:
        r.fail(f"{path}.coordinates", "is empty")
        return None
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        r.fail(
            f"{path}.coordinates",
            "must be [longitude, latitude] pairs in degrees (GeoJSON order)",
        )
        return None
    if not geom.is_valid:
        r.fail(f"{path}.coordinates", f"not a valid polygon: {explain_validity(geom)}")
        return None
    return geom


def _distance_zones(r: _Reader, value: dict[str, Any]) -> DistanceBands | None:
    spec = r.obj(value, "zones", ("type", "bands"))
    if spec is None:
        return None
    items = r.items(spec["bands"], "zones.bands")
    if items is None:
        return None
    bands: list[tuple[str, float]] = []
    seen: set[str] = set()
    previous = 0.0
    for i, item in enumerate(items):
        path = f"zones.bands[{i}]"
        band = r.obj(item, path, ("zone", "max_km"))
        if band is None:
            continue
        code = _zone_code(r, band["zone"], f"{path}.zone", seen)
        km = r.positive(band["max_km"], f"{path}.max_km")
        if km is not None and km <= previous:
            r.fail(
                f"{path}.max_km",
                f"must be greater than the previous band's {previous:g} km",
            )
            km = None
        if code is not None and km is not None:
            bands.append((code, km))
            previous = km
    return DistanceBands(bands) if len(bands) == len(items) else None


def _city_zones(r: _Reader, value: dict[str, Any]) -> CityZones | None:
    spec = r.obj(value, "zones", ("type", "cities"))
    if spec is None:
        return None
    items = r.items(spec["cities"], "zones.cities")
    if items is None:
        return None
    cities: list[City] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"zones.cities[{i}]"
        c = r.obj(item, path, ("zone", "name", "lat", "lon", "radius_km"))
        if c is None:
            continue
        code = _zone_code(r, c["zone"], f"{path}.zone", seen)
        name = r.text(c["name"], f"{path}.name")
        lat = r.coordinate(c["lat"], f"{path}.lat", 90)
        lon = r.coordinate(c["lon"], f"{path}.lon", 180)
        radius = r.positive(c["radius_km"], f"{path}.radius_km")
        if None not in (code, name, lat, lon, radius):
            cities.append(City(code, name, lat, lon, radius))  # type: ignore[arg-type]
    return CityZones(cities) if len(cities) == len(items) else None


# --- surcharges and services


def _percent_fee(r: _Reader, value: Any, path: str) -> PercentFee | None:
    spec = r.obj(value, path, ("pct",), ("min",))
    if spec is None:
        return None
    pct = r.percent(spec["pct"], f"{path}.pct")
    minimum = r.money(spec.get("min", "0"), f"{path}.min")
    return PercentFee(pct, minimum) if pct is not None and minimum is not None else None


def _known_zone(r: _Reader, code: str, path: str, zone_codes: tuple[str, ...] | None) -> bool:
    if zone_codes is not None and code not in zone_codes:
        r.fail(path, f"unknown zone {code!r}; the zones are {', '.join(zone_codes)}")
        return False
    return True


def _surcharges(r: _Reader, value: Any, zone_codes: tuple[str, ...] | None) -> Surcharges | None:
    spec = r.obj(value, "surcharges", (), ("fuel_pct", "insurance", "cod", "remote_area"))
    if spec is None:
        return None
    fuel = r.percent(spec.get("fuel_pct", "0"), "surcharges.fuel_pct")
    insurance = _percent_fee(r, spec["insurance"], "surcharges.insurance") if "insurance" in spec else None
    cod = _percent_fee(r, spec["cod"], "surcharges.cod") if "cod" in spec else None
    fee, remote = ZERO, frozenset[str]()
    if "remote_area" in spec:
        ra = r.obj(spec["remote_area"], "surcharges.remote_area", ("fee", "zones"))
        if ra is not None:
            fee = r.money(ra["fee"], "surcharges.remote_area.fee") or ZERO
            codes = r.items(ra["zones"], "surcharges.remote_area.zones") or []
            remote = frozenset(
                c
                for i, c in enumerate(codes)
                if r.text(c, f"surcharges.remote_area.zones[{i}]") is not None
                and _known_zone(r, c, f"surcharges.remote_area.zones[{i}]", zone_codes)
            )
    if fuel is None:
        return None
    return Surcharges(fuel, insurance, cod, fee, remote)


def _services(r: _Reader, value: Any, zone_codes: tuple[str, ...] | None) -> tuple[Service, ...] | None:
    items = r.items(value, "services")
    if items is None:
        return None
    services: list[Service] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"services[{i}]"
        s = r.obj(item, path, ("code", "name", "delivery_type", "limits", "zones"), ("cod",))
        if s is None:
            continue
        code = r.text(
            s["code"],
            f"{path}.code",
            _CODE,
            "a service code (lower-case letters, digits, - and _)",
        )
        if code is not None and code in seen:
            r.fail(f"{path}.code", f"duplicate service code {code!r}")
        seen.add(code or "")
        name = r.text(s["name"], f"{path}.name")
        delivery_type = None
        if s["delivery_type"] in ("courier", "pickup"):
            delivery_type = DeliveryType(s["delivery_type"])
        else:
            r.fail(
                f"{path}.delivery_type",
                f'must be "courier" or "pickup", not {s["delivery_type"]!r}',
            )
        cod = r.boolean(s.get("cod", True), f"{path}.cod")
        limits = _limits(r, s["limits"], f"{path}.limits")
        tariffs = _tariffs(r, s["zones"], f"{path}.zones", zone_codes, limits)
        if None not in (code, name, delivery_type, cod, limits, tariffs):
            services.append(Service(code, name, delivery_type, limits, tariffs, cod))  # type: ignore[arg-type]
    return tuple(services)


def _limits(r: _Reader, value: Any, path: str) -> Limits | None:
    spec = r.obj(value, path, ("max_weight_g",), ("max_side_cm", "max_sum_sides_cm"))
    if spec is None:
        return None
    weight = r.integer(spec["max_weight_g"], f"{path}.max_weight_g", 1)
    side = r.positive(spec["max_side_cm"], f"{path}.max_side_cm") if "max_side_cm" in spec else None
    total = r.positive(spec["max_sum_sides_cm"], f"{path}.max_sum_sides_cm") if "max_sum_sides_cm" in spec else None
    if weight is None or ("max_side_cm" in spec and side is None) or ("max_sum_sides_cm" in spec and total is None):
        return None
    return Limits(weight, side, total)


def _tariffs(
    r: _Reader,
    value: Any,
    path: str,
    zone_codes: tuple[str, ...] | None,
    limits: Limits | None,
) -> dict[str, ZoneTariff] | None:
    if not isinstance(value, dict):
        r.fail(path, f"must be an object of zone code to tariff, not {_kind(value)}")
        return None
    if not value:
        r.fail(path, "must price at least one zone")
        return None
    tariffs: dict[str, ZoneTariff] = {}
    ok = True
    for zone, spec in value.items():
        zpath = _join(path, zone)
        if not _known_zone(r, zone, zpath, zone_codes):
            ok = False
            continue
        tariff = _tariff(r, spec, zpath, limits)
        if tariff is None:
            ok = False
        else:
            tariffs[zone] = tariff
    return tariffs if ok else None


def _tariff(r: _Reader, value: Any, path: str, limits: Limits | None) -> ZoneTariff | None:
    spec = r.obj(
        value,
        path,
        ("base", "weight_breaks", "transit_days"),
        ("per_extra_kg", "per_km"),
    )
    if spec is None:
        return None
    before = len(r.errors)
    base = r.money(spec["base"], f"{path}.base")
    per_extra = r.money(spec["per_extra_kg"], f"{path}.per_extra_kg") if "per_extra_kg" in spec else None
    per_km = r.money(spec["per_km"], f"{path}.per_km") if "per_km" in spec else None
    breaks: list[WeightBreak] = []
    items = r.items(spec["weight_breaks"], f"{path}.weight_breaks") or []
    previous = 0
    for i, item in enumerate(items):
        bpath = f"{path}.weight_breaks[{i}]"
        b = r.obj(item, bpath, ("max_g", "price"))
        if b is None:
            continue
        max_g = r.integer(b["max_g"], f"{bpath}.max_g", 1)
        if max_g is not None and max_g <= previous:
            r.fail(
                f"{bpath}.max_g",
                f"must be greater than the previous break's {previous} g",
            )
            max_g = None
        price = r.money(b["price"], f"{bpath}.price")
        if max_g is not None and price is not None:
            breaks.append(WeightBreak(max_g, price))
            previous = max_g
    if "per_extra_kg" not in spec and limits is not None and breaks and breaks[-1].max_g < limits.max_weight_g:
        r.fail(
            f"{path}.per_extra_kg",
            f"required: the weight breaks stop at {breaks[-1].max_g} g "
            f"but the service takes parcels up to {limits.max_weight_g} g",
        )
    days = r.obj(spec["transit_days"], f"{path}.transit_days", ("min", "max"))
    min_days = max_days = None
    if days is not None:
        min_days = r.integer(days["min"], f"{path}.transit_days.min", 0)
        max_days = r.integer(days["max"], f"{path}.transit_days.max", 0)
        if min_days is not None and max_days is not None and max_days < min_days:
            r.fail(
                f"{path}.transit_days.max",
                f"must be at least min ({min_days}), not {max_days}",
            )
    if len(r.errors) != before or base is None or min_days is None or max_days is None:
        return None
    return ZoneTariff(base, tuple(breaks), per_extra, per_km, min_days, max_days)
