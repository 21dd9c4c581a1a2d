"""Historical shipments from CSV, streamed: a file of any length is read one row at a time.

Columns (names configurable through `ColumnMap`; header row required, extra columns ignored)::

    id, shipped_at, origin, destination, weight_g, length_cm, width_cm, height_cm,
    carrier, service                                   required
    parcels, declared_value, cod, billed               optional

`shipped_at` is a date (YYYY-MM-DD, taken as 09:00 Moscow time, before every demo carrier's
cut-off) or an ISO date-time with a zone offset. Places and the other fields read as in
`router.orders`. A bad row is a `RowError` in the stream, in file order, and reading goes on.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from router.models import Parcel, Shipment
from router.orders import (
    BadValue,
    RowError,
    amount,
    flag,
    integer,
    location_from_text,
    number,
    text,
)

MOSCOW = timezone(timedelta(hours=3))
DATE_ONLY_TIME = time(9, 0)
FIELDS = (
    "id", "shipped_at", "origin", "destination", "weight_g", "length_cm", "width_cm", "height_cm",
    "parcels", "declared_value", "cod", "carrier", "service", "billed",
)  # fmt: skip
REQUIRED = (
    "id", "shipped_at", "origin", "destination", "weight_g", "length_cm", "width_cm", "height_cm", "carrier", "service",
)  # fmt: skip
MAX_PARCELS = 50


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which CSV column holds each field; unnamed fields use the field's own name."""

    columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [f for f in self.columns if f not in FIELDS]
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}; the fields are: {', '.join(FIELDS)}")

    def __getitem__(self, name: str) -> str:
        return self.columns.get(name, name)


@dataclass(frozen=True, slots=True)
class HistoricalShipment:
    line: int
    id: str
    shipped_at: datetime  # aware
    origin_label: str  # as written in the file: a warehouse is known by it
    destination_label: str
    shipment: Shipment
    carrier: str
    service: str
    billed: Decimal | None  # None when the file has no billed column or the cell is empty

    @property
    def day(self) -> date:
        return self.shipped_at.date()


def read_history(lines: Iterable[str], columns: ColumnMap = ColumnMap()) -> Iterator[HistoricalShipment | RowError]:
    reader = csv.DictReader(lines)
    header = [(h or "").strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [columns[f] for f in REQUIRED if columns[f] not in header]
    if missing:
        yield RowError(1, "missing column(s): " + ", ".join(missing))
        return
    has_billed = columns["billed"] in header
    for row in reader:
        if None in row:
            yield RowError(reader.line_num, "more fields than the header")
            continue
        if all(not (v or "").strip() for v in row.values()):
            continue
        try:
            yield _shipment(reader.line_num, row, columns, has_billed)
        except BadValue as exc:
            yield RowError(reader.line_num, str(exc))


def _shipment(line: int, row: Mapping[str, str | None], c: ColumnMap, has_billed: bool) -> HistoricalShipment:
    shipped_at = _moment(text(row, c["shipped_at"]), c["shipped_at"])
    origin = text(row, c["origin"])
    destination = text(row, c["destination"])
    weight = integer(row, c["weight_g"], 1, 1_000_000)
    sides = [number(row, c[s], 1000) for s in ("length_cm", "width_cm", "height_cm")]
    count = integer(row, c["parcels"], 1, MAX_PARCELS, default=1)
    billed = None
    if has_billed and text(row, c["billed"], required=False):
        billed = amount(row, c["billed"])
    shipment = Shipment(
        origin=location_from_text(origin),
        destination=location_from_text(destination),
        parcels=(Parcel(weight, *sides),) * count,
        declared_value=amount(row, c["declared_value"]),
        cod=flag(row, c["cod"]),
        ship_at=shipped_at,
    )
    return HistoricalShipment(
        line, text(row, c["id"]), shipped_at, origin, destination, shipment,
        text(row, c["carrier"]), text(row, c["service"]), billed,
    )  # fmt: skip


def _moment(raw: str, column: str) -> datetime:
    try:
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), DATE_ONLY_TIME, MOSCOW)
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise BadValue(f"{column}: {raw!r} is not a date or an ISO date-time") from None
    if moment.tzinfo is None:
        raise BadValue(f"{column}: {raw!r} needs a zone offset, e.g. +03:00")
    return moment
