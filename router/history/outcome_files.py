"""Delivery-outcome files — CSV with a header, NDJSON, or a JSON list — read row by row.

Lines come through `router.core.textfiles`, so a stray quote, a BOM, a Windows-1251 file or a
line in another encoding costs at most its own line, reported there. A shipment id read twice in
one file is reported at its second line and the first is kept; a shipment already imported by
an earlier file is the track record's to count.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import Any

import orjson

from router.core.textfiles import LineProblem, Record, csv_records, text_lines
from router.history.outcomes import (
    COLUMNS,
    REQUIRED_COLUMNS,
    Outcome,
    OutcomeFileError,
    RowProblem,
    outcome_from_row,
    plain_row,
)

Source = bytes | str | Iterable[bytes] | Iterable[str]


def parse_csv(data: Source) -> Iterator[Outcome | RowProblem]:
    """Rows of a CSV file with a header line; raises OutcomeFileError when a required column is missing.

    `data` is the file's bytes or text, or the open file (see `router.core.textfiles`).
    """
    records = csv_records(text_lines(data))
    header: list[str] | None = None
    header_line = 1
    for item in records:
        if isinstance(item, Record):
            header, header_line = [h.strip().lower() for h in item.values], item.line
            break
        yield RowProblem(item.line, item.field, item.reason)
    if header is None:
        raise OutcomeFileError("the file is empty; expected a header line")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise OutcomeFileError(f"line {header_line}: missing column(s): " + ", ".join(missing))
    width = len(header)
    # An optional column the file lacks reads from one empty value put after the row's own.
    pick = itemgetter(*(header.index(c) if c in header else width for c in COLUMNS))
    first_lines: dict[str, int] = {}
    for item in records:
        if isinstance(item, LineProblem):
            yield RowProblem(item.line, item.field, item.reason)
            continue
        line, values = item.line, item.values
        if len(values) != width:
            yield RowProblem(line, "", f"has {len(values)} fields; the header has {width}")
            continue
        result = plain_row(pick([*values, ""])) or outcome_from_row(dict(zip(header, values, strict=False)), line)
        if isinstance(result, Outcome):
            yield _first_read(result, line, first_lines)
        else:
            yield from result


def _first_read(outcome: Outcome, line: int, first_lines: dict[str, int]) -> Outcome | RowProblem:
    """A shipment read twice in one file is reported at its second line; the first one read is kept."""
    first = first_lines.setdefault(outcome.shipment_id, line)
    if first == line:
        return outcome
    return RowProblem(line, "shipment_id", f"{outcome.shipment_id!r} was already read on line {first}")


def parse_ndjson(data: Source) -> Iterator[Outcome | RowProblem]:
    """One JSON object a line; blank lines are skipped. Lines end at "\\n" alone: U+2028 and
    U+0085 are legal inside a JSON string."""
    first_lines: dict[str, int] = {}
    for item in text_lines(data):
        if isinstance(item, LineProblem):
            yield RowProblem(item.line, item.field, item.reason)
            continue
        number, line = item
        if not line.strip():
            continue
        try:
            parsed = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield RowProblem(number, "", f"is not valid JSON: {exc}")
            continue
        result = _item(parsed, number)
        if isinstance(result, Outcome):
            yield _first_read(result, number, first_lines)
        else:
            yield from result


def parse_items(items: Iterable[Any]) -> Iterator[Outcome | RowProblem]:
    """Objects of a JSON list; a problem's line is the object's position, from 1."""
    first_lines: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        result = _item(item, number)
        if isinstance(result, Outcome):
            yield _first_read(result, number, first_lines)
        else:
            yield from result


def _item(item: Any, number: int) -> Outcome | list[RowProblem]:
    if not isinstance(item, dict):
        return [RowProblem(number, "", "must be a JSON object")]
    return outcome_from_row(item, number)


def sniff_format(name: str, first_line: str) -> str:
    """`csv` or `ndjson`, from the file name and else from what the file starts with."""
    lower = name.lower()
    if lower.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    if lower.endswith(".csv"):
        return "csv"
    return "ndjson" if first_line.lstrip().startswith("{") else "csv"
