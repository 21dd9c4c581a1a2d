"""The answers only the HTTP API gives (problems, health, outcome reports, place suggestions),
declared as msgspec Structs: handlers encode them, and the OpenAPI components are generated from
them (router/http/schemas/openapi.py).

The answers for domain types are declared beside the types, so that the rooms below HTTP build
and encode them too: quotes and carriers in router/core/answers.py, pickup points in
pickup_points/answers.py, allocation plans in router/allocation/answers.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from router.core.answers import Count, FieldProblem, Out, Suspension

__all__ = [
    "FieldProblem",
    "Health",
    "MemoryUse",
    "NetworkSync",
    "OutcomeImport",
    "OutcomeProblem",
    "PlaceSuggestion",
    "PlaceSuggestions",
    "Problem",
    "StoreHealth",
]


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


class NetworkSync(msgspec.Struct):
    """A network synced from its carrier's API. A failed sync keeps the network it had."""

    synced_at: Annotated[datetime | None, Meta(description="When the points this worker serves were saved")]
    last_error: Annotated[str | None, Meta(description="Why the latest sync failed; null once one succeeds")]
    failed_at: datetime | None


class Health(msgspec.Struct):
    status: Literal["ok", "degraded"]
    store: StoreHealth
    carriers: int
    networks: Annotated[
        dict[str, NetworkSync],
        Meta(description="Each network synced on a schedule (CARRIER_ROUTER_POINTS_SYNC_S), by name"),
    ] = msgspec.field(default_factory=dict)


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
    region: Annotated[
        str | None,
        Meta(description="ISO 3166-2 (RU-MOW); the country and its GeoNames admin1 code where none is known"),
    ]
    region_name: Annotated[str | None, Meta(description="English name of a region with an ISO 3166-2 code")]
    region_name_ru: str | None
    lat: float
    lon: float
    population: int
    timezone: str


class PlaceSuggestions(Out):
    places: Annotated[
        list[PlaceSuggestion],
        Meta(
            description="Cities whose own name starts with q first, then those found by another spelling; most populous first in each"
        ),
    ]
