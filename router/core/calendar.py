"""Russian working-day arithmetic for delivery dates.

A working day is Monday to Friday, minus public holidays and the days off that government
decrees move onto weekdays, plus the Saturdays those decrees declare working. The `holidays`
package knows all three; each year is turned once into a set of days off, so the hot path is
a set lookup.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import holidays

from router.core.models import Eta

_ONE_DAY = timedelta(days=1)
_days_off_by_year: dict[int, frozenset[date]] = {}


def _load_days_off(year: int) -> frozenset[date]:
    calendar = holidays.country_holidays("RU", years=year)
    off = set(calendar)
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() in calendar.weekend and day not in calendar.weekend_workdays:
            off.add(day)
        day += _ONE_DAY
    return frozenset(off)


def _days_off(year: int) -> frozenset[date]:
    off = _days_off_by_year.get(year)
    if off is None:
        off = _days_off_by_year[year] = _load_days_off(year)
    return off


def is_working_day(d: date) -> bool:
    """True if `d` is a working day in Russia (weekends, holidays and transfers applied)."""
    return d not in _days_off(d.year)


@lru_cache(maxsize=1024)
def next_working_day(d: date) -> date:
    """The first working day strictly after `d`."""
    d += _ONE_DAY
    while d in _days_off(d.year):
        d += _ONE_DAY
    return d


@lru_cache(maxsize=4096)
def add_working_days(d: date, n: int) -> date:
    """`d` moved by `n` working days (backwards when `n` is negative); `n == 0` returns `d`."""
    step = _ONE_DAY if n >= 0 else -_ONE_DAY
    remaining = abs(n)
    while remaining:
        d += step
        if d not in _days_off(d.year):
            remaining -= 1
    return d


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def ship_date(ship_at: datetime, timezone: str, cutoff: time) -> date:
    """The day a carrier takes a parcel handed over at `ship_at` at an origin in `timezone`."""
    if ship_at.tzinfo is None or ship_at.utcoffset() is None:
        raise ValueError("ship_at must be timezone-aware")
    if cutoff.tzinfo is not None:
        raise ValueError("cutoff is a wall-clock time at the origin and must be naive")
    local = ship_at.astimezone(_zone(timezone))
    day = local.date()
    if local.time() >= cutoff or not is_working_day(day):
        return next_working_day(day)
    return day


def make_eta(ship_at: datetime, timezone: str, cutoff: time, min_days: int, max_days: int) -> Eta:
    """Delivery window for a parcel handed over at `ship_at` with the given transit days."""
    if min_days < 0 or max_days < min_days:
        raise ValueError(f"bad transit days: min {min_days}, max {max_days}")
    day = ship_date(ship_at, timezone, cutoff)
    return Eta(
        min_days=min_days,
        max_days=max_days,
        ship_date=day,
        min_date=add_working_days(day, min_days),
        max_date=add_working_days(day, max_days),
    )


# Delivery dates are worked out a day at a time over the holiday calendar, which ends at year
# 9999: a moment further than this from today is a mistake, never a shipment or an opening.
PLAUSIBLE_DAYS = 366


def plausible_moment(moment: datetime, today: date | None = None) -> bool:
    """Whether `moment` is within `PLAUSIBLE_DAYS` of today (by its own calendar date)."""
    return plausible_day(moment.date(), today)


def plausible_day(day: date, today: date | None = None) -> bool:
    """Whether `day` is within `PLAUSIBLE_DAYS` of today, before or after."""
    today = today or date.today()
    return abs((day - today).days) <= PLAUSIBLE_DAYS
