"""OpenAPI paths and schemas of the CRM's callbacks, merged into the service's document.

The CRM, not an API client, calls these; they are documented so the document stays the
whole truth about what the service answers. The schemas are generated from the same Structs
the callbacks are decoded and answered through (router/integrations/retailcrm/entities.py and
answers.py); only the paths and the CRM's envelope around a result are written here.
"""

from __future__ import annotations

from typing import Any

import msgspec

from router.integrations.retailcrm.answers import (
    Failure,
    ResponseCalculate,
    ResponseLoadDeliveryData,
    ResponseSave,
    ResponseShipmentSave,
    Tariff,
    Terminal,
)
from router.integrations.retailcrm.entities import (
    GetQuery,
    RequestCalculate,
    RequestDelete,
    RequestPrint,
    RequestSave,
    RequestShipmentDelete,
    RequestShipmentSave,
    ShipmentPointQuery,
    TariffListQuery,
)
from router.integrations.retailcrm.registration import path

FORM = "application/x-www-form-urlencoded"
# The CRM's class names, prefixed so they stand apart from the JSON API's in one document.
PREFIX = "RetailCrm"
_ANSWERS = (Failure, Terminal, ResponseCalculate, Tariff, ResponseSave, ResponseLoadDeliveryData, ResponseShipmentSave)
_REQUESTS = (RequestCalculate, RequestSave, RequestDelete, RequestPrint, RequestShipmentSave, RequestShipmentDelete)
_QUERIES = (ShipmentPointQuery, GetQuery, TariffListQuery)
_refs, _components = msgspec.json.schema_components(
    (*_ANSWERS, *_REQUESTS, *_QUERIES), ref_template=f"#/components/schemas/{PREFIX}{{name}}"
)
_REF = dict(zip((*_ANSWERS, *_REQUESTS, *_QUERIES), _refs, strict=True))
# Queries become parameters, one a field, rather than components.
_QUERY_SCHEMAS: dict[type[msgspec.Struct], Any] = {kind: _components.pop(kind.__name__) for kind in _QUERIES}


def _json_types(node: Any) -> Any:
    """A Decimal is read from and written as a JSON number (requests take its text too); msgspec
    writes every Decimal as a string, so each says the JSON type it declares under `x-type`."""
    if isinstance(node, list):
        return [_json_types(item) for item in node]
    if isinstance(node, dict):
        node = {key: _json_types(value) for key, value in node.items()}
        if "x-type" in node:
            node["type"] = node.pop("x-type")
    return node


SCHEMAS: dict[str, Any] = _json_types({PREFIX + name: schema for name, schema in _components.items()})


def _success(result: dict[str, Any] | None) -> dict[str, Any]:
    """The CRM's SuccessResponse around a result."""
    properties: dict[str, Any] = {"success": {"const": True}}
    if result is not None:
        properties["result"] = result
    return {
        "type": "object",
        "properties": properties,
        "required": ["success"] + (["result"] if result is not None else []),
        "additionalProperties": False,
    }


def _list(kind: type[msgspec.Struct]) -> dict[str, Any]:
    return {"type": "array", "items": _REF[kind]}


def _form_body(action: str, kind: type[msgspec.Struct] | None = None) -> dict[str, Any]:
    """The CRM's form: clientId, and the action's request as JSON text in a field named after it."""
    query = _QUERY_SCHEMAS[TariffListQuery]
    properties: dict[str, Any] = dict(query["properties"])
    if kind is not None:
        properties[action] = {
            "type": "string",
            "description": f"The {kind.__name__} as JSON",
            "contentMediaType": "application/json",
            "contentSchema": _REF[kind],
        }
    return {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": properties,
                    "required": [*query["required"], *([action] if kind is not None else [])],
                }
            }
        },
    }


def _query(kind: type[msgspec.Struct]) -> list[dict[str, Any]]:
    schema = _QUERY_SCHEMAS[kind]
    return [
        {"name": name, "in": "query", "required": name in schema.get("required", ()), "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _responses(ok: dict[str, Any], description: str) -> dict[str, Any]:
    def failure(why: str) -> dict[str, Any]:
        return {"description": why, "content": {"application/json": {"schema": _REF[Failure]}}}

    return {
        "200": {"description": description, "content": {"application/json": {"schema": ok}}},
        "400": failure("A field is missing, not JSON, or wrong; errorMsg names it. Or the request cannot be done"),
        "403": failure("No clientId, or one no connected account has"),
        "404": failure("No such saved delivery (or pick-up)"),
        "413": failure("Body too large"),
        "503": failure("The store that keeps quotes and saved deliveries is not answering; retry shortly"),
    }


def _operation(operation_id: str, summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["RetailCRM callbacks"],
        "responses": responses,
        **more,
    }


_TARIFFS = _responses(_success(_list(Tariff)), "Every carrier service the account can use")

PATHS: dict[str, Any] = {
    path("calculate"): {
        "post": _operation(
            "retailcrmCalculate",
            "Quote a CRM order: one result per offer, pickup offers with their points",
            _responses(_success(_list(ResponseCalculate)), "The offers"),
            requestBody=_form_body("calculate", RequestCalculate),
        )
    },
    path("save"): {
        "post": _operation(
            "retailcrmSave",
            "Book the chosen offer with its carrier at its quoted price (a carrier booked elsewhere: record it)",
            _responses(_success(_REF[ResponseSave]), "The delivery as saved"),
            requestBody=_form_body("save", RequestSave),
        )
    },
    path("get"): {
        "get": _operation(
            "retailcrmGet",
            "A saved delivery",
            _responses(_success(_REF[ResponseLoadDeliveryData]), "The delivery"),
            parameters=_query(GetQuery),
        )
    },
    path("delete"): {
        "post": _operation(
            "retailcrmDelete",
            "Cancel a saved delivery, at the carrier first; refused once the carrier has the parcel",
            _responses(_success(None), "Cancelled"),
            requestBody=_form_body("delete", RequestDelete),
        )
    },
    path("print"): {
        "post": _operation(
            "retailcrmPrint",
            "The labels of booked deliveries (or of the parcels of pick-ups) as one PDF: A6 for one, A4 for more",
            {
                **_responses(_success(None), "unused"),
                "200": {
                    "description": "The labels: the PDF itself, not JSON",
                    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
                },
            },
            requestBody=_form_body("print", RequestPrint),
        )
    },
    path("shipmentSave"): {
        "post": _operation(
            "retailcrmShipmentSave",
            "Ask the carrier of the deliveries for a courier pick-up (an edited one is called off and asked anew)",
            _responses(_success(_REF[ResponseShipmentSave]), "The pick-up"),
            requestBody=_form_body("shipmentSave", RequestShipmentSave),
        )
    },
    path("shipmentDelete"): {
        "post": _operation(
            "retailcrmShipmentDelete",
            "Call off a courier pick-up",
            _responses(_success(None), "Called off"),
            requestBody=_form_body("shipmentDelete", RequestShipmentDelete),
        )
    },
    path("shipmentPointList"): {
        "get": _operation(
            "retailcrmShipmentPointList",
            "Pickup points of the account's carriers in a city",
            _responses(_success(_list(Terminal)), "Points, nearest the centre first"),
            parameters=_query(ShipmentPointQuery),
        )
    },
    path("tariffList"): {
        "get": _operation("retailcrmTariffList", "The account's tariffs", _TARIFFS, parameters=_query(TariffListQuery)),
        "post": _operation(
            "retailcrmTariffListPost",
            "The account's tariffs (form-encoded clientId)",
            _TARIFFS,
            requestBody=_form_body("tariffList"),
        ),
    },
}
