"""`POST /v1/allocations` bodies to domain types, every bad field named by its path.

A JSON body holds everything in one object. An NDJSON body (`application/x-ndjson`) is for big
batches: its first line is the same object without `orders`, and every further line is one
order. A bad order line is set aside with its line number and the other orders are planned; a
bad first line, like any bad JSON body, fails the whole request.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from router.allocation import (
    CarrierCapacity,
    DiscountTier,
    Method,
    Order,
    SolverOptions,
    Terms,
    Warehouse,
)
from router.core.errors import FieldError, InvalidRequest

# The field rules of a quote request apply unchanged to an order's destination and parcels.
from router.http.schemas.requests import _decimal, _Errors, _location, _parcel, _string

MAX_ORDERS = 100_000
MAX_WAREHOUSES = 100
MAX_TIME_LIMIT_S = 60.0
DEFAULT_TIME_LIMIT_S = 10.0
MAX_COUNT = 10**9
MAX_DAY_VALUE = Decimal(1000000)
_HEADER_FIELDS = (
    "warehouses", "capacities", "tiers", "month_to_date", "day_value", "ship_at", "time_limit_s", "method",
)  # fmt: skip
_ORDER_FIELDS = ("id", "destination", "parcels", "declared_value", "cod", "warehouses", "deadline", "exclude")


@dataclass(frozen=True, slots=True)
class RejectedLine:
    line: int
    errors: tuple[FieldError, ...]


@dataclass(frozen=True, slots=True)
class AllocationRequest:
    warehouses: tuple[Warehouse, ...]
    orders: tuple[Order, ...]
    terms: Terms
    ship_at: datetime | None
    options: SolverOptions
    method: Method
    rejected: tuple[RejectedLine, ...] = ()


@dataclass(frozen=True, slots=True)
class _Header:
    warehouses: tuple[Warehouse, ...]
    terms: Terms
    ship_at: datetime | None
    options: SolverOptions
    method: Method


def parse_allocation(body: Any, *, max_parcels: int) -> AllocationRequest:
    if not isinstance(body, dict):
        raise InvalidRequest([FieldError("", "the body must be a JSON object")])
    errors = _Errors()
    for key in body:
        if key not in _HEADER_FIELDS and key != "orders":
            errors.add(key, "unknown field")
    header = _header(errors, body)
    codes = {w.code for w in header.warehouses}
    orders: list[Order] = []
    raw = body.get("orders")
    if not isinstance(raw, list) or not raw:
        errors.add("orders", "must be a non-empty list")
    elif len(raw) > MAX_ORDERS:
        errors.add("orders", f"at most {MAX_ORDERS} orders in one request")
    else:
        seen: set[str] = set()
        for i, value in enumerate(raw):
            order = _order(errors, f"orders[{i}]", value, codes, max_parcels)
            if order is not None and order.id in seen:
                errors.add(f"orders[{i}].id", f"repeats the id {order.id!r}")
            elif order is not None:
                seen.add(order.id)
                orders.append(order)
    errors.raise_if_any()
    return AllocationRequest(
        header.warehouses, tuple(orders), header.terms, header.ship_at, header.options, header.method
    )


def parse_allocation_ndjson(raw: bytes, *, max_parcels: int) -> AllocationRequest:
    lines = raw.split(b"\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InvalidRequest([FieldError("body", "is empty; the first line holds the warehouses")])
    errors = _Errors()
    head = _json_line(errors, lines[first], f"line {first + 1}")
    if isinstance(head, dict):
        for key in head:
            if key not in _HEADER_FIELDS:
                hint = "; orders go one per line after this one" if key == "orders" else ""
                errors.add(key, "unknown field" + hint)
    elif head is not None:
        errors.add(f"line {first + 1}", "must be a JSON object with the warehouses")
    header = _header(errors, head if isinstance(head, dict) else {})
    errors.raise_if_any()

    codes = {w.code for w in header.warehouses}
    orders: list[Order] = []
    rejected: list[RejectedLine] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(lines[first + 1 :], start=first + 2):
        if not line.strip():
            continue
        if len(orders) + len(rejected) >= MAX_ORDERS:
            raise InvalidRequest([FieldError(f"line {n}", f"at most {MAX_ORDERS} orders in one request")])
        line_errors = _Errors()
        order = _order(line_errors, "", _json_line(line_errors, line, ""), codes, max_parcels)
        if order is not None and order.id in seen:
            line_errors.add("id", f"repeats the id of line {seen[order.id]}")
        if line_errors.items or order is None:
            rejected.append(RejectedLine(n, tuple(line_errors.items)))
            continue
        seen[order.id] = n
        orders.append(order)
    if not orders and not rejected:
        raise InvalidRequest([FieldError("body", "has no order lines after the first line")])
    return AllocationRequest(
        header.warehouses, tuple(orders), header.terms, header.ship_at, header.options, header.method, tuple(rejected)
    )


def _json_line(errors: _Errors, line: bytes, path: str) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        errors.add(path, f"is not valid JSON: {exc}")
        return None


def _header(errors: _Errors, body: dict[str, Any]) -> _Header:
    warehouses = _warehouses(errors, body.get("warehouses"))
    codes = {w.code for w in warehouses}
    capacities: list[CarrierCapacity] = []
    for i, value in enumerate(_list(errors, "capacities", body.get("capacities", []))):
        path = f"capacities[{i}]"
        fields = _object(errors, path, value, ("carrier", "warehouse", "max_parcels"))
        if fields is None:
            continue
        carrier = _code(errors, f"{path}.carrier", fields.get("carrier"))
        warehouse = _code(errors, f"{path}.warehouse", fields.get("warehouse"))
        if warehouse is not None and warehouse not in codes:
            errors.add(f"{path}.warehouse", f"no warehouse {warehouse!r} in warehouses")
        count = _count(errors, f"{path}.max_parcels", fields.get("max_parcels"))
        if carrier and warehouse and count is not None:
            if any(c.carrier == carrier and c.warehouse == warehouse for c in capacities):
                errors.add(path, f"a second capacity for {carrier} at {warehouse}")
            capacities.append(CarrierCapacity(carrier, warehouse, count))
    tiers: list[DiscountTier] = []
    for i, value in enumerate(_list(errors, "tiers", body.get("tiers", []))):
        path = f"tiers[{i}]"
        fields = _object(errors, path, value, ("carrier", "min_parcels", "percent"))
        if fields is None:
            continue
        carrier = _code(errors, f"{path}.carrier", fields.get("carrier"))
        threshold = _count(errors, f"{path}.min_parcels", fields.get("min_parcels"))
        if fields.get("percent") is None:
            errors.add(f"{path}.percent", "is required")
            continue
        before = len(errors.items)
        percent = _decimal(errors, f"{path}.percent", fields.get("percent"), Decimal(0), Decimal(100))
        if len(errors.items) == before and not 0 < percent < 100:
            errors.add(f"{path}.percent", "must be greater than 0 and less than 100")
        elif carrier and threshold is not None and len(errors.items) == before:
            tiers.append(DiscountTier(carrier, threshold, percent))
    month_to_date: dict[str, int] = {}
    raw_mtd = body.get("month_to_date", {})
    if not isinstance(raw_mtd, dict):
        errors.add("month_to_date", "must be an object of carrier code → parcels sent this month")
    else:
        for carrier, value in raw_mtd.items():
            count = _count(errors, f"month_to_date.{carrier}", value)
            if count is not None:
                month_to_date[carrier] = count
    day_value = _decimal(errors, "day_value", body.get("day_value"), Decimal(0), MAX_DAY_VALUE)

    ship_at: datetime | None = None
    if body.get("ship_at") is not None:
        raw = body["ship_at"]
        try:
            ship_at = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            ship_at = None
        if ship_at is None or ship_at.tzinfo is None:
            errors.add("ship_at", "must be an ISO 8601 date-time with a zone offset, e.g. 2026-11-24T10:00:00+03:00")
            ship_at = None
    time_limit = body.get("time_limit_s", DEFAULT_TIME_LIMIT_S)
    if not _positive_number(time_limit) or time_limit > MAX_TIME_LIMIT_S:
        errors.add("time_limit_s", f"must be a number of seconds above 0 and at most {MAX_TIME_LIMIT_S:g}")
        time_limit = DEFAULT_TIME_LIMIT_S
    method = Method.AUTO
    try:
        method = Method(body.get("method", "auto"))
    except ValueError:
        errors.add("method", "must be one of: " + ", ".join(m.value for m in Method))
    if method is Method.FLOW and tiers:
        errors.add("method", "min-cost flow cannot price discount tiers; use auto or cp-sat")
    terms = Terms(tuple(capacities), tuple(tiers), month_to_date, day_value)
    return _Header(tuple(warehouses), terms, ship_at, SolverOptions(time_limit_s=float(time_limit)), method)


def _warehouses(errors: _Errors, value: Any) -> list[Warehouse]:
    if not isinstance(value, list) or not value:
        errors.add("warehouses", "must be a non-empty list of {code, location}")
        return []
    if len(value) > MAX_WAREHOUSES:
        errors.add("warehouses", f"at most {MAX_WAREHOUSES} warehouses")
        return []
    found: list[Warehouse] = []
    for i, item in enumerate(value):
        path = f"warehouses[{i}]"
        fields = _object(errors, path, item, ("code", "location"))
        if fields is None:
            continue
        code = _code(errors, f"{path}.code", fields.get("code"))
        if fields.get("location") is None:
            errors.add(f"{path}.location", "is required")
            continue
        location = _location(errors, f"{path}.location", fields["location"])
        if code is not None and any(w.code == code for w in found):
            errors.add(f"{path}.code", f"repeats the code {code!r}")
        elif code is not None:
            found.append(Warehouse(code, location))
    return found


def _order(errors: _Errors, path: str, value: Any, codes: Collection[str], max_parcels: int) -> Order | None:
    def at(name: str) -> str:
        return f"{path}.{name}" if path else name

    if value is None:  # the line was not JSON; already reported
        return None
    fields = _object(errors, path or "line", value, _ORDER_FIELDS)
    if fields is None:
        return None
    before = len(errors.items)
    order_id = _code(errors, at("id"), fields.get("id"))
    if fields.get("destination") is None:
        errors.add(at("destination"), "is required")
        destination = None
    else:
        destination = _location(errors, at("destination"), fields["destination"])
    parcels = []
    raw = fields.get("parcels")
    if not isinstance(raw, list) or not raw:
        errors.add(at("parcels"), "must be a non-empty list")
    elif len(raw) > max_parcels:
        errors.add(at("parcels"), f"at most {max_parcels} parcels in one order")
    else:
        for i, item in enumerate(raw):
            parcel = _parcel(errors, f"{at('parcels')}[{i}]", item)
            if parcel is not None:
                parcels.append(parcel)
    declared = _decimal(errors, at("declared_value"), fields.get("declared_value"), Decimal(0), Decimal(100000000))
    cod = fields.get("cod", False)
    if not isinstance(cod, bool):
        errors.add(at("cod"), "must be true or false")
    warehouses = _codes(errors, at("warehouses"), fields.get("warehouses", []))
    for w in warehouses:
        if w not in codes:
            errors.add(at("warehouses"), f"no warehouse {w!r} in warehouses")
    exclude = _codes(errors, at("exclude"), fields.get("exclude", []))
    deadline: date | None = None
    if fields.get("deadline") is not None:
        raw_deadline = fields["deadline"]
        try:
            deadline = date.fromisoformat(raw_deadline) if isinstance(raw_deadline, str) else None
        except ValueError:
            deadline = None
        if deadline is None:
            errors.add(at("deadline"), "must be a date such as 2026-12-01")
    if len(errors.items) > before or order_id is None or destination is None:
        return None
    return Order(order_id, destination, tuple(parcels), declared, bool(cod), warehouses, deadline, frozenset(exclude))


def _object(errors: _Errors, path: str, value: Any, known: tuple[str, ...]) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        errors.add(path, "must be an object with: " + ", ".join(known))
        return None
    for key in value:
        if key not in known:
            errors.add(f"{path}.{key}" if path else key, "unknown field")
    return value


def _list(errors: _Errors, path: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        errors.add(path, "must be a list")
        return []
    return value


def _code(errors: _Errors, path: str, value: Any) -> str | None:
    if value is None:
        errors.add(path, "is required")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # order numbers often arrive as numbers
    before = len(errors.items)
    text = _string(errors, path, value)
    if text is None and len(errors.items) == before:
        errors.add(path, "must not be blank")
    return text


def _codes(errors: _Errors, path: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        errors.add(path, "must be a list of codes")
        return ()
    return tuple(c.strip() for c in value)


def _count(errors: _Errors, path: str, value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        errors.add(path, f"must be a whole number from 0 to {MAX_COUNT}")
        return None
    return value


def _positive_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
