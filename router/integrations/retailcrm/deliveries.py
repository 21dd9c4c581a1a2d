"""Deliveries the CRM saved through this module, each with the price the buyer was quoted.

A saved delivery outlives its quote: the quote's guarantee runs out after half an hour, the
price the order was sold at does not. Records are kept in the store's hashes, which are
durable (Redis or nothing, never one worker's memory), one small hash per delivery so reading
one never reads an account's whole history.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson

from router.core.models import DeliveryType
from router.store import Store, refuse_a_miss_while_degraded

_RECORD = "record"


@dataclass(frozen=True, slots=True)
class SavedDelivery:
    id: str  # ours; the CRM sends it back in `get`, `delete` and later `save`s
    account_id: str
    quote_id: str
    tariff: str  # the offer id, carrier:service
    tariff_name: str
    carrier: str
    delivery_type: DeliveryType
    cost: Decimal  # RUB, as quoted
    ship_date: date
    delivery_date: date  # the latest promised
    saved_at: datetime
    status: str = "new"
    order: str | None = None  # the CRM's order id
    order_number: str | None = None
    pickup_point: str | None = None  # a pickup point id, for pickup offers
    payer_type: str | None = None
    cod: Decimal | None = None  # RUB the buyer pays on delivery, as quoted; 0: prepaid; None: not recorded
    shipment_address: dict[str, Any] = field(default_factory=dict)  # as the CRM sent them
    delivery_address: dict[str, Any] = field(default_factory=dict)


def new_delivery_id() -> str:
    return "d_" + secrets.token_urlsafe(12)


def _json(d: SavedDelivery) -> bytes:
    return orjson.dumps(
        {
            "id": d.id,
            "account_id": d.account_id,
            "quote_id": d.quote_id,
            "tariff": d.tariff,
            "tariff_name": d.tariff_name,
            "carrier": d.carrier,
            "delivery_type": d.delivery_type.value,
            "cost": str(d.cost),
            "ship_date": d.ship_date.isoformat(),
            "delivery_date": d.delivery_date.isoformat(),
            "saved_at": d.saved_at.isoformat(),
            "status": d.status,
            "order": d.order,
            "order_number": d.order_number,
            "pickup_point": d.pickup_point,
            "payer_type": d.payer_type,
            "cod": None if d.cod is None else str(d.cod),
            "shipment_address": d.shipment_address,
            "delivery_address": d.delivery_address,
        }
    )


def _from_json(body: bytes) -> SavedDelivery:
    raw = orjson.loads(body)
    return SavedDelivery(
        id=raw["id"],
        account_id=raw["account_id"],
        quote_id=raw["quote_id"],
        tariff=raw["tariff"],
        tariff_name=raw["tariff_name"],
        carrier=raw["carrier"],
        delivery_type=DeliveryType(raw["delivery_type"]),
        cost=Decimal(raw["cost"]),
        ship_date=date.fromisoformat(raw["ship_date"]),
        delivery_date=date.fromisoformat(raw["delivery_date"]),
        saved_at=datetime.fromisoformat(raw["saved_at"]),
        status=raw["status"],
        order=raw.get("order"),
        order_number=raw.get("order_number"),
        pickup_point=raw.get("pickup_point"),
        payer_type=raw.get("payer_type"),
        cod=None if raw.get("cod") is None else Decimal(raw["cod"]),  # None: saved before it was kept
        shipment_address=raw.get("shipment_address") or {},
        delivery_address=raw.get("delivery_address") or {},
    )


class DeliveryBook:
    def __init__(self, store: Store) -> None:
        self._store = store

    @staticmethod
    def _key(account_id: str, delivery_id: str) -> str:
        return f"retailcrm:delivery:{account_id}:{delivery_id}"

    @staticmethod
    def _order_key(account_id: str, order: str) -> str:
        return f"retailcrm:order:{account_id}:{order}"

    async def _read(self, key: str) -> bytes | None:
        (fields,) = await self._store.hgetall([key])
        value = fields.get(_RECORD)
        if value is None:
            refuse_a_miss_while_degraded(self._store, key)
        return value

    async def get(self, account_id: str, delivery_id: str) -> SavedDelivery | None:
        body = await self._read(self._key(account_id, delivery_id))
        return None if body is None else _from_json(body)

    async def for_order(self, account_id: str, order: str) -> SavedDelivery | None:
        """The delivery saved earlier for this CRM order, so a repeated save edits it."""
        delivery_id = await self._read(self._order_key(account_id, order))
        return None if delivery_id is None else await self.get(account_id, delivery_id.decode())

    async def put(self, delivery: SavedDelivery) -> None:
        await self._store.hset(self._key(delivery.account_id, delivery.id), _RECORD, _json(delivery))
        if delivery.order:
            await self._store.hset(self._order_key(delivery.account_id, delivery.order), _RECORD, delivery.id.encode())

    async def remove(self, delivery: SavedDelivery) -> None:
        await self._store.hdel(self._key(delivery.account_id, delivery.id), [_RECORD])
        if delivery.order:
            await self._store.hdel(self._order_key(delivery.account_id, delivery.order), [_RECORD])
