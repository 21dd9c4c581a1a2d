"""The JSON API's answers, declared as msgspec Structs: the OpenAPI components are generated
from them (router/http/schemas/openapi.py), and a test validates real answers against those.

Pickup points and allocation plans are in router/http/schemas/answers_more.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from router.core.models import Badge, DeliveryType, PriceLineKind

Money = Annotated[str, Meta(pattern=r"^-?\d+\.\d{2}$", description='Roubles with kopecks, e.g. "1234.50"')]
Share = Annotated[float, Meta(ge=0, le=1)]
Count = Annotated[int, Meta(ge=0)]
Tag = Literal["cheapest", "fastest", "recommended"]


class Out(msgspec.Struct, forbid_unknown_fields=True):
    """An answer: exactly these fields (forbid_unknown_fields makes the schema say so)."""


class Place(Out):
    country: str
    city: str | None
    region: str | None
    lat: float
    lon: float
    timezone: str
    postal_code: str | None = None
    address: str | None = None


class PriceLine(Out):
    kind: PriceLineKind
    label: str
    amount: Money


class Price(Out):
    total: Money
    currency: str
    breakdown: Annotated[list[PriceLine], Meta(description="Always sums to total")]


class Eta(Out):
    min_days: Annotated[int, Meta(ge=0, description="Business days")]
    max_days: Count
    ship_date: date
    min_date: date
    max_date: date


class OfferLearned(Out):
    summary: Annotated[str, Meta(description='e.g. "95 % delivered by 28 Nov"')]
    p50_days: Annotated[int, Meta(ge=0, description="Business days from the ship date")]
    p80_days: Count
    p95_days: Count
    p50_date: date
    p80_date: date
    p95_date: date
    on_time_rate: Share | None
    failure_rate: Annotated[float, Meta(ge=0, le=1, description="Lost or damaged")]
    sample_size: Annotated[int, Meta(ge=0, description="Outcomes of this service on this lane")]
    service_sample_size: Annotated[int, Meta(ge=0, description="On every lane")]
    badge: Badge
    badge_reason: Annotated[str, Meta(description="The figures and the rule behind the badge")]
    arrival_probability: Annotated[Share | None, Meta(description="Of arriving by the policy's deadline")]


class Offer(Out):
    id: str
    carrier: str
    carrier_name: str
    service: str
    service_name: str
    delivery_type: DeliveryType
    price: Price
    eta: Eta
    chargeable_weight_g: int
    tags: list[Tag]
    learned: Annotated[
        OfferLearned | None, Meta(description="What delivery history says about this offer; null without history")
    ] = None
    stale: Annotated[
        bool,
        Meta(
            description="Present (true) only when the carrier failed and this is its last good answer for the "
            "same lane; the carrier's error is in `errors`"
        ),
    ] = False
    as_of: Annotated[datetime | None, Meta(description="When a stale offer was made")] = None


class Score(Out):
    price: Money
    days: int
    day_value: Money
    total: Money


class Recommendation(Out):
    offer_id: str
    policy: str
    reason: str
    score: Score


class CarrierError(Out):
    carrier: str
    kind: Literal["timeout", "error", "invalid_response", "unavailable"]
    message: str


class Rejection(Out):
    carrier: str
    service: str
    reason: str


class Quote(Out):
    quote_id: str
    created_at: datetime
    expires_at: datetime
    origin: Place
    destination: Place
    offers: list[Offer]
    recommended: Recommendation | None
    cheapest: str | None
    fastest: str | None
    reason: str
    rejections: list[Rejection]
    errors: list[CarrierError]


class Suspension(Out):
    carrier: str
    lane: Annotated[str | None, Meta(description="RU-48>RU-53; null: every lane")]
    since: datetime
    reason: str
    failures: int
    window_days: int
    first_day: date
    last_day: date
    kinds: dict[str, int]


class HealthWindow(Out):
    calls: Count
    error_rate: Share | None
    p50_ms: Annotated[float, Meta(ge=0)] | None
    p99_ms: Annotated[float, Meta(ge=0)] | None


class CarrierHealth(Out):
    breaker: Annotated[
        Literal["closed", "open", "half_open"] | None,
        Meta(description="null for a carrier without a breaker (a rate card)"),
    ]
    window: HealthWindow
    stale_served: Count
    retries: Count


class Service(Out):
    code: str
    name: str
    delivery_type: DeliveryType


class Carrier(msgspec.Struct):
    code: str
    name: str
    kind: str
    demo: bool
    status: Annotated[str, Meta(description="`suspended` when suspended on every lane")]
    services: list[Service]
    suspensions: Annotated[list[Suspension], Meta(description="In force, with their reasons")] = []
    health: CarrierHealth | None = None


class Carriers(Out):
    carriers: list[Carrier]


class OutcomeProblem(Out):
    line: int
    field: str
    reason: str


class OutcomeImport(Out):
    rows: int
    imported: int
    duplicates: Annotated[int, Meta(description="Shipment ids imported before; not counted again")]
    rejected: Annotated[int, Meta(description="Rows with at least one problem; not imported")]
    problems: Annotated[
        list[OutcomeProblem],
        Meta(description="The line in a CSV (header = line 1) or NDJSON body, or the position in a JSON list"),
    ]
    problems_truncated: bool
    suspended: Annotated[list[Suspension], Meta(description="Suspensions this import caused")]


class MemoryUse(Out):
    """What this process holds in memory: the memory store, or memory standing in for Redis (null on
    Redis until it has). `evicted` counts entries dropped before they expired to stay under
    `max_bytes`: past that point a shop needs Redis."""

    entries: Count
    bytes: Count
    max_bytes: Count
    evicted: Count


class StoreHealth(msgspec.Struct):
    backend: str
    ok: bool
    fallback: Annotated[Literal["memory"] | None, Meta(description="What stands in while the store is away")] = None
    memory: MemoryUse | None = None


class Health(msgspec.Struct):
    status: Literal["ok", "degraded"]
    store: StoreHealth
    carriers: int


class FieldProblem(Out):
    path: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details; `errors` names each bad field by its path."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    expired_at: Annotated[str | None, Meta(description="410: when the quote's guarantee ended")] = None
    retry_after: Annotated[int | None, Meta(description="429: seconds to wait")] = None


class PlaceSuggestion(Out):
    id: Annotated[str, Meta(description="geonames id")]
    name: Annotated[str, Meta(description="Latin name")]
    name_ru: str | None
    country: Annotated[str, Meta(description="ISO 3166-1 alpha-2")]
    region: str | None
    lat: float
    lon: float
    population: int
    timezone: str


class PlaceSuggestions(Out):
    places: Annotated[list[PlaceSuggestion], Meta(description="Most populous first")]
