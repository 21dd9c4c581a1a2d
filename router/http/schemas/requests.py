"""JSON request bodies to domain types, collecting every bad field with its path.

Parsing goes on after the first problem so the caller can fix all of them in one round.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import web

from router.core.errors import FieldError, InvalidRequest
from router.core.models import Location, Parcel, Policy, PolicyKind, Shipment

MAX_STRING = 200
MAX_WEIGHT_G = 1_000_000  # a tonne: beyond any parcel service
MAX_SIDE_CM = 1_000
MAX_DECLARED_VALUE = Decimal("100000000")
LOCATION_FIELDS = ("country", "city", "postal_code", "address", "lat", "lon")


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(FieldError(path, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidRequest(self.items)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _string(errors: _Errors, path: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(path, "must be a string")
        return None
    value = value.strip()
    if len(value) > MAX_STRING:
        errors.add(path, f"must be at most {MAX_STRING} characters")
        return None
    return value or None


def _location(errors: _Errors, path: str, value: Any) -> Location:
    if isinstance(value, str):
        value = {"city": value}
    if not isinstance(value, dict):
        errors.add(path, "must be an object with any of: " + ", ".join(LOCATION_FIELDS))
        return Location()
    before = len(errors.items)
    for key in value:
        if key not in LOCATION_FIELDS:
            errors.add(f"{path}.{key}", "unknown field")
    coords: dict[str, float | None] = {}
    for axis, limit in (("lat", 90), ("lon", 180)):
        raw = value.get(axis)
        if raw is None:
            coords[axis] = None
        elif not _number(raw):
            errors.add(f"{path}.{axis}", "must be a number")
            coords[axis] = None
        elif not -limit <= raw <= limit:
            errors.add(f"{path}.{axis}", f"must be between -{limit} and {limit}")
            coords[axis] = None
        else:
            coords[axis] = float(raw)
    if (value.get("lat") is None) != (value.get("lon") is None):
        missing = "lon" if value.get("lon") is None else "lat"
        errors.add(f"{path}.{missing}", "lat and lon come together")
    location = Location(
        country=_string(errors, f"{path}.country", value.get("country")),
        city=_string(errors, f"{path}.city", value.get("city")),
        postal_code=_string(errors, f"{path}.postal_code", value.get("postal_code")),
        address=_string(errors, f"{path}.address", value.get("address")),
        lat=coords["lat"],
        lon=coords["lon"],
    )
    if location.country is not None:
        location = replace(location, country=location.country.upper())
        if len(location.country or "") != 2:
            errors.add(f"{path}.country", "must be an ISO 3166-1 alpha-2 code such as RU")
    if len(errors.items) == before and not (location.city or location.postal_code or location.lat is not None):
        errors.add(path, "needs a city, a postal_code, or lat and lon")
    return location


def _parcel(errors: _Errors, path: str, value: Any) -> Parcel | None:
    if not isinstance(value, dict):
        errors.add(path, "must be an object with weight_g, length_cm, width_cm, height_cm")
        return None
    for key in value:
        if key not in ("weight_g", "length_cm", "width_cm", "height_cm"):
            errors.add(f"{path}.{key}", "unknown field")
    ok = True
    weight = value.get("weight_g")
    if weight is None:
        errors.add(f"{path}.weight_g", "is required")
        ok = False
    elif not _number(weight) or weight != int(weight):
        errors.add(f"{path}.weight_g", "must be a whole number of grams")
        ok = False
    elif not 0 < weight <= MAX_WEIGHT_G:
        errors.add(f"{path}.weight_g", f"must be greater than 0 and at most {MAX_WEIGHT_G}")
        ok = False
    sides: list[float] = []
    for side in ("length_cm", "width_cm", "height_cm"):
        raw = value.get(side)
        if raw is None:
            errors.add(f"{path}.{side}", "is required")
            ok = False
        elif not _number(raw):
            errors.add(f"{path}.{side}", "must be a number of centimetres")
            ok = False
        elif not 0 < raw <= MAX_SIDE_CM:
            errors.add(f"{path}.{side}", f"must be greater than 0 and at most {MAX_SIDE_CM}")
            ok = False
        else:
            sides.append(float(raw))
    if not ok:
        return None
    return Parcel(int(weight), *sides)


def _decimal(errors: _Errors, path: str, value: Any, default: Decimal, maximum: Decimal) -> Decimal:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        errors.add(path, 'must be a decimal number or a string such as "1500.00"')
        return default
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors.add(path, 'must be a decimal number such as "1500.00"')
        return default
    if not amount.is_finite() or amount < 0 or amount > maximum:
        errors.add(path, f"must be between 0 and {maximum}")
        return default
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        errors.add(path, "must have at most two decimal places (kopecks)")
        return default
    return amount


def _policy(errors: _Errors, value: Any, day_value: Decimal) -> Policy:
    if value is None:
        return Policy(day_value=day_value)
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, dict):
        errors.add("policy", "must be a policy name or an object")
        return Policy(day_value=day_value)
    for key in value:
        if key not in ("kind", "day_value", "deadline", "only", "exclude", "min_on_time_rate", "probability"):
            errors.add(f"policy.{key}", "unknown field")
    kind = PolicyKind.BALANCED
    raw_kind = value.get("kind", "balanced")
    try:
        kind = PolicyKind(raw_kind)
    except ValueError:
        errors.add("policy.kind", "must be one of: " + ", ".join(k.value for k in PolicyKind))
    deadline: date | None = None
    raw_deadline = value.get("deadline")
    if raw_deadline is not None:
        try:
            deadline = date.fromisoformat(raw_deadline) if isinstance(raw_deadline, str) else None
        except ValueError:
            deadline = None
        if deadline is None:
            errors.add("policy.deadline", "must be a date such as 2026-12-01")
    elif kind is PolicyKind.DEADLINE:
        errors.add("policy.deadline", "is required for the deadline policy")
    sets: dict[str, frozenset[str]] = {}
    for name in ("only", "exclude"):
        raw = value.get(name, [])
        if not isinstance(raw, list) or not all(isinstance(c, str) and len(c) <= MAX_STRING for c in raw):
            errors.add(f"policy.{name}", "must be a list of carrier codes")
            raw = []
        sets[name] = frozenset(raw)
    shares: dict[str, float | None] = {}
    for name in ("min_on_time_rate", "probability"):
        raw = value.get(name)
        shares[name] = None
        if raw is None:
            continue
        if not _number(raw) or not 0 <= raw <= 1:
            errors.add(f"policy.{name}", "must be a number from 0 to 1, e.g. 0.9")
        else:
            shares[name] = float(raw)
    if shares["probability"] is not None and kind is not PolicyKind.DEADLINE:
        errors.add("policy.probability", "applies to the deadline policy only")
    return Policy(
        kind=kind,
        day_value=_decimal(errors, "policy.day_value", value.get("day_value"), day_value, Decimal("1000000")),
        deadline=deadline,
        only=sets["only"],
        exclude=sets["exclude"],
        min_on_time_rate=shares["min_on_time_rate"],
        probability=shares["probability"],
    )


def parse_quote_request(body: Any, *, max_parcels: int, day_value: Decimal) -> tuple[Shipment, Policy]:
    errors = _Errors()
    if not isinstance(body, dict):
        raise InvalidRequest([FieldError("", "the body must be a JSON object")])
    known = ("origin", "destination", "parcels", "declared_value", "cod", "ship_at", "policy")
    for key in body:
        if key not in known:
            errors.add(key, "unknown field")
    for end in ("origin", "destination"):
        if body.get(end) is None:
            errors.add(end, "is required")
    origin = _location(errors, "origin", body["origin"]) if body.get("origin") is not None else Location()
    destination = (
        _location(errors, "destination", body["destination"]) if body.get("destination") is not None else Location()
    )

    parcels: list[Parcel] = []
    raw_parcels = body.get("parcels")
    if raw_parcels is None:
        errors.add("parcels", "is required")
    elif not isinstance(raw_parcels, list) or not raw_parcels:
        errors.add("parcels", "must be a non-empty list")
    elif len(raw_parcels) > max_parcels:
        errors.add("parcels", f"at most {max_parcels} parcels in one shipment")
    else:
        for i, raw in enumerate(raw_parcels):
            parcel = _parcel(errors, f"parcels[{i}]", raw)
            if parcel:
                parcels.append(parcel)

    declared = _decimal(errors, "declared_value", body.get("declared_value"), Decimal("0"), MAX_DECLARED_VALUE)
    cod = body.get("cod", False)
    if not isinstance(cod, bool):
        errors.add("cod", "must be true or false")
        cod = False
    ship_at: datetime | None = None
    if body.get("ship_at") is not None:
        raw = body["ship_at"]
        try:
            ship_at = datetime.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            ship_at = None
        if ship_at is None:
            errors.add("ship_at", "must be an ISO 8601 date-time such as 2026-11-24T10:00:00+03:00")
        elif ship_at.tzinfo is None:
            errors.add("ship_at", "needs a time zone offset, e.g. +03:00")
            ship_at = None
    policy = _policy(errors, body.get("policy"), day_value)
    errors.raise_if_any()
    return Shipment(origin, destination, tuple(parcels), declared, cod, ship_at), policy


async def read_json(request: web.Request) -> Any:
    """The body as JSON; too large is 413 (raised by aiohttp), unparseable is a field error on `body`."""
    raw = await request.read()
    if not raw:
        raise InvalidRequest([FieldError("body", "is empty; send a JSON object")])
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest([FieldError("body", f"is not valid JSON: {exc}")], title="Malformed JSON") from None
