"""Historical shipments from CSV, streamed: a file of any length is read one row at a time.

Columns (names configurable through `ColumnMap`; header row required, extra columns ignored)::

    id, shipped_at, origin, destination, weight_g, length_cm, width_cm, height_cm,
    carrier, service                                   required
    parcels, declared_value, cod, billed               optional

`shipped_at` is a date (YYYY-MM-DD, taken as 09:00 Moscow time, before every demo carrier's
cut-off) or an ISO date-time with a zone offset. Places and the other fields read as in
`router.allocation.orders`. A bad row is a `RowError` in the stream, in file order, and reading goes on.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import TypeVar

from router.allocation.orders import (
    BadValue,
    RowError,
    amount,
    flag,
    integer,
    location_from_text,
    number,
    text,
)
from router.core.models import Location, Parcel, Shipment

T = TypeVar("T")
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
MAX_WEIGHT_G = 1_000_000
MAX_SIDE_CM = 1000


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


def read_history(
    lines: Iterable[str], columns: ColumnMap = ColumnMap(), first_line: int = 1
) -> Iterator[HistoricalShipment | RowError]:
    """Shipments and bad rows in file order; `first_line` is the header's line in the whole file."""
    reader = csv.reader(lines)
    header = [h.strip() for h in next(reader, [])]
    missing = [columns[f] for f in REQUIRED if columns[f] not in header]
    if missing:
        yield RowError(first_line, "missing column(s): " + ", ".join(missing))
        return
    parse = _RowParser(header, columns)
    quick, careful = parse.quick, parse.careful
    width = len(header)
    offset = first_line - 1
    for row in reader:
        if not row:
            continue
        line = reader.line_num + offset
        if len(row) > width:
            yield RowError(line, "more fields than the header")
            continue
        if len(row) < width:
            row += [""] * (width - len(row))
        try:
            item: HistoricalShipment | RowError = quick(line, row)
        except (ValueError, ArithmeticError, KeyError, TypeError):
            try:
                item = careful(line, row)
            except BadValue as exc:
                item = RowError(line, str(exc))
            except _Blank:
                continue
        yield item


class _Blank(Exception):
    """A row of empty cells, as spreadsheets leave at the end of an export."""


class _RowParser:
    """One row to a shipment: the common well-formed row on a quick path, anything else through
    the field readers of `router.allocation.orders`, which name the column and the fault."""

    def __init__(self, header: list[str], columns: ColumnMap) -> None:
        self._names = {f: columns[f] for f in FIELDS}
        at = {name: i for i, name in enumerate(header)}  # a repeated name: the last, as DictReader
        self._header = header
        self._has_billed = columns["billed"] in at
        # An optional column the file lacks reads as one empty cell added past the row's end.
        cells = [at.get(columns[f], len(header)) for f in _QUICK]
        self._pad = len(header) in cells
        self._cells = operator.itemgetter(*cells)
        self._places: dict[str, Location] = {}
        self._moments: dict[str, datetime] = {}
        # Amounts repeat (declared values are round figures, bills are tariff prices), and the
        # check of a new one costs more than a lookup.
        self._declared: dict[str, Decimal] = {}
        self._billed: dict[str, Decimal] = {}

    def careful(self, line: int, row: list[str]) -> HistoricalShipment:
        """Raises BadValue naming the column and the fault, or _Blank for a row of empty cells."""
        if all(not v.strip() for v in row):
            raise _Blank
        mapping = dict(zip(self._header, row, strict=False))
        return _shipment(line, mapping, self._names, self._has_billed)

    def quick(self, line: int, row: list[str]) -> HistoricalShipment:
        """Raises ValueError (or another error of conversion) for anything it is unsure of; the
        careful path then decides."""
        if self._pad:
            row.append("")
        (
            id_, raw_moment, origin, destination, raw_weight, length, width, height, count, raw_declared, raw_cod,
            carrier, service, raw_billed,
        ) = self._cells(row)  # fmt: skip
        id_ = id_.strip()
        origin = origin.strip()
        destination = destination.strip()
        carrier = carrier.strip()
        service = service.strip()
        if not (id_ and origin and destination and carrier and service):
            raise ValueError
        shipped_at = self._moments.get(raw_moment)
        if shipped_at is None:
            shipped_at = _moment(raw_moment.strip(), "shipped_at")  # the careful path words the error
            _remember(self._moments, raw_moment, shipped_at)
        weight = int(raw_weight)
        sides = (float(length), float(width), float(height))
        if not 1 <= weight <= MAX_WEIGHT_G or not all(0 < x <= MAX_SIDE_CM for x in sides):
            raise ValueError
        parcels = 1
        if count.strip():
            parcels = int(count)
            if not 1 <= parcels <= MAX_PARCELS:
                raise ValueError
        declared = self._declared.get(raw_declared)
        if declared is None:
            declared = _remember(self._declared, raw_declared, _quick_amount(raw_declared))
        billed = None
        if raw_billed.strip():
            billed = self._billed.get(raw_billed)
            if billed is None:
                billed = _remember(self._billed, raw_billed, _quick_amount(raw_billed))
        cod = _FLAGS.get(raw_cod)
        if cod is None:
            cod = _FLAGS[raw_cod.strip().lower()]
        places = self._places
        return HistoricalShipment(
            line, id_, shipped_at, origin, destination,
            Shipment(
                places.get(origin) or self._place(origin), places.get(destination) or self._place(destination),
                (Parcel(weight, *sides),) * parcels, declared, cod, shipped_at,
            ),
            carrier, service, billed,
        )  # fmt: skip

    def _place(self, label: str) -> Location:
        return _remember(self._places, label, location_from_text(label))


_SEEN = 10_000
_FLAGS = {
    "": False,
    "0": False,
    "false": False,
    "no": False,
    "n": False,
    "1": True,
    "true": True,
    "yes": True,
    "y": True,
}
_QUICK = (
    "id", "shipped_at", "origin", "destination", "weight_g", "length_cm", "width_cm", "height_cm",
    "parcels", "declared_value", "cod", "carrier", "service", "billed",
)  # fmt: skip


def _remember(seen: dict[str, T], raw: str, value: T) -> T:
    if len(seen) >= _SEEN:
        seen.clear()
    seen[raw] = value
    return value


def _quick_amount(raw: str) -> Decimal:
    """Roubles as `router.allocation.orders.amount` reads them, for the plain case only."""
    value = Decimal(raw) if raw.strip() else Decimal(0)
    if not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(raw)
    return value


def _shipment(line: int, row: Mapping[str, str | None], c: Mapping[str, str], has_billed: bool) -> HistoricalShipment:
    shipped_at = _moment(text(row, c["shipped_at"]), c["shipped_at"])
    origin = text(row, c["origin"])
    destination = text(row, c["destination"])
    weight = integer(row, c["weight_g"], 1, MAX_WEIGHT_G)
    sides = [number(row, c[s], MAX_SIDE_CM) for s in ("length_cm", "width_cm", "height_cm")]
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
