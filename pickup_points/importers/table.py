"""CSV rows and GeoJSON features: one vocabulary, two containers.

GeoJSON takes lat/lon from the geometry and everything else from the properties, which are read
exactly as a CSV row's columns.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from pickup_points.errors import HoursError, ImportFormatError
from pickup_points.hours import parse_hours
from pickup_points.importers.records import (
    ImportResult,
    ImportRowError,
    RegionAt,
    RowError,
    ZoneFor,
    as_coordinates,
    as_number,
    blank,
    collect,
    load_json,
    region_of,
    text_field,
    zone_of,
)
from pickup_points.model import (
    Cell,
    Feature,
    Limits,
    OpeningHours,
    PickupPoint,
    PointType,
    Status,
    sorted_sides,
)
from router.core.textfiles import Record, csv_records, text_lines

CSV_COLUMNS = (
    "code", "network", "carrier", "type", "name", "address", "city", "region", "postal_code", "country",
    "lat", "lon", "timezone", "hours", "features", "max_weight_g", "max_sides_cm", "cells", "status",
)  # fmt: skip
REQUIRED = ("code", "address", "lat", "lon", "hours")
_TYPE_NAMES = {"pvz": PointType.PVZ, "locker": PointType.LOCKER, "postamat": PointType.LOCKER, "post": PointType.POST,
               "store": PointType.STORE, "shop": PointType.STORE}  # fmt: skip


def import_csv(
    data: bytes | str,
    network: str | None = None,
    carrier: str | None = None,
    zone_for: ZoneFor | None = None,
    region_at: RegionAt | None = None,
) -> ImportResult:
    """`data` as saved (UTF-8 with or without a BOM, or Windows-1251), or already as text."""
    records = csv_records(text_lines(data))
    unreadable: list[ImportRowError] = []  # lines before the header
    header: list[str] = []
    for first in records:
        if isinstance(first, Record):
            header = [h.strip() for h in first.values]
            break
        unreadable.append(ImportRowError(first.line, first.field, first.reason))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFormatError(f"the CSV header lacks {', '.join(missing)} (has: {', '.join(header) or 'nothing'})")
    if network is None and "network" not in header:
        raise ImportFormatError("name the network: the file has no network column")

    def rows() -> Iterator[tuple[int, list[str]] | ImportRowError]:
        for record in records:
            if isinstance(record, Record):
                yield record.line, record.values
            else:
                yield ImportRowError(record.line, record.field, record.reason)

    def read(values: list[str]) -> PickupPoint:
        if len(values) > len(header):
            raise RowError("", f"{len(values) - len(header)} more value(s) than the header has columns")
        return _from_fields(dict(zip(header, values, strict=False)), network, carrier, zone_for, region_at)

    return collect(itertools.chain(unreadable, rows()), read)


def import_geojson(
    data: bytes | str,
    network: str | None = None,
    carrier: str | None = None,
    zone_for: ZoneFor | None = None,
    region_at: RegionAt | None = None,
) -> ImportResult:
    document = load_json(data)
    if (
        not isinstance(document, dict)
        or document.get("type") != "FeatureCollection"
        or not isinstance(document.get("features"), list)
    ):
        raise ImportFormatError("expected a GeoJSON FeatureCollection with a features array")

    def records() -> Iterator[tuple[int, Mapping[str, Any]]]:
        yield from enumerate(document["features"], start=1)

    return collect(records(), lambda feature: _from_feature(feature, network, carrier, zone_for, region_at))


def _from_feature(
    feature: Any, network: str | None, carrier: str | None, zone_for: ZoneFor | None, region_at: RegionAt | None
) -> PickupPoint:
    if not isinstance(feature, dict):
        raise RowError("", "a feature must be an object")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        raise RowError("geometry", "must be a Point")
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise RowError("geometry.coordinates", "must be [lon, lat]")
    properties = feature.get("properties")
    if not isinstance(properties, dict):
        raise RowError("properties", "must be an object")
    fields = {**properties, "lon": coordinates[0], "lat": coordinates[1]}
    return _from_fields(fields, network, carrier, zone_for, region_at)


def _from_fields(
    fields: Mapping[str, Any],
    network: str | None,
    carrier: str | None,
    zone_for: ZoneFor | None,
    region_at: RegionAt | None,
) -> PickupPoint:
    for name in REQUIRED:
        if blank(fields.get(name)):
            raise RowError(name, "missing")
    network = network or text_field(fields, "network")
    if not network:
        raise RowError("network", "missing")
    lat, lon = as_coordinates(fields.get("lat"), fields.get("lon"), "lat", "lon")
    code = str(fields["code"]).strip()
    country = (text_field(fields, "country") or "RU").upper()
    return PickupPoint(
        id=PickupPoint.make_id(network, code),
        network=network,
        code=code,
        carrier=carrier or text_field(fields, "carrier") or network,
        type=_point_type(fields.get("type")),
        name=text_field(fields, "name") or code,
        address=str(fields["address"]).strip(),
        city=text_field(fields, "city"),
        region=region_of(text_field(fields, "region"), country, lat, lon, region_at),
        lat=lat,
        lon=lon,
        timezone=zone_of(text_field(fields, "timezone"), lat, lon, zone_for),
        hours=_hours(fields["hours"]),
        features=_features(fields.get("features")),
        limits=Limits(
            max_weight_g=_positive_int(fields.get("max_weight_g"), "max_weight_g"),
            max_sides_cm=_sides(fields.get("max_sides_cm"), "max_sides_cm"),
            cells=_cells(fields.get("cells")),
        ),
        status=_status(fields.get("status")),
        postal_code=text_field(fields, "postal_code"),
        country=country,
    )


def _positive_int(value: Any, field: str) -> int | None:
    if blank(value):
        return None
    number = as_number(value, field)
    if number <= 0 or number != int(number):
        raise RowError(field, f"{value!r} is not a positive whole number")
    return int(number)


@functools.lru_cache(maxsize=1024)  # a network has a handful of box sizes over many points
def _box(text: str, field: str) -> tuple[float, float, float]:
    parts = text.lower().replace("×", "x").replace("*", "x").split("x")
    if len(parts) != 3:
        raise RowError(field, f"{text!r} is not LxWxH in cm")
    a, b, c = (as_number(p, field) for p in parts)
    if min(a, b, c) <= 0:
        raise RowError(field, f"{text!r} has a side that is not positive")
    return sorted_sides(a, b, c)


def _sides(value: Any, field: str) -> tuple[float, float, float] | None:
    if blank(value):
        return None
    if isinstance(value, list):
        if len(value) != 3:
            raise RowError(field, "give three sides in cm")
        a, b, c = (as_number(v, field) for v in value)
        if min(a, b, c) <= 0:
            raise RowError(field, "a side is not positive")
        return sorted_sides(a, b, c)
    return _box(str(value), field)


def _cells(value: Any) -> tuple[Cell, ...]:
    if blank(value):
        return ()
    items = value if isinstance(value, list) else str(value).split("|")
    return tuple(Cell(_sides(item, "cells") or (0.0, 0.0, 0.0)) for item in items if not blank(item))


def _point_type(value: Any) -> PointType:
    if blank(value):
        return PointType.PVZ
    try:
        return _TYPE_NAMES[str(value).strip().lower()]
    except KeyError:
        raise RowError("type", f"{value!r} is not one of pvz, locker, post, store") from None


def _features(value: Any) -> frozenset[Feature]:
    if blank(value):
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
            raise RowError("features", f"{name!r} is not one of {known}") from None
    return frozenset(features)


def _status(value: Any) -> Status:
    if blank(value):
        return Status.ACTIVE
    try:
        return Status(str(value).strip().lower())
    except ValueError:
        raise RowError("status", f"{value!r} is not one of {', '.join(s.value for s in Status)}") from None


def _hours(value: Any) -> OpeningHours:
    try:
        return parse_hours(str(value))
    except HoursError as exc:
        raise RowError("hours", str(exc)) from None
