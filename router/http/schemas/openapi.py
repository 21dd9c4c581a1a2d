"""The OpenAPI 3.1 document. A test keeps it in step with the routes and validates real answers against it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from router.core.codec import dumps
from router.core.models import PriceLineKind
from router.integrations.retailcrm import openapi as retailcrm_openapi

MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": 'Roubles with kopecks, e.g. "1234.50"'}
MONEY_IN = {
    "oneOf": [{"type": "string"}, {"type": "number", "minimum": 0}],
    "description": "Roubles; a string keeps it exact",
}
DATE = {"type": "string", "format": "date"}
NULLABLE_STRING = {"type": ["string", "null"]}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


OUTCOME_ROW = {"description": "An outcome row, read as OutcomeIn; anything else is a bad row, reported"}


def obj(properties: dict[str, Any], required: list[str] | None = None, extra: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": extra}
    if required:
        schema["required"] = required
    return schema


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": ref("Problem")}}}


ALLOCATION_HEADER: dict[str, Any] = {
    "warehouses": {"type": "array", "items": ref("Warehouse"), "minItems": 1, "maxItems": 100},
    "capacities": {
        "type": "array",
        "description": "Parcels a carrier collects from a warehouse today; absent: no limit",
        "items": obj(
            {
                "carrier": {"type": "string"},
                "warehouse": {"type": "string"},
                "max_parcels": {"type": "integer", "minimum": 0},
            },
            ["carrier", "warehouse", "max_parcels"],
        ),
    },
    "tiers": {
        "type": "array",
        "description": "Volume discounts: percent off a carrier's price today once its month reaches min_parcels",
        "items": obj(
            {"carrier": {"type": "string"}, "min_parcels": {"type": "integer", "minimum": 0}, "percent": MONEY_IN},
            ["carrier", "min_parcels", "percent"],
        ),
    },
    "month_to_date": {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 0},
        "description": "Parcels sent with each carrier this month before today",
    },
    "day_value": {**MONEY_IN, "description": "RUB per business day in transit added to the objective; default 0"},
    "ship_at": {"type": "string", "format": "date-time"},
    "time_limit_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 60, "description": "Default 10"},
    "method": {
        "type": "string",
        "enum": ["auto", "flow", "cp-sat"],
        "description": "auto: min-cost flow unless discount tiers apply",
    },
}


SCHEMAS: dict[str, Any] = {
    "LocationIn": {
        "oneOf": [
            {"type": "string", "maxLength": 200, "description": "A city name, Russian or Latin"},
            obj(
                {
                    "country": {"type": "string", "description": "ISO 3166-1 alpha-2", "maxLength": 200},
                    "city": {"type": "string", "maxLength": 200},
                    "postal_code": {"type": "string", "maxLength": 200},
                    "address": {"type": "string", "maxLength": 200},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "lon": {"type": "number", "minimum": -180, "maximum": 180},
                }
            ),
        ]
    },
    "Parcel": obj(
        {
            "weight_g": {"type": "integer", "exclusiveMinimum": 0, "maximum": 1_000_000},
            "length_cm": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
            "width_cm": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
            "height_cm": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000},
        },
        ["weight_g", "length_cm", "width_cm", "height_cm"],
    ),
    "Policy": {
        "oneOf": [
            {"type": "string", "enum": ["cheapest", "fastest", "balanced", "deadline"]},
            obj(
                {
                    "kind": {"type": "string", "enum": ["cheapest", "fastest", "balanced", "deadline"]},
                    "day_value": MONEY_IN,
                    "deadline": DATE,
                    "only": {"type": "array", "items": {"type": "string"}},
                    "exclude": {"type": "array", "items": {"type": "string"}},
                    "min_on_time_rate": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "Recommend only offers whose learned on-time rate reaches this",
                    },
                    "probability": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "description": "deadline policy: the learned chance of arriving by the deadline must reach this",
                    },
                }
            ),
        ]
    },
    "QuoteRequest": obj(
        {
            "origin": ref("LocationIn"),
            "destination": ref("LocationIn"),
            "parcels": {"type": "array", "items": ref("Parcel"), "minItems": 1, "maxItems": 50},
            "declared_value": MONEY_IN,
            "cod": {"type": "boolean"},
            "ship_at": {"type": "string", "format": "date-time"},
            "policy": ref("Policy"),
        },
        ["origin", "destination", "parcels"],
    ),
    "Place": obj(
        {
            "country": {"type": "string"},
            "city": NULLABLE_STRING,
            "region": NULLABLE_STRING,
            "postal_code": NULLABLE_STRING,
            "address": NULLABLE_STRING,
            "lat": {"type": "number"},
            "lon": {"type": "number"},
            "timezone": {"type": "string"},
        },
        ["country", "city", "region", "lat", "lon", "timezone"],
    ),
    "PriceLine": obj(
        {
            "kind": {"type": "string", "enum": [k.value for k in PriceLineKind]},
            "label": {"type": "string"},
            "amount": MONEY,
        },
        ["kind", "label", "amount"],
    ),
    "Price": obj(
        {
            "total": MONEY,
            "currency": {"type": "string"},
            "breakdown": {"type": "array", "items": ref("PriceLine"), "description": "Always sums to total"},
        },
        ["total", "currency", "breakdown"],
    ),
    "Eta": obj(
        {
            "min_days": {"type": "integer", "minimum": 0, "description": "Business days"},
            "max_days": {"type": "integer", "minimum": 0},
            "ship_date": DATE,
            "min_date": DATE,
            "max_date": DATE,
        },
        ["min_days", "max_days", "ship_date", "min_date", "max_date"],
    ),
    "Offer": obj(
        {
            "id": {"type": "string"},
            "carrier": {"type": "string"},
            "carrier_name": {"type": "string"},
            "service": {"type": "string"},
            "service_name": {"type": "string"},
            "delivery_type": {"type": "string", "enum": ["courier", "pickup"]},
            "price": ref("Price"),
            "eta": ref("Eta"),
            "chargeable_weight_g": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["cheapest", "fastest", "recommended"]}},
            "learned": {
                "oneOf": [ref("OfferLearned"), {"type": "null"}],
                "description": "What delivery history says about this offer; null without history",
            },
            "stale": {
                "type": "boolean",
                "description": "Present (true) only when the carrier failed and this is its last good answer for "
                "the same lane; the carrier's error is in `errors`",
            },
            "as_of": {"type": "string", "format": "date-time", "description": "When a stale offer was made"},
        },
        [
            "id",
            "carrier",
            "carrier_name",
            "service",
            "service_name",
            "delivery_type",
            "price",
            "eta",
            "chargeable_weight_g",
            "tags",
        ],
    ),
    "Recommendation": obj(
        {
            "offer_id": {"type": "string"},
            "policy": {"type": "string"},
            "reason": {"type": "string"},
            "score": obj(
                {"price": MONEY, "days": {"type": "integer"}, "day_value": MONEY, "total": MONEY},
                ["price", "days", "day_value", "total"],
            ),
        },
        ["offer_id", "policy", "reason", "score"],
    ),
    "CarrierError": obj(
        {
            "carrier": {"type": "string"},
            "kind": {"type": "string", "enum": ["timeout", "error", "invalid_response", "unavailable"]},
            "message": {"type": "string"},
        },
        ["carrier", "kind", "message"],
    ),
    "Rejection": obj(
        {"carrier": {"type": "string"}, "service": {"type": "string"}, "reason": {"type": "string"}},
        ["carrier", "service", "reason"],
    ),
    "Quote": obj(
        {
            "quote_id": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "expires_at": {"type": "string", "format": "date-time"},
            "origin": ref("Place"),
            "destination": ref("Place"),
            "offers": {"type": "array", "items": ref("Offer")},
            "recommended": {"oneOf": [ref("Recommendation"), {"type": "null"}]},
            "cheapest": NULLABLE_STRING,
            "fastest": NULLABLE_STRING,
            "reason": {"type": "string"},
            "rejections": {"type": "array", "items": ref("Rejection")},
            "errors": {"type": "array", "items": ref("CarrierError")},
        },
        [
            "quote_id",
            "created_at",
            "expires_at",
            "origin",
            "destination",
            "offers",
            "recommended",
            "cheapest",
            "fastest",
            "reason",
            "rejections",
            "errors",
        ],
    ),
    "Carrier": obj(
        {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "demo": {"type": "boolean"},
            "status": {"type": "string", "description": "`suspended` when suspended on every lane"},
            "suspensions": {"type": "array", "items": ref("Suspension"), "description": "In force, with their reasons"},
            "health": obj(
                {
                    "breaker": {
                        "type": ["string", "null"],
                        "enum": ["closed", "open", "half_open", None],
                        "description": "null for a carrier without a breaker (a rate card)",
                    },
                    "window": obj(
                        {
                            "calls": {"type": "integer", "minimum": 0},
                            "error_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                            "p50_ms": {"type": ["number", "null"], "minimum": 0},
                            "p99_ms": {"type": ["number", "null"], "minimum": 0},
                        },
                        ["calls", "error_rate", "p50_ms", "p99_ms"],
                    ),
                    "stale_served": {"type": "integer", "minimum": 0},
                    "retries": {"type": "integer", "minimum": 0},
                },
                ["breaker", "window", "stale_served", "retries"],
            ),
            "services": {
                "type": "array",
                "items": obj(
                    {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "delivery_type": {"type": "string", "enum": ["courier", "pickup"]},
                    },
                    ["code", "name", "delivery_type"],
                ),
            },
        },
        ["code", "name", "kind", "demo", "status", "services"],
        extra=True,
    ),
    "OutcomeEnd": {
        "oneOf": [
            {"type": "string", "description": "A region (RU-48: country and geonames admin1 code) or 'lat,lon'"},
            obj({"lat": {"type": "number"}, "lon": {"type": "number"}}, ["lat", "lon"]),
            obj({"country": {"type": "string"}, "region": {"type": "string"}}, ["region"]),
        ]
    },
    "OutcomeIn": obj(
        {
            "shipment_id": {"type": ["string", "integer"], "description": "Imports are idempotent by this id"},
            "carrier": {"type": "string"},
            "service": {"type": "string"},
            "origin": ref("OutcomeEnd"),
            "destination": ref("OutcomeEnd"),
            "handed_over_at": {"type": "string", "description": "ISO 8601 date or date-time"},
            "promised_date": {"type": ["string", "null"], "format": "date"},
            "delivered_at": {"type": ["string", "null"], "description": "ISO 8601 date or date-time"},
            "status": {"type": "string", "enum": ["delivered", "lost", "damaged", "returned"]},
            "complaint": {"type": "boolean"},
        },
        ["shipment_id", "carrier", "service", "origin", "destination", "handed_over_at"],
        extra=True,
    ),
    "OfferLearned": obj(
        {
            "summary": {"type": "string", "description": 'e.g. "95 % delivered by 28 Nov"'},
            "p50_days": {"type": "integer", "minimum": 0, "description": "Business days from the ship date"},
            "p80_days": {"type": "integer", "minimum": 0},
            "p95_days": {"type": "integer", "minimum": 0},
            "p50_date": DATE,
            "p80_date": DATE,
            "p95_date": DATE,
            "on_time_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "failure_rate": {"type": "number", "minimum": 0, "maximum": 1, "description": "Lost or damaged"},
            "sample_size": {"type": "integer", "minimum": 0, "description": "Outcomes of this service on this lane"},
            "service_sample_size": {"type": "integer", "minimum": 0, "description": "On every lane"},
            "badge": {"type": "string", "enum": ["gold", "silver", "none"]},
            "badge_reason": {"type": "string", "description": "The figures and the rule behind the badge"},
            "arrival_probability": {
                "type": ["number", "null"],
                "minimum": 0,
                "maximum": 1,
                "description": "Of arriving by the policy's deadline, when it has one",
            },
        },
        [
            "summary",
            "p50_days",
            "p80_days",
            "p95_days",
            "p50_date",
            "p80_date",
            "p95_date",
            "on_time_rate",
            "failure_rate",
            "sample_size",
            "service_sample_size",
            "badge",
            "badge_reason",
            "arrival_probability",
        ],
    ),
    "Suspension": obj(
        {
            "carrier": {"type": "string"},
            "lane": {"type": ["string", "null"], "description": "RU-48>RU-53; null: every lane"},
            "since": {"type": "string", "format": "date-time"},
            "reason": {"type": "string"},
            "failures": {"type": "integer"},
            "window_days": {"type": "integer"},
            "first_day": DATE,
            "last_day": DATE,
            "kinds": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
        ["carrier", "lane", "since", "reason", "failures", "window_days", "first_day", "last_day", "kinds"],
    ),
    "OutcomeImport": obj(
        {
            "rows": {"type": "integer"},
            "imported": {"type": "integer"},
            "duplicates": {"type": "integer", "description": "Shipment ids imported before; not counted again"},
            "rejected": {"type": "integer", "description": "Rows with at least one problem; not imported"},
            "problems": {
                "type": "array",
                "items": obj(
                    {"line": {"type": "integer"}, "field": {"type": "string"}, "reason": {"type": "string"}},
                    ["line", "field", "reason"],
                ),
                "description": "The line in a CSV (header = line 1) or NDJSON body, or the position in a JSON list",
            },
            "problems_truncated": {"type": "boolean"},
            "suspended": {"type": "array", "items": ref("Suspension"), "description": "Suspensions this import caused"},
        },
        ["rows", "imported", "duplicates", "rejected", "problems", "problems_truncated", "suspended"],
    ),
    "Health": obj(
        {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "store": obj(
                {
                    "backend": {"type": "string"},
                    "ok": {"type": "boolean"},
                    "memory": {"oneOf": [ref("MemoryUse"), {"type": "null"}]},
                },
                ["backend", "ok"],
                extra=True,
            ),
            "carriers": {"type": "integer"},
        },
        ["status", "store", "carriers"],
        extra=True,
    ),
    "MemoryUse": {
        **obj(
            {
                "entries": {"type": "integer", "minimum": 0},
                "bytes": {"type": "integer", "minimum": 0},
                "max_bytes": {"type": "integer", "minimum": 0},
                "evicted": {"type": "integer", "minimum": 0},
            },
            ["entries", "bytes", "max_bytes", "evicted"],
        ),
        "description": "What this process holds in memory: the memory store, or memory standing in for Redis "
        "(null on Redis until it has). `evicted` counts entries dropped before they expired to stay under "
        "`max_bytes`: past that point a shop needs Redis",
    },
    "Spans": {
        "type": "array",
        "items": obj({"opens": {"type": "string"}, "closes": {"type": "string"}}, ["opens", "closes"]),
        "description": "Local times HH:MM; closes <= opens runs past midnight; 24:00 is the day's end",
    },
    "PickupPoint": obj(
        {
            "id": {"type": "string", "description": "network:code"},
            "network": {"type": "string"},
            "carrier": {"type": "string", "description": "The carrier that delivers to this point"},
            "type": {"type": "string", "enum": ["pvz", "locker", "post", "store"]},
            "name": {"type": "string"},
            "address": {"type": "string"},
            "city": NULLABLE_STRING,
            "region": NULLABLE_STRING,
            "postal_code": NULLABLE_STRING,
            "country": {"type": "string"},
            "lat": {"type": "number"},
            "lon": {"type": "number"},
            "timezone": {"type": "string"},
            "status": {"type": "string", "enum": ["active", "temporarily_closed", "closed"]},
            "open_now": {"type": "boolean"},
            "hours": obj(
                {
                    "text": {"type": "string"},
                    "week": {
                        "type": "array",
                        "items": obj(
                            {"day": {"type": "string"}, "spans": ref("Spans"), "breaks": ref("Spans")},
                            ["day", "spans", "breaks"],
                        ),
                    },
                    "exceptions": {
                        "type": "array",
                        "items": obj({"date": DATE, "spans": ref("Spans")}, ["date", "spans"]),
                    },
                },
                ["text", "week", "exceptions"],
            ),
            "features": {
                "type": "array",
                "items": {"type": "string", "enum": ["fitting_room", "returns", "partial_handout", "cod", "card"]},
            },
            "limits": obj(
                {
                    "max_weight_g": {"type": ["integer", "null"]},
                    "max_sides_cm": {"type": ["array", "null"], "items": {"type": "number"}},
                    "cells_cm": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
                },
                ["max_weight_g", "max_sides_cm", "cells_cm"],
            ),
            "site": obj(
                {
                    "id": {"type": "string"},
                    "point_ids": {"type": "array", "items": {"type": "string"}},
                    "networks": {"type": "array", "items": {"type": "string"}},
                }
            ),
            "distance_km": {"type": "number"},
            "site_id": {"type": "string"},
            "offer": {
                "oneOf": [ref("Offer"), {"type": "null"}],
                "description": "With a parcel and origin: the carrier's offer to this point",
            },
        },
        [
            "id",
            "network",
            "carrier",
            "type",
            "name",
            "address",
            "lat",
            "lon",
            "timezone",
            "status",
            "open_now",
            "hours",
            "features",
            "limits",
        ],
    ),
    "PickupPointList": obj(
        {
            "count": {"type": "integer"},
            "points": {"type": "array", "items": ref("PickupPoint"), "description": "Nearest first"},
            "errors": {"type": "array", "items": ref("CarrierError")},
        },
        ["count", "points", "errors"],
    ),
    "PickupPointMap": obj(
        {
            "type": {"const": "FeatureCollection"},
            "zoom": {
                "type": "integer",
                "description": "The zoom cells were drawn for; lower than asked for a box too big for one screen",
            },
            "total": {"type": "integer"},
            "features": {
                "type": "array",
                "items": obj(
                    {
                        "type": {"const": "Feature"},
                        "id": {"type": "string"},
                        "geometry": obj(
                            {"type": {"const": "Point"}, "coordinates": {"type": "array", "items": {"type": "number"}}},
                            ["type", "coordinates"],
                        ),
                        "properties": obj(
                            {
                                "kind": {"type": "string", "enum": ["cluster", "site"]},
                                "count": {"type": "integer"},
                                "points": {"type": "array", "items": {"type": "string"}},
                                "networks": {"type": "array", "items": {"type": "string"}},
                            },
                            ["kind", "count"],
                        ),
                    },
                    ["type", "id", "geometry", "properties"],
                ),
            },
        },
        ["type", "zoom", "total", "features"],
    ),
    "PlaceSuggestion": obj(
        {
            "id": {"type": "string", "description": "geonames id"},
            "name": {"type": "string", "description": "Latin name"},
            "name_ru": NULLABLE_STRING,
            "country": {"type": "string", "description": "ISO 3166-1 alpha-2"},
            "region": NULLABLE_STRING,
            "lat": {"type": "number"},
            "lon": {"type": "number"},
            "population": {"type": "integer"},
            "timezone": {"type": "string"},
        },
        ["id", "name", "name_ru", "country", "region", "lat", "lon", "population", "timezone"],
    ),
    "PlaceSuggestions": obj(
        {"places": {"type": "array", "items": ref("PlaceSuggestion"), "description": "Most populous first"}},
        ["places"],
    ),
    "Warehouse": obj({"code": {"type": "string"}, "location": ref("LocationIn")}, ["code", "location"]),
    "AllocationOrder": obj(
        {
            "id": {"type": ["string", "integer"]},
            "destination": ref("LocationIn"),
            "parcels": {"type": "array", "items": ref("Parcel"), "minItems": 1, "maxItems": 50},
            "declared_value": MONEY_IN,
            "cod": {"type": "boolean"},
            "warehouses": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Codes it may ship from; empty or absent: any warehouse",
            },
            "deadline": {**DATE, "description": "Latest acceptable delivery date"},
            "exclude": {"type": "array", "items": {"type": "string"}, "description": "Carriers it must not use"},
        },
        ["id", "destination", "parcels"],
    ),
    "AllocationHeader": obj(ALLOCATION_HEADER, ["warehouses"]),
    "AllocationRequest": obj(
        {
            **ALLOCATION_HEADER,
            "orders": {"type": "array", "items": ref("AllocationOrder"), "minItems": 1, "maxItems": 100_000},
        },
        ["warehouses", "orders"],
    ),
    "AllocationCost": obj(
        {"total_cost": MONEY, "objective": MONEY, "served": {"type": "integer"}, "unserved": {"type": "integer"}},
        ["total_cost", "objective", "served", "unserved"],
    ),
    "Plan": obj(
        {
            "status": {
                "type": "string",
                "enum": ["OPTIMAL", "FEASIBLE", "GREEDY"],
                "description": (
                    "FEASIBLE: stopped by the time limit, see gap; GREEDY: nothing better than greedy was found in time"
                ),
            },
            "method": {"type": "string", "enum": ["min-cost-flow", "cp-sat"]},
            "total_cost": MONEY,
            "objective": {**MONEY, "description": "total_cost plus day_value × transit days"},
            "bound": {**MONEY, "description": "Proven lower bound on the objective"},
            "gap": {"type": "number", "description": "(objective − bound) / objective; 0 when proved optimal"},
            "wall_time_ms": {"type": "number"},
            "served": {"type": "integer"},
            "assignments": {
                "type": "array",
                "items": obj(
                    {
                        "order_id": {"type": "string"},
                        "warehouse": {"type": "string"},
                        "carrier": {"type": "string"},
                        "service": {"type": "string"},
                        "offer_id": {"type": "string"},
                        "price": MONEY,
                        "days": {"type": "integer"},
                        "eta_max_date": DATE,
                    },
                    ["order_id", "warehouse", "carrier", "service", "offer_id", "price", "days", "eta_max_date"],
                ),
            },
            "unserved": {
                "type": "array",
                "items": obj(
                    {
                        "order_id": {"type": "string"},
                        "reason": {
                            "type": "string",
                            "enum": ["place", "no_option", "excluded", "deadline", "capacity"],
                        },
                        "detail": {"type": "string"},
                    },
                    ["order_id", "reason", "detail"],
                ),
            },
            "discounts": {
                "type": "array",
                "items": obj(
                    {
                        "carrier": {"type": "string"},
                        "parcels": {"type": "integer"},
                        "month_parcels": {"type": "integer"},
                        "percent": {"type": "string"},
                        "amount": MONEY,
                    },
                    ["carrier", "parcels", "month_parcels", "percent", "amount"],
                ),
            },
            "greedy": {
                **ref("AllocationCost"),
                "description": "Each order in turn takes its cheapest option with room left",
            },
            "saving": {**MONEY, "description": "greedy.total_cost − total_cost; compare served counts if they differ"},
            "rejected": {
                "type": "array",
                "description": "NDJSON order lines left out, by line number; the other orders are planned",
                "items": obj(
                    {
                        "line": {"type": "integer"},
                        "errors": {
                            "type": "array",
                            "items": obj(
                                {"path": {"type": "string"}, "message": {"type": "string"}}, ["path", "message"]
                            ),
                        },
                    },
                    ["line", "errors"],
                ),
            },
        },
        [
            "status",
            "method",
            "total_cost",
            "objective",
            "bound",
            "gap",
            "wall_time_ms",
            "served",
            "assignments",
            "unserved",
            "discounts",
            "greedy",
            "saving",
            "rejected",
        ],
    ),
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; `errors` names each bad field by its path",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": obj({"path": {"type": "string"}, "message": {"type": "string"}}, ["path", "message"]),
            },
        },
        "required": ["type", "title", "status"],
    },
}

PATHS: dict[str, Any] = {
    "/v1/quotes": {
        "post": {
            "operationId": "createQuote",
            "summary": "Quote every carrier for a shipment and recommend one",
            "description": "Identical requests within the cache TTL answer 200 with the same quote; a new quote is 201.",
            "requestBody": {"required": True, **json_body(ref("QuoteRequest"))},
            "responses": {
                "201": {"description": "A new quote", **json_body(ref("Quote"))},
                "200": {"description": "The same request's quote, from cache", **json_body(ref("Quote"))},
                "400": problem_response("Malformed request"),
                "413": problem_response("Body too large"),
                "422": problem_response("A field is wrong; `errors` names each"),
                "503": problem_response("Quotes cannot be stored right now"),
            },
        }
    },
    "/v1/quotes/{quote_id}": {
        "get": {
            "operationId": "getQuote",
            "summary": "A quote unchanged, while its price is guaranteed",
            "parameters": [{"name": "quote_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The quote as first answered", **json_body(ref("Quote"))},
                "404": problem_response("No such quote"),
                "410": problem_response("The quote's guarantee has expired"),
                "503": problem_response("Redis is away and this worker does not hold the quote; retry shortly"),
            },
        }
    },
    "/v1/carriers": {
        "get": {
            "operationId": "listCarriers",
            "summary": "Carriers, their services and status",
            "description": "`health` gives each carrier's breaker state (shared by every worker) and this worker's "
            "error rate and latency over its last 256 calls to the carrier.",
            "responses": {
                "200": {
                    "description": "Carriers",
                    **json_body(obj({"carriers": {"type": "array", "items": ref("Carrier")}}, ["carriers"])),
                }
            },
        }
    },
    "/v1/outcomes": {
        "post": {
            "operationId": "importOutcomes",
            "summary": "Delivery results, to learn each carrier's real transit times and reliability",
            "description": (
                "A CSV file with a header line (text/csv), one JSON object a line (application/x-ndjson), "
                'or {"outcomes": [...]} (application/json); up to 8 MiB, larger files through '
                "`carrier-router outcomes import`. Rows are idempotent by shipment_id. Bad rows are "
                "listed with their line and the reason; the rest are imported."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    # Rows are not refused at this level: one that does not read as an OutcomeIn
                    # is listed in `problems` and the others are imported.
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                obj({"outcomes": {"type": "array", "items": OUTCOME_ROW}}, ["outcomes"]),
                                {"type": "array", "items": OUTCOME_ROW},
                            ]
                        }
                    },
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            },
            "responses": {
                "200": {"description": "What was imported and what was not", **json_body(ref("OutcomeImport"))},
                "413": problem_response("Body too large"),
                "422": problem_response("The body cannot be read as outcomes"),
                "503": problem_response("The store does not answer; nothing more was imported"),
            },
        }
    },
    "/v1/allocations": {
        "post": {
            "operationId": "createAllocation",
            "summary": "Route a day's orders across warehouses and carriers at the lowest total cost",
            "description": (
                "Each order is quoted from each of its warehouses; one offer per order is chosen under the "
                "carriers' daily capacities and volume-discount tiers (OR-Tools: min-cost flow, or CP-SAT when "
                "tiers apply), beside the greedy cheapest-per-order plan. Big batches: send "
                "`application/x-ndjson` whose first line is an AllocationHeader and every further line one "
                "AllocationOrder; a bad order line is listed in `rejected` with its line number and the rest "
                "are planned. Up to 100,000 orders and 32 MiB."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": ref("AllocationRequest")},
                    "application/x-ndjson": {
                        "schema": {
                            "type": "string",
                            "description": "Line 1: an AllocationHeader; then one AllocationOrder per line",
                        }
                    },
                },
            },
            "responses": {
                "200": {"description": "The plan", **json_body(ref("Plan"))},
                "400": problem_response("Malformed JSON"),
                "413": problem_response("Body too large"),
                "422": problem_response("A field is wrong; `errors` names each"),
            },
        }
    },
    "/healthz": {
        "get": {
            "operationId": "health",
            "summary": "Liveness and the store's state",
            "responses": {
                "200": {
                    "description": "Answering; `degraded` while Redis is away and memory stands in",
                    **json_body(ref("Health")),
                },
            },
        }
    },
    "/v1/pickup-points": {
        "get": {
            "operationId": "listPickupPoints",
            "summary": "Pickup points of every network: nearest first (lat, lon) or a clustered map view (bbox, zoom)",
            "parameters": [
                {"name": name, "in": "query", "schema": schema, "description": description}
                for name, schema, description in (
                    ("lat", {"type": "number", "minimum": -90, "maximum": 90}, "With lon: list nearest first"),
                    ("lon", {"type": "number", "minimum": -180, "maximum": 180}, ""),
                    ("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, ""),
                    ("radius_km", {"type": "number", "minimum": 0}, ""),
                    ("bbox", {"type": "string"}, "west,south,east,north; west > east crosses 180 degrees"),
                    (
                        "zoom",
                        {"type": "integer", "minimum": 0, "maximum": 20, "default": 10},
                        "Map zoom for clustering",
                    ),
                    ("network", {"type": "string"}, "Comma-separated networks"),
                    ("type", {"type": "string"}, "Comma-separated: pvz, locker, post, store"),
                    ("features", {"type": "string"}, "Comma-separated; all required"),
                    (
                        "open_at",
                        {"type": "string"},
                        "'now', an ISO time with offset, or a naive time meaning local time at each point",
                    ),
                    ("weight_g", {"type": "integer", "minimum": 1}, "Only points that take the parcel"),
                    ("length_cm", {"type": "number"}, ""),
                    ("width_cm", {"type": "number"}, ""),
                    ("height_cm", {"type": "number"}, ""),
                    (
                        "origin",
                        {"type": "string"},
                        "City, postal code or 'lat,lon': price each point from here (needs weight_g)",
                    ),
                )
            ],
            "responses": {
                "200": {
                    "description": "PickupPointList for lat/lon, PickupPointMap (GeoJSON) for bbox",
                    **json_body({"oneOf": [ref("PickupPointList"), ref("PickupPointMap")]}),
                },
                "422": problem_response("A parameter is wrong; `errors` names each"),
            },
        }
    },
    "/v1/pickup-points/{point_id}": {
        "get": {
            "operationId": "getPickupPoint",
            "summary": "One pickup point with its hours, limits and the site it shares",
            "parameters": [{"name": "point_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "The point", **json_body(ref("PickupPoint"))},
                "404": problem_response("No such point"),
            },
        }
    },
    "/v1/places": {
        "get": {
            "operationId": "searchPlaces",
            "summary": "Cities whose Russian or Latin name starts with q, for autocomplete",
            "parameters": [
                {
                    "name": "q",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 8},
                },
                {
                    "name": "country",
                    "in": "query",
                    "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                    "description": "ISO 3166-1 alpha-2",
                },
            ],
            "responses": {
                "200": {"description": "Suggestions", **json_body(ref("PlaceSuggestions"))},
                "422": problem_response("A parameter is wrong; `errors` names each"),
            },
        }
    },
    "/widget.js": {
        "get": {
            "operationId": "widgetScript",
            "summary": "The embeddable widget: one script tag, or CarrierRouter.mount(element, options)",
            "responses": {
                "200": {
                    "description": "The script",
                    "content": {"application/javascript": {"schema": {"type": "string"}}},
                },
                "503": problem_response("The widget has not been built (scripts/build-widget)"),
            },
        }
    },
    "/widget/assets/{name}": {
        "get": {
            "operationId": "widgetAsset",
            "summary": "A chunk the widget loads on demand (the map); names carry a content hash",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {
                    "description": "The chunk",
                    "content": {
                        "application/javascript": {"schema": {"type": "string"}},
                        "text/css": {"schema": {"type": "string"}},
                    },
                },
                "404": problem_response("No such asset"),
                "503": problem_response("The widget has not been built (scripts/build-widget)"),
            },
        }
    },
    "/widget/demo": {
        "get": {
            "operationId": "widgetDemo",
            "summary": "A demo shop page with the widget in its checkout form",
            "parameters": [
                {
                    "name": "lang",
                    "in": "query",
                    "schema": {"type": "string", "default": "ru"},
                    "description": "ru or en; anything else is ru",
                },
                {
                    "name": "key",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "A publishable key for the tag, when the service has keys",
                },
            ],
            "responses": {"200": {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}},
        }
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus figures of this worker",
            "responses": {
                "200": {
                    "description": "Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3.1", **json_body({"type": "object"})}},
        }
    },
}


# The CRM's callbacks are documented beside their handlers.
SCHEMAS.update(retailcrm_openapi.SCHEMAS)
PATHS.update(retailcrm_openapi.PATHS)


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "carrier-router",
            "version": "1.0.0",
            "description": "Quote every carrier at once, pick the best, keep the price through checkout.",
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=dumps(document()), content_type="application/json")
