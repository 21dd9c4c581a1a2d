"""The CRM's published types as JSON Schemas, written from its PHP client (retailcrm/api-client-php):
`Model/Callback/Entity/Delivery/**`, `Model/Callback/Response/**` and
`Model/Entity/Integration/**`. Each JMS type maps to JSON: string → string, float → number,
int → integer, bool → boolean, array → object or list, DateTime<'Y-m-d'> → a date string.

Objects admit no other fields, so a misspelled field name fails the check.
"""

from __future__ import annotations

from typing import Any

import jsonschema

S: dict[str, Any] = {"type": "string"}
F: dict[str, Any] = {"type": "number"}
INT: dict[str, Any] = {"type": "integer"}
B: dict[str, Any] = {"type": "boolean"}
ARRAY: dict[str, Any] = {"type": ["object", "array"]}
DATE: dict[str, Any] = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
ATOM: dict[str, Any] = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"}


def obj(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False}


COORDINATES = obj(latitude=F, longitude=F)
TERMINAL = obj(
    code=S, cost=F, name=S, description=S, address=S, schedule=S, phone=S, extraData=ARRAY, coordinates=COORDINATES
)
DELIVERY_ADDRESS = obj(
    index=S, countryIso=S, region=S, regionId=INT, city=S, cityId=INT, cityType=S, street=S, streetId=INT,
    streetType=S, building=S, flat=S, floor=INT, block=INT, house=S, housing=S, metro=S, notes=S, text=S,
    terminal=S, terminalData=TERMINAL,
)  # fmt: skip
RESPONSE_CALCULATE = obj(
    code=S, group=S, name=S, type=S, description=S, cost=F, minTerm=INT, maxTerm=INT, extraData=ARRAY,
    extraDataAvailable=ARRAY, pickuppointList={"type": "array", "items": TERMINAL},
)  # fmt: skip
TARIFF = obj(code=S, name=S, description=S, type=S)
RESPONSE_SHIPMENT_SAVE = obj(shipmentId=S, extraData=ARRAY)
RESPONSE_SAVE = obj(deliveryId=S, trackNumber=S, cost=F, status=S, extraData=ARRAY)
TIME_INTERVAL = obj(**{"from": S, "to": S, "custom": S})
STATUS_INFO = obj(code=S, updatedAt=ATOM, comment=S)
RESPONSE_LOAD_DELIVERY_DATA = obj(
    trackNumber=S, cost=F, shipmentDate=DATE, deliveryDate=DATE, deliveryTime=TIME_INTERVAL, tariff=S,
    tariffName=S, payerType=S, status=STATUS_INFO, extraData=ARRAY, shipmentAddress=DELIVERY_ADDRESS,
    deliveryAddress=DELIVERY_ADDRESS,
)  # fmt: skip


def envelope(result: dict[str, Any] | None) -> dict[str, Any]:
    """SuccessResponse with its `result`; `success` must be true."""
    schema = obj(success={"const": True}, **({"result": result} if result else {}))
    schema["required"] = ["success"] + (["result"] if result else [])
    return schema


CALCULATE_RESPONSE = envelope({"type": "array", "items": RESPONSE_CALCULATE})
TARIFF_LIST_RESPONSE = envelope({"type": "array", "items": TARIFF})
SHIPMENT_POINT_LIST_RESPONSE = envelope({"type": "array", "items": TERMINAL})
SAVE_RESPONSE = envelope(RESPONSE_SAVE)
GET_RESPONSE = envelope(RESPONSE_LOAD_DELIVERY_DATA)
SUCCESS_RESPONSE = envelope(None)
SHIPMENT_SAVE_RESPONSE = envelope(RESPONSE_SHIPMENT_SAVE)
ERROR_RESPONSE = {**obj(success={"const": False}, errors=ARRAY, errorMsg=S), "required": ["success", "errorMsg"]}

STATUS = obj(code=S, name=S, isEditable=B, isError=B, isPreprocessing=B)
PLATE = obj(type=S, code=S, label=S)
DELIVERY_DATA_FIELD = obj(
    code=S, label=S, hint=S, type=S, multiple=B, choices=ARRAY, autocompleteUrl=S, visible=B, required=B,
    affectsCost=B, editable=B,
)  # fmt: skip
STRING_MAP = {"type": "object", "additionalProperties": S}
DELIVERY_CONFIGURATION = obj(
    description=S, actions=STRING_MAP, payerType={"type": "array", "items": S}, platePrintLimit=INT,
    rateDeliveryCost=B, allowPackages=B, codAvailable=B, selfShipmentAvailable=B,
    duplicateOrderProductSupported=B, allowTrackNumber=B, availableCountries=ARRAY, requiredFields=ARRAY,
    statusList={"type": "array", "items": STATUS}, plateList={"type": "array", "items": PLATE},
    deliveryDataFieldList={"type": "array", "items": DELIVERY_DATA_FIELD},
    shipmentDataFieldList={"type": "array", "items": DELIVERY_DATA_FIELD}, settings=ARRAY,
)  # fmt: skip
INTEGRATION_MODULE = obj(
    code=S, integrationCode=S, active=B, freeze=B, name=S, logo=S, clientId=S, native=B, baseUrl=S,
    actions=STRING_MAP, availableCountries={"type": "array", "items": S}, accountUrl=S,
    integrations=obj(delivery=DELIVERY_CONFIGURATION),
)  # fmt: skip


def check(instance: Any, schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema).validate(instance)
