"""A rate card's tariff, parsed once: zones, services, limits, surcharges."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from carriers.ratecard.zones import (
    ZoneResolver,
)
from router.core.models import (
    DeliveryType,
    Parcel,
)
from router.core.wording import RejectionCode

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# ---------------------------------------------------------------------------------------------
# The tariff, parsed once


@dataclass(frozen=True, slots=True)
class WeightBreak:
    max_g: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class ZoneTariff:
    base: Decimal
    weight_breaks: tuple[WeightBreak, ...]
    per_extra_kg: Decimal | None
    per_km: Decimal | None
    min_days: int
    max_days: int

    def weight_charge(self, chargeable_g: int) -> Decimal | None:
        """The weight component for one parcel; None when the tariff does not reach that far."""
        for wb in self.weight_breaks:
            if chargeable_g <= wb.max_g:
                return wb.price
        if self.per_extra_kg is None:
            return None
        last = self.weight_breaks[-1]
        extra_kg = -(-(chargeable_g - last.max_g) // 1000)
        return last.price + self.per_extra_kg * extra_kg


@dataclass(frozen=True, slots=True)
class Limits:
    max_weight_g: int
    max_side_cm: float | None = None
    max_sum_sides_cm: float | None = None

    def breach(self, parcel: Parcel) -> tuple[RejectionCode, dict[str, object]] | None:
        """Why this parcel cannot go (a code and its figures, router/core/wording.py), or None."""
        if parcel.weight_g > self.max_weight_g:
            return RejectionCode.TOO_HEAVY, {"weight_g": parcel.weight_g, "limit_g": self.max_weight_g}
        sides = parcel.sides_cm
        if self.max_side_cm is not None and sides[0] > self.max_side_cm:
            return RejectionCode.TOO_LARGE, {"measure": "side", "size_cm": sides[0], "limit_cm": self.max_side_cm}
        if self.max_sum_sides_cm is not None and sum(sides) > self.max_sum_sides_cm:
            return RejectionCode.TOO_LARGE, {"measure": "sum", "size_cm": sum(sides), "limit_cm": self.max_sum_sides_cm}
        return None


@dataclass(frozen=True, slots=True)
class Service:
    code: str
    name: str
    delivery_type: DeliveryType
    limits: Limits
    zones: Mapping[str, ZoneTariff]
    cod: bool = True
    name_ru: str = ""


@dataclass(frozen=True, slots=True)
class PercentFee:
    pct: Decimal
    minimum: Decimal = ZERO

    def of(self, amount: Decimal) -> Decimal:
        return max(amount * self.pct / HUNDRED, self.minimum)


@dataclass(frozen=True, slots=True)
class Surcharges:
    fuel_pct: Decimal = ZERO
    insurance: PercentFee | None = None
    cod: PercentFee | None = None
    remote_area_fee: Decimal = ZERO
    remote_zones: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Inbound:
    """Line-haul into the carrier's home area from an origin outside it."""

    fee: Decimal
    extra_days: int


@dataclass(frozen=True, slots=True)
class TrackingRange:
    prefix: str
    first: int
    last: int
    digits: int

    def number(self, n: int) -> str:
        return f"{self.prefix}{n:0{self.digits}d}"


@dataclass(frozen=True, slots=True)
class RateCard:
    source: str
    code: str
    name: str
    demo: bool
    currency: str
    volumetric_divisor: int
    cutoff: time
    countries: frozenset[str]  # empty: any
    zones_kind: str  # polygons | distance | cities
    zones: ZoneResolver
    surcharges: Surcharges
    services: tuple[Service, ...]
    inbound: Inbound | None = None
    name_ru: str = ""
    tracking: TrackingRange | None = None
