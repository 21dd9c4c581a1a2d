"""The answer of `POST /v1/allocations` (and `carrier-router allocate --json`), declared once as
msgspec Structs: router/allocation/codec.py builds them, msgspec writes them, and the OpenAPI
document is generated from them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta

from router.core.answers import FieldProblem, Money, Out


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
