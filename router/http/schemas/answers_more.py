"""The answers of `/v1/pickup-points` and `/v1/allocations`, as msgspec Structs for the OpenAPI
document (the quote's own parts are in router/http/schemas/answers.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta

from router.http.schemas.answers import CarrierError, FieldProblem, Money, Offer, Out


class Span(Out):
    """Local times HH:MM; closes <= opens runs past midnight; 24:00 is the day's end."""

    opens: str
    closes: str


Spans = list[Span]


class Day(Out):
    day: str
    spans: Spans
    breaks: Spans


class DayException(Out):
    date: date
    spans: Spans


class Hours(Out):
    text: str
    week: list[Day]
    exceptions: list[DayException]


class Limits(Out):
    max_weight_g: int | None
    max_sides_cm: list[float] | None
    cells_cm: list[list[float]]


class Site(Out):
    id: str = ""
    point_ids: list[str] = []
    networks: list[str] = []


class PickupPoint(Out):
    id: Annotated[str, Meta(description="network:code")]
    network: str
    carrier: Annotated[str, Meta(description="The carrier that delivers to this point")]
    type: Literal["pvz", "locker", "post", "store"]
    name: str
    address: str
    lat: float
    lon: float
    timezone: str
    status: Literal["active", "temporarily_closed", "closed"]
    open_now: bool
    hours: Hours
    features: list[Literal["fitting_room", "returns", "partial_handout", "cod", "card"]]
    limits: Limits
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str = ""
    site: Site | None = None
    distance_km: float = 0.0
    site_id: str = ""
    offer: Annotated[Offer | None, Meta(description="With a parcel and origin: the carrier's offer to this point")] = (
        None
    )


class PickupPointList(Out):
    count: int
    points: Annotated[list[PickupPoint], Meta(description="Nearest first")]
    errors: list[CarrierError]


class Geometry(Out):
    type: Literal["Point"]
    coordinates: list[float]


class MapProperties(Out):
    kind: Literal["cluster", "site"]
    count: int
    points: list[str] = []
    networks: list[str] = []


class MapFeature(Out):
    type: Literal["Feature"]
    id: str
    geometry: Geometry
    properties: MapProperties


class PickupPointMap(Out):
    type: Literal["FeatureCollection"]
    zoom: Annotated[int, Meta(description="The zoom cells were drawn for; lower than asked for a box too big")]
    total: int
    features: list[MapFeature]


class AllocationCost(Out):
    total_cost: Money
    objective: Money
    served: int
    unserved: int


class Assignment(Out):
    order_id: str
    warehouse: str
    carrier: str
    service: str
    offer_id: str
    price: Money
    days: int
    eta_max_date: date


class Unserved(Out):
    order_id: str
    reason: Literal["place", "no_option", "excluded", "deadline", "capacity"]
    detail: str


class Discount(Out):
    carrier: str
    parcels: int
    month_parcels: int
    percent: str
    amount: Money


class RejectedLine(Out):
    line: int
    errors: list[FieldProblem]


class Plan(Out):
    status: Annotated[
        Literal["OPTIMAL", "FEASIBLE", "GREEDY"],
        Meta(description="FEASIBLE: stopped by the time limit, see gap; GREEDY: nothing better than greedy in time"),
    ]
    method: Literal["min-cost-flow", "cp-sat"]
    total_cost: Money
    objective: Annotated[Money, Meta(description="total_cost plus day_value × transit days")]
    bound: Annotated[Money, Meta(description="Proven lower bound on the objective")]
    gap: Annotated[float, Meta(description="(objective − bound) / objective; 0 when proved optimal")]
    wall_time_ms: float
    served: int
    assignments: list[Assignment]
    unserved: list[Unserved]
    discounts: list[Discount]
    greedy: Annotated[AllocationCost, Meta(description="Each order in turn takes its cheapest option with room left")]
    saving: Annotated[Money, Meta(description="greedy.total_cost − total_cost; compare served counts if they differ")]
    rejected: Annotated[
        list[RejectedLine], Meta(description="NDJSON order lines left out, by line number; the others are planned")
    ]
