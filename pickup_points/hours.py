"""Opening hours: is a point open at a moment, and the text form files and the API use.

The text form is a small subset of OSM `opening_hours`, which point feeds and people both read:

    Mo-Fr 09:00-13:00,14:00-20:00; Sa 10:00-16:00; Su off; 2026-01-01 off; 2026-01-02 12:00-18:00
    24/7
    Fr-Sa 22:00-04:00          (past midnight: Saturday 00:00-04:00 belongs to Friday's span)

Later rules override earlier ones for the same days; days no rule mentions are closed.
A naive moment is read as wall time at the point; an aware one is converted to the point's zone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pickup_points.errors import HoursError
from pickup_points.model import (
    ALWAYS_OPEN,
    DAYS_PER_WEEK,
    MINUTES_PER_DAY,
    DatedHours,
    DayHours,
    OpeningHours,
    Span,
)

DAY_NAMES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_INDEX = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
_CLOSED_WORDS = {"off", "closed"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def local_moment(at: datetime, timezone: str) -> datetime:
    return at if at.tzinfo is None else at.astimezone(ZoneInfo(timezone))


def is_open(hours: OpeningHours, timezone: str, at: datetime) -> bool:
    local = local_moment(at, timezone)
    today = local.date()
    minute = local.hour * 60 + local.minute
    if any(s.opens_min <= minute < s.opens_min + s.length_min for s in hours.day(today)):
        return True
    yesterday = hours.day(today - timedelta(days=1))
    return any(s.overnight and minute < s.opens_min + s.length_min - MINUTES_PER_DAY for s in yesterday)


def parse_time(text: str, *, closing: bool = False) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise HoursError(f"{text!r} is not a time of day HH:MM")
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not closing)):
        raise HoursError(f"{text!r} is not a time of day")
    return hour * 60 + minute


def parse_span(text: str, separator: str = "-") -> Span:
    opens, sep, closes = text.strip().partition(separator)
    if not sep:
        raise HoursError(f"{text!r} is not a span like 10:00{separator}20:00")
    opens_min, closes_min = parse_time(opens), parse_time(closes, closing=True)
    # Feeds write round-the-clock as 00:00-00:00 as often as 00:00-24:00; keep one form.
    return Span(opens_min, MINUTES_PER_DAY if opens_min == closes_min == 0 else closes_min)


def parse_spans(text: str) -> DayHours:
    text = text.strip()
    if text.lower() in _CLOSED_WORDS:
        return ()
    return ordered_spans(parse_span(part) for part in text.split(","))


def ordered_spans(spans: Iterable[Span]) -> DayHours:
    """A day's spans in opening order; raises HoursError when two overlap."""
    ordered = tuple(sorted(spans, key=lambda s: s.opens_min))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.opens_min + a.length_min > b.opens_min:
            raise HoursError(f"{format_span(a)} and {format_span(b)} overlap")
    return ordered


def _parse_days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        first, dash, last = part.strip().lower().partition("-")
        if first not in _DAY_INDEX or (dash and last not in _DAY_INDEX):
            raise HoursError(f"{part.strip()!r} is not a day or day range like Mo-Fr")
        start = _DAY_INDEX[first]
        end = _DAY_INDEX[last] if dash else start
        days.extend((start + i) % DAYS_PER_WEEK for i in range((end - start) % DAYS_PER_WEEK + 1))
    return days


@functools.lru_cache(maxsize=4096)  # feeds repeat a few hundred schedules over many points
def parse_hours(text: str) -> OpeningHours:
    """Read the text form; raises HoursError that says which rule is wrong."""
    week: list[DayHours] = [()] * DAYS_PER_WEEK
    exceptions: dict[date, DayHours] = {}
    rules = [rule.strip() for rule in text.split(";") if rule.strip()]
    if not rules:
        raise HoursError("no opening hours given")
    for rule in rules:
        if rule == "24/7":
            week = list(ALWAYS_OPEN.week)
            continue
        selector, _, times = rule.partition(" ")
        if not times.strip():
            raise HoursError(f"rule {rule!r} needs days and times, e.g. 'Mo-Fr 10:00-20:00'")
        try:
            spans = parse_spans(times)
            if _DATE.match(selector):
                exceptions[date.fromisoformat(selector)] = spans
            else:
                for day in _parse_days(selector):
                    week[day] = spans
        except ValueError as exc:
            raise HoursError(f"rule {rule!r}: {exc}") from None
    return OpeningHours(
        week=tuple(week),
        exceptions=tuple(DatedHours(day, spans) for day, spans in sorted(exceptions.items())),
    )


def format_time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def format_span(span: Span) -> str:
    return f"{format_time(span.opens_min)}-{format_time(span.closes_min)}"


def format_spans(spans: DayHours) -> str:
    return ",".join(format_span(s) for s in spans) if spans else "off"


def format_hours(hours: OpeningHours) -> str:
    if hours.week == ALWAYS_OPEN.week:
        rules = ["24/7"]
    else:
        rules = []
        start = 0
        while start < DAYS_PER_WEEK:
            end = start
            while end + 1 < DAYS_PER_WEEK and hours.week[end + 1] == hours.week[start]:
                end += 1
            days = DAY_NAMES[start] if start == end else f"{DAY_NAMES[start]}-{DAY_NAMES[end]}"
            rules.append(f"{days} {format_spans(hours.week[start])}")
            start = end + 1
    rules.extend(f"{e.day.isoformat()} {format_spans(e.spans)}" for e in hours.exceptions)
    return "; ".join(rules)
