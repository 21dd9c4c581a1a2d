"""A partner's statuses from its file: a CSV a line an event, a bad line reported and the rest taken.

    shipment,status,at,city,text,code
    MA0000000042,in_transit,2026-12-09T12:00:00+03:00,Москва,Принят в пути,TR

`shipment` is our shipment id or the parcel's tracking number; `status` one of the status
language's (docs/tracking.md); `at` a moment with its offset; the rest may be empty. Only the
importing owner's shipments are found; each event is kept once however often it is imported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from carriers.tracking import Status, TrackingEvent
from router.core.textfiles import LineProblem, Record, csv_records, text_lines
from router.records.tables import shipments
from router.tracking.tracker import Tracker

REQUIRED = ("shipment", "status", "at")
COLUMNS = (*REQUIRED, "city", "text", "code")


@dataclass
class EventImport:
    events: int = 0
    shipments_changed: int = 0
    problems: list[LineProblem] = field(default_factory=list)


async def import_events(tracker: Tracker, owner: str, data: bytes) -> EventImport:
    report = EventImport()
    names: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for item in csv_records(text_lines(data)):
        if isinstance(item, LineProblem):
            report.problems.append(item)
            continue
        if names is None:
            names = [n.strip().lower() for n in item.values]
            missing = [c for c in REQUIRED if c not in names]
            if missing:
                report.problems.append(LineProblem(item.line, "", f"the header has no {', '.join(missing)} column"))
                return report
            continue
        rows.append((item.line, _fields(names, item)))
    found = await _shipments(tracker, owner, {r["shipment"] for _, r in rows})
    by_shipment: dict[str, list[TrackingEvent]] = defaultdict(list)
    for line, row in rows:
        event = _event(report, line, row, found)
        if event is not None:
            by_shipment[event[0]].append(event[1])
    for shipment_id, events in by_shipment.items():
        report.events += len(events)
        if await tracker.take(shipment_id, events, "import"):
            report.shipments_changed += 1
    return report


def _fields(names: list[str], record: Record) -> dict[str, str]:
    return {name: (record.values[i].strip() if i < len(record.values) else "") for i, name in enumerate(names)}


def _event(
    report: EventImport, line: int, row: dict[str, str], found: dict[str, tuple[str, str]]
) -> tuple[str, TrackingEvent] | None:
    problems = []
    shipment = found.get(row["shipment"])
    if shipment is None:
        problems.append(LineProblem(line, "shipment", f"no shipment {row['shipment']!r} of yours"))
    try:
        status = Status(row["status"].lower())
    except ValueError:
        problems.append(LineProblem(line, "status", f"{row['status']!r} is not a status (docs/tracking.md)"))
    try:
        at = datetime.fromisoformat(row["at"])
        if at.tzinfo is None:
            problems.append(LineProblem(line, "at", "give the moment's offset, e.g. 2026-12-09T12:00:00+03:00"))
    except ValueError:
        problems.append(LineProblem(line, "at", f"{row['at']!r} is not a moment (ISO 8601 with its offset)"))
    if problems or shipment is None:
        report.problems.extend(problems)
        return None
    shipment_id, carrier = shipment
    return shipment_id, TrackingEvent(
        carrier=carrier,
        carrier_code=row.get("code") or status.value,
        carrier_text=row.get("text") or status.value,
        status=status,
        at=at,
        city=row.get("city") or None,
    )


async def _shipments(tracker: Tracker, owner: str, refs: set[str]) -> dict[str, tuple[str, str]]:
    """Each of `refs` that is one of the owner's shipments (by id or tracking number): (id, carrier)."""
    if not refs:
        return {}
    query = sa.select(shipments.c.id, shipments.c.tracking_number, shipments.c.carrier).where(
        shipments.c.owner == owner, sa.or_(shipments.c.id.in_(refs), shipments.c.tracking_number.in_(refs))
    )
    async with tracker.database.read() as conn:
        rows = (await conn.execute(query)).all()
    found: dict[str, tuple[str, str]] = {}
    for row in rows:
        found[row.id] = (row.id, row.carrier)
        if row.tracking_number:
            found[row.tracking_number] = (row.id, row.carrier)
    return found
