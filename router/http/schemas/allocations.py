"""`POST /v1/allocations` bodies to domain types, every bad field named by its path.

A JSON body holds everything in one object (`AllocationRequest`). An NDJSON body
(`application/x-ndjson`) is for big batches: its first line is the same object without
`orders` (`AllocationHeader`), and every further line is one order (`OrderIn`). A bad order line
is set aside with its line number and the other orders are planned; a bad first line, like any
bad JSON body, fails the whole request.

Shapes and limits are the Structs' (router/http/schemas/wire.py); what reads across fields
(codes that repeat or name no warehouse, tiers the method cannot price) is checked here, on
every part that decoded, so one answer names every problem.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from router.allocation import CarrierCapacity, DiscountTier, Method, Order, SolverOptions, Terms, Warehouse
from router.core.calendar import PLAUSIBLE_DAYS, plausible_day, plausible_moment
from router.core.errors import FieldError, InvalidRequest
from router.http.schemas.decode import decode_json, field_errors, join
from router.http.schemas.quotes import amount, location, parcels_from
from router.http.schemas.wire import (
    MAX_DAY_VALUE,
    MAX_DECLARED_VALUE,
    MAX_ORDERS,
    AllocationHeader,
    AllocationRequest,
    CapacityIn,
    OrderIn,
    TierIn,
    WarehouseIn,
)

T = TypeVar("T")
_ORDER = msgspec.json.Decoder(OrderIn)


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    errors: tuple[FieldError, ...]


@dataclass(frozen=True, slots=True)
class ParsedAllocation:
    warehouses: tuple[Warehouse, ...]
    orders: tuple[Order, ...]
    terms: Terms
    ship_at: datetime | None
    options: SolverOptions
    method: Method
    rejected: tuple[RejectedLine, ...] = ()


def parse_allocation(raw: bytes, *, max_parcels: int) -> ParsedAllocation:
    """A JSON body: one object with the orders in it."""
    try:
        request = decode_json(raw, AllocationRequest)
    except InvalidRequest as exc:
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise exc from None  # empty or not JSON: nothing more to say about its fields
        if isinstance(body, dict):
            header = _each(body.get("warehouses"), WarehouseIn), _each(body.get("capacities"), CapacityIn)
            tiers, orders = _each(body.get("tiers"), TierIn), _each(body.get("orders"), OrderIn)
            extra = _header_errors(*header, tiers, _method(body.get("method")), None, None)
            extra += _orders_errors(orders, {w.code.strip() for _, w in header[0]}, max_parcels)
            raise InvalidRequest(exc.errors + [e for e in extra if e not in exc.errors], exc.title) from None
        raise
    warehouses, capacities = list(enumerate(request.warehouses)), list(enumerate(request.capacities))
    tiers, orders = list(enumerate(request.tiers)), list(enumerate(request.orders))
    errors = _header_errors(warehouses, capacities, tiers, request.method, request.day_value, request.ship_at)
    errors += _orders_errors(orders, {w.code.strip() for w in request.warehouses}, max_parcels)
    if errors:
        raise InvalidRequest(errors)
    return _plan_input(request, tuple(_order(o) for o in request.orders), ())


def parse_allocation_ndjson(raw: bytes, *, max_parcels: int) -> ParsedAllocation:
    lines = raw.split(b"\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InvalidRequest([FieldError("body", "is empty; the first line holds the warehouses")])
    try:
        header = decode_json(lines[first], AllocationHeader)
    except InvalidRequest as exc:
        raise InvalidRequest([_header_line(e, first + 1) for e in exc.errors], exc.title) from None
    errors = _header_errors(
        list(enumerate(header.warehouses)),
        list(enumerate(header.capacities)),
        list(enumerate(header.tiers)),
        header.method,
        header.day_value,
        header.ship_at,
    )
    if errors:
        raise InvalidRequest(errors)

    codes = {w.code.strip() for w in header.warehouses}
    orders: list[Order] = []
    rejected: list[RejectedLine] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines[first + 1 :], start=first + 2):
        if not line.strip():
            continue
        if len(orders) + len(rejected) >= MAX_ORDERS:
            raise InvalidRequest([FieldError(f"line {n}", f"at most {MAX_ORDERS} orders in one request")])
        try:
            given = _ORDER.decode(line)
        except (msgspec.ValidationError, msgspec.DecodeError):
            rejected.append(RejectedLine(n, tuple(_line_errors(line))))
            continue
        line_errors = _order_errors("", given, codes, max_parcels)
        order_id = _order_id(given)
        if order_id in seen:
            line_errors.append(FieldError("id", f"repeats the id of line {seen[order_id]}"))
        if line_errors:
            rejected.append(RejectedLine(n, tuple(line_errors)))
            continue
        seen[order_id] = n
        orders.append(_order(given))
    if not orders and not rejected:
        raise InvalidRequest([FieldError("body", "has no order lines after the first line")])
    return _plan_input(header, tuple(orders), tuple(rejected))


def _line_errors(line: bytes) -> list[FieldError]:
    try:
        return field_errors(msgspec.json.decode(line), OrderIn)
    except msgspec.DecodeError as exc:  # types are checked as it parses: malformed may show only now
        return [FieldError("", f"is not valid JSON: {exc}")]


def _header_line(error: FieldError, line: int) -> FieldError:
    if error.path == "body":
        return FieldError(f"line {line}", error.message)
    if error.path == "":
        return FieldError(f"line {line}", "must be a JSON object with the warehouses")
    if error.path == "orders":
        return FieldError("orders", "unknown field; orders go one per line after this one")
    return error


def _plan_input(
    header: AllocationHeader, orders: tuple[Order, ...], rejected: tuple[RejectedLine, ...]
) -> ParsedAllocation:
    unused: list[FieldError] = []  # every check already passed
    warehouses = tuple(Warehouse(w.code.strip(), location(unused, "", w.location)) for w in header.warehouses)
    terms = Terms(
        tuple(CarrierCapacity(c.carrier.strip(), c.warehouse.strip(), int(c.max_parcels)) for c in header.capacities),
        tuple(DiscountTier(t.carrier.strip(), int(t.min_parcels), t.percent) for t in header.tiers),
        {carrier: int(count) for carrier, count in header.month_to_date.items()},
        Decimal(0) if header.day_value is None else header.day_value,
    )
    options = SolverOptions(time_limit_s=header.time_limit_s)
    return ParsedAllocation(warehouses, orders, terms, header.ship_at, options, header.method, rejected)


def _header_errors(
    warehouses: Sequence[tuple[int, WarehouseIn]],
    capacities: Sequence[tuple[int, CapacityIn]],
    tiers: Sequence[tuple[int, TierIn]],
    method: Method | None,
    day_value: Decimal | None,
    ship_at: datetime | None,
) -> list[FieldError]:
    errors: list[FieldError] = []
    if ship_at is not None and not plausible_moment(ship_at):
        errors.append(FieldError("ship_at", f"must be within {PLAUSIBLE_DAYS} days of today"))
    codes: set[str] = set()
    for i, w in warehouses:
        at = f"warehouses[{i}]"
        location(errors, f"{at}.location", w.location)
        code = w.code.strip()
        if code in codes:
            errors.append(FieldError(f"{at}.code", f"repeats the code {code!r}"))
        codes.add(code)
    pairs: set[tuple[str, str]] = set()
    for i, c in capacities:
        pair = (c.carrier.strip(), c.warehouse.strip())
        if pair[1] not in codes:
            errors.append(FieldError(f"capacities[{i}].warehouse", f"no warehouse {pair[1]!r} in warehouses"))
        elif pair in pairs:
            errors.append(FieldError(f"capacities[{i}]", f"a second capacity for {pair[0]} at {pair[1]}"))
        pairs.add(pair)
    for i, t in tiers:
        before = len(errors)
        percent = amount(errors, f"tiers[{i}].percent", t.percent, Decimal(100))
        if len(errors) == before and not 0 < percent < 100:
            errors.append(FieldError(f"tiers[{i}].percent", "must be greater than 0 and less than 100"))
    if method is Method.FLOW and tiers:
        errors.append(FieldError("method", "min-cost flow cannot price discount tiers; use auto or cp-sat"))
    if day_value is not None:
        amount(errors, "day_value", day_value, MAX_DAY_VALUE)
    return errors


def _orders_errors(orders: Sequence[tuple[int, OrderIn]], codes: Collection[str], max_parcels: int) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, given in orders:
        errors += _order_errors(f"orders[{i}]", given, codes, max_parcels)
        order_id = _order_id(given)
        if order_id in seen:
            errors.append(FieldError(f"orders[{i}].id", f"repeats the id {order_id!r}"))
        seen.add(order_id)
    return errors


def _order_errors(path: str, given: OrderIn, codes: Collection[str], max_parcels: int) -> list[FieldError]:
    errors: list[FieldError] = []
    location(errors, join(path, "destination"), given.destination)
    if len(given.parcels) > max_parcels:
        errors.append(FieldError(join(path, "parcels"), f"at most {max_parcels} parcels in one order"))
    amount(errors, join(path, "declared_value"), given.declared_value, MAX_DECLARED_VALUE)
    if given.deadline is not None and not plausible_day(given.deadline):
        errors.append(FieldError(join(path, "deadline"), f"must be within {PLAUSIBLE_DAYS} days of today"))
    for code in given.warehouses:
        if code.strip() not in codes:
            errors.append(FieldError(join(path, "warehouses"), f"no warehouse {code.strip()!r} in warehouses"))
    return errors


def _order(given: OrderIn) -> Order:
    unused: list[FieldError] = []  # checked already
    return Order(
        _order_id(given),
        location(unused, "", given.destination),
        parcels_from(given.parcels),
        Decimal(0) if given.declared_value is None else given.declared_value,
        given.cod,
        tuple(c.strip() for c in given.warehouses),
        given.deadline,
        frozenset(c.strip() for c in given.exclude),
    )


def _order_id(given: OrderIn) -> str:
    # Order numbers often arrive as JSON numbers.
    return given.id.strip() if isinstance(given.id, str) else str(int(given.id))


def _each(items: Any, kind: type[T]) -> list[tuple[int, T]]:
    """The items of a list that decode as `kind`, with their indexes; the rest are reported elsewhere."""
    if not isinstance(items, list):
        return []
    found: list[tuple[int, T]] = []
    for i, item in enumerate(items):
        try:
            found.append((i, msgspec.convert(item, kind)))
        except msgspec.ValidationError:
            pass
    return found


def _method(value: Any) -> Method | None:
    try:
        return Method(value if value is not None else "auto")
    except ValueError:
        return None
