"""A Dostavista/Borzo-style `calculate-order` emulator for a same-day city courier.

Speaks the business API 1.5 wire format (whole kilograms, coordinates and money as decimal
strings, ISO 8601 times with an offset) and prices with a documented formula:

    km             = great circle along the points, in order
    delivery fee   = 190 + 24 × km
    weight fee     = 35 × every kilogram above 5
    insurance fee  = 0.5 % of insurance_amount
    cash fee       = 1.5 % of every point's taking_amount
    payment_amount = the sum of the fees

A route over 100 km, or a point without coordinates, comes back with warnings, as the real API
warns of what would fail when the order is created. Couriers go out 08:00–22:00 Moscow time:
the pick-up starts at the asked time (or 20 minutes from now), the drop window opens after 20
minutes plus the ride at 25 km/h and lasts an hour. Demo data, not anyone's prices.
Orders (`create-order`, `cancel-order`, `GET /orders`) are `carriers.sandbox.courier_orders`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import orjson
from aiohttp import web

from carriers.sandbox.faults import (
    STATE,
    SandboxState,
    add_control_routes,
    faults_middleware,
    json_response,
    wants_empty,
)
from router.core.geo import distance_km

CITY_TZ = timezone(timedelta(hours=3))
MAX_ROUTE_KM = 100.0
MAX_WEIGHT_KG = 500
OPENS, CLOSES = time(8, 0), time(22, 0)
KOPECK = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(value.quantize(KOPECK, rounding=ROUND_HALF_UP))


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return Decimal(0)
    if not isinstance(value, str):
        return None  # the API wants money as decimal strings
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _coordinate(value: Any, low: float, high: float) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if low <= number <= high else None


def _start(asked: datetime | None, now: datetime) -> datetime:
    start = max(asked or now + timedelta(minutes=20), now + timedelta(minutes=20))
    start = start.astimezone(CITY_TZ)
    start = start.replace(second=0, microsecond=0) + timedelta(minutes=-start.minute % 10)
    if start.time() < OPENS:
        start = datetime.combine(start.date(), OPENS, CITY_TZ)
    elif start.time() >= CLOSES:
        start = datetime.combine(start.date() + timedelta(days=1), OPENS, CITY_TZ)
    return start


def calculate(body: Any, now: datetime) -> tuple[int, dict[str, Any]]:
    if not isinstance(body, dict):
        return 400, {
            "is_successful": False,
            "errors": ["invalid_parameters"],
            "parameter_errors": {"": ["invalid_object"]},
        }
    errors: dict[str, Any] = {}
    weight = body.get("total_weight_kg", 0)
    if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= MAX_WEIGHT_KG:
        errors["total_weight_kg"] = ["invalid_integer"]
    insurance = _decimal(body.get("insurance_amount"))
    if insurance is None:
        errors["insurance_amount"] = ["invalid_value"]
    points = body.get("points")
    if not isinstance(points, list) or len(points) < 2:
        errors["points"] = ["min_points_count"]
        points = []
    point_errors: list[dict[str, list[str]] | None] = []
    point_warnings: list[dict[str, list[str]] | None] = []
    located: list[tuple[float, float]] = []
    taking = Decimal(0)
    asked: datetime | None = None
    for i, point in enumerate(points):
        problem: dict[str, list[str]] = {}
        warning: dict[str, list[str]] = {}
        if not isinstance(point, dict):
            point_errors.append({"": ["invalid_object"]})
            point_warnings.append(None)
            continue
        if not isinstance(point.get("address"), str) or not point["address"].strip():
            problem["address"] = ["required"]
        lat = _coordinate(point.get("latitude"), -90, 90)
        lon = _coordinate(point.get("longitude"), -180, 180)
        if point.get("latitude") is not None and lat is None:
            problem["latitude"] = ["invalid_value"]
        if point.get("longitude") is not None and lon is None:
            problem["longitude"] = ["invalid_value"]
        if lat is None or lon is None:
            warning["address"] = ["address_not_found"]  # the sandbox does not geocode text
        else:
            located.append((lat, lon))
        amount = _decimal(point.get("taking_amount"))
        if amount is None:
            problem["taking_amount"] = ["invalid_value"]
        else:
            taking += amount
        if i == 0 and point.get("required_start_datetime"):
            try:
                asked = datetime.fromisoformat(point["required_start_datetime"])
                if asked.tzinfo is None:
                    raise ValueError
            except (TypeError, ValueError):
                problem["required_start_datetime"] = ["invalid_datetime"]
        point_errors.append(problem or None)
        point_warnings.append(warning or None)
    if any(point_errors):
        errors["points"] = point_errors
    if errors:
        return 400, {
            "is_successful": False,
            "errors": ["invalid_parameters"],
            "parameter_errors": errors,
            "warnings": [],
            "parameter_warnings": [],
        }

    km = sum(distance_km(a[0], a[1], b[0], b[1]) for a, b in zip(located, located[1:], strict=False))
    warnings: list[str] = []
    if any(point_warnings):
        warnings.append("invalid_parameters")
    elif km > MAX_ROUTE_KM:
        warnings.append("invalid_parameters")
        point_warnings = [None] * (len(points) - 1) + [{"address": ["route_not_found"]}]

    km_dec = Decimal(str(round(km, 2)))
    delivery = Decimal(190) + Decimal(24) * km_dec
    weight_fee = Decimal(35) * max(0, weight - 5)
    insurance_fee = (insurance or Decimal(0)) * Decimal("0.005")
    cash_fee = taking * Decimal("0.015")
    fees = [delivery, weight_fee, insurance_fee, cash_fee]
    total = sum((f.quantize(KOPECK, rounding=ROUND_HALF_UP) for f in fees), Decimal(0))

    start = _start(asked, now)
    ride = timedelta(minutes=20) + timedelta(hours=km / 25)
    drop_open = start + ride
    drop_open += timedelta(
        minutes=-drop_open.minute % 10, seconds=-drop_open.second, microseconds=-drop_open.microsecond
    )
    windows = [(start, start + timedelta(minutes=30))] + [(drop_open, drop_open + timedelta(hours=1))] * (
        len(points) - 1
    )
    out_points = []
    for point, (open_, close) in zip(points, windows, strict=False):
        out_points.append(
            {
                "point_type": "plain",
                "address": point.get("address"),
                "latitude": point.get("latitude"),
                "longitude": point.get("longitude"),
                "required_start_datetime": open_.isoformat(),
                "required_finish_datetime": close.isoformat(),
                "taking_amount": _money(_decimal(point.get("taking_amount")) or Decimal(0)),
                "buyout_amount": "0.00",
                "contact_person": point.get("contact_person") or {"name": None, "phone": None},
            }
        )
    order = {
        "type": body.get("type", "standard"),
        "order_id": None,
        "vehicle_type_id": body.get("vehicle_type_id", 6),
        "status": "new",
        "matter": body.get("matter"),
        "total_weight_kg": weight,
        "points": out_points,
        "payment_amount": _money(total),
        "delivery_fee_amount": _money(delivery),
        "intercity_delivery_fee_amount": "0.00",
        "weight_fee_amount": _money(weight_fee),
        "insurance_amount": _money(insurance or Decimal(0)),
        "insurance_fee_amount": _money(insurance_fee),
        "loading_fee_amount": "0.00",
        "money_transfer_fee_amount": _money(cash_fee),
        "suburban_delivery_fee_amount": "0.00",
        "overnight_fee_amount": "0.00",
        "discount_amount": "0.00",
        "backpayment_amount": "0.00",
        "cod_fee_amount": "0.00",
    }
    return 200, {
        "is_successful": True,
        "order": order,
        "warnings": warnings,
        "parameter_warnings": {"points": point_warnings} if warnings else [],
    }


def error_body(status: int, message: str) -> bytes:
    if status == 429:
        code = "requests_limit_exceeded"
    elif status in (401, 403):
        code = "invalid_auth_token"
    elif status >= 500:
        code = "unexpected_error"
    else:
        code = "invalid_parameters"
    return orjson.dumps({"is_successful": False, "errors": [code], "message": message})


TOKEN: web.AppKey[str] = web.AppKey("courier_token", str)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("courier_clock")


async def calculate_order(request: web.Request) -> web.Response:
    if request.headers.get("X-DV-Auth-Token") != request.app[TOKEN]:
        return web.Response(status=401, body=error_body(401, "bad token"), content_type="application/json")
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return web.Response(status=400, body=error_body(400, "body is not JSON"), content_type="application/json")
    if wants_empty(request):
        return json_response({"is_successful": True, "order": None, "warnings": [], "parameter_warnings": []})
    status, answer = calculate(body, request.app[CLOCK]())
    return json_response(answer, status=status)


def create_courier_app(
    token: str, *, state: SandboxState | None = None, clock: Callable[[], datetime] | None = None
) -> web.Application:
    app = web.Application(middlewares=[faults_middleware(error_body)])
    app[STATE] = state or SandboxState()
    app[TOKEN] = token
    app[CLOCK] = clock or (lambda: datetime.now(UTC))
    app.router.add_post("/calculate-order", calculate_order)
    # Imported here: the orders module builds on this one's validation, token and clock.
    from carriers.sandbox.courier_orders import add_order_routes

    add_order_routes(app)
    add_control_routes(app)
    return app
