"""`POST /v1/quotes` bodies to domain types, and the checks between fields a schema cannot make.

The body's shape and each field's limits are the `QuoteRequest` Struct's (router/http/schemas/wire.py);
what is left here reads across fields, and every problem is collected before one is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from router.core.calendar import PLAUSIBLE_DAYS, plausible_day, plausible_moment
from router.core.errors import FieldError, InvalidRequest
from router.core.models import Location, Parcel, Policy, PolicyKind, Shipment
from router.http.schemas.decode import convert, decode_json, join
from router.http.schemas.wire import (
    MAX_DAY_VALUE,
    MAX_DECLARED_VALUE,
    LocationIn,
    ParcelIn,
    PolicyIn,
    QuoteRequest,
)


def read_quote_request(raw: bytes, *, max_parcels: int, day_value: Decimal) -> tuple[Shipment, Policy]:
    """A request body as it came over the wire."""
    return quote_from(decode_json(raw, QuoteRequest, prepare=_shorthands), max_parcels, day_value)


def parse_quote_request(body: Any, *, max_parcels: int, day_value: Decimal) -> tuple[Shipment, Policy]:
    """A body already parsed from JSON (the CLI's, the tests')."""
    return quote_from(convert(body, QuoteRequest, prepare=_shorthands), max_parcels, day_value)


def quote_from(request: QuoteRequest, max_parcels: int, day_value: Decimal) -> tuple[Shipment, Policy]:
    errors: list[FieldError] = []
    origin = location(errors, "origin", request.origin)
    destination = location(errors, "destination", request.destination)
    if len(request.parcels) > max_parcels:
        errors.append(FieldError("parcels", f"at most {max_parcels} parcels in one shipment"))
    declared = amount(errors, "declared_value", request.declared_value, MAX_DECLARED_VALUE)
    policy = _policy(errors, request.policy, day_value)
    if request.ship_at is not None and not plausible_moment(request.ship_at):
        errors.append(FieldError("ship_at", f"must be within {PLAUSIBLE_DAYS} days of today"))
    if errors:
        raise InvalidRequest(errors)
    parcels = parcels_from(request.parcels)
    return Shipment(origin, destination, parcels, declared, request.cod, request.ship_at), policy


def location(errors: list[FieldError], path: str, given: str | LocationIn) -> Location:
    """A decoded location as the domain's; a plain string is a city."""
    if isinstance(given, str):
        given = LocationIn(city=given)
    country = _text(given.country)
    found = Location(
        country=country.upper() if country else None,
        city=_text(given.city),
        postal_code=_text(given.postal_code),
        address=_text(given.address),
        lat=given.lat,
        lon=given.lon,
    )
    if (found.lat is None) != (found.lon is None):
        errors.append(FieldError(join(path, "lon" if found.lon is None else "lat"), "lat and lon come together"))
    elif not (found.city or found.postal_code or found.lat is not None):
        errors.append(FieldError(path, "needs a city, a postal_code, or lat and lon"))
    return found


def parcels_from(parcels: Sequence[ParcelIn]) -> tuple[Parcel, ...]:
    return tuple(Parcel(int(p.weight_g), p.length_cm, p.width_cm, p.height_cm) for p in parcels)


def amount(errors: list[FieldError], path: str, value: Decimal | None, maximum: Decimal) -> Decimal:
    """Roubles within 0..maximum, to the kopeck; 0 when not given."""
    if value is None:
        return Decimal("0")
    if not value.is_finite() or not 0 <= value <= maximum:
        errors.append(FieldError(path, f"must be between 0 and {maximum}"))
    elif value.as_tuple().exponent < -2:  # type: ignore[operator]
        errors.append(FieldError(path, "must have at most two decimal places (kopecks)"))
    else:
        return value
    return Decimal("0")


def _policy(errors: list[FieldError], given: str | PolicyIn | None, day_value: Decimal) -> Policy:
    if given is None:
        return Policy(day_value=day_value)
    if isinstance(given, str):
        given = PolicyIn(kind=PolicyKind(given))
    deadline: date | None = given.deadline
    if given.kind is PolicyKind.DEADLINE and deadline is None:
        errors.append(FieldError("policy.deadline", "is required for the deadline policy"))
    elif deadline is not None and not plausible_day(deadline):
        errors.append(FieldError("policy.deadline", f"must be within {PLAUSIBLE_DAYS} days of today"))
    if given.probability is not None and given.kind is not PolicyKind.DEADLINE:
        errors.append(FieldError("policy.probability", "applies to the deadline policy only"))
    return Policy(
        kind=given.kind,
        day_value=day_value
        if given.day_value is None
        else amount(errors, "policy.day_value", given.day_value, MAX_DAY_VALUE),
        deadline=deadline,
        only=frozenset(given.only),
        exclude=frozenset(given.exclude),
        min_on_time_rate=given.min_on_time_rate,
        probability=given.probability,
    )


def _shorthands(body: Any) -> Any:
    # A policy given by name reads as {"kind": name}, so a wrong name is named at policy.kind.
    if isinstance(body, dict) and isinstance(body.get("policy"), str):
        return {**body, "policy": {"kind": body["policy"]}}
    return body


def _text(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None
