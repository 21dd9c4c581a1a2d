"""The JSON answers for the core's domain types, declared once as msgspec Structs: the codec
builds them and msgspec encodes them (router/core/codec.py), and the OpenAPI document is
generated from the same types (router/http/schemas/openapi.py), so the bytes and the document
cannot drift apart.

Other rooms declare the answers they own beside their domain types on the same base
(`pickup_points/answers.py`, `router/allocation/answers.py`); the HTTP-only answers (problems,
health, outcome reports, place suggestions) are in router/http/schemas/answers.py.

A Struct with defaults among its fields is keyword-only, so that it lists them in the order they
are written. Datetimes are written as msgspec writes them: UTC as `Z`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from router.core.models import Badge, DeliveryType, PointType, PriceLineKind
from router.core.wording import Lang, RejectionCode

# Something besides white space, as Python's str.strip() sees it (which takes \x1c-\x1f and
# \x85 for white space where a JSON Schema regex does not): a pattern for text that must not be blank.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"
Money = Annotated[str, Meta(pattern=r"^-?\d+\.\d{2}$", description='Roubles with kopecks, e.g. "1234.50"')]
Share = Annotated[float, Meta(ge=0, le=1)]
Count = Annotated[int, Meta(ge=0)]
Tag = Literal["cheapest", "fastest", "recommended"]
ANSWER_LANG = Meta(
    description="The language of the names, reasons and labels in this answer: the `lang` query parameter, "
    "else the best of ru and en in Accept-Language, else en; also the answer's Content-Language"
)
IN_LANG = "In the answer's `lang`"
RU_ALWAYS = "In Russian whatever `lang` is (the chosen one where the carrier has no Russian name)"


class Out(msgspec.Struct, forbid_unknown_fields=True):
    """An answer: exactly these fields (forbid_unknown_fields makes the schema say so)."""


class FieldProblem(Out):
    path: str
    message: str


class Place(Out, kw_only=True):
    country: str
    city: str | None
    region: str | None
    postal_code: str | None = None
    address: str | None = None
    lat: float
    lon: float
    timezone: str


class PriceLine(Out):
    kind: PriceLineKind
    label: Annotated[
        str, Meta(description="In English as the carrier words it; in Russian, the name of the line's `kind`")
    ]
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
    summary: Annotated[str, Meta(description='In the answer\'s `lang`, e.g. "95 % delivered by 28 Nov"')]
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
    badge_reason: Annotated[str, Meta(description="The figures and the rule behind the badge; " + IN_LANG)]
    arrival_probability: Annotated[Share | None, Meta(description="Of arriving by the policy's deadline")]
    badge_reason_ru: Annotated[str, Meta(description="`badge_reason` in Russian whatever `lang` is")] = ""


class Offer(Out, kw_only=True, omit_defaults=True):
    """`estimate`, `stale` and `as_of` are written only for an estimate, `point_types` only for a
    pickup offer limited to some kinds of point; every other field always."""

    id: str
    carrier: str
    carrier_name: Annotated[str, Meta(description=IN_LANG)]
    carrier_name_ru: Annotated[str, Meta(description=RU_ALWAYS)]
    service: str
    service_name: Annotated[str, Meta(description=IN_LANG)]
    service_name_ru: Annotated[str, Meta(description=RU_ALWAYS)]
    delivery_type: DeliveryType
    price: Price
    eta: Eta
    chargeable_weight_g: int
    tags: list[Tag]
    estimate: Annotated[
        bool,
        Meta(
            description="Present (true) only when the price is an estimate, not an offer: the carrier failed, "
            "and this is its last good answer for the same parcel (same service, weight, sizes, declared value "
            "and cash on delivery) on the same route and ship day, made at `as_of`; the carrier's error is in "
            "`errors`. An estimate is never held: `GET /v1/quotes/{quote_id}` refuses a quote whose recommended "
            "(or only) offers are estimates with 409, and a delivery cannot be booked from one"
        ),
    ] = False
    stale: Annotated[
        bool, Meta(description="Present (true) exactly when `estimate` is: the answer is the carrier's last good one")
    ] = False
    as_of: Annotated[datetime | None, Meta(description="When the answer an estimate repeats was made")] = None
    point_types: Annotated[
        list[PointType],
        Meta(
            description="The kinds of pickup point this offer delivers to (a locker tariff, an office "
            "tariff); absent: any of the carrier's points"
        ),
    ] = []
    learned: Annotated[
        OfferLearned | None, Meta(description="What delivery history says about this offer; null without history")
    ]


class Score(Out):
    price: Money
    days: int
    day_value: Money
    total: Money


class Recommendation(Out):
    offer_id: str
    policy: str
    reason: Annotated[str, Meta(description=IN_LANG + "; the same as the quote's `reason`")]
    score: Score


class CarrierError(Out, kw_only=True):
    carrier: str
    carrier_name: Annotated[str, Meta(description=IN_LANG)] = ""
    carrier_name_ru: Annotated[str, Meta(description=RU_ALWAYS)] = ""
    kind: Literal["timeout", "error", "invalid_response", "unavailable"]
    message: Annotated[str, Meta(description="In English with the detail; in Russian, what kind of failure")]


class Rejection(Out, kw_only=True):
    carrier: str
    carrier_name: Annotated[str, Meta(description=IN_LANG)] = ""
    carrier_name_ru: Annotated[str, Meta(description=RU_ALWAYS)] = ""
    service: Annotated[str, Meta(description="`*`: every service of the carrier")]
    code: Annotated[
        RejectionCode,
        Meta(description="Why, for a client that words it itself; `carrier_refused`: `reason` is the carrier's own"),
    ] = RejectionCode.CARRIER_REFUSED
    reason: Annotated[str, Meta(description=IN_LANG + "; the carrier's own words as it gave them")]
    reason_ru: Annotated[str, Meta(description=RU_ALWAYS + "; the carrier's own words as it gave them")] = ""


class QuotedParcel(Out):
    weight_g: int
    length_cm: float
    width_cm: float
    height_cm: float


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
    reason: Annotated[str, Meta(description="Why `recommended`, or why none is; " + IN_LANG)]
    rejections: list[Rejection]
    errors: list[CarrierError]
    # What was quoted, so that the parcel booked from the quote is the parcel priced. Quotes kept
    # before these were written have none, and cannot be booked: a fresh quote is asked for.
    parcels: list[QuotedParcel] = msgspec.field(default_factory=list)
    declared_value: Money = "0.00"
    cod: bool = False
    lang: Annotated[Lang, ANSWER_LANG] = "en"
    # Empty in quotes kept before it was written: their reasons are English in every language.
    reason_ru: Annotated[str, Meta(description="`reason` in Russian whatever `lang` is")] = ""


class Suspension(Out):
    carrier: str
    lane: Annotated[str | None, Meta(description="RU-MOW>RU-NVS (ISO 3166-2); null: every lane")]
    since: datetime
    reason: Annotated[str, Meta(description=IN_LANG)]
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
    name: Annotated[str, Meta(description=IN_LANG)]
    name_ru: Annotated[str, Meta(description=RU_ALWAYS)]
    delivery_type: DeliveryType


class Carrier(Out, kw_only=True, omit_defaults=True):
    """`health` is written only when the engine reports it."""

    code: str
    name: Annotated[str, Meta(description=IN_LANG)]
    name_ru: Annotated[str, Meta(description=RU_ALWAYS)]
    kind: str
    demo: bool
    status: Annotated[str, Meta(description="`suspended` when suspended on every lane")]
    services: list[Service]
    health: CarrierHealth | None = None
    suspensions: Annotated[list[Suspension], Meta(description="In force, with their reasons")]


class Carriers(Out):
    carriers: list[Carrier]
    lang: Annotated[Lang, ANSWER_LANG] = "en"
