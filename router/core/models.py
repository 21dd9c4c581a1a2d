"""Domain types shared by the API, the CLI, the carriers and the tests.

Units are in the names where they could be ambiguous: grams, centimetres, roubles.
Money is `Decimal` rounded to kopecks, never float.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")
DEFAULT_VOLUMETRIC_DIVISOR = 5000


def money(value: Decimal | int | str) -> Decimal:
    """Round to kopecks the way Russian tariffs do (half up)."""
    return Decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Location:
    """What the caller knows about a place; any subset of the fields."""

    country: str | None = None  # ISO 3166-1 alpha-2
    city: str | None = None
    postal_code: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """A location resolved to coordinates and the facts carriers price on."""

    lat: float
    lon: float
    country: str
    city: str | None
    region: str | None  # ISO 3166-2 (RU-MOW); country and admin1 code where none is known (router.core.regions)
    timezone: str
    postal_code: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Parcel:
    weight_g: int
    length_cm: float
    width_cm: float
    height_cm: float

    def volumetric_weight_g(self, divisor: int = DEFAULT_VOLUMETRIC_DIVISOR) -> int:
        # divisor is cm³ per kg, so cm³ * 1000 / divisor is grams; carriers round up.
        return math.ceil(self.length_cm * self.width_cm * self.height_cm * 1000 / divisor)

    def chargeable_weight_g(self, divisor: int = DEFAULT_VOLUMETRIC_DIVISOR) -> int:
        return max(self.weight_g, self.volumetric_weight_g(divisor))

    @property
    def sides_cm(self) -> tuple[float, float, float]:
        """Sides longest first, so limits compare regardless of orientation."""
        a, b, c = sorted((self.length_cm, self.width_cm, self.height_cm), reverse=True)
        return (a, b, c)


@dataclass(frozen=True, slots=True)
class Shipment:
    origin: Location
    destination: Location
    parcels: tuple[Parcel, ...]
    declared_value: Decimal = Decimal("0")  # RUB
    cod: bool = False
    ship_at: datetime | None = None  # aware; None means now

    @property
    def weight_g(self) -> int:
        return sum(p.weight_g for p in self.parcels)

    def chargeable_weight_g(self, divisor: int = DEFAULT_VOLUMETRIC_DIVISOR) -> int:
        return sum(p.chargeable_weight_g(divisor) for p in self.parcels)


class DeliveryType(enum.StrEnum):
    COURIER = "courier"
    PICKUP = "pickup"


class PointType(enum.StrEnum):
    """The kind of pickup point: a carrier's pickup service delivers to some kinds and not others."""

    PVZ = "pvz"  # staffed counter
    LOCKER = "locker"
    POST = "post"
    STORE = "store"


ANY_POINT: frozenset[PointType] = frozenset()


class PriceLineKind(enum.StrEnum):
    BASE = "base"
    WEIGHT = "weight"
    FUEL = "fuel"
    INSURANCE = "insurance"
    COD = "cod"
    REMOTE_AREA = "remote_area"
    DISTANCE = "distance"
    OVERSIZE = "oversize"
    DISCOUNT = "discount"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class PriceLine:
    kind: PriceLineKind
    amount: Decimal
    label: str


@dataclass(frozen=True, slots=True)
class Price:
    """A total with its breakdown; the lines always sum to the total."""

    total: Decimal
    lines: tuple[PriceLine, ...]
    currency: str = "RUB"

    def __post_init__(self) -> None:
        if sum((line.amount for line in self.lines), Decimal("0")) != self.total:
            raise ValueError("price lines do not sum to the total")

    @classmethod
    def of(cls, lines: Iterable[PriceLine], currency: str = "RUB") -> Price:
        rounded = tuple(PriceLine(ln_.kind, money(ln_.amount), ln_.label) for ln_ in lines)
        return cls(sum((ln_.amount for ln_ in rounded), Decimal("0.00")), rounded, currency)


@dataclass(frozen=True, slots=True)
class Eta:
    """Business days in transit and the calendar dates they mean."""

    min_days: int
    max_days: int
    ship_date: date  # the day the carrier takes the parcel (after cut-off)
    min_date: date
    max_date: date


@dataclass(frozen=True, slots=True)
class Offer:
    carrier: str
    carrier_name: str
    service: str
    service_name: str
    delivery_type: DeliveryType
    price: Price
    eta: Eta
    chargeable_weight_g: int
    id: str = ""  # assigned by the quote: carrier:service
    # True when the carrier failed and this is its last good answer for the same lane,
    # made at `as_of`; the price and dates were true then and are not confirmed now: an estimate,
    # shown but never held.
    stale: bool = False
    as_of: datetime | None = None
    # A pickup offer's kinds of point (a CDEK office tariff is refused for a locker); empty:
    # every kind the carrier has, or a courier offer.
    point_types: frozenset[PointType] = ANY_POINT
    # The names in Russian (the ones above are English); empty where the carrier gave one only.
    carrier_name_ru: str = ""
    service_name_ru: str = ""

    def with_id(self) -> Offer:
        return replace(self, id=f"{self.carrier}:{self.service}")

    def delivers_to(self, point_type: PointType) -> bool:
        """Whether this pickup offer may be handed over at a point of `point_type`."""
        return not self.point_types or point_type in self.point_types


@dataclass(frozen=True, slots=True)
class Rejection:
    """A service that cannot carry this shipment, and why: `reason` in English, `reason_ru` in
    Russian (empty: the carrier's own words, the same in every language), `code` for a client
    that words it itself (router/core/wording.py has the codes and the catalog)."""

    carrier: str
    service: str
    reason: str
    code: str = "carrier_refused"
    reason_ru: str = ""


@dataclass(frozen=True, slots=True)
class CarrierError:
    """A carrier that did not answer usefully; the quote goes on without it."""

    carrier: str
    kind: str  # timeout | error | invalid_response | unavailable
    message: str


@dataclass(frozen=True, slots=True)
class CarrierQuote:
    """What one carrier answered for one shipment."""

    offers: tuple[Offer, ...] = ()
    rejections: tuple[Rejection, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    code: str
    name: str  # English; `name_ru` is the Russian, empty where the carrier has only the one
    delivery_type: DeliveryType
    name_ru: str = ""


@dataclass(frozen=True, slots=True)
class CarrierInfo:
    code: str
    name: str
    kind: str
    services: tuple[ServiceInfo, ...]
    demo: bool = False
    status: str = "ok"
    name_ru: str = ""


@dataclass(frozen=True, slots=True)
class CarrierHealth:
    """How one carrier has been answering this worker: recent window and totals since start.

    `breaker` is None for a carrier that has none (a rate card cannot be down). The window
    figures cover calls actually made; calls the breaker turned away count only in `outcomes`.
    """

    carrier: str
    breaker: str | None  # closed | open | half_open
    window_calls: int
    error_rate: float | None  # None: no calls in the window yet
    p50_ms: float | None
    p99_ms: float | None
    stale_served: int
    retries: int
    outcomes: tuple[tuple[str, int], ...] = ()  # (ok | refused | timeout | unavailable | ..., calls)
    latency_buckets: tuple[tuple[float, int], ...] = ()  # (upper bound s, cumulative calls)
    latency_sum_s: float = 0.0


@dataclass(frozen=True, slots=True)
class RateRequest:
    """A shipment with both ends resolved, as carriers see it."""

    shipment: Shipment
    origin: Place
    destination: Place
    ship_at: datetime  # aware


@dataclass(frozen=True, slots=True)
class Score:
    price: Decimal
    days: int
    day_value: Decimal
    total: Decimal


class Badge(enum.StrEnum):
    GOLD = "gold"
    SILVER = "silver"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class OfferInsight:
    """What the carrier's delivery history says about one offer (router/reliability.py)."""

    p50_days: int  # business days from the offer's ship date
    p80_days: int
    p95_days: int
    p50_date: date
    p80_date: date
    p95_date: date  # "95 % delivered by"
    on_time_rate: float | None  # None: the history has no promised dates
    failure_rate: float  # lost or damaged
    sample_size: int  # outcomes of this carrier and service on this lane
    service_sample_size: int  # on every lane
    badge: Badge
    badge_reason: str
    arrival_probability: float | None = None  # of arriving by the policy's deadline, when it has one
    badge_reason_ru: str = ""  # `badge_reason` in Russian


@dataclass(frozen=True, slots=True)
class Quote:
    id: str
    created_at: datetime
    expires_at: datetime
    shipment: Shipment
    origin: Place
    destination: Place
    policy: Policy
    offers: tuple[Offer, ...]
    recommended: str | None
    cheapest: str | None
    fastest: str | None
    reason: str  # why `recommended`, or why none is, in English
    scores: dict[str, Score] = field(default_factory=dict)
    rejections: tuple[Rejection, ...] = ()
    errors: tuple[CarrierError, ...] = ()
    insights: dict[str, OfferInsight] = field(default_factory=dict)  # by offer id, from delivery history
    # Every asked carrier's names, English and Russian, by code: rejections and errors name them.
    carrier_names: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    reason_ru: str = ""  # `reason` in Russian


class PolicyKind(enum.StrEnum):
    CHEAPEST = "cheapest"
    FASTEST = "fastest"
    BALANCED = "balanced"
    DEADLINE = "deadline"


@dataclass(frozen=True, slots=True)
class Policy:
    kind: PolicyKind = PolicyKind.BALANCED
    day_value: Decimal = Decimal("50")  # RUB a buyer would pay for one day sooner
    deadline: date | None = None
    only: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()
    min_on_time_rate: float | None = None  # recommend only offers whose learned on-time rate reaches it
    probability: float | None = None  # deadline: the learned chance of arriving by then must reach it
