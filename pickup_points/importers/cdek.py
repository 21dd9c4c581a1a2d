"""CDEK API v2 `/v2/deliverypoints` JSON: CDEK's field names, flags, hours and cells."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, timedelta
from typing import Any

from pickup_points.errors import HoursError, ImportFormatError
from pickup_points.hours import ordered_spans, parse_span
from pickup_points.importers.records import (
    ImportResult,
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
    DAYS_PER_WEEK,
    Cell,
    DatedHours,
    DayHours,
    Feature,
    Limits,
    OpeningHours,
    PickupPoint,
    PointType,
    sorted_sides,
)

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


def import_cdek(
    data: bytes | str,
    network: str | None = None,
    carrier: str | None = None,
    zone_for: ZoneFor | None = None,
    region_at: RegionAt | None = None,
) -> ImportResult:
    """`network` defaults to each point's `owner_code`. A point's region is read from CDEK's
    region name (`location.region`; its `region_code` is CDEK's own numbering, not ISO), or
    placed by `region_at` where the name is no region's."""
    document = load_json(data)
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        document = document["items"]
    if not isinstance(document, list):
        raise ImportFormatError("expected the JSON array that /v2/deliverypoints answers")
    return collect(enumerate(document, start=1), lambda item: _from_cdek(item, network, carrier, zone_for, region_at))


def _from_cdek(
    item: Any, network: str | None, carrier: str | None, zone_for: ZoneFor | None, region_at: RegionAt | None
) -> PickupPoint:
    if not isinstance(item, dict):
        raise RowError("", "a delivery point must be an object")
    item = {str(k).translate(_LOOKALIKES): v for k, v in item.items()}
    code = item.get("code")
    if blank(code):
        raise RowError("code", "missing")
    if item.get("take_only") is True or item.get("is_handout") is False:
        raise RowError("is_handout", "the point takes parcels in but does not hand them out")
    network = network or text_field(item, "owner_code")
    if not network:
        raise RowError("owner_code", "missing, and no network given")
    network = network.lower()
    location = item.get("location")
    if not isinstance(location, dict):
        raise RowError("location", "missing")
    lat, lon = as_coordinates(
        location.get("latitude"), location.get("longitude"), "location.latitude", "location.longitude"
    )
    kind = _CDEK_TYPES.get(str(item.get("type", "")).upper())
    if kind is None:
        raise RowError("type", f"{item.get('type')!r} is not PVZ or POSTAMAT")
    address = text_field(location, "address") or text_field(location, "address_full")
    if not address:
        raise RowError("location.address", "missing")
    max_weight_kg = None if blank(item.get("weight_max")) else as_number(item["weight_max"], "weight_max")
    if max_weight_kg is not None and max_weight_kg <= 0:
        raise RowError("weight_max", f"{max_weight_kg} kg is not positive")
    code = str(code).strip()
    country = (text_field(location, "country_code") or "RU").upper()
    return PickupPoint(
        id=PickupPoint.make_id(network, code),
        network=network,
        code=code,
        carrier=carrier or network,
        type=kind,
        name=text_field(item, "name") or code,
        address=address,
        city=text_field(location, "city"),
        region=region_of(text_field(location, "region"), country, lat, lon, region_at),
        lat=lat,
        lon=lon,
        timezone=zone_of(None, lat, lon, zone_for),
        hours=_cdek_hours(item),
        features=frozenset(f for flag, f in _CDEK_FEATURES.items() if item.get(flag) is True),
        # weight_max is in kilograms, unlike the grams of CDEK's own calculator.
        limits=Limits(
            max_weight_g=None if max_weight_kg is None else round(max_weight_kg * 1000),
            cells=_cdek_cells(item.get("dimensions")),
        ),
        postal_code=text_field(location, "postal_code"),
        country=country,
    )


def _cdek_span(text: Any, field: str) -> DayHours:
    try:
        return (parse_span(str(text), separator="/"),)
    except HoursError as exc:
        raise RowError(field, str(exc)) from None


def _cdek_hours(item: Mapping[str, Any]) -> OpeningHours:
    entries = item.get("work_time_list")
    if not isinstance(entries, list) or not entries:
        raise RowError("work_time_list", "missing: without hours a buyer cannot plan a visit")
    week: list[list[Any]] = [[] for _ in range(DAYS_PER_WEEK)]
    for position, entry in enumerate(entries):
        field = f"work_time_list[{position}]"
        if not isinstance(entry, dict):
            raise RowError(field, "must be an object")
        day = as_number(entry.get("day"), f"{field}.day")
        if day not in range(1, DAYS_PER_WEEK + 1):
            raise RowError(f"{field}.day", f"{entry.get('day')!r} is not a day 1 (Monday) to 7")
        week[int(day) - 1].extend(_cdek_span(entry.get("time"), f"{field}.time"))
    exceptions: dict[date, DayHours] = {}
    for key in _CDEK_EXCEPTION_KEYS:
        for position, entry in enumerate(item.get(key) or ()):
            for on, spans in _cdek_exception(entry, f"{key}[{position}]"):
                exceptions[on] = spans
    try:
        ordered = tuple(ordered_spans(spans) for spans in week)
    except HoursError as exc:
        raise RowError("work_time_list", str(exc)) from None
    return OpeningHours(ordered, tuple(DatedHours(day, spans) for day, spans in sorted(exceptions.items())))


def _cdek_exception(entry: Any, field: str) -> Iterator[tuple[date, DayHours]]:
    if not isinstance(entry, dict):
        raise RowError(field, "must be an object")
    try:
        first = date.fromisoformat(str(entry.get("date") or entry.get("date_start"))[:10])
        last = date.fromisoformat(str(entry.get("date_end") or first.isoformat())[:10])
    except ValueError:
        raise RowError(f"{field}.date", f"{entry.get('date') or entry.get('date_start')!r} is not a date") from None
    if last < first or (last - first).days > 366:
        raise RowError(f"{field}.date_end", "must be on or after the start, within a year")
    if entry.get("time_start") and entry.get("time_end"):
        entry = {**entry, "time": f"{entry['time_start']}/{entry['time_end']}"}
    working = entry.get("is_working", bool(entry.get("time")))
    spans = _cdek_span(entry["time"], f"{field}.time") if working and entry.get("time") else ()
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset), spans


def _cdek_cells(value: Any) -> tuple[Cell, ...]:
    if blank(value):
        return ()
    if not isinstance(value, list):
        raise RowError("dimensions", "must be a list of {width, height, depth}")
    cells = []
    for position, box in enumerate(value):
        field = f"dimensions[{position}]"
        if not isinstance(box, dict):
            raise RowError(field, "must be {width, height, depth}")
        sides = [as_number(box.get(side), f"{field}.{side}") for side in ("width", "height", "depth")]
        if min(sides) <= 0:
            raise RowError(field, "a side is not positive")
        cells.append(Cell(sorted_sides(*sides)))
    return tuple(cells)
