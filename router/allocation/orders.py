"""Allocation inputs from CSV files: orders, warehouses, pickup capacities, discount tiers.

A bad row never stops a file: it is reported with its line number and what is wrong with it,
and the good rows are used. Columns (a header row is required; extra columns are ignored)::

    orders.csv       id, destination, weight_g, length_cm, width_cm, height_cm
                     [, parcels, declared_value, cod, warehouses, deadline, exclude]
                     [, recipient_name, recipient_phone, address, pickup_point_id,
                        sender_name, sender_phone]      (read for `allocate --book`)
    warehouses.csv   code, location
    capacity.csv     carrier, warehouse, max_parcels
    tiers.csv        carrier, min_parcels, percent

A place (`destination`, `location`) is a city name, a six-digit postal code or "lat,lon".
`parcels` is a number of identical parcels (default 1); `cod` is true/false/1/0/yes/no;
`warehouses` and `exclude` are lists separated by "|" or spaces (empty: every warehouse, no
exclusion); `deadline` is a date, YYYY-MM-DD; `percent` is e.g. 7 or 7.5. For booking, `address`
is the street and house for delivery to the door and `pickup_point_id` the point the buyer chose
(e.g. vestnik:02379): the plan picks the offer, and its delivery type decides which is needed;
`sender_*` stand in for `allocate --sender-name/--sender-phone` on that order.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Generic, TypeVar

from router.allocation.model import CarrierCapacity, DiscountTier, Order, Warehouse
from router.core.models import Location, Parcel

T = TypeVar("T")

MAX_PARCELS = 50
MAX_WEIGHT_G = 1_000_000
MAX_SIDE_CM = 1_000
_TRUE = frozenset({"1", "true", "yes", "y"})
_FALSE = frozenset({"", "0", "false", "no", "n"})


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # physical line in the file, the header being line 1
    message: str


@dataclass(frozen=True, slots=True)
class Rows(Generic[T]):
    items: tuple[T, ...]
    errors: tuple[RowError, ...]


class BadValue(ValueError):
    """One field of a row is wrong; the message names the column."""


def location_from_text(text: str) -> Location:
    """A city name, a postal code, or "lat,lon"."""
    text = text.strip()
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2:
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            pass
        else:
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return Location(lat=lat, lon=lon)
    if text.isdigit():
        return Location(postal_code=text)
    return Location(city=text)


# --- fields


def text(row: Mapping[str, str | None], column: str, required: bool = True) -> str:
    value = (row.get(column) or "").strip()
    if required and not value:
        raise BadValue(f"{column}: is required")
    return value


def integer(row: Mapping[str, str | None], column: str, minimum: int, maximum: int, default: int | None = None) -> int:
    raw = text(row, column, required=default is None)
    if not raw:
        assert default is not None
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadValue(f"{column}: {raw!r} is not a whole number") from None
    if not minimum <= value <= maximum:
        raise BadValue(f"{column}: {value} is not between {minimum} and {maximum}")
    return value


def number(row: Mapping[str, str | None], column: str, maximum: float) -> float:
    raw = text(row, column)
    try:
        value = float(raw)
    except ValueError:
        raise BadValue(f"{column}: {raw!r} is not a number") from None
    if not math.isfinite(value) or not 0 < value <= maximum:
        raise BadValue(f"{column}: {raw} is not greater than 0 and at most {maximum:g}")
    return value


def amount(row: Mapping[str, str | None], column: str, required: bool = False) -> Decimal:
    """Roubles with at most kopecks; a comma decimal separator is accepted."""
    raw = text(row, column, required).replace(",", ".").replace(" ", "")
    if not raw:
        return Decimal(0)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BadValue(f"{column}: {raw!r} is not an amount") from None
    if not value.is_finite() or value < 0:
        raise BadValue(f"{column}: {raw} is not a non-negative amount")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise BadValue(f"{column}: {raw} has more than two decimals")
    return value


def flag(row: Mapping[str, str | None], column: str) -> bool:
    raw = text(row, column, required=False).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadValue(f"{column}: {raw!r} is not true or false")


def day(row: Mapping[str, str | None], column: str, required: bool = False) -> date | None:
    raw = text(row, column, required)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise BadValue(f"{column}: {raw!r} is not a date such as 2026-12-01") from None


def codes(row: Mapping[str, str | None], column: str) -> tuple[str, ...]:
    return tuple(c for c in text(row, column, required=False).replace("|", " ").split() if c)


def parcels(row: Mapping[str, str | None]) -> tuple[Parcel, ...]:
    weight = integer(row, "weight_g", 1, MAX_WEIGHT_G)
    sides = (number(row, side, MAX_SIDE_CM) for side in ("length_cm", "width_cm", "height_cm"))
    one = Parcel(weight, *sides)
    return (one,) * integer(row, "parcels", 1, MAX_PARCELS, default=1)


# --- rows


def parse_rows(
    lines: Iterable[str],
    required: tuple[str, ...],
    parse: Callable[[Mapping[str, str | None]], T],
    key: Callable[[T], object] | None = None,
    what: str = "",
) -> Rows[T]:
    """Every row `parse` accepts, and a RowError for every row it rejects or that repeats a key."""
    items: list[T] = []
    errors: list[RowError] = []
    seen: dict[object, int] = {}
    for line, row in csv_rows(lines, required, errors):
        try:
            item = parse(row)
        except BadValue as exc:
            errors.append(RowError(line, str(exc)))
            continue
        if key is not None:
            k = key(item)
            if k in seen:
                errors.append(RowError(line, f"repeats the {what} of line {seen[k]}"))
                continue
            seen[k] = line
        items.append(item)
    return Rows(tuple(items), tuple(errors))


def csv_rows(
    lines: Iterable[str], required: tuple[str, ...], errors: list[RowError]
) -> Iterator[tuple[int, Mapping[str, str | None]]]:
    """(line, row) pairs; a missing column is one error on line 1 and no rows at all."""
    reader = csv.DictReader(lines)
    header = [(h or "").strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        errors.append(RowError(1, "missing column(s): " + ", ".join(missing)))
        return
    for row in reader:
        if None in row:
            extra = len(row[None])
            errors.append(RowError(reader.line_num, f"{extra} more field(s) than the header"))
            continue
        if all(not (v or "").strip() for v in row.values()):
            continue  # blank lines at the end of spreadsheets' exports
        yield reader.line_num, row


def _order(row: Mapping[str, str | None]) -> Order:
    return Order(
        id=text(row, "id"),
        destination=location_from_text(text(row, "destination")),
        parcels=parcels(row),
        declared_value=amount(row, "declared_value"),
        cod=flag(row, "cod"),
        warehouses=codes(row, "warehouses"),
        deadline=day(row, "deadline"),
        exclude=frozenset(codes(row, "exclude")),
        recipient_name=text(row, "recipient_name", required=False),
        recipient_phone=text(row, "recipient_phone", required=False),
        address=text(row, "address", required=False),
        pickup_point_id=text(row, "pickup_point_id", required=False),
        sender_name=text(row, "sender_name", required=False),
        sender_phone=text(row, "sender_phone", required=False),
    )


def _warehouse(row: Mapping[str, str | None]) -> Warehouse:
    return Warehouse(text(row, "code"), location_from_text(text(row, "location")))


def _capacity(row: Mapping[str, str | None]) -> CarrierCapacity:
    return CarrierCapacity(text(row, "carrier"), text(row, "warehouse"), integer(row, "max_parcels", 0, 10**9))


def _tier(row: Mapping[str, str | None]) -> DiscountTier:
    percent = amount(row, "percent", required=True)
    if not 0 < percent < 100:
        raise BadValue(f"percent: {percent} is not between 0 and 100")
    return DiscountTier(text(row, "carrier"), integer(row, "min_parcels", 0, 10**9), percent)


ORDER_COLUMNS = ("id", "destination", "weight_g", "length_cm", "width_cm", "height_cm")


def read_orders(lines: Iterable[str], warehouses: Collection[str] | None = None) -> Rows[Order]:
    """Orders; with `warehouses`, an order naming any other warehouse is a bad row."""

    def checked(row: Mapping[str, str | None]) -> Order:
        order = _order(row)
        unknown = [w for w in order.warehouses if warehouses is not None and w not in warehouses]
        if unknown:
            raise BadValue("warehouses: unknown warehouse " + ", ".join(unknown))
        return order

    return parse_rows(lines, ORDER_COLUMNS, checked, lambda o: o.id, "order id")


def read_warehouses(lines: Iterable[str]) -> Rows[Warehouse]:
    return parse_rows(lines, ("code", "location"), _warehouse, lambda w: w.code, "warehouse code")


def read_capacities(lines: Iterable[str]) -> Rows[CarrierCapacity]:
    columns = ("carrier", "warehouse", "max_parcels")
    return parse_rows(lines, columns, _capacity, lambda c: (c.carrier, c.warehouse), "carrier and warehouse")


def read_tiers(lines: Iterable[str]) -> Rows[DiscountTier]:
    columns = ("carrier", "min_parcels", "percent")
    return parse_rows(lines, columns, _tier, lambda t: (t.carrier, t.min_parcels), "carrier and threshold")


def open_text(path: Path) -> Iterator[str]:
    """A file's lines, any BOM a spreadsheet added removed."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        yield from f
