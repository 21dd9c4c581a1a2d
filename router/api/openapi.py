"""The OpenAPI 3.1 document. A test keeps it in step with the routes and validates real answers against it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from router.codec import dumps
from router.models import PriceLineKind

MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "Roubles with kopecks, e.g. \"1234.50\""}
MONEY_IN = {
    "oneOf": [{"type": "string"}, {"type": "number", "minimum": 0}],
    "description": "Roubles; a string keeps it exact",
}
DATE = {"type": "string", "format": "date"}
NULLABLE_STRING = {"type": ["string", "null"]}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], required: list[str] | None = None, extra: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": extra}
    if required:
        schema["required"] = required
    return schema


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": ref("Problem")}}}


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
            "status": {"type": "string"},
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
    "Health": obj(
        {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "store": obj({"backend": {"type": "string"}, "ok": {"type": "boolean"}}, ["backend", "ok"], extra=True),
            "carriers": {"type": "integer"},
        },
        ["status", "store", "carriers"],
        extra=True,
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
            },
        }
    },
    "/v1/carriers": {
        "get": {
            "operationId": "listCarriers",
            "summary": "Carriers, their services and status",
            "responses": {
                "200": {
                    "description": "Carriers",
                    **json_body(obj({"carriers": {"type": "array", "items": ref("Carrier")}}, ["carriers"])),
                }
            },
        }
    },
    "/healthz": {
        "get": {
            "operationId": "health",
            "summary": "Liveness and the store's state",
            "responses": {
                "200": {"description": "Healthy", **json_body(ref("Health"))},
                "503": {"description": "The store does not answer", **json_body(ref("Health"))},
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
