"""Read pickup points from GeoJSON, CSV and the CDEK API v2 `/v2/deliverypoints` JSON.

Every reader returns an `ImportResult`: the points it could read and, for every record it could
not, the line (CSV) or 1-based record number (JSON) with the field and the reason. One bad record
never stops the rest, and none is dropped without an entry in `errors`.

CSV columns and GeoJSON properties share one vocabulary (GeoJSON takes lat/lon from the
geometry): `code`, `network`, `carrier`, `type` (pvz|locker|post|store), `name`, `address`,
`city`, `region`, `postal_code`, `country`, `lat`, `lon`, `timezone`, `hours` (see `hours`),
`features` (`card|cod|...`), `max_weight_g`, `max_sides_cm` (`60x40x40`), `cells`
(`9x36x64|19x36x64`), `status`. Required: `code`, `address`, `lat`, `lon`, `hours`.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import available_timezones

import orjson

from pickup_points.hours import ordered_spans, parse_hours, parse_span
from pickup_points.model import (
    DAYS_PER_WEEK,
    Cell,
    DatedHours,
    DayHours,
    Feature,
    Limits,
    OpeningHours,
    PickupPoint,
    PointType,
    Status,
    sorted_sides,
)

ZoneFor = Callable[[float, float], str]

CSV_COLUMNS = (
    "code", "network", "carrier", "type", "name", "address", "city", "region", "postal_code", "country",
    "lat", "lon", "timezone", "hours", "features", "max_weight_g", "max_sides_cm", "cells", "status",
)  # fmt: skip
REQUIRED = ("code", "address", "lat", "lon", "hours")
_TYPE_NAMES = {"pvz": PointType.PVZ, "locker": PointType.LOCKER, "postamat": PointType.LOCKER, "post": PointType.POST,
               "store": PointType.STORE, "shop": PointType.STORE}  # fmt: skip
_CDEK_TYPES = {"PVZ": PointType.PVZ, "POSTAMAT": PointType.LOCKER}
# CDEK's flags, and the buyer-facing feature each one means.
_CDEK_FEATURES = {
    "is_dressing_room": Feature.FITTING_ROOM,
    "have_cashless": Feature.CARD,
    "allowed_cod": Feature.COD,
    "is_reception": Feature.RETURNS,
    "is_partial_handout": Feature.PARTIAL_HANDOUT,
}
_CDEK_EXCEPTION_KEYS = ("work_time_exceptions", "work_time_exception_list", "exceptions")
# CDEK's documentation spells `owner_code` with a Cyrillic "с" in places; keys are compared after
# mapping Cyrillic look-alike letters to Latin.
_LOOKALIKES = str.maketrans("асеорхуАСЕОРХ", "aceopxyACEOPX")
_ZONES = frozenset(available_timezones())


@dataclass(frozen=True, slots=True)
class ImportRowError:
    line: int  # CSV: the file's line; JSON: the record's 1-based position
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    points: tuple[PickupPoint, ...]
    errors: tuple[ImportRowError, ...]


class ImportFormatError(ValueError):
    """The file as a whole cannot be read (not JSON, no header, wrong shape)."""


class _RowError(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def import_csv(
    text: str, network: str | None = None, carrier: str | None = None, zone_for: ZoneFor | None = None
) -> ImportResult:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or ()]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFormatError(f"the CSV header lacks {', '.join(missing)} (has: {', '.join(header) or 'nothing'})")
    if network is None and "network" not in header:
        raise ImportFormatError("name the network: the file has no network column")
    reader.fieldnames = header

    def records() -> Iterator[tuple[int, Mapping[str, Any]]]:
        for row in reader:
            yield reader.line_num, row

    def read(row: Mapping[Any, Any]) -> PickupPoint:
        if None in row:  # DictReader files surplus values under None
            raise _RowError("", f"{len(row[None])} more value(s) than the header has columns")
        return _from_fields(row, network, carrier, zone_for)

    return _collect(records(), read)


def import_geojson(
    data: bytes | str, network: str | None = None, carrier: str | None = None, zone_for: ZoneFor | None = None
) -> ImportResult:
    document = _load_json(data)
    if (
        not isinstance(document, dict)
        or document.get("type") != "FeatureCollection"
        or not isinstance(document.get("features"), list)
    ):
        raise ImportFormatError("expected a GeoJSON FeatureCollection with a features array")

    def records() -> Iterator[tuple[int, Mapping[str, Any]]]:
        yield from enumerate(document["features"], start=1)

    return _collect(records(), lambda feature: _from_feature(feature, network, carrier, zone_for))


def import_cdek(
    data: bytes | str, network: str | None = None, carrier: str | None = None, zone_for: ZoneFor | None = None
) -> ImportResult:
    """`network` defaults to each point's `owner_code`."""
    document = _load_json(data)
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        document = document["items"]
    if not isinstance(document, list):
        raise ImportFormatError("expected the JSON array that /v2/deliverypoints answers")
    return _collect(enumerate(document, start=1), lambda item: _from_cdek(item, network, carrier, zone_for))


def _collect(records: Iterable[tuple[int, Any]], read: Callable[[Any], PickupPoint]) -> ImportResult:
    points: list[PickupPoint] = []
    errors: list[ImportRowError] = []
    seen: dict[str, int] = {}
    for line, record in records:
        try:
            point = read(record)
        except _RowError as exc:
            errors.append(ImportRowError(line, exc.field, exc.reason))
            continue
        if point.id in seen:
            errors.append(ImportRowError(line, "code", f"{point.id} already read at {seen[point.id]}"))
            continue
        seen[point.id] = line
        points.append(point)
    return ImportResult(tuple(points), tuple(errors))


def _load_json(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ImportFormatError(f"not JSON: {exc}") from None


# --- the shared vocabulary (CSV rows, GeoJSON properties) ---


def _from_feature(feature: Any, network: str | None, carrier: str | None, zone_for: ZoneFor | None) -> PickupPoint:
    if not isinstance(feature, dict):
        raise _RowError("", "a feature must be an object")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise _RowError("geometry", "must be a Point")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise _RowError("geometry.coordinates", "must be [lon, lat]")
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        raise _RowError("properties", "must be an object")
    return _from_fields({**properties, "lon": coordinates[0], "lat": coordinates[1]}, network, carrier, zone_for)


def _from_fields(
    fields: Mapping[str, Any], network: str | None, carrier: str | None, zone_for: ZoneFor | None
) -> PickupPoint:
    for name in REQUIRED:
        if _blank(fields.get(name)):
            raise _RowError(name, "missing")
    network = network or _text(fields, "network")
    if not network:
        raise _RowError("network", "missing")
    lat, lon = _coordinates(fields.get("lat"), fields.get("lon"), "lat", "lon")
    code = str(fields["code"]).strip()
    return PickupPoint(
        id=PickupPoint.make_id(network, code),
        network=network,
        code=code,
        carrier=carrier or _text(fields, "carrier") or network,
        type=_point_type(fields.get("type")),
        name=_text(fields, "name") or code,
        address=str(fields["address"]).strip(),
        city=_text(fields, "city"),
        region=_text(fields, "region"),
        lat=lat,
        lon=lon,
        timezone=_timezone(_text(fields, "timezone"), lat, lon, zone_for),
        hours=_hours(fields["hours"]),
        features=_features(fields.get("features")),
        limits=Limits(
            max_weight_g=_positive_int(fields.get("max_weight_g"), "max_weight_g"),
            max_sides_cm=_sides(fields.get("max_sides_cm"), "max_sides_cm"),
            cells=_cells(fields.get("cells")),
        ),
        status=_status(fields.get("status")),
        postal_code=_text(fields, "postal_code"),
        country=(_text(fields, "country") or "RU").upper(),
    )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    return None if _blank(value) else str(value).strip()


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise _RowError(field, "must be a number")
    try:
        number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise _RowError(field, f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise _RowError(field, f"{value!r} is not a finite number")
    return number


def _coordinates(lat_value: Any, lon_value: Any, lat_field: str, lon_field: str) -> tuple[float, float]:
    if _blank(lat_value):
        raise _RowError(lat_field, "missing")
    if _blank(lon_value):
        raise _RowError(lon_field, "missing")
    lat, lon = _number(lat_value, lat_field), _number(lon_value, lon_field)
    if not -90 <= lat <= 90:
        raise _RowError(lat_field, f"{lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise _RowError(lon_field, f"{lon} is outside -180..180")
    if lat == 0 and lon == 0:
        raise _RowError(lat_field, "0,0 is a failed geocode, not a pickup point")
    return lat, (-180.0 if lon == 180 else lon)


def _positive_int(value: Any, field: str) -> int | None:
    if _blank(value):
        return None
    number = _number(value, field)
    if number <= 0 or number != int(number):
        raise _RowError(field, f"{value!r} is not a positive whole number")
    return int(number)


@functools.lru_cache(maxsize=1024)  # a network has a handful of box sizes over many points
def _box(text: str, field: str) -> tuple[float, float, float]:
    parts = text.lower().replace("×", "x").replace("*", "x").split("x")
    if len(parts) != 3:
        raise _RowError(field, f"{text!r} is not LxWxH in cm")
    a, b, c = (_number(p, field) for p in parts)
    if min(a, b, c) <= 0:
        raise _RowError(field, f"{text!r} has a side that is not positive")
    return sorted_sides(a, b, c)


def _sides(value: Any, field: str) -> tuple[float, float, float] | None:
    if _blank(value):
        return None
    if isinstance(value, list):
        if len(value) != 3:
            raise _RowError(field, "give three sides in cm")
        a, b, c = (_number(v, field) for v in value)
        if min(a, b, c) <= 0:
            raise _RowError(field, "a side is not positive")
        return sorted_sides(a, b, c)
    return _box(str(value), field)


def _cells(value: Any) -> tuple[Cell, ...]:
    if _blank(value):
        return ()
    items = value if isinstance(value, list) else str(value).split("|")
    return tuple(Cell(_sides(item, "cells") or (0.0, 0.0, 0.0)) for item in items if not _blank(item))


def _point_type(value: Any) -> PointType:
    if _blank(value):
        return PointType.PVZ
    try:
        return _TYPE_NAMES[str(value).strip().lower()]
    except KeyError:
        raise _RowError("type", f"{value!r} is not one of pvz, locker, post, store") from None


def _features(value: Any) -> frozenset[Feature]:
    if _blank(value):
        return frozenset()
    if isinstance(value, list):
        return _feature_names(tuple(str(v) for v in value))
    return _feature_names(tuple(str(value).replace(",", "|").split("|")))


@functools.lru_cache(maxsize=1024)
def _feature_names(names: tuple[str, ...]) -> frozenset[Feature]:
    features = set()
    for name in names:
        try:
            features.add(Feature(str(name).strip().lower().replace("-", "_")))
        except ValueError:
            known = ", ".join(f.value for f in Feature)
            raise _RowError("features", f"{name!r} is not one of {known}") from None
    return frozenset(features)


def _status(value: Any) -> Status:
    if _blank(value):
        return Status.ACTIVE
    try:
        return Status(str(value).strip().lower())
    except ValueError:
        raise _RowError("status", f"{value!r} is not one of {', '.join(s.value for s in Status)}") from None


def _hours(value: Any) -> OpeningHours:
    try:
        return parse_hours(str(value))
    except ValueError as exc:
        raise _RowError("hours", str(exc)) from None


def _timezone(given: str | None, lat: float, lon: float, zone_for: ZoneFor | None) -> str:
    if given:
        if given not in _ZONES:
            raise _RowError("timezone", f"{given!r} is not an IANA time zone")
        return given
    if zone_for is None:
        raise _RowError("timezone", "missing, and no lookup to find it from the coordinates")
    return zone_for(lat, lon)


# --- CDEK /v2/deliverypoints ---


def _from_cdek(item: Any, network: str | None, carrier: str | None, zone_for: ZoneFor | None) -> PickupPoint:
    if not isinstance(item, dict):
        raise _RowError("", "a delivery point must be an object")
    item = {str(k).translate(_LOOKALIKES): v for k, v in item.items()}
    code = item.get("code")
    if _blank(code):
        raise _RowError("code", "missing")
    if item.get("take_only") is True or item.get("is_handout") is False:
        raise _RowError("is_handout", "the point takes parcels in but does not hand them out")
    network = network or _text(item, "owner_code")
    if not network:
        raise _RowError("owner_code", "missing, and no network given")
    network = network.lower()
    location = item.get("location")
    if not isinstance(location, dict):
        raise _RowError("location", "missing")
    lat, lon = _coordinates(
        location.get("latitude"), location.get("longitude"), "location.latitude", "location.longitude"
    )
    kind = _CDEK_TYPES.get(str(item.get("type", "")).upper())
    if kind is None:
        raise _RowError("type", f"{item.get('type')!r} is not PVZ or POSTAMAT")
    address = _text(location, "address") or _text(location, "address_full")
    if not address:
        raise _RowError("location.address", "missing")
    max_weight_kg = None if _blank(item.get("weight_max")) else _number(item["weight_max"], "weight_max")
    if max_weight_kg is not None and max_weight_kg <= 0:
        raise _RowError("weight_max", f"{max_weight_kg} kg is not positive")
    code = str(code).strip()
    return PickupPoint(
        id=PickupPoint.make_id(network, code),
        network=network,
        code=code,
        carrier=carrier or network,
        type=kind,
        name=_text(item, "name") or code,
        address=address,
        city=_text(location, "city"),
        region=_text(location, "region"),
        lat=lat,
        lon=lon,
        timezone=_timezone(None, lat, lon, zone_for),
        hours=_cdek_hours(item),
        features=frozenset(f for flag, f in _CDEK_FEATURES.items() if item.get(flag) is True),
        # weight_max is in kilograms, unlike the grams of CDEK's own calculator.
        limits=Limits(
            max_weight_g=None if max_weight_kg is None else round(max_weight_kg * 1000),
            cells=_cdek_cells(item.get("dimensions")),
        ),
        postal_code=_text(location, "postal_code"),
        country=(_text(location, "country_code") or "RU").upper(),
    )


def _cdek_span(text: Any, field: str) -> DayHours:
    try:
        return (parse_span(str(text), separator="/"),)
    except ValueError as exc:
        raise _RowError(field, str(exc)) from None


def _cdek_hours(item: Mapping[str, Any]) -> OpeningHours:
    entries = item.get("work_time_list")
    if not isinstance(entries, list) or not entries:
        raise _RowError("work_time_list", "missing: without hours a buyer cannot plan a visit")
    week: list[list[Any]] = [[] for _ in range(DAYS_PER_WEEK)]
    for position, entry in enumerate(entries):
        field = f"work_time_list[{position}]"
        if not isinstance(entry, dict):
            raise _RowError(field, "must be an object")
        day = _number(entry.get("day"), f"{field}.day")
        if day not in range(1, DAYS_PER_WEEK + 1):
            raise _RowError(f"{field}.day", f"{entry.get('day')!r} is not a day 1 (Monday) to 7")
        week[int(day) - 1].extend(_cdek_span(entry.get("time"), f"{field}.time"))
    exceptions: dict[date, DayHours] = {}
    for key in _CDEK_EXCEPTION_KEYS:
        for position, entry in enumerate(item.get(key) or ()):
            for day, spans in _cdek_exception(entry, f"{key}[{position}]"):
                exceptions[day] = spans
    try:
        ordered = tuple(ordered_spans(spans) for spans in week)
    except ValueError as exc:
        raise _RowError("work_time_list", str(exc)) from None
    return OpeningHours(ordered, tuple(DatedHours(day, spans) for day, spans in sorted(exceptions.items())))


def _cdek_exception(entry: Any, field: str) -> Iterator[tuple[date, DayHours]]:
    if not isinstance(entry, dict):
        raise _RowError(field, "must be an object")
    try:
        first = date.fromisoformat(str(entry.get("date") or entry.get("date_start"))[:10])
        last = date.fromisoformat(str(entry.get("date_end") or first.isoformat())[:10])
    except ValueError:
        raise _RowError(f"{field}.date", f"{entry.get('date') or entry.get('date_start')!r} is not a date") from None
    if last < first or (last - first).days > 366:
        raise _RowError(f"{field}.date_end", "must be on or after the start, within a year")
    if entry.get("time_start") and entry.get("time_end"):
        entry = {**entry, "time": f"{entry['time_start']}/{entry['time_end']}"}
    working = entry.get("is_working", bool(entry.get("time")))
    spans = _cdek_span(entry["time"], f"{field}.time") if working and entry.get("time") else ()
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset), spans


def _cdek_cells(value: Any) -> tuple[Cell, ...]:
    if _blank(value):
        return ()
    if not isinstance(value, list):
        raise _RowError("dimensions", "must be a list of {width, height, depth}")
    cells = []
    for position, box in enumerate(value):
        field = f"dimensions[{position}]"
        if not isinstance(box, dict):
            raise _RowError(field, "must be {width, height, depth}")
        sides = [_number(box.get(side), f"{field}.{side}") for side in ("width", "height", "depth")]
        if min(sides) <= 0:
            raise _RowError(field, "a side is not positive")
        cells.append(Cell(sorted_sides(*sides)))
    return tuple(cells)
