"""`POST /v1/outcomes`: delivery results as CSV, NDJSON or JSON; every bad row reported, the rest kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import web

from router.core.codec import encode
from router.core.errors import FieldError, InvalidRequest
from router.history.outcomes import (
    Outcome,
    OutcomeFileError,
    RowProblem,
    parse_csv,
    parse_items,
    parse_ndjson,
)
from router.history.suspension import suspension_answer
from router.history.track_record import ImportReport
from router.http import appkeys as keys
from router.http.schemas import answers
from router.http.schemas.decode import decode_json
from router.http.schemas.wire import OutcomesIn

# Larger than the service's body limit for quotes, small enough that parsing never holds the
# event loop for long; files beyond it go through `carrier-router outcomes import`.
MAX_BODY_BYTES = 8 * 1024 * 1024
# Rows between awaits: other requests get the loop back every few tens of milliseconds.
BATCH = 5_000
_JSON_BODY: Any = OutcomesIn | list[Any]  # {"outcomes": [...]} or the list alone
CSV_TYPES = frozenset({"text/csv", "application/csv"})
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"})


async def _body(request: web.Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_BODY_BYTES, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def _rows(content_type: str, body: bytes) -> Iterator[Outcome | RowProblem]:
    if not body.strip():
        raise InvalidRequest([FieldError("body", "is empty; send outcome rows")])
    if content_type in CSV_TYPES or content_type in NDJSON_TYPES:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidRequest([FieldError("body", f"is not UTF-8: {exc}")]) from None
        if content_type in CSV_TYPES:
            return parse_csv(text.splitlines())
        return parse_ndjson(text.splitlines())
    parsed = decode_json(body, _JSON_BODY)
    items = parsed.outcomes if isinstance(parsed, OutcomesIn) else parsed
    return parse_items(items)


def report_answer(report: ImportReport) -> answers.OutcomeImport:
    return answers.OutcomeImport(
        rows=report.rows,
        imported=report.imported,
        duplicates=report.duplicates,
        rejected=report.rejected,
        problems=[answers.OutcomeProblem(line=p.line, field=p.field, reason=p.reason) for p in report.problems],
        # Only the first problems are listed; the count of rejected rows is always complete.
        problems_truncated=report.rejected > len({p.line for p in report.problems}),
        suspended=[suspension_answer(s) for s in report.suspended],
    )


async def import_outcomes(request: web.Request) -> web.Response:
    rows = _rows(request.content_type, await _body(request))
    try:
        report = await request.app[keys.TRACK_RECORD].record(rows, batch_size=BATCH)
    except OutcomeFileError as exc:
        raise InvalidRequest([FieldError("body", str(exc))], title="Unreadable outcome file") from None
    # A file of only bad rows is still read: its report says which lines are bad and why, which
    # is what the shop needs to fix them (the body itself was of the declared type).
    return web.Response(body=encode(report_answer(report)), content_type="application/json")
