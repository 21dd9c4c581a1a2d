"""A stand-in for the CRM: it calls the module the way the CRM does and holds it to the CRM's types.

POSTs are `application/x-www-form-urlencoded` with `clientId` and one field named after the
action whose value is a JSON string; `get` and `shipmentPointList` are GETs with query
parameters. Every answer is checked against the published response type (or the error type).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from tests.integrations import published

PREFIX = "/integrations/retailcrm"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def result(self) -> Any:
        assert self.status == 200 and self.body["success"] is True, self
        return self.body.get("result")

    @property
    def error(self) -> str:
        assert self.status >= 400 and self.body["success"] is False, self
        return str(self.body["errorMsg"])


class CrmClient:
    def __init__(self, api: TestClient, client_id: str) -> None:
        self.api = api
        self.client_id = client_id

    async def _answer(self, resp: Any, schema: dict[str, Any]) -> Answer:
        assert resp.content_type == "application/json", resp.content_type
        body = await resp.json()
        published.check(body, schema if resp.status == 200 else published.ERROR_RESPONSE)
        return Answer(resp.status, body)

    async def post(self, action: str, payload: Any, schema: dict[str, Any], raw: str | None = None) -> Answer:
        form = {"clientId": self.client_id, action: raw if raw is not None else json.dumps(payload, ensure_ascii=False)}
        return await self._answer(await self.api.post(f"{PREFIX}/{action}", data=form), schema)

    async def get(self, action: str, params: dict[str, str], schema: dict[str, Any]) -> Answer:
        query = {"clientId": self.client_id, **params}
        return await self._answer(await self.api.get(f"{PREFIX}/{action}", params=query), schema)

    async def calculate(self, payload: Any) -> Answer:
        return await self.post("calculate", payload, published.CALCULATE_RESPONSE)

    async def save(self, payload: Any) -> Answer:
        return await self.post("save", payload, published.SAVE_RESPONSE)

    async def load(self, delivery_id: str) -> Answer:
        return await self.get("get", {"deliveryId": delivery_id}, published.GET_RESPONSE)

    async def delete(self, delivery_id: str) -> Answer:
        return await self.post("delete", {"deliveryId": delivery_id}, published.SUCCESS_RESPONSE)

    async def print(self, delivery_ids: list[str], entity_type: str = "order") -> bytes | Answer:
        """The PDF the CRM is answered, or the refusal."""
        payload = {"entityType": entity_type, "type": "label", "deliveryIds": delivery_ids}
        form = {"clientId": self.client_id, "print": json.dumps(payload)}
        resp = await self.api.post(f"{PREFIX}/print", data=form)
        if resp.status == 200 and resp.content_type == "application/pdf":
            return await resp.read()
        return await self._answer(resp, published.SUCCESS_RESPONSE)

    async def shipment_save(self, payload: Any) -> Answer:
        return await self.post("shipmentSave", payload, published.SHIPMENT_SAVE_RESPONSE)

    async def shipment_delete(self, shipment_id: str) -> Answer:
        return await self.post("shipmentDelete", {"shipmentId": shipment_id}, published.SUCCESS_RESPONSE)

    async def tariffs(self) -> Answer:
        return await self.get("tariffList", {}, published.TARIFF_LIST_RESPONSE)

    async def shipment_points(self, **params: str) -> Answer:
        return await self.get("shipmentPointList", params, published.SHIPMENT_POINT_LIST_RESPONSE)


def address(city: str, index: str | None = None, **more: Any) -> dict[str, Any]:
    """A DeliveryAddress as the CRM fills it from an order."""
    body: dict[str, Any] = {"countryIso": "RU", "city": city, "cityType": "г.", "text": f"г. {city}", **more}
    if index:
        body["index"] = index
    return body


def package(weight_g: float, length_mm: int, width_mm: int, height_mm: int, declared: float = 1500.0) -> dict[str, Any]:
    return {
        "packageId": "1",
        "weight": weight_g,
        "length": length_mm,
        "width": width_mm,
        "height": height_mm,
        "items": [
            {
                "offerId": "17",
                "externalId": "sku-17",
                "name": "Чайник",
                "declaredValue": declared,
                "cod": 0,
                "vatRate": "none",
                "quantity": 1,
                "unit": {"code": "pc", "name": "Штука", "sym": "шт."},
                "cost": declared,
            }
        ],
    }
