from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from router.core.calendar import add_working_days, is_working_day, make_eta, next_working_day

MOSCOW = "Europe/Moscow"
CUTOFF = time(14, 0)


def at(moment: str, zone: str = MOSCOW) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=ZoneInfo(zone))


def test_parcel_handed_over_before_cutoff_ships_the_same_day() -> None:
    eta = make_eta(at("2026-03-11T10:00"), MOSCOW, CUTOFF, 1, 3)  # a Wednesday

    assert eta.ship_date == date(2026, 3, 11)
    assert eta.min_date == date(2026, 3, 12)
    assert eta.max_date == date(2026, 3, 16)  # over the weekend


def test_parcel_handed_over_after_cutoff_ships_the_next_working_day() -> None:
    eta = make_eta(at("2026-03-11T15:30"), MOSCOW, CUTOFF, 1, 1)

    assert eta.ship_date == date(2026, 3, 12)
    assert eta.min_date == date(2026, 3, 13)


def test_cutoff_itself_counts_as_too_late() -> None:
    assert make_eta(at("2026-03-11T14:00"), MOSCOW, CUTOFF, 0, 0).ship_date == date(2026, 3, 12)
    assert make_eta(at("2026-03-11T13:59:59"), MOSCOW, CUTOFF, 0, 0).ship_date == date(2026, 3, 11)


def test_friday_after_cutoff_ships_on_monday() -> None:
    eta = make_eta(at("2026-03-13T18:00"), MOSCOW, CUTOFF, 1, 2)

    assert eta.ship_date == date(2026, 3, 16)
    assert eta.ship_date.weekday() == 0
    assert (eta.min_date, eta.max_date) == (date(2026, 3, 17), date(2026, 3, 18))


def test_weekend_handover_ships_on_monday_even_before_cutoff() -> None:
    assert make_eta(at("2026-03-15T09:00"), MOSCOW, CUTOFF, 0, 0).ship_date == date(2026, 3, 16)


def test_new_year_holidays_and_their_transfers_are_skipped() -> None:
    # Wednesday 30 Dec 2026: 31 Dec is a day off moved from 4 Jan, 1-8 Jan are the New Year
    # holidays and 9-10 Jan a weekend, so the next working day is Monday 11 Jan.
    eta = make_eta(at("2026-12-30T10:00"), MOSCOW, CUTOFF, 1, 3)

    assert eta.ship_date == date(2026, 12, 30)
    assert eta.min_date == date(2027, 1, 11)
    assert eta.max_date == date(2027, 1, 13)
    skipped = [date(2026, 12, 31)] + [date(2027, 1, d) for d in range(1, 11)]
    assert not any(is_working_day(d) for d in skipped)


def test_after_cutoff_before_new_year_ships_after_the_holidays() -> None:
    eta = make_eta(at("2026-12-30T17:00"), MOSCOW, CUTOFF, 0, 2)

    assert eta.ship_date == date(2027, 1, 11)
    assert eta.min_date == eta.ship_date
    assert eta.max_date == date(2027, 1, 13)


def test_saturday_declared_a_working_day_is_a_working_day() -> None:
    # 2024: Saturday 27 Apr worked for Monday 29 Apr, Saturday 2 Nov for Tuesday 30 Apr.
    assert is_working_day(date(2024, 4, 27))
    assert is_working_day(date(2024, 11, 2))
    assert is_working_day(date(2024, 12, 28))
    assert not is_working_day(date(2024, 4, 29))
    assert not is_working_day(date(2024, 4, 30))
    assert not is_working_day(date(2024, 12, 30))


def test_friday_after_cutoff_ships_on_a_working_saturday() -> None:
    eta = make_eta(at("2024-04-26T16:00"), MOSCOW, CUTOFF, 1, 2)

    assert eta.ship_date == date(2024, 4, 27)
    # 29-30 Apr are transferred days off and 1 May is a holiday.
    assert eta.min_date == date(2024, 5, 2)
    assert eta.max_date == date(2024, 5, 3)


def test_the_same_instant_is_before_cutoff_in_kaliningrad_and_after_it_in_vladivostok() -> None:
    instant = datetime(2026, 3, 11, 5, 0, tzinfo=UTC)  # 07:00 and 15:00 local

    kaliningrad = make_eta(instant, "Europe/Kaliningrad", CUTOFF, 1, 1)
    vladivostok = make_eta(instant, "Asia/Vladivostok", CUTOFF, 1, 1)

    assert kaliningrad.ship_date == date(2026, 3, 11)
    assert vladivostok.ship_date == date(2026, 3, 12)


def test_ship_date_is_the_local_date_not_the_utc_date() -> None:
    instant = datetime(2026, 3, 10, 22, 0, tzinfo=UTC)  # 08:00 on the 11th local

    assert make_eta(instant, "Asia/Vladivostok", CUTOFF, 0, 0).ship_date == date(2026, 3, 11)
    assert make_eta(instant, MOSCOW, CUTOFF, 0, 0).ship_date == date(2026, 3, 11)  # 01:00


def test_same_day_delivery_before_cutoff_arrives_on_the_ship_date() -> None:
    eta = make_eta(at("2026-03-11T09:00"), MOSCOW, CUTOFF, 0, 1)

    assert eta.min_date == eta.ship_date == date(2026, 3, 11)
    assert eta.max_date == date(2026, 3, 12)


def test_same_day_delivery_after_cutoff_arrives_the_next_working_day() -> None:
    eta = make_eta(at("2026-03-13T20:00"), MOSCOW, CUTOFF, 0, 0)

    assert eta.min_date == eta.max_date == eta.ship_date == date(2026, 3, 16)


@pytest.mark.parametrize("year", [2021, 2022, 2024, 2025, 2026])
def test_every_holiday_is_a_day_off_and_every_declared_working_saturday_works(year: int) -> None:
    calendar = holidays.country_holidays("RU", years=year)

    assert calendar, "the holidays package should know this year"
    assert not any(is_working_day(d) for d in calendar)
    assert all(is_working_day(d) for d in calendar.weekend_workdays)


def test_ordinary_weekends_are_days_off_and_weekdays_work() -> None:
    week = [date(2026, 3, 16) + timedelta(days=i) for i in range(7)]

    assert [is_working_day(d) for d in week] == [True] * 5 + [False] * 2


def test_adding_zero_working_days_keeps_the_date() -> None:
    assert add_working_days(date(2026, 3, 14), 0) == date(2026, 3, 14)


def test_working_days_can_be_counted_backwards() -> None:
    assert add_working_days(date(2027, 1, 11), -1) == date(2026, 12, 30)
    assert add_working_days(add_working_days(date(2026, 3, 11), 10), -10) == date(2026, 3, 11)


def test_adding_working_days_skips_exactly_the_days_off() -> None:
    start = date(2026, 4, 20)
    end = add_working_days(start, 30)

    span = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(is_working_day(d) for d in span) == 30
    assert is_working_day(end)


def test_next_working_day_is_strictly_after() -> None:
    assert next_working_day(date(2026, 3, 11)) == date(2026, 3, 12)
    assert next_working_day(date(2026, 3, 6)) == date(2026, 3, 10)  # 9 Mar replaces 8 Mar


def test_naive_ship_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        make_eta(datetime(2026, 3, 11, 10, 0), MOSCOW, CUTOFF, 1, 2)


@pytest.mark.parametrize(("min_days", "max_days"), [(-1, 2), (3, 2)])
def test_impossible_transit_days_are_rejected(min_days: int, max_days: int) -> None:
    with pytest.raises(ValueError, match="transit days"):
        make_eta(at("2026-03-11T10:00"), MOSCOW, CUTOFF, min_days, max_days)


def test_eta_costs_microseconds_once_the_year_is_loaded() -> None:
    ship_at = at("2026-12-30T17:00")
    make_eta(ship_at, "Asia/Vladivostok", CUTOFF, 2, 7)

    started = clock.perf_counter()
    for _ in range(10_000):
        make_eta(ship_at, "Asia/Vladivostok", CUTOFF, 2, 7)
    per_call = (clock.perf_counter() - started) / 10_000

    # A generous bound: reloading the holiday calendar on the hot path costs about a millisecond.
    assert per_call < 100e-6
