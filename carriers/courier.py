"""An on-demand city courier through a Dostavista/Borzo-style business API 1.5 `calculate-order`.

Wire units, all converted here and nowhere else: weight in whole kilograms (`total_weight_kg`);
money as decimal strings in roubles (`"390.00"`); coordinates as decimal strings in separate
`latitude` / `longitude` fields; times as ISO 8601 with the offset of the city served.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import orjson

from carriers.api import (
    ApiErrorDetail,
    CarrierApiError,
    CarrierAuthError,
    CarrierRateLimited,
    CarrierUnavailable,
    Secret,
    bounded,
    carrier_pool,
    decimal_from_wire,
    decode_json,
    retry_after_s,
)
from carriers.http import HttpError, HttpPool
from router.core.models import (
    CarrierInfo,
    CarrierQuote,
    DeliveryType,
    Eta,
    Offer,
    Place,
    Price,
    PriceLine,
    PriceLineKind,
    RateRequest,
    Rejection,
    ServiceInfo,
)

CALCULATE_PATH = "/calculate-order"
AUTH_HEADER = "X-DV-Auth-Token"
# Ask for a start time only when it is clearly ahead: the API refuses windows in the past,
# and "as soon as possible" is what an unscheduled order means.
SCHEDULE_AHEAD = timedelta(minutes=5)

# Fee fields of `order`, in the order they are shown. The totals (`payment_amount`) and the
# amounts that are not fees (`insurance_amount` echoes the declared value) stay out.
FEE_FIELDS: tuple[tuple[str, PriceLineKind, str], ...] = (
    ("delivery_fee_amount", PriceLineKind.BASE, "delivery fee"),
    ("intercity_delivery_fee_amount", PriceLineKind.DISTANCE, "intercity delivery"),
    ("suburban_delivery_fee_amount", PriceLineKind.DISTANCE, "suburban delivery"),
    ("weight_fee_amount", PriceLineKind.WEIGHT, "weight fee"),
    ("insurance_fee_amount", PriceLineKind.INSURANCE, "insurance fee"),
    ("money_transfer_fee_amount", PriceLineKind.COD, "cash collection fee"),
    ("cod_fee_amount", PriceLineKind.COD, "cash-on-delivery fee"),
    ("loading_fee_amount", PriceLineKind.OTHER, "loading fee"),
    ("door_to_door_fee_amount", PriceLineKind.OTHER, "door-to-door fee"),
    ("overnight_fee_amount", PriceLineKind.OTHER, "overnight fee"),
    ("waiting_fee_amount", PriceLineKind.OTHER, "waiting fee"),
    ("return_fee_amount", PriceLineKind.OTHER, "return fee"),
)
# Discounts arrive as positive amounts that the total already subtracts.
DISCOUNT_FIELDS = (("discount_amount", "discount"), ("promo_code_discount_amount", "promo code discount"))

# Codes that mean "not this shipment" rather than "the courier service is broken".
REJECTING_CODES = frozenset(
    {"address_not_found", "route_not_found", "coordinates_out_of_bounds", "max_weight_exceeded", "invalid_region"}
)
RATE_LIMIT_CODES = frozenset({"requests_limit_exceeded"})
AUTH_CODES = frozenset({"invalid_auth_token", "unauthorized", "forbidden"})
SERVER_CODES = frozenset({"unexpected_error", "service_unavailable"})


# ---------------------------------------------------------------- request building


def weight_kg(grams: int) -> int:
    # The API counts whole kilograms; rounding up keeps a 1.2 kg parcel inside the vehicle limit.
    return max(1, math.ceil(grams / 1000))


def coordinate(value: float) -> str:
    return f"{value:.6f}"  # ~10 cm: more digits are noise, fewer move the door


def address_text(place: Place) -> str:
    parts = [p for p in (place.city, place.address) if p]
    if place.address and place.city and place.city.lower() in place.address.lower():
        parts = [place.address]
    return ", ".join(parts) or f"{coordinate(place.lat)}, {coordinate(place.lon)}"


def calculate_body(
    request: RateRequest,
    *,
    now: datetime,
    matter: str = "Parcel",
    vehicle_type_id: int | None = None,
) -> dict[str, Any]:
    """The `POST /calculate-order` body: pick-up at the origin, drop at the destination."""
    shipment = request.shipment
    pickup: dict[str, Any] = point(request.origin)
    drop: dict[str, Any] = point(request.destination)
    if request.ship_at > now + SCHEDULE_AHEAD:
        pickup["required_start_datetime"] = request.ship_at.astimezone(ZoneInfo(request.origin.timezone)).isoformat()
    if shipment.cod and shipment.declared_value > 0:
        drop["taking_amount"] = money_text(shipment.declared_value)
    body: dict[str, Any] = {
        "type": "standard",
        "matter": matter,
        "total_weight_kg": weight_kg(shipment.weight_g),
        "points": [pickup, drop],
    }
    if vehicle_type_id is not None:
        body["vehicle_type_id"] = vehicle_type_id
    if shipment.declared_value > 0:
        body["insurance_amount"] = money_text(shipment.declared_value)
    return body


def point(place: Place) -> dict[str, Any]:
    return {"address": address_text(place), "latitude": coordinate(place.lat), "longitude": coordinate(place.lon)}


def money_text(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):f}"


# ---------------------------------------------------------------- answer parsing


def flatten(value: Any, path: str = "") -> Iterator[ApiErrorDetail]:
    """`parameter_errors` / `parameter_warnings` (nested by field and point index) as (code, path)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from flatten(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            for code in value:
                yield ApiErrorDetail(code, path)
        else:
            for i, inner in enumerate(value):
                yield from flatten(inner, f"{path}[{i}]")
    elif isinstance(value, str):
        yield ApiErrorDetail(value, path)


def problems(answer: Mapping[str, Any], codes_key: str, params_key: str) -> tuple[ApiErrorDetail, ...]:
    codes = answer.get(codes_key) or []
    if not isinstance(codes, list):
        codes = [codes]
    top = [ApiErrorDetail(str(c)) for c in codes if c is not None]
    return (*top, *flatten(answer.get(params_key) or {}))


def raise_for_errors(
    carrier: str, errors: tuple[ApiErrorDetail, ...], status: int | None, retry_after: float | None
) -> None:
    codes = {e.code for e in errors}
    if codes & RATE_LIMIT_CODES:
        raise CarrierRateLimited(carrier, "rate limited", status=status, errors=errors, retry_after_s=retry_after)
    if codes & AUTH_CODES:
        raise CarrierAuthError(carrier, "token refused", status=status, errors=errors)
    if codes & SERVER_CODES:
        raise CarrierUnavailable(carrier, "server error", status=status, errors=errors)
    raise CarrierApiError(carrier, "calculation refused", status=status, errors=errors)


def parse_calculate(
    answer: Any,
    request: RateRequest,
    *,
    carrier: str,
    carrier_name: str,
    service: str,
    service_name: str,
    cutoff: time,
    status: int | None = None,
    retry_after: float | None = None,
) -> CarrierQuote:
    if not isinstance(answer, dict) or not isinstance(answer.get("is_successful"), bool):
        raise CarrierApiError(carrier, "answer has no is_successful flag", status=status)
    if not answer["is_successful"]:
        errors = problems(answer, "errors", "parameter_errors")
        if {e.code for e in errors} & REJECTING_CODES:
            return CarrierQuote(rejections=(Rejection(carrier, service, _reason(errors)),))
        raise_for_errors(carrier, errors, status, retry_after)
    warnings = problems(answer, "warnings", "parameter_warnings")
    if warnings:
        # calculate-order prices what it can but warns of what would fail when ordering.
        return CarrierQuote(rejections=(Rejection(carrier, service, _reason(warnings)),))
    order = answer.get("order")
    if order is None:
        return CarrierQuote()
    if not isinstance(order, dict):
        raise CarrierApiError(carrier, "order is not an object", status=status)
    try:
        price = order_price(order)
        eta = order_eta(order, request, cutoff)
    except (TypeError, ValueError, KeyError) as exc:
        raise CarrierApiError(carrier, f"unreadable order: {exc}", status=status) from None
    offer = Offer(
        carrier=carrier,
        carrier_name=carrier_name,
        service=service,
        service_name=service_name,
        delivery_type=DeliveryType.COURIER,
        price=price,
        eta=eta,
        chargeable_weight_g=weight_kg(request.shipment.weight_g) * 1000,
    )
    return CarrierQuote(offers=(offer,))


def _reason(details: tuple[ApiErrorDetail, ...]) -> str:
    return "; ".join(f"{d.message}: {d.code}" if d.message else d.code for d in details)


def order_price(order: Mapping[str, Any]) -> Price:
    """`payment_amount` with a breakdown that sums to it; what the fees leave over is shown too."""
    if order.get("payment_amount") is None:
        raise KeyError("payment_amount")
    total = decimal_from_wire(order["payment_amount"])
    if total < 0:
        raise ValueError(f"negative payment_amount {total}")
    lines: list[PriceLine] = []
    for key, kind, label in FEE_FIELDS:
        if order.get(key) is not None:
            amount = decimal_from_wire(order[key])
            if amount:
                lines.append(PriceLine(kind, amount, label))
    for key, label in DISCOUNT_FIELDS:
        if order.get(key) is not None:
            amount = decimal_from_wire(order[key])
            if amount:
                lines.append(PriceLine(PriceLineKind.DISCOUNT, -abs(amount), label))
    rest = total - sum((line.amount for line in lines), Decimal("0"))
    if rest:
        lines.append(PriceLine(PriceLineKind.OTHER, rest, "other charges" if rest > 0 else "adjustment"))
    price = Price.of(lines)
    if price.total != total.quantize(Decimal("0.01")):
        raise ValueError(f"payment_amount {total} is finer than kopecks")
    return price


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"datetime without an offset: {value!r}")
    return moment


def order_eta(order: Mapping[str, Any], request: RateRequest, cutoff: time) -> Eta:
    """Calendar days from the day asked for: 0/0 when both windows fall on that day.

    A courier works weekends, so these are plain days, not working days. With no windows in the
    answer the courier is assumed to go the same day before the cut-off and the next day after.
    """
    origin_tz = ZoneInfo(request.origin.timezone)
    dest_tz = ZoneInfo(request.destination.timezone)
    asked = request.ship_at.astimezone(origin_tz)
    points = order.get("points") or []
    if not isinstance(points, list):
        raise ValueError("points is not a list")
    pickup = points[0] if points and isinstance(points[0], dict) else {}
    drop = points[-1] if len(points) > 1 and isinstance(points[-1], dict) else {}
    pickup_at = _moment(pickup.get("required_start_datetime")) or _moment(pickup.get("estimated_arrival_datetime"))
    drop_from = (
        _moment(drop.get("required_start_datetime"))
        or _moment(drop.get("estimated_arrival_datetime"))
        or _moment(drop.get("required_finish_datetime"))
    )
    drop_until = _moment(drop.get("required_finish_datetime")) or drop_from
    if drop_from is None or drop_until is None:
        day = asked.date() if asked.time() < cutoff else asked.date() + timedelta(days=1)
        return _eta(asked.date(), day, day, day)
    ship_day = pickup_at.astimezone(origin_tz).date() if pickup_at else asked.date()
    first = drop_from.astimezone(dest_tz).date()
    last = max(first, drop_until.astimezone(dest_tz).date())
    return _eta(asked.date(), ship_day, first, last)


def _eta(asked: date, ship_day: date, first: date, last: date) -> Eta:
    return Eta(
        min_days=max(0, (first - asked).days),
        max_days=max(0, (last - asked).days),
        ship_date=ship_day,
        min_date=first,
        max_date=last,
    )


# ---------------------------------------------------------------- HTTP


class CourierClient:
    """The only code that talks to the courier API: one JSON POST with a static token.

    The calls go through kept-alive connections of the client's own (`carriers.http`), as
    CDEK's calculator does: the head, token included, is built once; redirects are not followed.
    """

    def __init__(
        self, http: aiohttp.ClientSession | None, *, base_url: str, token: Secret, carrier: str = "courier"
    ) -> None:
        self._http = http
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.carrier = carrier
        self._pool: HttpPool | None = None
        self._head: bytes | None = None

    def __repr__(self) -> str:
        return f"CourierClient({self.base_url!r}, carrier={self.carrier!r})"

    async def calculate(self, body: Mapping[str, Any]) -> tuple[int, float | None, Any]:
        """(HTTP status, Retry-After seconds, decoded answer); refusals are the parser's to read."""
        pool = self._own_pool()
        try:
            answer = await pool.request(self._calculate_head(pool), orjson.dumps(body))
        except TimeoutError:
            raise
        except (HttpError, OSError) as exc:
            raise CarrierUnavailable(self.carrier, f"calculate-order failed: {type(exc).__name__}") from None
        status, retry_after = answer.status, retry_after_s(answer.headers.get("retry-after"))
        if 300 <= status < 400:  # the URL is configured; a redirect is not followed
            raise CarrierApiError(self.carrier, f"HTTP {status} (redirect not followed)", status=status)
        if status == 429:
            raise CarrierRateLimited(self.carrier, "rate limited", status=status, retry_after_s=retry_after)
        if status in (401, 403):
            raise CarrierAuthError(self.carrier, "token refused", status=status)
        if status >= 500:
            raise CarrierUnavailable(self.carrier, f"HTTP {status}", status=status)
        decoded = decode_json(answer.body, self.carrier, status)
        if status >= 400 and not isinstance(decoded, dict):
            raise CarrierApiError(self.carrier, f"HTTP {status}", status=status)
        return status, retry_after, decoded

    def _own_pool(self) -> HttpPool:
        if self._http is None:
            raise CarrierUnavailable(self.carrier, "no HTTP session (configured for listing only)")
        if self._http.closed:
            self.close()
            raise CarrierUnavailable(self.carrier, "HTTP session closed")
        if self._pool is None:
            self._pool = carrier_pool(self._http, self.base_url)
        return self._pool

    def _calculate_head(self, pool: HttpPool) -> bytes:
        if self._head is None:
            headers = {
                AUTH_HEADER: self._token.reveal(),
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            self._head = pool.head("POST", CALCULATE_PATH, headers)
        return self._head

    def close(self) -> None:
        """Close the kept-alive connections (the aiohttp session is the owner's)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None


# ---------------------------------------------------------------- the carrier


class CourierCarrier:
    """A `Carrier` for one same-day courier service inside a city."""

    kind = "courier"
    remote = True

    def __init__(
        self,
        client: CourierClient,
        *,
        code: str = "courier",
        name: str = "City courier",
        service: str = "same_day",
        service_name: str = "Same-day courier",
        matter: str = "Parcel",
        vehicle_type_id: int | None = None,
        cutoff: time = time(20, 0),
        timeout_s: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.code = code
        self.name = name
        self.service = service
        self.service_name = service_name
        self.matter = matter
        self.vehicle_type_id = vehicle_type_id
        self.cutoff = cutoff
        self.timeout_s = timeout_s
        self._clock = clock
        self._info = CarrierInfo(
            code=code, name=name, kind=self.kind, services=(ServiceInfo(service, service_name, DeliveryType.COURIER),)
        )

    def __repr__(self) -> str:
        return f"CourierCarrier({self.code!r}, {self.client.base_url!r})"

    def info(self) -> CarrierInfo:
        return self._info

    def close(self) -> None:
        self.client.close()

    def quote_sync(self, request: RateRequest) -> None:
        return None

    async def quote(self, request: RateRequest) -> CarrierQuote:
        body = calculate_body(request, now=self._clock(), matter=self.matter, vehicle_type_id=self.vehicle_type_id)
        async with bounded(self.timeout_s):
            status, retry_after, answer = await self.client.calculate(body)
        return parse_calculate(
            answer,
            request,
            carrier=self.code,
            carrier_name=self.name,
            service=self.service,
            service_name=self.service_name,
            cutoff=self.cutoff,
            status=status,
            retry_after=retry_after,
        )
