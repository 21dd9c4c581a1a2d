"""Delivery outcomes — what really happened to a shipment — read from one CSV, NDJSON or JSON row.

One row per shipment:

    shipment_id, carrier, service, origin, destination, handed_over_at, promised_date,
    delivered_at, status, complaint

`origin` and `destination` are a region (`RU-MOW`: ISO 3166-2, the `region` of a resolved place;
a bare `MOW` means Russia) or coordinates (`"55.75,37.62"`, or
`{"lat": …, "lon": …}` in JSON). Times are ISO 8601; only their dates matter, read in the
offset they are written in. A Russian region in the GeoNames admin1 numbering history used
before ISO codes (`RU-48`, `48`) is read as its ISO code (router/core/regions.py); in a country
the region table does not cover, the code is kept as written. `status` is delivered, lost, damaged or returned (delivered when
left empty and `delivered_at` is given); `complaint` is true/false, 1/0 or yes/no.

A row that cannot be read becomes one `RowProblem` per bad field, with its line; reading goes
on, so one bad row never costs the others. Whole files are read in `outcome_files`. Columns or keys beyond these are ignored: exports
from shop systems carry plenty of them.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from router.core.errors import RouterError
from router.core.regions import regions
from router.core.textfiles import MAX_FIELD_CHARS

COLUMNS = (
    "shipment_id",
    "carrier",
    "service",
    "origin",
    "destination",
    "handed_over_at",
    "promised_date",
    "delivered_at",
    "status",
    "complaint",
)
REQUIRED_COLUMNS = ("shipment_id", "carrier", "service", "origin", "destination", "handed_over_at")
DEFAULT_COUNTRY = "RU"
MAX_ID = 128
# Outcomes outside these years are typos; the holiday calendar has nothing to say about them either.
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_TRANSIT = timedelta(days=365)

_CODE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_REGION = re.compile(r"(?:([A-Za-z]{2})-)?([A-Za-z0-9]{1,10})")
# Read on text already stripped. The separator is a comma or semicolon with spaces around it, or
# spaces alone; the possessive `*+` lets a run of spaces be split one way only, so a row of
# 16,000 spaces fails in one pass instead of trying every split (4.7 s before).
_POINT = re.compile(r"(-?\d++(?:\.\d++)?)(?:\s*+[,;]|\s)\s*+(-?\d++(?:\.\d++)?)")
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})


class OutcomeStatus(enum.StrEnum):
    DELIVERED = "delivered"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class Coordinates:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """One shipment's result. Regions are ISO 3166-2; an end given as coordinates is resolved on import."""

    shipment_id: str
    carrier: str
    service: str
    origin: str | Coordinates
    destination: str | Coordinates
    handed_over_on: date
    status: OutcomeStatus
    delivered_on: date | None = None
    promised_on: date | None = None
    complaint: bool = False

    @property
    def serious(self) -> bool:
        """Lost, damaged or complained about: what counts towards a suspension."""
        return self.complaint or self.status in (OutcomeStatus.LOST, OutcomeStatus.DAMAGED)

    @property
    def failed(self) -> bool:
        """The carrier's fault that the parcel did not arrive whole; a return is usually the buyer's choice."""
        return self.status in (OutcomeStatus.LOST, OutcomeStatus.DAMAGED)


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int  # the line in a CSV or NDJSON file (a CSV header is line 1), or the position in a JSON list
    field: str
    reason: str


class OutcomeFileError(RouterError, ValueError):
    """The file as a whole cannot be read (no header, a missing column); nothing was imported."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    raise TypeError


def _end(value: Any) -> str | Coordinates:
    if isinstance(value, str):
        return _end_text(value)
    if isinstance(value, Mapping):
        if "lat" in value or "lon" in value:
            lat, lon = value.get("lat"), value.get("lon")
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon)):
                raise ValueError("lat and lon must both be numbers")
            return _point(float(lat), float(lon))  # type: ignore[arg-type]
        region = value.get("region")
        country = value.get("country") or DEFAULT_COUNTRY
        if not isinstance(region, str) or not isinstance(country, str):
            raise TypeError("give a region (with its country) or lat and lon")
        return _region(f"{country}-{region}")
    return _end_text(_text(value))


# A file names the same few hundred regions over and over: each spelling is checked once.
@lru_cache(maxsize=4096)
def _end_text(value: str) -> str | Coordinates:
    text = value.strip()
    if not text:
        raise ValueError("is required")
    point = _POINT.fullmatch(text)
    if point:
        return _point(float(point.group(1)), float(point.group(2)))
    return _region(text)


def _region(text: str) -> str:
    match = _REGION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is neither a region such as RU-MOW nor coordinates such as 55.75,37.62")
    code = regions().iso_code(f"{match.group(1) or DEFAULT_COUNTRY}-{match.group(2)}")
    if code is None:
        raise ValueError(f"{text!r} is not a region of Russia: give its ISO 3166-2 code, such as RU-MOW")
    return code


def _point(lat: float, lon: float) -> Coordinates:
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("coordinates out of range")
    return Coordinates(lat, lon)


@lru_cache(maxsize=1024)
def _code(text: str) -> str | None:
    code = text.lower()
    return code if _CODE.fullmatch(code) else None


def _day(text: str) -> date:
    # Only the day matters; a time is read in the offset it is written in.
    try:
        day = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or date-time") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"year {day.year} is out of range")
    return day


def outcome_from_row(row: Mapping[str, Any], line: int) -> Outcome | list[RowProblem]:
    """An outcome, or every problem the row has."""
    problems: list[RowProblem] = []

    def bad(name: str, reason: str) -> None:
        problems.append(RowProblem(line, name, reason))

    # A CSV reader caps its fields; a JSON row's strings are capped here, before any of them is
    # read or quoted back in a reason.
    for name in COLUMNS:
        value = row.get(name)
        if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
            bad(name, f"is {len(value)} characters long; at most {MAX_FIELD_CHARS}")
    if problems:
        return problems

    def text(name: str) -> str:
        value = row.get(name)
        if type(value) is str:
            return value.strip()
        try:
            return _text(value)
        except TypeError:
            bad(name, "must be a string")
            return ""

    shipment_id = text("shipment_id")
    if not shipment_id:
        bad("shipment_id", "is required")
    elif len(shipment_id) > MAX_ID:
        bad("shipment_id", f"must be at most {MAX_ID} characters")
    codes: dict[str, str] = {}
    for name in ("carrier", "service"):
        code = _code(text(name))
        if code is None:
            bad(name, "is required" if not text(name) else "must be a code of letters, digits, '_', '.' or '-'")
        codes[name] = code or ""
    ends: dict[str, str | Coordinates] = {}
    for name in ("origin", "destination"):
        try:
            ends[name] = _end(row.get(name))
        except (ValueError, TypeError) as exc:
            bad(name, str(exc) or "is not a region or coordinates")
    days: dict[str, date | None] = {}
    for name in ("handed_over_at", "promised_date", "delivered_at"):
        raw = text(name)
        days[name] = None
        if raw:
            try:
                days[name] = _day(raw)
            except ValueError as exc:
                bad(name, str(exc))
        elif name == "handed_over_at":
            bad(name, "is required")

    raw_status = text("status").lower()
    status: OutcomeStatus | None = None
    if raw_status:
        try:
            status = OutcomeStatus(raw_status)
        except ValueError:
            bad("status", "must be one of: " + ", ".join(s.value for s in OutcomeStatus))
    elif days["delivered_at"] is not None:
        status = OutcomeStatus.DELIVERED
    elif "delivered_at" not in {p.field for p in problems}:
        bad("status", "is required when there is no delivered_at")

    raw_complaint = row.get("complaint")
    complaint = False
    if isinstance(raw_complaint, bool):
        complaint = raw_complaint
    else:
        flag = text("complaint").lower()
        if flag in _TRUE:
            complaint = True
        elif flag not in _FALSE:
            bad("complaint", "must be true or false")

    handed, delivered, promised = days["handed_over_at"], days["delivered_at"], days["promised_date"]
    if status is OutcomeStatus.DELIVERED and delivered is None and "delivered_at" not in {p.field for p in problems}:
        bad("delivered_at", "is required for a delivered shipment")
    if status is OutcomeStatus.LOST and delivered is not None:
        bad("delivered_at", "a lost shipment has no delivery time")
    if handed is not None and delivered is not None:
        if delivered < handed:
            bad("delivered_at", "is before handed_over_at")
        elif delivered - handed > MAX_TRANSIT:
            bad("delivered_at", "is more than a year after handed_over_at")
    if handed is not None and promised is not None and promised < handed:
        bad("promised_date", "is before handed_over_at")

    if problems:
        return problems
    assert handed is not None and status is not None
    return Outcome(
        shipment_id=shipment_id,
        carrier=codes["carrier"],
        service=codes["service"],
        origin=ends["origin"],
        destination=ends["destination"],
        handed_over_on=handed,
        status=status,
        delivered_on=delivered,
        promised_on=promised,
        complaint=complaint,
    )


_STATUS = {s.value: s for s in OutcomeStatus}
_FLAGS = {**{t: True for t in _TRUE}, **{f: False for f in _FALSE}}


def plain_row(values: tuple[str, ...]) -> Outcome | None:
    """The outcome of an unremarkable CSV row (its values in `COLUMNS`' order), or None to have
    `outcome_from_row` look closer.

    Most of a million rows are unremarkable; reading them without collecting problems field by
    field halves the time an import takes. Anything unusual goes the careful way, so both ways
    accept exactly the same rows.
    """
    try:
        sid, carrier, service, origin, destination, handed, promised, delivered, status, complaint = [
            v.strip() for v in values
        ]
        code, service_code = _code(carrier), _code(service)
        state = _STATUS.get(status.lower()) if status else OutcomeStatus.DELIVERED
        flag = _FLAGS.get(complaint.lower())
        if not sid or len(sid) > MAX_ID or code is None or service_code is None or state is None or flag is None:
            return None
        start = _day(handed)
        end = _day(delivered) if delivered else None
        due = _day(promised) if promised else None
        ends = (_end_text(origin), _end_text(destination))
    except ValueError:
        return None
    if (state is OutcomeStatus.DELIVERED and end is None) or (state is OutcomeStatus.LOST and end is not None):
        return None
    if (end is not None and not start <= end <= start + MAX_TRANSIT) or (due is not None and due < start):
        return None
    return Outcome(sid, code, service_code, ends[0], ends[1], start, state, end, due, flag)
