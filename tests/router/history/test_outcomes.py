"""Outcome rows: CSV, NDJSON and JSON read into outcomes; bad rows reported, imports idempotent."""

from __future__ import annotations

from datetime import date

import pytest

from router.history.outcome_files import parse_csv, parse_items, parse_ndjson, sniff_format
from router.history.outcomes import Coordinates, Outcome, OutcomeFileError, OutcomeStatus, RowProblem
from router.history.track_record import TrackRecord
from router.store import Store
from tests.router.outcome_sim import HEADER

GOOD = "s1,Magistral,door,RU-MOW,RU-NVS,2026-11-02T15:30:00+03:00,2026-11-06,2026-11-05T12:00:00+07:00,delivered,no"


def rows(*lines: str) -> list[Outcome | RowProblem]:
    return list(parse_csv([HEADER, *lines]))


def problems(*lines: str) -> list[tuple[int, str]]:
    return [(r.line, r.field) for r in rows(*lines) if isinstance(r, RowProblem)]


def test_a_csv_row_becomes_an_outcome_with_local_dates_and_lower_case_codes() -> None:
    (outcome,) = rows(GOOD)
    assert outcome == Outcome(
        shipment_id="s1",
        carrier="magistral",
        service="door",
        origin="RU-MOW",
        destination="RU-NVS",
        handed_over_on=date(2026, 11, 2),
        status=OutcomeStatus.DELIVERED,
        delivered_on=date(2026, 11, 5),
        promised_on=date(2026, 11, 6),
        complaint=False,
    )


def test_ends_may_be_coordinates_or_a_bare_admin1_code_meaning_russia() -> None:
    (outcome,) = rows('s1,vestnik,parcel,"55.75,37.62",53,2026-11-02,,2026-11-09,,')
    assert outcome.origin == Coordinates(55.75, 37.62)
    assert outcome.destination == "RU-NVS"
    assert outcome.status is OutcomeStatus.DELIVERED  # inferred from delivered_at


def test_a_lost_parcel_needs_no_delivery_time_and_counts_as_serious() -> None:
    (outcome,) = rows("s1,vestnik,parcel,RU-MOW,RU-NVS,2026-11-02,,,lost,")
    assert outcome.status is OutcomeStatus.LOST and outcome.serious and outcome.failed
    (complained,) = rows("s2,vestnik,parcel,RU-MOW,RU-NVS,2026-11-02,,2026-11-04,delivered,yes")
    assert complained.serious and not complained.failed


def test_bad_rows_are_reported_with_line_and_field_and_the_rest_are_kept() -> None:
    parsed = rows(
        GOOD,
        "s2,magistral,door,RU-MOW,RU-NVS,yesterday,,2026-11-05,delivered,",
        "s3,magistral,door,RU-MOW,RU-NVS,2026-11-02,,,delivered,",
        "s4,magistral,door,RU-MOW,RU-NVS,2026-11-02,,2026-11-01,delivered,",
        "s5,magistral,door,Moscow!,RU-NVS,2026-11-02,,2026-11-05,teleported,maybe",
        "s6,magistral,door,RU-MOW",
        GOOD.replace("s1", "s7"),
    )
    assert [o.shipment_id for o in parsed if isinstance(o, Outcome)] == ["s1", "s7"]
    reported = {(r.line, r.field) for r in parsed if isinstance(r, RowProblem)}
    assert reported == {
        (3, "handed_over_at"),
        (4, "delivered_at"),
        (5, "delivered_at"),
        (6, "origin"),
        (6, "status"),
        (6, "complaint"),
        (7, ""),
    }
    reason = next(r.reason for r in parsed if isinstance(r, RowProblem) and r.line == 5)
    assert "before handed_over_at" in reason


def test_a_lost_parcel_with_a_delivery_time_is_contradictory() -> None:
    assert problems("s1,vestnik,parcel,RU-MOW,RU-NVS,2026-11-02,,2026-11-05,lost,") == [(2, "delivered_at")]


def test_years_far_away_are_rejected_as_typos() -> None:
    assert problems("s1,vestnik,parcel,RU-MOW,RU-NVS,0202-11-02,,,lost,") == [(2, "handed_over_at")]


def test_a_file_without_a_required_column_is_refused_as_a_whole() -> None:
    with pytest.raises(OutcomeFileError, match="handed_over_at"):
        list(parse_csv(["shipment_id,carrier,service,origin,destination", "s1,a,b,RU-MOW,RU-NVS"]))
    with pytest.raises(OutcomeFileError, match="empty"):
        list(parse_csv([]))


def test_extra_columns_are_ignored() -> None:
    (outcome,) = parse_csv([HEADER + ",order_total", GOOD + ",1500.00"])
    assert isinstance(outcome, Outcome)


def test_ndjson_reports_unparseable_lines_by_number() -> None:
    lines = [
        (
            '{"shipment_id": "n1", "carrier": "vestnik", "service": "parcel", "origin": {"lat": 55.75, "lon": 37.62},'
            ' "destination": {"country": "RU", "region": "53"}, "handed_over_at": "2026-11-02T10:00:00+03:00",'
            ' "status": "damaged", "complaint": true}'
        ),
        "",
        "{not json",
        "[1, 2]",
        (
            '{"shipment_id": 7, "carrier": "vestnik", "service": "parcel", "origin": "RU-MOW", "destination": "RU-NVS",'
            ' "handed_over_at": "2026-11-02", "delivered_at": "2026-11-04"}'
        ),
    ]
    parsed = list(parse_ndjson(lines))
    first, bad_json, not_object, numeric_id = parsed
    assert isinstance(first, Outcome) and first.origin == Coordinates(55.75, 37.62) and first.destination == "RU-NVS"
    assert first.complaint and first.status is OutcomeStatus.DAMAGED
    assert (bad_json.line, not_object.line) == (3, 4)
    assert isinstance(numeric_id, Outcome) and numeric_id.shipment_id == "7"


def test_json_items_report_their_position() -> None:
    parsed = list(parse_items([{"shipment_id": "x"}, "nope"]))
    assert {r.line for r in parsed if isinstance(r, RowProblem)} == {1, 2}
    assert {"carrier", "service", "origin", "destination", "handed_over_at"} <= {
        r.field for r in parsed if isinstance(r, RowProblem) and r.line == 1
    }


def test_the_format_is_told_by_the_name_or_else_by_the_first_line() -> None:
    assert sniff_format("a.ndjson", "x") == "ndjson"
    assert sniff_format("a.csv", "{") == "csv"
    assert sniff_format("upload", '{"shipment_id": 1}') == "ndjson"
    assert sniff_format("upload", HEADER) == "csv"


async def test_importing_the_same_rows_twice_counts_each_shipment_once(store: Store) -> None:
    record = TrackRecord(store)
    lines = [GOOD.replace("s1", f"s{i}") for i in range(50)]
    first = await record.record(parse_csv([HEADER, *lines]), batch_size=7)
    assert (first.rows, first.imported, first.duplicates, first.rejected) == (50, 50, 0, 0)
    before = await record.tallies("magistral", "door", "RU-MOW>RU-NVS")
    again = await record.record(parse_csv([HEADER, *lines, GOOD.replace("s1", "s-new")]))
    assert (again.imported, again.duplicates) == (1, 50)
    after = await record.tallies("magistral", "door", "RU-MOW>RU-NVS")
    assert before is not None and after is not None
    assert (before.n, after.n) == (50, 51)


async def test_a_shipment_repeated_within_one_file_is_counted_once_and_reported_with_its_lines(store: Store) -> None:
    report = await TrackRecord(store).record(parse_csv([HEADER, GOOD, GOOD, GOOD]))
    assert (report.imported, report.duplicates, report.rejected) == (1, 0, 2)
    assert [(p.line, p.field) for p in report.problems] == [(3, "shipment_id"), (4, "shipment_id")]
    assert all("line 2" in p.reason for p in report.problems)


async def test_an_import_reports_bad_rows_and_keeps_the_good_ones(store: Store) -> None:
    record = TrackRecord(store)
    report = await record.record(
        parse_csv([HEADER, GOOD, "s2,x,y,RU-MOW,RU-NVS,nonsense,,,,", GOOD.replace("s1", "s3")])
    )
    assert (report.rows, report.imported, report.rejected) == (3, 2, 1)
    assert {p.line for p in report.problems} == {3}
    tally = await record.tallies("magistral")
    assert tally is not None and tally.n == 2


async def test_coordinates_are_resolved_to_the_region_of_the_nearest_city(store: Store) -> None:
    from router.quoting.wiring import bundled_places

    record = TrackRecord(store, places=bundled_places)
    report = await record.record(
        parse_csv([HEADER, 's1,vestnik,parcel,"55.75,37.62","55.03,82.92",2026-11-02,,2026-11-09,,'])
    )
    assert report.imported == 1
    assert await record.tallies("vestnik", "parcel", "RU-MOW>RU-NVS") is not None


def test_the_quick_reading_of_plain_csv_rows_agrees_with_the_careful_one() -> None:
    import random

    from router.history.outcomes import COLUMNS, outcome_from_row, plain_row

    choices = {
        "shipment_id": ["s1", " s2 ", "", "x" * 200],
        "carrier": ["Vestnik", "ve$tnik", ""],
        "service": ["parcel"],
        "origin": ["RU-MOW", "48", "55.75,37.62", "Moscow!", ""],
        "destination": ["RU-NVS"],
        "handed_over_at": ["2026-11-02", "2026-11-02T10:00:00+03:00", "soon", "", "1999-01-01"],
        "promised_date": ["", "2026-11-06", "2026-10-01"],
        "delivered_at": ["", "2026-11-05T12:00:00+07:00", "2026-11-01", "2028-01-01"],
        "status": ["", "delivered", "LOST", "damaged", "returned", "gone"],
        "complaint": ["", "yes", "No", "1", "maybe"],
    }
    rnd = random.Random(3)
    quick_ones = 0
    for _ in range(3000):
        values = [rnd.choice(choices[c]) for c in COLUMNS]
        quick = plain_row(tuple(values))
        careful = outcome_from_row(dict(zip(COLUMNS, values, strict=False)), 2)
        if quick is not None:  # None only means "look closer"
            assert quick == careful, values
            quick_ones += 1
    assert quick_ones > 5
