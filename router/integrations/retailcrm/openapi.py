"""OpenAPI paths and schemas of the CRM's callbacks, merged into the service's document.

The CRM, not an API client, calls these; they are documented so the document stays the
whole truth about what the service answers.
"""

from __future__ import annotations

from typing import Any

from router.integrations.retailcrm.registration import path

FORM = "application/x-www-form-urlencoded"
_COORDINATES = {
    "type": "object",
    "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}},
    "required": ["latitude", "longitude"],
    "additionalProperties": False,
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _success(result: dict[str, Any] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"success": {"const": True}}
    if result is not None:
        properties["result"] = result
    return {
        "type": "object",
        "properties": properties,
        "required": ["success"] + (["result"] if result is not None else []),
        "additionalProperties": False,
    }


SCHEMAS: dict[str, Any] = {
    "RetailCrmFailure": {
        "type": "object",
        "description": "The CRM's error envelope; it shows errorMsg to the manager",
        "properties": {"success": {"const": False}, "errorMsg": {"type": "string"}},
        "required": ["success", "errorMsg"],
        "additionalProperties": False,
    },
    "RetailCrmTerminal": {
        "type": "object",
        "description": "A pickup point; code is the point's id here (network:code)",
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "address": {"type": "string"},
            "schedule": {"type": "string"},
            "description": {"type": "string"},
            "cost": {"type": "number", "description": "Roubles"},
            "coordinates": _COORDINATES,
        },
        "required": ["code", "name", "address", "schedule", "coordinates"],
        "additionalProperties": False,
    },
    "RetailCrmCalculated": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "The offer id, carrier:service"},
            "group": {"type": "string"},
            "name": {"type": "string"},
            "type": {"type": "string", "enum": ["courier", "selfDelivery"]},
            "description": {"type": "string"},
            "cost": {"type": "number", "description": "Roubles, as quoted"},
            "minTerm": {"type": "integer", "description": "Business days"},
            "maxTerm": {"type": "integer"},
            "extraData": {
                "type": "object",
                "properties": {"quoteId": {"type": "string"}},
                "required": ["quoteId"],
                "description": "Delivery data fields; quoteId comes back in save",
            },
            "pickuppointList": {"type": "array", "items": _ref("RetailCrmTerminal")},
        },
        "required": ["code", "group", "name", "type", "description", "cost", "minTerm", "maxTerm", "extraData"],
        "additionalProperties": False,
    },
    "RetailCrmTariff": {
        "type": "object",
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "type": {"type": "string", "enum": ["courier", "selfDelivery"]},
        },
        "required": ["code", "name", "description", "type"],
        "additionalProperties": False,
    },
    "RetailCrmSaved": {
        "type": "object",
        "properties": {
            "deliveryId": {"type": "string"},
            "cost": {"type": "number"},
            "status": {"type": "string"},
            "extraData": {"type": "object"},
        },
        "required": ["deliveryId", "cost", "status", "extraData"],
        "additionalProperties": False,
    },
    "RetailCrmDelivery": {
        "type": "object",
        "properties": {
            "cost": {"type": "number"},
            "shipmentDate": {"type": "string", "format": "date"},
            "deliveryDate": {"type": "string", "format": "date"},
            "tariff": {"type": "string"},
            "tariffName": {"type": "string"},
            "payerType": {"type": "string"},
            "status": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "updatedAt": {"type": "string", "format": "date-time"}},
                "required": ["code", "updatedAt"],
                "additionalProperties": False,
            },
            "extraData": {"type": "object"},
            "shipmentAddress": {"type": "object"},
            "deliveryAddress": {"type": "object"},
        },
        "required": ["cost", "shipmentDate", "deliveryDate", "tariff", "tariffName", "status", "extraData"],
        "additionalProperties": False,
    },
}


def _form_body(action: str, description: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "clientId": {"type": "string", "description": "The connected account's secret"},
                        action: {"type": "string", "description": description},
                    },
                    "required": ["clientId", action],
                }
            }
        },
    }


def _query(*names: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "query", "required": name in ("clientId", "deliveryId"), "schema": {"type": "string"}}
        for name in names
    ]


def _responses(ok: dict[str, Any], description: str) -> dict[str, Any]:
    def failure(why: str) -> dict[str, Any]:
        return {"description": why, "content": {"application/json": {"schema": _ref("RetailCrmFailure")}}}

    return {
        "200": {"description": description, "content": {"application/json": {"schema": ok}}},
        "400": failure("A field is missing, not JSON, or wrong; errorMsg names it. Or the request cannot be done"),
        "403": failure("No clientId, or one no connected account has"),
        "404": failure("No such saved delivery"),
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


_TARIFFS = _responses(
    _success({"type": "array", "items": _ref("RetailCrmTariff")}), "Every carrier service the account can use"
)

PATHS: dict[str, Any] = {
    path("calculate"): {
        "post": _operation(
            "retailcrmCalculate",
            "Quote a CRM order: one result per offer, pickup offers with their points",
            _responses(_success({"type": "array", "items": _ref("RetailCrmCalculated")}), "The offers"),
            requestBody=_form_body("calculate", "JSON: packages (grams, millimetres), addresses, declaredValue, cod"),
        )
    },
    path("save"): {
        "post": _operation(
            "retailcrmSave",
            "Record the chosen offer at its quoted price",
            _responses(_success(_ref("RetailCrmSaved")), "The delivery as saved"),
            requestBody=_form_body("save", "JSON: deliveryId, order, delivery {tariff, extraData.quoteId, …}"),
        )
    },
    path("get"): {
        "get": _operation(
            "retailcrmGet",
            "A saved delivery",
            _responses(_success(_ref("RetailCrmDelivery")), "The delivery"),
            parameters=_query("clientId", "deliveryId"),
        )
    },
    path("delete"): {
        "post": _operation(
            "retailcrmDelete",
            "Cancel a saved delivery",
            _responses(_success(None), "Cancelled"),
            requestBody=_form_body("delete", "JSON: deliveryId"),
        )
    },
    path("shipmentPointList"): {
        "get": _operation(
            "retailcrmShipmentPointList",
            "Pickup points of the account's carriers in a city",
            _responses(
                _success({"type": "array", "items": _ref("RetailCrmTerminal")}), "Points, nearest the centre first"
            ),
            parameters=_query("clientId", "country", "region", "regionId", "city", "cityId"),
        )
    },
    path("tariffList"): {
        "get": _operation("retailcrmTariffList", "The account's tariffs", _TARIFFS, parameters=_query("clientId")),
        "post": _operation(
            "retailcrmTariffListPost",
            "The account's tariffs (form-encoded clientId)",
            _TARIFFS,
            requestBody={
                "required": True,
                "content": {
                    FORM: {
                        "schema": {
                            "type": "object",
                            "properties": {"clientId": {"type": "string"}},
                            "required": ["clientId"],
                        }
                    }
                },
            },
        ),
    },
}
