"""The CDEK emulator's delivery points: one for each bundled demo point, in every city they cover.

The demo points (`data/pickup_points/demo_points.csv`, around ~1,000 real cities) are reshaped
into what `/v2/deliverypoints` answers: lockers become POSTAMATs, counters, post offices and
shops PVZs; hours become `work_time_list` with `"HH:MM/HH:MM"` spans; weight limits go from
grams to kilograms, as CDEK gives them. Points marked temporarily closed are left out.

City codes: the five cities whose real CDEK codes the tests and examples use keep them; the
others are numbered from 100000 in the order of (region, city), so a code is stable for as long
as the bundled data is.

Regions come as CDEK gives them: a Russian name in CDEK's abbreviations ("Новосибирская обл.",
"Респ. Татарстан", "Москва") and a `region_code` of CDEK's own numbering, not ISO 3166-2 (Moscow's
real 81; the others numbered from 1000 in the order of their ISO codes). The demo data's ISO
code gives the name through `data/places/ru_regions.csv`.

`SandboxPoints` is what one emulator lists: those points (or a test's own) less the ones
withdrawn since, so a carrier dropping a point between two syncs can be played out.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from pickup_points.hours import format_time, parse_hours
from pickup_points.model import Span
from router.core.regions import regions
from router.core.settings import DEFAULT_DATA_DIR

DEMO_POINTS = DEFAULT_DATA_DIR / "pickup_points" / "demo_points.csv"
KNOWN_CITY_CODES = {"Москва": 44, "Санкт-Петербург": 137, "Новосибирск": 270, "Екатеринбург": 250, "Казань": 424}
FIRST_OTHER_CITY_CODE = 100_000
KNOWN_REGION_CODES = {"RU-MOW": 81}
FIRST_OTHER_REGION_CODE = 1000
# How CDEK shortens the kinds of subject in its region names.
_CDEK_ABBREVIATIONS = (("Республика ", "Респ. "), (" Республика", " Респ."), ("автономный округ", "авт. округ"),
                       ("автономная область", "авт. обл."), ("область", "обл."))  # fmt: skip
LOCKER_CELLS = [
    {"width": 36, "height": 9, "depth": 60},
    {"width": 36, "height": 19, "depth": 60},
    {"width": 36, "height": 40, "depth": 60},
]


def _span(span: Span) -> str:
    return f"{format_time(span.opens_min)}/{format_time(span.closes_min)}"


def _hours(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(work_time_list, work_time_exception_list) from the demo data's opening hours."""
    hours = parse_hours(text)
    week = [{"day": day, "time": _span(span)} for day, spans in enumerate(hours.week, start=1) for span in spans]
    exceptions: list[dict[str, Any]] = []
    for dated in hours.exceptions:
        entry: dict[str, Any] = {"date": dated.day.isoformat(), "is_working": bool(dated.spans)}
        if dated.spans:
            # CDEK gives one span per exceptional day; the demo's short days have only one.
            entry["time"] = _span(dated.spans[0])
        exceptions.append(entry)
    return week, exceptions


def city_codes(rows: list[dict[str, str]]) -> dict[tuple[str, str], int]:
    """(region, city) → the CDEK-style city code the emulator gives it."""
    codes = {(r["region"], r["city"]): KNOWN_CITY_CODES[r["city"]] for r in rows if r["city"] in KNOWN_CITY_CODES}
    others = sorted({(r["region"], r["city"]) for r in rows} - codes.keys())
    codes.update({key: FIRST_OTHER_CITY_CODE + i for i, key in enumerate(others)})
    return codes


@lru_cache(maxsize=1)
def _region_codes() -> dict[str, int]:
    others = sorted(r.code for r in regions() if r.code not in KNOWN_REGION_CODES)
    return {**KNOWN_REGION_CODES, **{code: FIRST_OTHER_REGION_CODE + i for i, code in enumerate(others)}}


def cdek_region(code: str) -> tuple[str | None, int | None]:
    """(region, region_code) as CDEK writes them, for the ISO 3166-2 region `code`."""
    region = regions().get(code) if code else None
    if region is None:
        return None, None
    name = region.name_ru
    for full, short in _CDEK_ABBREVIATIONS:
        name = name.replace(full, short)
    return name, _region_codes()[region.code]


def to_cdek(row: dict[str, str], city_code: int) -> dict[str, Any]:
    locker = row["type"] == "locker"
    features = set(row["features"].split("|")) if row["features"] else set()
    week, exceptions = _hours(row["hours"])
    region, region_code = cdek_region(row["region"])
    point: dict[str, Any] = {
        # One code space for the three demo networks, as CDEK has one for its points.
        "code": f"{row['network'][:3].upper()}{row['code']}",
        "name": row["name"],
        "work_time": row["hours"],
        "work_time_list": week,
        "work_time_exception_list": exceptions,
        "type": "POSTAMAT" if locker else "PVZ",
        "owner_code": "cdek",
        "take_only": False,
        "is_handout": True,
        "is_reception": "returns" in features,
        "is_dressing_room": "fitting_room" in features,
        "is_partial_handout": "partial_handout" in features,
        "have_cashless": "card" in features,
        "have_cash": "cod" in features,
        "allowed_cod": "cod" in features,
        "weight_min": 0.0,
        "location": {
            "country_code": row["country"],
            "region_code": region_code,
            "region": region,
            "city_code": city_code,
            "city": row["city"],
            "postal_code": row["postal_code"] or None,
            "longitude": float(row["lon"]),
            "latitude": float(row["lat"]),
            "address": row["address"],
            "address_full": f"Россия, {row['city']}, {row['address']}",
        },
    }
    if row["max_weight_g"]:
        point["weight_max"] = int(row["max_weight_g"]) / 1000  # kilograms, unlike the calculator's grams
    if locker:
        point["dimensions"] = LOCKER_CELLS
    return point


@lru_cache(maxsize=1)
def delivery_points(path: Path = DEMO_POINTS) -> tuple[dict[str, Any], ...]:
    """Every open demo point as a CDEK delivery point, grouped by city."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["status"] == "active"]
    codes = city_codes(rows)
    rows.sort(key=lambda r: (codes[(r["region"], r["city"])], r["network"], r["code"]))
    return tuple(to_cdek(r, codes[(r["region"], r["city"])]) for r in rows)


class SandboxPoints:
    """The delivery points one emulator lists: the demo points, or those given, less those withdrawn."""

    def __init__(self, points: Sequence[dict[str, Any]] | None = None) -> None:
        self._points = None if points is None else tuple(points)
        self.withdrawn: set[str] = set()

    def all(self) -> tuple[dict[str, Any], ...]:
        return delivery_points() if self._points is None else self._points

    def listed(self) -> tuple[dict[str, Any], ...]:
        if not self.withdrawn:
            return self.all()
        return tuple(p for p in self.all() if p["code"] not in self.withdrawn)

    def withdraw(self, codes: Iterable[str]) -> list[str]:
        """Stop listing these points; if a code names none, nothing changes and those codes are returned."""
        codes = list(codes)
        known = {p["code"] for p in self.all()}
        unknown = [c for c in codes if c not in known]
        if not unknown:
            self.withdrawn.update(codes)
        return unknown

    def restore(self) -> None:
        self.withdrawn.clear()
