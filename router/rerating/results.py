"""What re-rating says about each shipment and each day: the verdict on its bill, the offer the
policy would have picked, the day plan's price, and the tolerance a bill is judged by."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from router.allocation import SolveStatus
from router.core.models import KOPECK
from router.rerating.shipments import HistoricalShipment


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far above the tariff a bill may be before it is flagged: a percentage or roubles."""

    percent: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)

    @classmethod
    def parse(cls, text: str) -> Tolerance:
        """ "1%" or "1.5%" is relative to the tariff; "5" or "5.00" is roubles."""
        raw = text.strip().replace(",", ".")
        try:
            if raw.endswith("%"):
                value = Decimal(raw[:-1].strip())
                if not value.is_finite() or not 0 <= value < 100:
                    raise ValueError(text)
                return cls(percent=value)
            value = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"{text!r} is neither a percentage (1%) nor an amount (5.00)") from None
        if not value.is_finite() or value < 0:
            raise ValueError(f"{text!r} must not be negative")
        return cls(amount=value)

    def limit(self, tariff: Decimal) -> Decimal:
        if self.percent:
            return (tariff * self.percent / 100).quantize(KOPECK)
        return self.amount

    def __str__(self) -> str:
        return f"{self.percent}%" if self.percent else f"{self.amount} RUB"


class Verdict(enum.StrEnum):
    OK = "ok"  # billed within the tolerance of the tariff (or below it)
    OVERBILLED = "overbilled"
    NOT_BILLED = "not_billed"  # no billed amount to check
    NO_TARIFF = "no_tariff"  # the tariffs have no price for its carrier and service


@dataclass(frozen=True, slots=True)
class Priced:
    carrier: str
    service: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class Rerated:
    shipment: HistoricalShipment
    region: str  # destination's ISO 3166-2 code, e.g. RU-NVS
    destination_city: str
    tariff: Decimal | None  # its own carrier and service under the tariffs
    tariff_note: str  # why there is no tariff, when there is none
    verdict: Verdict
    best: Priced | None  # what the policy recommends among every carrier
    plan: Priced | None = None  # the day's plan; price after its share of the day's discount
    old: Decimal | None = None  # tariff change: its carrier and service under the old tariffs
    new: Decimal | None = None

    @property
    def month(self) -> str:
        return _month(self.shipment.day)

    @property
    def paid(self) -> Decimal | None:
        """What the shipment cost: the bill when there is one, else the tariff."""
        return self.shipment.billed if self.shipment.billed is not None else self.tariff

    @property
    def difference(self) -> Decimal | None:
        if self.shipment.billed is None or self.tariff is None:
            return None
        return self.shipment.billed - self.tariff


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What one day's plan came to; the plan itself is not kept, so memory stays flat."""

    day: date
    shipments: int
    status: SolveStatus
    method: str
    total_cost: Decimal
    greedy_cost: Decimal
    wall_time_s: float


@functools.lru_cache(maxsize=4096)
def _month(day: date) -> str:
    return day.strftime("%Y-%m")
