"""`POST /v1/outcomes`: delivery results as CSV, NDJSON or JSON; every bad row reported, the rest kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aiohttp import web

from router.core.codec import encode
from router.core.errors import FieldError, InvalidRequest
from router.history.outcome_files import parse_csv, parse_items, parse_ndjson
from router.history.outcomes import Outcome, OutcomeFileError, RowProblem
from router.history.suspension import suspension_answer
from router.history.track_record import MAX_REJECTED_ROWS, ImportReport
from router.http import appkeys as keys
from router.http.schemas import answers
from router.http.schemas.decode import decode_json
from router.http.schemas.wire import OutcomesIn

# Larger than the service's body limit for quotes; files beyond it go through `carrier-router
# outcomes import`. CSV and NDJSON are read a line at a time, giving the loop back as they go.
MAX_BODY_BYTES = 8 * 1024 * 1024
# A JSON list is decoded whole, in one call that holds the interpreter: 1 MiB of `{}` items
# decodes in some 70 ms into 24 MB of objects. More rows go as CSV or NDJSON.
MAX_JSON_BODY_BYTES = 1024 * 1024
# Outcomes written to the store at once (the track record also gives other requests the loop
# back every few hundred rows, written or not).
BATCH = 5_000
_JSON_BODY: Any = OutcomesIn | list[Any]  # {"outcomes": [...]} or the list alone
CSV_TYPES = frozenset({"text/csv", "application/csv"})
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"})


async def _body(request: web.Request) -> bytes:
    line_by_line = request.content_type in CSV_TYPES or request.content_type in NDJSON_TYPES
    cap = MAX_BODY_BYTES if line_by_line else MAX_JSON_BODY_BYTES
    if request.content_length is not None and request.content_length > cap:
        # Refused on its announced length, before any of it is read.
        raise web.HTTPRequestEntityTooLarge(max_size=cap, actual_size=request.content_length)
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > cap:
            raise web.HTTPRequestEntityTooLarge(max_size=cap, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)


def _rows(content_type: str, body: bytes) -> tuple[Iterator[Outcome | RowProblem], int]:
    """The rows, read as the import goes, and how many lines (or list items) the body holds."""
    if not body.strip():
        raise InvalidRequest([FieldError("body", "is empty; send outcome rows")])
    # Read as bytes, line by line: a line in another encoding is that line's problem alone.
    lines = body.count(b"\n") + (not body.endswith(b"\n"))
    if content_type in CSV_TYPES:
        return parse_csv(body), lines
    if content_type in NDJSON_TYPES:
        return parse_ndjson(body), lines
    parsed = decode_json(body, _JSON_BODY)
    items = parsed.outcomes if isinstance(parsed, OutcomesIn) else parsed
    return parse_items(items), len(items)


def _stopped(report: ImportReport, total: int) -> RowProblem | None:
    """The summary of what an import that stopped early did not read."""
    if report.stopped_at is None:
        return None
    after = total - report.stopped_at
    return RowProblem(
        report.stopped_at,
        "",
        f"not read, and {after} more after it: the import stops after {MAX_REJECTED_ROWS} rejected rows",
    )


def report_answer(report: ImportReport, stopped: RowProblem | None = None) -> answers.OutcomeImport:
    problems = [*report.problems, *([stopped] if stopped else [])]
    return answers.OutcomeImport(
        rows=report.rows,
        imported=report.imported,
        duplicates=report.duplicates,
        rejected=report.rejected,
        problems=[answers.OutcomeProblem(line=p.line, field=p.field, reason=p.reason) for p in problems],
        # Only the first problems are listed; the count of rejected rows is always complete.
        problems_truncated=report.rejected > len({p.line for p in report.problems}),
        suspended=[suspension_answer(s) for s in report.suspended],
    )


async def import_outcomes(request: web.Request) -> web.Response:
    rows, total = _rows(request.content_type, await _body(request))
    try:
        report = await request.app[keys.TRACK_RECORD].record(rows, batch_size=BATCH)
    except OutcomeFileError as exc:
        raise InvalidRequest([FieldError("body", str(exc))], title="Unreadable outcome file") from None
    # A file of only bad rows is still read: its report says which lines are bad and why, which
    # is what the shop needs to fix them (the body itself was of the declared type).
    return web.Response(body=encode(report_answer(report, _stopped(report, total))), content_type="application/json")
