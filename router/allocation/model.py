"""The allocation's domain: orders, warehouses, the carriers' terms for the day, and the plan.

Money is `Decimal` roubles here and integer kopecks only inside the solver.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from router.core.models import KOPECK, Location, Parcel, Shipment


@dataclass(frozen=True, slots=True)
class Warehouse:
    code: str
    location: Location


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    destination: Location
    parcels: tuple[Parcel, ...]
    declared_value: Decimal = Decimal(0)
    cod: bool = False
    warehouses: tuple[str, ...] = ()  # candidate origins by code; empty means every warehouse
    deadline: date | None = None  # the latest acceptable delivery date
    exclude: frozenset[str] = frozenset()  # carriers this order must not go with
    # Who receives and sends it, for `allocate --book`; planning never reads them.
    recipient_name: str = ""
    recipient_phone: str = ""
    address: str = ""  # street and house, for delivery to the door
    pickup_point_id: str = ""  # the point the buyer chose, for delivery to a pickup point
    sender_name: str = ""
    sender_phone: str = ""

    def shipment(self, origin: Location, ship_at: datetime | None) -> Shipment:
        return Shipment(origin, self.destination, self.parcels, self.declared_value, self.cod, ship_at)


@dataclass(frozen=True, slots=True)
class CarrierCapacity:
    """How many parcels a carrier collects from one warehouse in a day."""

    carrier: str
    warehouse: str
    max_parcels: int


@dataclass(frozen=True, slots=True)
class DiscountTier:
    """`percent` off a carrier's price once its month's parcels reach `min_parcels`.

    The month counts the parcels already sent this month (`Terms.month_to_date`) plus today's.
    Of the tiers a carrier reaches, the one with the largest discount applies to all of today's
    parcels with that carrier.
    """

    carrier: str
    min_parcels: int
    percent: Decimal


@dataclass(frozen=True, slots=True)
class Terms:
    """Everything besides the orders that shapes the day's plan."""

    capacities: tuple[CarrierCapacity, ...] = ()
    tiers: tuple[DiscountTier, ...] = ()
    month_to_date: Mapping[str, int] = field(default_factory=dict)  # carrier → parcels sent so far
    day_value: Decimal = Decimal(0)  # RUB per business day in transit added to the objective

    def capacity(self, carrier: str, warehouse: str) -> int | None:
        for c in self.capacities:
            if c.carrier == carrier and c.warehouse == warehouse:
                return c.max_parcels
        return None

    def capacity_by_pickup(self) -> dict[tuple[str, str], int]:
        """Every limited (carrier, warehouse) pickup's capacity, the first given as `capacity` reads it."""
        found: dict[tuple[str, str], int] = {}
        for c in self.capacities:
            found.setdefault((c.carrier, c.warehouse), c.max_parcels)
        return found


@dataclass(frozen=True, slots=True)
class Option:
    """One way to ship one order: a quoted offer from one warehouse."""

    warehouse: str
    carrier: str
    service: str
    price: Decimal
    days: int  # the longest promised transit, business days
    eta_max_date: date
    # Integer kopecks, worked out once: a day of 100,000 orders has millions of options to sum.
    price_kop: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "price_kop", int(self.price.quantize(KOPECK) * 100))

    @property
    def id(self) -> str:
        return f"{self.warehouse}/{self.carrier}:{self.service}"


class UnservedReason(enum.StrEnum):
    PLACE = "place"  # the destination could not be resolved
    NO_OPTION = "no_option"  # no carrier quoted it from any candidate warehouse
    EXCLUDED = "excluded"  # every offer came from a carrier the order excludes
    DEADLINE = "deadline"  # offers exist, but none arrives by the deadline
    CAPACITY = "capacity"  # it had options, but their pickups are full with other orders


@dataclass(frozen=True, slots=True)
class Unserved:
    order_id: str
    reason: UnservedReason
    detail: str


@dataclass(frozen=True, slots=True)
class Candidates:
    """An order as the solver sees it: its parcel count and its options (or why it has none)."""

    order_id: str
    parcels: int
    options: tuple[Option, ...]
    unservable: Unserved | None = None  # set exactly when options is empty


@dataclass(frozen=True, slots=True)
class Assignment:
    order_id: str
    option: Option


@dataclass(frozen=True, slots=True)
class CarrierDiscount:
    carrier: str
    parcels: int  # today's parcels with this carrier
    month_parcels: int  # month to date including today
    percent: Decimal
    amount: Decimal  # off today's spend with the carrier, rounded down to the kopeck


class SolveStatus(enum.StrEnum):
    OPTIMAL = "OPTIMAL"  # proved: no plan costs less
    FEASIBLE = "FEASIBLE"  # the time limit ran out before the proof; see the gap
    GREEDY = "GREEDY"  # the solver found nothing better than greedy in time; greedy is the plan


@dataclass(frozen=True, slots=True)
class Costing:
    """What a choice of options costs, discounts included."""

    assignments: tuple[Assignment, ...]
    unserved: tuple[Unserved, ...]
    discounts: tuple[CarrierDiscount, ...]
    spend: Decimal  # sum of the quoted prices
    total_cost: Decimal  # spend less discounts
    objective: Decimal  # total_cost plus the day value of every assigned order's transit days


@dataclass(frozen=True, slots=True)
class Plan:
    assignments: tuple[Assignment, ...]
    unserved: tuple[Unserved, ...]
    discounts: tuple[CarrierDiscount, ...]
    total_cost: Decimal
    objective: Decimal
    greedy: Costing
    status: SolveStatus
    method: str  # "min-cost-flow" or "cp-sat"
    bound: Decimal  # proven lower bound on the objective, same units (RUB)
    wall_time_s: float

    @property
    def saving(self) -> Decimal:
        """Greedy's total cost less this plan's; compare served counts when they differ."""
        return self.greedy.total_cost - self.total_cost

    @property
    def gap(self) -> float:
        """How far the objective may be above the best possible, relative to it (0 when proved)."""
        if self.objective <= 0:
            return 0.0
        return float(max(Decimal(0), self.objective - self.bound) / self.objective)
