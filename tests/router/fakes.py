"""A fake carrier for fan-out tests: it answers, hangs, raises or talks nonsense on demand."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from carriers.api import ApiErrorDetail, CarrierApiError, CarrierUnavailable
from carriers.errors import CarrierResponseError
from router.core.models import (
    Badge,
    CarrierInfo,
    CarrierQuote,
    DeliveryType,
    Eta,
    Offer,
    OfferInsight,
    Price,
    PriceLine,
    PriceLineKind,
    RateRequest,
    ServiceInfo,
)


def make_offer(
    carrier: str,
    service: str,
    price: str,
    days: int,
    delivery_type: DeliveryType = DeliveryType.COURIER,
    start: date = date(2026, 11, 24),
) -> Offer:
    return Offer(
        carrier=carrier,
        carrier_name=carrier.title(),
        service=service,
        service_name=service.title(),
        delivery_type=delivery_type,
        price=Price.of([PriceLine(PriceLineKind.BASE, Decimal(price), "base")]),
        eta=Eta(days, days, start, start + timedelta(days=days), start + timedelta(days=days)),
        chargeable_weight_g=1000,
        id=f"{carrier}:{service}",
        carrier_name_ru=f"Перевозчик {carrier}",
        service_name_ru=f"Услуга {service}",
    )


def make_insight(
    on_time_rate: float | None = 0.9,
    arrival_probability: float | None = None,
    badge: Badge = Badge.NONE,
    badge_reason: str = "",
    ship: date = date(2026, 11, 24),
) -> OfferInsight:
    """Learned figures for an offer: 2/3/4 days at p50/p80/p95 over 100 outcomes."""
    return OfferInsight(
        p50_days=2,
        p80_days=3,
        p95_days=4,
        p50_date=ship,
        p80_date=ship,
        p95_date=ship,
        on_time_rate=on_time_rate,
        failure_rate=0.01,
        sample_size=100,
        service_sample_size=120,
        badge=badge,
        badge_reason=badge_reason,
        arrival_probability=arrival_probability,
    )


@dataclass
class FakeCarrier:
    code: str
    price: str = "300.00"
    days: int = 3
    behaviour: str = "answer"  # answer | hang | raise | unavailable | refuse | junk | unreadable | wrong_carrier
    delay_s: float = 0.0
    remote: bool = False  # quotes over the network, as far as the engine knows
    calls: list[RateRequest] = field(default_factory=list)

    def info(self) -> CarrierInfo:
        return CarrierInfo(self.code, self.code.title(), "fake", (ServiceInfo("std", "Std", DeliveryType.COURIER),))

    async def quote(self, request: RateRequest) -> CarrierQuote:
        self.calls.append(request)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.behaviour == "hang":
            await asyncio.Event().wait()
        if self.behaviour == "raise":
            raise RuntimeError("carrier exploded")
        if self.behaviour == "unavailable":
            raise CarrierUnavailable(self.code, "HTTP 503", status=503)
        if self.behaviour == "refuse":
            raise CarrierApiError(self.code, "refused", status=400, errors=(ApiErrorDetail("no_route", "no route"),))
        if self.behaviour == "unreadable":  # what the API carriers raise when a decoder refuses the answer
            raise CarrierResponseError("Expected `int`, got `str` - at `$.total_sum`")
        if self.behaviour == "junk":
            return {"price": "lots"}  # type: ignore[return-value]
        carrier = "someone-else" if self.behaviour == "wrong_carrier" else self.code
        offer = make_offer(carrier, "std", self.price, self.days)
        return CarrierQuote(offers=(offer,))

    def quote_sync(self, request: RateRequest) -> CarrierQuote | None:
        return None  # it may hang or sleep: always awaited, under the quote's deadline

    def close(self) -> None:
        pass
