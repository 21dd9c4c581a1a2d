"""What every importer shares: the result, the per-record error, and the readers of one field.

A reader raises `RowError` naming the field; `collect` turns it into an `ImportRowError` for that
record and goes on, so one bad record never stops the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

import orjson

from pickup_points.errors import ImportFormatError, PickupPointsError
from pickup_points.model import PickupPoint
from router.core.regions import TABLE_COUNTRY, regions
from router.core.textfiles import MAX_LISTED_PROBLEMS

ZoneFor = Callable[[float, float], str]
# (country, lat, lon) → the ISO 3166-2 region there, or None: the importers' last resort for a
# region a record names in words no table knows, or does not give.
RegionAt = Callable[[str, float, float], str | None]
_ZONES = frozenset(available_timezones())


@dataclass(frozen=True, slots=True)
class ImportRowError:
    line: int  # CSV: the file's line; JSON: the record's 1-based position
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    points: tuple[PickupPoint, ...]
    errors: tuple[ImportRowError, ...]  # the first MAX_LISTED_PROBLEMS
    rejected: int  # every record that could not be used, listed or not

    @property
    def unlisted(self) -> int:
        """Rejected records beyond those in `errors`: the "and K more" of a summary."""
        return self.rejected - len({e.line for e in self.errors})


class RowError(PickupPointsError):
    """One record's field is wrong; `collect` reports it and never lets it out of the importers."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def collect(records: Iterable[tuple[int, Any] | ImportRowError], read: Callable[[Any], PickupPoint]) -> ImportResult:
    """Read every record; what a reader before could not even split into fields comes as an error."""
    points: list[PickupPoint] = []
    errors: list[ImportRowError] = []
    rejected_lines: set[int] = set()
    seen: dict[str, int] = {}

    def reject(error: ImportRowError) -> None:
        rejected_lines.add(error.line)
        if len(errors) < MAX_LISTED_PROBLEMS:
            errors.append(error)

    for item in records:
        if isinstance(item, ImportRowError):
            reject(item)
            continue
        line, record = item
        try:
            point = read(record)
        except RowError as exc:
            reject(ImportRowError(line, exc.field, exc.reason))
            continue
        if point.id in seen:
            reject(ImportRowError(line, "code", f"{point.id} was already read on line {seen[point.id]}"))
            continue
        seen[point.id] = line
        points.append(point)
    return ImportResult(tuple(points), tuple(errors), len(rejected_lines))


def load_json(data: bytes | str) -> Any:
    # Windows editors save JSON with a BOM too.
    data = data.removeprefix(b"\xef\xbb\xbf") if isinstance(data, bytes) else data.removeprefix("\ufeff")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ImportFormatError(f"not JSON: {exc}") from None


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text_field(fields: Mapping[str, Any], name: str) -> str | None:
    value = fields.get(name)
    return None if blank(value) else str(value).strip()


def as_number(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise RowError(field, "must be a number")
    try:
        number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise RowError(field, f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise RowError(field, f"{value!r} is not a finite number")
    return number


def as_coordinates(lat_value: Any, lon_value: Any, lat_field: str, lon_field: str) -> tuple[float, float]:
    if blank(lat_value):
        raise RowError(lat_field, "missing")
    if blank(lon_value):
        raise RowError(lon_field, "missing")
    lat, lon = as_number(lat_value, lat_field), as_number(lon_value, lon_field)
    if not -90 <= lat <= 90:
        raise RowError(lat_field, f"{lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise RowError(lon_field, f"{lon} is outside -180..180")
    if lat == 0 and lon == 0:
        raise RowError(lat_field, "0,0 is a failed geocode, not a pickup point")
    return lat, (-180.0 if lon == 180 else lon)


def zone_of(given: str | None, lat: float, lon: float, zone_for: ZoneFor | None) -> str:
    if given:
        if given not in _ZONES:
            raise RowError("timezone", f"{given!r} is not an IANA time zone")
        return given
    if zone_for is None:
        raise RowError("timezone", "missing, and no lookup to find it from the coordinates")
    return zone_for(lat, lon)


def region_of(written: str | None, country: str, lat: float, lon: float, region_at: RegionAt | None) -> str | None:
    """A point's region as ISO 3166-2 (`RU-MOW`), however its source wrote it.

    Russian regions come as ISO codes, as the GeoNames admin1 codes files carried before (`48`,
    `RU-48`), or as names ("Новосибирская обл.", as CDEK writes them); a name no table knows is
    placed by the point's coordinates through `region_at`, if there is one. A Russian code that
    is no region's is the record's error. Other countries' codes are kept as written.
    """
    text = (written or "").strip()
    table = regions()
    if text:
        code = table.of_written(country, text)
        if country != TABLE_COUNTRY:
            if code is not None:
                return code
        elif code is not None and table.get(code) is not None:
            return code
        else:
            named = table.of_name(country, text)
            if named is not None:
                return named
            if text[:3].upper() == f"{TABLE_COUNTRY}-" or text.isdigit():
                raise RowError("region", f"{text!r} is no Russian region's ISO 3166-2 code (RU-MOW) or GeoNames code")
    return region_at(country, lat, lon) if region_at is not None else None
