"""Every route of the service, registered and documented from one table.

Each row of `OPERATIONS` is both an aiohttp route and an OpenAPI operation: its request and
answer types are the msgspec Structs the handler decodes with, so the document cannot drift
from the code. The CRM's callbacks are registered here and documented beside their handlers.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web

from pickup_points import answers as points
from router.allocation import answers as allocation
from router.core import answers as domain
from router.core.codec import dumps
from router.http import appkeys as keys
from router.http.handlers import (
    allocations,
    carriers,
    health,
    outcomes,
    pickup_points,
    quotes,
    shipments,
    tracking,
    webhooks,
    widget,
)
from router.http.middlewares import observability
from router.http.middlewares.access import PUBLIC_PREFIXES, WIDGET_ROUTES
from router.http.schemas import answers, wire
from router.http.schemas.openapi import Answer, Operation, document, json, path_param, pdf, problem, text
from router.http.schemas.shipments import LabelQuery, ManifestQuery, ShipmentQuery
from router.integrations.retailcrm import handlers as retailcrm
from router.integrations.retailcrm import openapi as retailcrm_openapi
from router.shipping import model as shipping
from router.shipping.model import LabelsRequest, PickupRequest, ShipmentRequest
from router.tracking.model import EventsRequest
from router.tracking.public import Tracking
from router.webhooks import model as hooks
from router.webhooks.model import DeliveryQuery, ReplayRequest, WebhookRequest

_STR = {"type": "string"}
# What any operation that reads a JSON body may also answer.
BODY_ERRORS = {
    400: problem("Malformed JSON"),
    413: problem("Body too large"),
    415: problem("The body is not of a media type named here"),
}


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=_document_body(), content_type="application/json")


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST", "/v1/quotes", quotes.create_quote, "createQuote",
        "Quote every carrier for a shipment and recommend one",
        description="Identical requests within the cache TTL answer 200 with the same quote; a new quote is 201.",
        body={"application/json": wire.QuoteRequest},
        answers={
            201: json(domain.Quote, "A new quote"),
            200: json(domain.Quote, "The same request's quote, from cache"),
            400: problem("Malformed request"),
            413: problem("Body too large"),
            415: problem("The body is not of a media type named here"),
            422: problem("A field is wrong; `errors` names each"),
            503: problem("Quotes cannot be stored right now"),
        },
    ),
    Operation(
        "GET", "/v1/quotes/{quote_id}", quotes.get_quote, "getQuote",
        "A quote unchanged, while its price is guaranteed",
        params=(path_param("quote_id"),),
        answers={
            200: json(domain.Quote, "The quote as first answered"),
            404: problem("No such quote"),
            409: problem("The quote's recommended (or only) offers are estimates, never held: ask for a fresh quote"),
            410: problem("The quote's guarantee has expired"),
            503: problem("Redis is away and this worker does not hold the quote; retry shortly"),
        },
    ),
    Operation(
        "GET", "/v1/carriers", carriers.list_carriers, "listCarriers", "Carriers, their services and status",
        description="`health` gives each carrier's breaker state (shared by every worker) and this worker's "
        "error rate and latency over its last 256 calls to the carrier.",
        answers={200: json(domain.Carriers, "Carriers")},
    ),
    Operation(
        "POST", "/v1/allocations", allocations.create_allocation, "createAllocation",
        "Route a day's orders across warehouses and carriers at the lowest total cost",
        description="Each order is quoted from each of its warehouses; one offer per order is chosen under the "
        "carriers' daily capacities and volume-discount tiers (OR-Tools: min-cost flow, or CP-SAT when tiers "
        "apply), beside the greedy cheapest-per-order plan. Big batches: send `application/x-ndjson` whose "
        "first line is an AllocationHeader and every further line one OrderIn; a bad order line is listed in "
        "`rejected` with its line number and the rest are planned. Up to 100,000 orders; a JSON body up to "
        "16 MiB, an NDJSON body up to 32 MiB.",
        body={
            "application/json": wire.AllocationRequest,
            "application/x-ndjson": {
                "type": "array",
                "description": "One JSON document a line: an AllocationHeader, then one OrderIn a line",
                "prefixItems": [{"$ref": "#/components/schemas/AllocationHeader"}],
                # A line that does not read as an OrderIn is listed in `rejected`, not refused.
                "items": {"description": "An OrderIn; any other line is listed in `rejected`"},
                "minItems": 2,
            },
        },
        answers={
            200: json(allocation.Plan, "The plan"),
            400: problem("Malformed JSON"),
            413: problem("Body too large"),
            415: problem("The body is not of a media type named here"),
            422: problem("A field is wrong; `errors` names each"),
        },
    ),
    Operation(
        "POST", "/v1/outcomes", outcomes.import_outcomes, "importOutcomes",
        "Delivery results, to learn each carrier's real transit times and reliability",
        description="A CSV file with a header line (text/csv), one JSON object a line (application/x-ndjson), "
        'or {"outcomes": [...]} (application/json); up to 8 MiB (JSON: 1 MiB), larger files through '
        "`carrier-router outcomes import`. Rows are idempotent by shipment_id. Text is UTF-8 (a BOM is "
        "fine) or Windows-1251. Bad rows are listed with their line and the reason, a shipment_id repeated "
        "in the body among them; the rest are imported (a body of only bad rows imports none and lists "
        "them). After 1000 rejected rows the import stops, and a last problem says from which line on "
        "nothing was read.",
        body={
            "application/json": (wire.OutcomesIn, list[Any]),
            "text/csv": wire.OUTCOMES_CSV,
            "application/x-ndjson": wire.OUTCOMES_NDJSON,
        },
        answers={
            200: json(answers.OutcomeImport, "What was imported and what was not"),
            413: problem("Body too large"),
            415: problem("The body is not of a media type named here"),
            422: problem("The body is not of the declared shape: not JSON, no non-blank line, or no CSV header"),
            503: problem("The store does not answer; nothing more was imported"),
        },
    ),
    Operation(
        "GET", "/v1/pickup-points", pickup_points.list_points, "listPickupPoints",
        "Pickup points of every network: nearest first (lat, lon) or a clustered map view (bbox, zoom)",
        query=wire.PickupPointQuery,
        answers={
            200: json(
                (points.PickupPointList, points.PickupPointMap),
                "PickupPointList for lat/lon, PickupPointMap (GeoJSON) for bbox",
            ),
            422: problem("A parameter is wrong; `errors` names each"),
        },
    ),
    Operation(
        "GET", "/v1/pickup-points/{point_id}", pickup_points.get_point, "getPickupPoint",
        "One pickup point with its hours, limits and the site it shares",
        params=(path_param("point_id"),),
        answers={200: json(points.PickupPoint, "The point"), 404: problem("No such point")},
    ),
    Operation(
        "GET", "/v1/places", widget.list_places, "searchPlaces",
        "Cities whose Russian or Latin name starts with q, for autocomplete",
        query=wire.PlacesQuery,
        answers={
            200: json(answers.PlaceSuggestions, "Suggestions"),
            422: problem("A parameter is wrong; `errors` names each"),
        },
    ),
    Operation(
        "GET", "/widget.js", widget.widget_js, "widgetScript",
        "The embeddable widget: one script tag, or CarrierRouter.mount(element, options)",
        answers={
            200: text("application/javascript", "The script"),
            503: problem("The widget has not been built (scripts/build-widget)"),
        },
    ),
    Operation(
        "GET", "/widget/assets/{name}", widget.widget_asset, "widgetAsset",
        "A chunk the widget loads on demand (the map); names carry a content hash",
        params=(path_param("name"),),
        answers={
            200: Answer("The chunk", {"application/javascript": _STR, "text/css": _STR}),
            404: problem("No such asset"),
            503: problem("The widget has not been built (scripts/build-widget)"),
        },
    ),
    Operation(
        "GET", "/widget/demo", widget.demo_page, "widgetDemo",
        "A demo shop page with the widget in its checkout form",
        params=(
            {"name": "lang", "in": "query", "schema": {**_STR, "default": "ru"},
             "description": "ru or en; anything else is ru"},
            {"name": "key", "in": "query", "schema": _STR,
             "description": "A publishable key for the tag, when the service has keys"},
            {"name": "track", "in": "query", "schema": _STR,
             "description": "A tracking number to show in the page's tracking view"},
        ),
        answers={200: text("text/html", "The page")},
    ),
    Operation(
        "GET", "/healthz", health.healthz, "health", "Liveness and the store's state",
        answers={200: json(answers.Health, "Answering; `degraded` while Redis is away and memory stands in")},
    ),
    Operation(
        "GET", "/openapi.json", openapi_json, "openapi", "This document",
        answers={200: json({"type": "object"}, "OpenAPI 3.1")},
    ),
    Operation(
        "GET", "/metrics", observability.metrics_handler, "metrics", "Prometheus figures of this worker",
        answers={200: text("text/plain", "Prometheus text format")},
    ),
    Operation(
        "POST", "/v1/shipments", shipments.create_shipment, "createShipment",
        "Book an offer of a held quote with its carrier",
        description="The price booked is the price quoted. `Idempotency-Key` is required: the same key and body "
        "give the same shipment and one carrier order however many times, and however concurrently, they are "
        "sent (a repeat answers with `Idempotent-Replayed: true`); the same key with another body is a 409. "
        "The answer waits a few seconds for the carrier to decide: `booked` with its tracking number, `failed` "
        "with its errors field by field, or still `booking` (follow it with GET). A bad recipient phone, a "
        "pickup offer without its point, items heavier than the quoted parcel are 422 before any carrier is "
        "asked. An expired quote is 410; an estimate, or a quote too old to hold its parcels, 409.",
        body={"application/json": ShipmentRequest},
        params=({"name": "Idempotency-Key", "in": "header", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 255}},),
        answers={
            201: json(shipping.Shipment, "The shipment (the first answer, or its replay)"),
            400: problem("Malformed JSON"),
            404: problem("No such quote"),
            409: problem("The key was used with another body, or the quote holds no bookable price"),
            410: problem("The quote's guarantee has expired: quote again"),
            413: problem("Body too large"),
            415: problem("The body is not of a media type named here"),
            422: problem("A field (or the Idempotency-Key header) is wrong; `errors` names each"),
            503: problem("The records database or the store is away; retry with the same key"),
        },
    ),
    Operation(
        "GET", "/v1/shipments", shipments.list_shipments, "listShipments",
        "The caller's shipments, newest first",
        query=ShipmentQuery,
        answers={200: json(shipping.ShipmentPage, "A page"), 422: problem("A parameter is wrong")},
    ),
    Operation(
        "GET", "/v1/shipments/{shipment_id}", shipments.get_shipment, "getShipment",
        "One shipment, with every request made to its carrier",
        params=(path_param("shipment_id"),),
        answers={200: json(shipping.ShipmentDetail, "The shipment"), 404: problem("No such shipment of the caller's")},
    ),
    Operation(
        "POST", "/v1/shipments/{shipment_id}/cancel", shipments.cancel_shipment, "cancelShipment",
        "Cancel a shipment at its carrier",
        description="Refused with the carrier's reason once it has the parcel. Cancelling twice answers the "
        "cancelled shipment.",
        params=(path_param("shipment_id"),),
        answers={
            200: json(shipping.Shipment, "Cancelled"),
            404: problem("No such shipment of the caller's"),
            409: problem("Not cancellable: the carrier has the parcel, or booking is still in progress (Retry-After)"),
        },
    ),
    Operation(
        "GET", "/v1/shipments/{shipment_id}/label", shipments.shipment_label, "getShipmentLabel",
        "The shipment's label as PDF: the carrier's own where it prints them, ours otherwise",
        description="Ours is A6 with a Code 128 barcode of the tracking number, both addresses, the weight and "
        "the cash to collect, one label a parcel. `format=a4` puts four A6 labels on each A4 page.",
        params=(path_param("shipment_id"),),
        query=LabelQuery,
        answers={
            200: pdf("The label"),
            404: problem("No such shipment of the caller's"),
            409: problem("The carrier is still booking or still making the label (Retry-After)"),
            422: problem("The shipment is cancelled or failed and has no label, or a parameter is wrong"),
        },
    ),
    Operation(
        "POST", "/v1/labels", shipments.merge_labels, "mergeLabels",
        "Up to 500 shipments' labels as one PDF, in the order given",
        body={"application/json": LabelsRequest},
        answers={**BODY_ERRORS,
            200: pdf("The labels"),
            404: problem("One of the shipments is not the caller's"),
            409: problem("A carrier is still making a label (Retry-After)"),
            422: problem("A field is wrong, or a shipment has no label"),
        },
    ),
    Operation(
        "GET", "/v1/manifests", shipments.manifest, "getManifest",
        "A partner's manifest: the parcels booked for a day (from one warehouse), as CSV or PDF",
        query=ManifestQuery,
        answers={
            200: Answer("The manifest", {"text/csv": {"type": "string"}, "application/pdf": {"type": "string", "format": "binary"}}),
            404: problem("No carrier of this code is booked through this service"),
            422: problem("A parameter is wrong, or the carrier takes its orders through its API"),
        },
    ),
    Operation(
        "POST", "/v1/pickups", shipments.create_pickup, "createPickup",
        "Ask a carrier's courier to collect parcels from a warehouse on a day",
        description="A carrier with an API is asked (CDEK: an intake); a partner's pick-up is recorded, and its "
        "manifest says what to collect.",
        body={"application/json": PickupRequest},
        answers={**BODY_ERRORS,
            201: json(shipping.Pickup, "The pick-up"),
            404: problem("No such carrier, or one of the shipments is not the caller's"),
            409: problem("The carrier refused the pick-up"),
            422: problem("A field is wrong; `errors` names each"),
        },
    ),
    Operation(
        "POST", "/v1/pickups/{pickup_id}/cancel", shipments.cancel_pickup, "cancelPickup",
        "Call a pick-up off",
        params=(path_param("pickup_id"),),
        answers={
            200: json(shipping.Pickup, "Called off"),
            404: problem("No such pick-up of the caller's"),
            409: problem("The carrier would not call it off"),
        },
    ),
    Operation(
        "POST", "/v1/webhooks", webhooks.create_webhook, "createWebhook",
        "Tell a URL of the shop's what happens to its shipments",
        description="The answer carries the signing secret, shown this once. Each event is POSTed as JSON with "
        "`Carrier-Router-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the secret>` and "
        "`Carrier-Router-Event-Id`; delivered at least once (drop repeats by the event id), in order per shipment, "
        "retried with exponential backoff for 24 hours, then marked failed and replayable.",
        body={"application/json": WebhookRequest},
        answers={**BODY_ERRORS, 201: json(hooks.Webhook, "The endpoint, with its secret"), 409: problem("The key has as many endpoints as it may"), 422: problem("A field is wrong")},
    ),
    Operation(
        "GET", "/v1/webhooks", webhooks.list_webhooks, "listWebhooks", "The caller's webhook endpoints",
        answers={200: json(hooks.WebhookList, "Endpoints, without their secrets")},
    ),
    Operation(
        "DELETE", "/v1/webhooks/{webhook_id}", webhooks.delete_webhook, "deleteWebhook", "Stop telling an endpoint",
        params=(path_param("webhook_id"),),
        answers={204: Answer("Deleted", {}), 404: problem("No such webhook of the caller's")},
    ),
    Operation(
        "GET", "/v1/webhooks/{webhook_id}/deliveries", webhooks.webhook_deliveries, "listWebhookDeliveries",
        "Events sent to an endpoint, newest first, with every attempt",
        params=(path_param("webhook_id"),),
        query=DeliveryQuery,
        answers={
            200: json(hooks.DeliveryList, "Deliveries"),
            404: problem("No such webhook of the caller's"),
            422: problem("A parameter is wrong"),
        },
    ),
    Operation(
        "POST", "/v1/webhooks/{webhook_id}/replay", webhooks.replay_webhook, "replayWebhook",
        "Send failed deliveries (or the events named) again, in order",
        params=(path_param("webhook_id"),),
        body={"application/json": ReplayRequest},
        answers={
            **BODY_ERRORS,
            200: json(hooks.Replayed, "How many were sent again"),
            404: problem("No such webhook of the caller's"),
            422: problem("A field is wrong"),
        },
    ),
    Operation(
        "GET", "/v1/track/{tracking_number}", tracking.public_tracking, "trackParcel",
        "Where a parcel is, for its buyer: the history city by city and the expected dates",
        description="Nothing personal: no names, phones, addresses, prices or the shop's order. A publishable key "
        "may call it (the widget's tracking view).",
        params=(path_param("tracking_number"),),
        answers={200: json(Tracking, "The parcel's tracking"), 404: problem("No parcel with this number")},
    ),
    Operation(
        "POST", "/v1/shipments/{shipment_id}/events", tracking.add_events, "addShipmentEvents",
        "Tracking events of a partner without an API, as the shop or the partner's file tells them",
        description="Each event is kept once (by its code and time); the shipment's status is its latest event's "
        "by time, whatever the order they are sent in.",
        params=(path_param("shipment_id"),),
        body={"application/json": EventsRequest},
        answers={**BODY_ERRORS,
            200: json(shipping.ShipmentDetail, "The shipment with its history"),
            404: problem("No such shipment of the caller's"),
            422: problem("A field is wrong"),
        },
    ),
    Operation(
        "POST", "/v1/inbound/{carrier}/{token}", tracking.inbound, "carrierStatusCall",
        "A carrier's call (CDEK's ORDER_STATUS and PRINT_FORM webhooks); the service subscribes to them itself",
        description="The URL's token is the service's `CARRIER_ROUTER_INBOUND_TOKEN`: CDEK signs nothing. An order "
        "not booked here, or a print request not made here, is answered and ignored.",
        params=(path_param("carrier"), path_param("token")),
        body={"application/json": {"type": "object"}},
        answers={**BODY_ERRORS, 200: json({"type": "object"}, "Taken (or ignored)"), 404: problem("Unknown token or carrier"), 422: problem("Not a status call")},
    ),
)  # fmt: skip


# What a handler reads beside the media types the document names: other names of the same formats.
_ALSO_READ: dict[str, frozenset[str]] = {
    "/v1/outcomes": outcomes.CSV_TYPES | outcomes.NDJSON_TYPES,
    "/v1/allocations": frozenset(allocations.NDJSON_TYPES),
}


def setup_routes(app: web.Application) -> None:
    app[keys.BODY_TYPES] = {
        (op.method, op.path): frozenset(op.body) | _ALSO_READ.get(op.path, frozenset()) for op in OPERATIONS if op.body
    }
    for op in OPERATIONS:
        if op.method == "GET":
            app.router.add_get(op.path, op.handler)  # HEAD as well, as aiohttp does for GET
        else:
            app.router.add_route(op.method, op.path, op.handler)
    app.router.add_post("/integrations/retailcrm/calculate", retailcrm.calculate)
    app.router.add_post("/integrations/retailcrm/save", retailcrm.save)
    app.router.add_get("/integrations/retailcrm/get", retailcrm.get)
    app.router.add_post("/integrations/retailcrm/delete", retailcrm.delete)
    app.router.add_post("/integrations/retailcrm/print", retailcrm.print_labels)
    app.router.add_post("/integrations/retailcrm/shipmentSave", retailcrm.shipment_save)
    app.router.add_post("/integrations/retailcrm/shipmentDelete", retailcrm.shipment_delete)
    app.router.add_get("/integrations/retailcrm/shipmentPointList", retailcrm.shipment_point_list)
    app.router.add_get("/integrations/retailcrm/tariffList", retailcrm.tariff_list)
    app.router.add_post("/integrations/retailcrm/tariffList", retailcrm.tariff_list)


# How keys are sent (router/http/middlewares/access.py); each operation's requirement comes from
# the same tables the middleware decides by, so the document cannot promise what it refuses.
SECURITY_SCHEMES: dict[str, Any] = {
    "secretKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A secret key (sk_…), sent by servers: every endpoint. A service with no key at all "
        "(the loopback demo) asks for none.",
    },
    "publishableKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A publishable key (pk_…), sent by the widget from a browser: quoting, pickup points "
        "and places only, and only from the origins the key names.",
    },
    "apiKeyHeader": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "Either kind of key in X-Api-Key, instead of Authorization: Bearer.",
    },
}


def _security(op: Operation) -> list[dict[str, list[str]]]:
    if op.path.startswith(PUBLIC_PREFIXES):
        return []
    schemes = ["secretKey", "apiKeyHeader"]
    if (op.method, op.path) in WIDGET_ROUTES:
        schemes.insert(1, "publishableKey")
    return [{name: []} for name in schemes]


@cache
def openapi_document() -> dict[str, Any]:
    """The service's OpenAPI document; built once, it never changes while the process runs."""
    return document(
        OPERATIONS,
        retailcrm_openapi.PATHS,
        retailcrm_openapi.SCHEMAS,
        also=[wire.AllocationHeader],
        security_schemes=SECURITY_SCHEMES,
        security=_security,
    )


@cache
def _document_body() -> bytes:
    return dumps(openapi_document())
