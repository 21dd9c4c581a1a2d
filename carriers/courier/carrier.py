"""The same-day courier: its `calculate-order` request built from a shipment, its answer read into an offer.

Building and reading are pure functions of `carriers.courier.wire` types, tested without any
network; `CourierCarrier` joins them to `carriers.courier.client` under the call's time budget.
The API's units (whole kilograms, decimal-string roubles and coordinates, times with the served
city's offset) are converted here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from carriers.api import RemoteCarrier, within
from carriers.courier import wire
from carriers.courier.client import CourierClient
from carriers.errors import (
    ApiErrorDetail,
    CarrierApiError,
    CarrierAuthError,
    CarrierRateLimited,
    CarrierUnavailable,
)
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


# ---------------------------------------------------------------- the request


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
) -> wire.CalculateRequest:
    """The `POST /calculate-order` body: pick-up at the origin, drop at the destination."""
    shipment = request.shipment
    body = route_body(
        request.origin,
        request.destination,
        weight_g=shipment.weight_g,
        declared_value_rub=shipment.declared_value,
        cod_rub=shipment.declared_value if shipment.cod else Decimal(0),
        matter=matter,
        vehicle_type_id=vehicle_type_id,
    )
    if request.ship_at > now + SCHEDULE_AHEAD:
        body.points[0].required_start_datetime = request.ship_at.astimezone(
            ZoneInfo(request.origin.timezone)
        ).isoformat()
    return body


def route_body(
    origin: Place,
    destination: Place,
    *,
    weight_g: int,
    declared_value_rub: Decimal,
    cod_rub: Decimal,
    matter: str,
    vehicle_type_id: int | None,
) -> wire.CalculateRequest:
    """What `calculate-order` and `create-order` share: the two points, weight, insurance and cash."""
    pickup = point(origin)
    drop = point(destination)
    if cod_rub > 0:
        drop.taking_amount = money_text(cod_rub)
    return wire.CalculateRequest(
        type="standard",
        matter=matter,
        total_weight_kg=weight_kg(weight_g),
        points=[pickup, drop],
        vehicle_type_id=vehicle_type_id,
        insurance_amount=money_text(declared_value_rub) if declared_value_rub > 0 else None,
    )


def point(place: Place) -> wire.RequestPoint:
    return wire.RequestPoint(
        address=address_text(place), latitude=coordinate(place.lat), longitude=coordinate(place.lon)
    )


def money_text(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):f}"


# ---------------------------------------------------------------- the answer


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


def problems(
    codes: list[str | None] | str | None, parameters: wire.ParameterProblems | None
) -> tuple[ApiErrorDetail, ...]:
    listed = [codes] if isinstance(codes, str) else codes or []
    return (*(ApiErrorDetail(c) for c in listed if c is not None), *flatten(parameters or {}))


def raise_for_errors(
    carrier: str,
    errors: tuple[ApiErrorDetail, ...],
    status: int | None,
    retry_after: float | None,
    refused: str = "calculation refused",
) -> None:
    codes = {e.code for e in errors}
    if codes & RATE_LIMIT_CODES:
        raise CarrierRateLimited(carrier, "rate limited", status=status, errors=errors, retry_after_s=retry_after)
    if codes & AUTH_CODES:
        raise CarrierAuthError(carrier, "token refused", status=status, errors=errors)
    if codes & SERVER_CODES:
        raise CarrierUnavailable(carrier, "server error", status=status, errors=errors)
    raise CarrierApiError(carrier, refused, status=status, errors=errors)


def parse_calculate(
    body: bytes,
    request: RateRequest,
    *,
    carrier: str,
    carrier_name: str,
    service: str,
    service_name: str,
    cutoff: time,
    status: int | None = None,
    retry_after: float | None = None,
    carrier_name_ru: str = "",
    service_name_ru: str = "",
) -> CarrierQuote:
    try:
        answer = wire.calculate_decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise CarrierApiError(carrier, f"unreadable answer: {exc}", status=status) from None
    except msgspec.DecodeError as exc:
        raise CarrierApiError(carrier, f"answer is not JSON ({exc})", status=status) from None
    if not answer.is_successful:
        errors = problems(answer.errors, answer.parameter_errors)
        if {e.code for e in errors} & REJECTING_CODES:
            return CarrierQuote(rejections=(Rejection(carrier, service, _reason(errors)),))
        raise_for_errors(carrier, errors, status, retry_after)
    warnings = problems(answer.warnings, answer.parameter_warnings)
    if warnings:
        # calculate-order prices what it can but warns of what would fail when ordering.
        return CarrierQuote(rejections=(Rejection(carrier, service, _reason(warnings)),))
    order = answer.order
    if order is None:
        return CarrierQuote()
    try:
        price = order_price(order)
        eta = order_eta(order, request, cutoff)
    except (TypeError, ValueError, ArithmeticError) as exc:
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
        carrier_name_ru=carrier_name_ru,
        service_name_ru=service_name_ru,
    )
    return CarrierQuote(offers=(offer,))


def _reason(details: tuple[ApiErrorDetail, ...]) -> str:
    return "; ".join(f"{d.message}: {d.code}" if d.message else d.code for d in details)


def order_price(order: wire.Order) -> Price:
    """`payment_amount` with a breakdown that sums to it; what the fees leave over is shown too."""
    total = order.payment_amount
    if total is None:
        raise ValueError("no payment_amount")
    if not total.is_finite() or total < 0:
        raise ValueError(f"payment_amount {total} is not an amount due")
    lines: list[PriceLine] = []
    for key, kind, label in FEE_FIELDS:
        amount = _finite(getattr(order, key), key)
        if amount:
            lines.append(PriceLine(kind, amount, label))
    for key, label in DISCOUNT_FIELDS:
        amount = _finite(getattr(order, key), key)
        if amount:
            lines.append(PriceLine(PriceLineKind.DISCOUNT, -abs(amount), label))
    rest = total - sum((line.amount for line in lines), Decimal("0"))
    if rest:
        lines.append(PriceLine(PriceLineKind.OTHER, rest, "other charges" if rest > 0 else "adjustment"))
    price = Price.of(lines)
    if price.total != total.quantize(Decimal("0.01")):
        raise ValueError(f"payment_amount {total} is finer than kopecks")
    return price


def _finite(amount: Decimal | None, field: str) -> Decimal | None:
    if amount is not None and not amount.is_finite():
        raise ValueError(f"{field} {amount} is not an amount")
    return amount


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise ValueError(f"datetime without an offset: {moment.isoformat()}")
    return moment


def order_eta(order: wire.Order, request: RateRequest, cutoff: time) -> Eta:
    """Calendar days from the day asked for: 0/0 when both windows fall on that day.

    A courier works weekends, so these are plain days, not working days. With no windows in the
    answer the courier is assumed to go the same day before the cut-off and the next day after.
    """
    origin_tz = ZoneInfo(request.origin.timezone)
    dest_tz = ZoneInfo(request.destination.timezone)
    asked = request.ship_at.astimezone(origin_tz)
    points = order.points or []
    pickup = points[0] if points else wire.AnswerPoint()
    drop = points[-1] if len(points) > 1 else wire.AnswerPoint()
    pickup_at = _aware(pickup.required_start_datetime) or _aware(pickup.estimated_arrival_datetime)
    drop_from = (
        _aware(drop.required_start_datetime)
        or _aware(drop.estimated_arrival_datetime)
        or _aware(drop.required_finish_datetime)
    )
    drop_until = _aware(drop.required_finish_datetime) or drop_from
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


# ---------------------------------------------------------------- the carrier


class CourierCarrier(RemoteCarrier[CourierClient]):
    """A `Carrier` for one same-day courier service inside a city."""

    kind = "courier"

    def __init__(
        self,
        client: CourierClient,
        *,
        code: str = "courier",
        name: str = "City courier",
        name_ru: str = "Городской курьер",
        service: str = "same_day",
        service_name: str = "Same-day courier",
        service_name_ru: str = "Курьер в тот же день",
        matter: str = "Parcel",
        vehicle_type_id: int | None = None,
        cutoff: time = time(20, 0),
        timeout_s: float = 2.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.code = code
        self.name = name
        self.name_ru = name_ru
        self.service = service
        self.service_name = service_name
        self.service_name_ru = service_name_ru
        self.matter = matter
        self.vehicle_type_id = vehicle_type_id
        self.cutoff = cutoff
        self.timeout_s = timeout_s
        self._clock = clock
        self._info = CarrierInfo(
            code=code,
            name=name,
            name_ru=name_ru,
            kind=self.kind,
            services=(ServiceInfo(service, service_name, DeliveryType.COURIER, service_name_ru),),
        )

    async def quote(self, request: RateRequest) -> CarrierQuote:
        body = calculate_body(request, now=self._clock(), matter=self.matter, vehicle_type_id=self.vehicle_type_id)
        status, retry_after, answer = await within(self.timeout_s, self.code, self.client.calculate(wire.encode(body)))
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
            carrier_name_ru=self.name_ru,
            service_name_ru=self.service_name_ru,
        )
