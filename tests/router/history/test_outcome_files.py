"""Outcome files as people make them: stray quotes, BOMs, Windows-1251, separators inside JSON, hostile values."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import orjson
import pytest

from router.history.outcome_files import parse_csv, parse_ndjson
from router.history.outcomes import COLUMNS, Coordinates, Outcome, RowProblem, plain_row
from router.history.track_record import MAX_REJECTED_ROWS, TrackRecord
from router.store import MemoryStore
from tests.router.outcome_sim import HEADER

GOOD = "{id},magistral,door,RU-MOW,RU-NVS,2026-11-02,2026-11-06,2026-11-05,delivered,no"


def good(sid: str) -> str:
    return GOOD.format(id=sid)


def split(parsed: list[Outcome | RowProblem]) -> tuple[list[str], list[tuple[int, str]]]:
    kept = [o.shipment_id for o in parsed if isinstance(o, Outcome)]
    return kept, [(p.line, p.field) for p in parsed if isinstance(p, RowProblem)]


# A guard against the quadratic pattern coming back, not a timing assertion: at a million spaces
# the old pattern would run for hours.
@pytest.mark.timeout(60)
def test_a_point_with_a_million_spaces_is_refused_in_one_pass() -> None:
    values = dict(zip(COLUMNS, good("s1").split(","), strict=True))
    values["origin"] = "55.75" + " " * 1_000_000 + "x"
    assert plain_row(tuple(values[c] for c in COLUMNS)) is None
    values["origin"] = "55.75 ;  37.62"
    outcome = plain_row(tuple(values[c] for c in COLUMNS))
    assert outcome is not None and outcome.origin == Coordinates(55.75, 37.62)


def test_an_unclosed_quote_costs_only_its_own_row_and_is_named_at_its_line() -> None:
    lines = [
        HEADER,
        good("s1"),
        'o2,magistral,door,"RU-MOW,RU-NVS,2026-11-02,,2026-11-05,delivered,no',
        good("s3"),
        good("s4"),
        'o5,magistral,door,"55.75,37.62",RU-NVS,2026-11-02,,2026-11-05,delivered,no',
        good("s6"),
    ]
    kept, problems = split(list(parse_csv("\n".join(lines).encode())))
    assert kept == ["s1", "s3", "s4", "o5", "s6"]
    assert problems == [(3, "origin")]


def test_bom_and_windows_1251_files_are_read_and_a_foreign_line_is_reported_alone() -> None:
    text = "\r\n".join([HEADER, good("с1"), good("с2")]) + "\r\n"  # Cyrillic ids
    for data in (b"\xef\xbb\xbf" + text.encode(), text.encode("cp1251")):
        assert split(list(parse_csv(data))) == (["с1", "с2"], [])
    mixed = "\n".join([HEADER, *(good(f"ш{i}") for i in range(5))]).encode()
    mixed += b"\n" + good("ж9").encode("cp1251") + b"\n" + good("ш9").encode()
    kept, problems = split(list(parse_csv(mixed)))
    assert len(kept) == 6 and problems == [(7, "")]


def test_ndjson_lines_end_at_line_feeds_only() -> None:
    item = {
        "shipment_id": "n1",
        "carrier": "vestnik",
        "service": "parcel",
        "origin": "RU-MOW",
        "destination": "RU-NVS",
        "handed_over_at": "2026-11-02",
        "status": "lost",
        "note": "a\u2028b\u0085c",
    }
    data = orjson.dumps(item) + b"\n" + orjson.dumps({**item, "shipment_id": "n2"}) + b"\n{oops\n"
    assert split(list(parse_ndjson(data))) == (["n1", "n2"], [(3, "")])
    assert split(list(parse_ndjson(data.decode()))) == (["n1", "n2"], [(3, "")])


def test_an_oversize_value_is_reported_by_field_without_being_quoted_back() -> None:
    item = {"shipment_id": "n1", "carrier": "vestnik", "service": "parcel", "origin": "R" * 131_000}
    (problem,) = [p for p in parse_ndjson(orjson.dumps(item)) if isinstance(p, RowProblem)]
    assert (problem.line, problem.field) == (1, "origin") and len(problem.reason) < 100
    csv_rows = list(parse_csv(f"{HEADER}\n{good('x' * 5000)}\n{good('s2')}\n"))
    assert split(csv_rows) == (["s2"], [(2, "shipment_id")])


async def test_an_import_of_bad_rows_gives_the_event_loop_back_while_it_reads() -> None:
    record = TrackRecord(MemoryStore())
    turns = 0

    async def other_request() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    seen: list[int] = []

    def rows() -> Iterator[RowProblem]:
        for line in range(2, 900):
            seen.append(turns)  # how often the rest of the service ran before this row was read
            yield RowProblem(line, "carrier", "is required")

    other = asyncio.create_task(other_request())
    await asyncio.sleep(0)
    try:
        report = await record.record(rows())
    finally:
        other.cancel()
    assert report.rejected == 898
    assert seen[-1] > seen[0]


async def test_an_import_stops_after_a_thousand_rejected_rows_and_keeps_the_good_ones_before() -> None:
    record = TrackRecord(MemoryStore())
    lines = [HEADER, good("s1"), *(f"b{i},,,,,,,,," for i in range(1500)), good("s2")]
    report = await record.record(parse_csv("\n".join(lines)))
    assert (report.imported, report.rejected, report.stopped_at) == (1, MAX_REJECTED_ROWS, 1003)
    assert report.rows == 1 + MAX_REJECTED_ROWS and len(report.problems) == 1000
