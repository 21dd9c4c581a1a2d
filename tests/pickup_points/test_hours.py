from datetime import UTC, date, datetime, timedelta

import pytest

from pickup_points.hours import format_hours, is_open, parse_hours
from pickup_points.model import Span

UTC = UTC


def wall(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-03-02T09:59", False),  # Monday before opening
        ("2026-03-02T10:00", True),
        ("2026-03-02T13:30", False),  # the lunch break
        ("2026-03-02T14:00", True),
        ("2026-03-02T19:59", True),
        ("2026-03-02T20:00", False),  # closing minute is already closed
        ("2026-03-07T15:59", True),  # Saturday
        ("2026-03-07T16:00", False),
        ("2026-03-08T12:00", False),  # Sunday off
    ],
)
def test_weekly_hours_with_a_break(moment: str, expected: bool) -> None:
    hours = parse_hours("Mo-Fr 10:00-13:00,14:00-20:00; Sa 10:00-16:00; Su off")
    assert is_open(hours, "Europe/Moscow", wall(moment)) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2026-03-06T21:59", False),  # Friday evening, before the night opens
        ("2026-03-06T22:00", True),
        ("2026-03-07T03:59", True),  # Saturday small hours belong to Friday's span
        ("2026-03-07T04:00", False),
        ("2026-03-08T02:00", True),  # Sunday small hours belong to Saturday's span
        ("2026-03-09T02:00", False),  # Monday small hours: Sunday has no night span
        ("2026-03-05T23:00", False),  # Thursday night is not in the rule
    ],
)
def test_span_across_midnight_belongs_to_the_day_it_opened(moment: str, expected: bool) -> None:
    hours = parse_hours("Fr-Sa 22:00-04:00")
    assert is_open(hours, "Europe/Moscow", wall(moment)) is expected


def test_sunday_night_span_runs_into_monday() -> None:
    hours = parse_hours("Su 20:00-02:00")
    assert is_open(hours, "Europe/Moscow", wall("2026-03-09T01:00"))  # Monday 01:00


def test_an_instant_is_read_in_the_points_own_time_zone() -> None:
    hours = parse_hours("Mo-Su 09:00-18:00")
    instant = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # 10:30 Moscow, 19:30 Anadyr, 09:30 Kaliningrad
    assert is_open(hours, "Europe/Moscow", instant)
    assert not is_open(hours, "Asia/Anadyr", instant)
    assert is_open(hours, "Europe/Kaliningrad", instant)
    assert not is_open(hours, "Europe/Kaliningrad", instant - timedelta(minutes=31))


def test_an_instant_late_in_utc_is_already_the_next_day_in_the_far_east() -> None:
    hours = parse_hours("Mo-Fr 10:00-20:00; Sa-Su off")
    sunday_utc = datetime(2026, 3, 8, 23, 0, tzinfo=UTC)  # Monday 11:00 in Kamchatka (UTC+12)
    assert is_open(hours, "Asia/Kamchatka", sunday_utc)
    assert not is_open(hours, "Asia/Vladivostok", sunday_utc)  # Monday 09:00
    assert not is_open(hours, "Europe/Moscow", sunday_utc)


def test_dated_exception_overrides_the_weekday() -> None:
    hours = parse_hours("Mo-Su 10:00-20:00; 2026-01-01 off; 2026-01-02 12:00-16:00")
    assert not is_open(hours, "Europe/Moscow", wall("2026-01-01T12:00"))
    assert is_open(hours, "Europe/Moscow", wall("2026-01-02T13:00"))
    assert not is_open(hours, "Europe/Moscow", wall("2026-01-02T11:00"))
    assert is_open(hours, "Europe/Moscow", wall("2026-01-03T11:00"))


def test_a_closed_exception_day_still_ends_the_previous_nights_span() -> None:
    hours = parse_hours("Mo-Su 22:00-02:00; 2026-01-01 off")
    assert is_open(hours, "Europe/Moscow", wall("2026-01-01T01:00"))  # the night of Dec 31
    assert not is_open(hours, "Europe/Moscow", wall("2026-01-01T23:00"))
    assert not is_open(hours, "Europe/Moscow", wall("2026-01-02T01:00"))


def test_round_the_clock_forms_agree() -> None:
    a, b, c = parse_hours("24/7"), parse_hours("Mo-Su 00:00-24:00"), parse_hours("Mo-Su 00:00-00:00")
    assert a == b == c
    assert all(is_open(a, "Asia/Anadyr", wall(f"2026-03-0{d}T{h:02d}:00")) for d in range(1, 8) for h in range(24))


def test_breaks_are_the_gaps_between_spans() -> None:
    hours = parse_hours("Mo 09:00-13:00,14:00-18:00,18:30-20:00")
    assert hours.breaks(hours.week[0]) == (Span(13 * 60, 14 * 60), Span(18 * 60, 18 * 60 + 30))


def test_text_form_round_trips() -> None:
    text = "Mo-Fr 09:00-13:00,14:00-20:00; Sa 10:00-16:00; Su off; 2026-01-01 off"
    assert format_hours(parse_hours(text)) == text
    assert parse_hours("Sa-Mo 10:00-12:00").day(date(2026, 3, 9)) == (Span(600, 720),)


@pytest.mark.parametrize(
    "text",
    ["", "Mo-Fr", "Xx 10:00-20:00", "Mo 25:00-26:00", "Mo 10:00-20:00,19:00-21:00", "Mo 10:60-11:00", "Mo 10-20"],
)
def test_malformed_hours_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError):
        parse_hours(text)
