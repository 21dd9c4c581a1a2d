"""Deliveries the CRM saved through this module, each with the price the buyer was quoted.

A saved delivery outlives its quote: the quote's guarantee runs out after half an hour, the
price the order was sold at does not. Deliveries are therefore records (`retailcrm_deliveries`
in the records database), not the store's: one must never vanish with Redis. Every query names
the account, so one CRM account never reads, replaces or deletes another's deliveries.

A CRM order has at most one delivery (a unique index on account and order). Saving for an order
that has one replaces it under the id it was first saved with, in one statement, so two saves
racing for the same order leave one delivery and both answer its id.

The previous release kept deliveries in the store's hashes. One not found in the records is
looked for there and, when found, moved: copied in, then deleted from the store.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from router.core.models import KOPECK, DeliveryType
from router.records import Database
from router.records.tables import retailcrm_deliveries
from router.store import Store, refuse_a_miss_while_degraded

_table = retailcrm_deliveries


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
    # The shipment booked for it (router.shipping), and its carrier's tracking number.
    shipment_id: str | None = None
    track_number: str | None = None
    # Bumped when its shipment failed or was cancelled, so the next save books anew rather than
    # answering that shipment again: part of the booking's idempotency key.
    attempt: int = 0


def new_delivery_id() -> str:
    return "d_" + secrets.token_urlsafe(12)


def _kopecks(rub: Decimal) -> int:
    return int(rub / KOPECK)


def _row(d: SavedDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "account_id": d.account_id,
        "order_ref": d.order,
        "saved_at": d.saved_at,
        "document": {
            "quote_id": d.quote_id,
            "tariff": d.tariff,
            "tariff_name": d.tariff_name,
            "carrier": d.carrier,
            "delivery_type": d.delivery_type.value,
            "cost_kopecks": _kopecks(d.cost),
            "ship_date": d.ship_date.isoformat(),
            "delivery_date": d.delivery_date.isoformat(),
            "status": d.status,
            "order_number": d.order_number,
            "pickup_point": d.pickup_point,
            "payer_type": d.payer_type,
            "cod_kopecks": None if d.cod is None else _kopecks(d.cod),
            "shipment_address": d.shipment_address,
            "delivery_address": d.delivery_address,
            "shipment_id": d.shipment_id,
            "track_number": d.track_number,
            "attempt": d.attempt,
        },
    }


def _delivery(row: sa.Row[Any]) -> SavedDelivery:
    doc = row.document
    return SavedDelivery(
        id=row.id,
        account_id=row.account_id,
        quote_id=doc["quote_id"],
        tariff=doc["tariff"],
        tariff_name=doc["tariff_name"],
        carrier=doc["carrier"],
        delivery_type=DeliveryType(doc["delivery_type"]),
        cost=Decimal(doc["cost_kopecks"]) * KOPECK,
        ship_date=date.fromisoformat(doc["ship_date"]),
        delivery_date=date.fromisoformat(doc["delivery_date"]),
        saved_at=row.saved_at,
        status=doc["status"],
        order=row.order_ref,
        order_number=doc["order_number"],
        pickup_point=doc["pickup_point"],
        payer_type=doc["payer_type"],
        cod=None if doc["cod_kopecks"] is None else Decimal(doc["cod_kopecks"]) * KOPECK,
        shipment_address=doc["shipment_address"],
        delivery_address=doc["delivery_address"],
        shipment_id=doc.get("shipment_id"),  # absent from deliveries saved before booking
        track_number=doc.get("track_number"),
        attempt=doc.get("attempt", 0),
    )


def _insert(conn: AsyncConnection) -> postgresql.Insert | sqlite.Insert:
    # ON CONFLICT is each dialect's own construct, spelled the same in both.
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(_table)


class DeliveryBook:
    def __init__(self, db: Database, earlier: Store) -> None:
        self.db = db
        self._earlier = EarlierDeliveries(earlier)

    async def get(self, account_id: str, delivery_id: str) -> SavedDelivery | None:
        query = sa.select(_table).where(_table.c.account_id == account_id, _table.c.id == delivery_id)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is not None:
            return _delivery(row)
        return await self._move(await self._earlier.get(account_id, delivery_id))

    async def for_order(self, account_id: str, order: str) -> SavedDelivery | None:
        """The delivery saved earlier for this CRM order, so a repeated save edits it."""
        query = sa.select(_table).where(_table.c.account_id == account_id, _table.c.order_ref == order)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is not None:
            return _delivery(row)
        return await self._move(await self._earlier.for_order(account_id, order))

    async def put(self, delivery: SavedDelivery) -> SavedDelivery:
        """Keep `delivery`; what is kept, under the id its order already had if it had one."""
        row = _row(delivery)
        mine = _table.c.account_id == delivery.account_id
        async with self.db.write() as conn:
            known = sa.select(_table.c.id).where(mine, _table.c.id == delivery.id).with_for_update()
            if (await conn.execute(known)).first() is not None:
                if delivery.order is not None:  # the order moved to this delivery: it has no other
                    await conn.execute(
                        _table.delete().where(mine, _table.c.order_ref == delivery.order, _table.c.id != delivery.id)
                    )
                await conn.execute(_table.update().where(mine, _table.c.id == delivery.id).values(**row))
                return delivery
            insert = _insert(conn).values(**row)
            if delivery.order is not None:
                insert = insert.on_conflict_do_update(
                    index_elements=[_table.c.account_id, _table.c.order_ref],
                    set_={name: insert.excluded[name] for name in ("saved_at", "document")},
                )
            stored = (await conn.execute(insert.returning(_table.c.id))).scalar_one()
        return delivery if stored == delivery.id else replace(delivery, id=stored)

    async def remove(self, delivery: SavedDelivery) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                _table.delete().where(_table.c.account_id == delivery.account_id, _table.c.id == delivery.id)
            )

    async def _move(self, found: SavedDelivery | None) -> SavedDelivery | None:
        if found is None:
            return None
        query = sa.select(_table).where(_table.c.account_id == found.account_id, _table.c.id == found.id)
        async with self.db.write() as conn:
            # Nothing is overwritten: a delivery saved here since for the same order is the newer.
            await conn.execute(_insert(conn).values(**_row(found)).on_conflict_do_nothing())
            row = (await conn.execute(query)).first()
        # Only once the records hold it (committed), so it is never in neither.
        await self._earlier.drop(found)
        return None if row is None else _delivery(row)


class EarlierDeliveries:
    """Deliveries as the previous release kept them: one store hash per delivery, one per order."""

    _FIELD = "record"

    def __init__(self, store: Store) -> None:
        self._store = store

    @staticmethod
    def key(account_id: str, delivery_id: str) -> str:
        return f"retailcrm:delivery:{account_id}:{delivery_id}"

    @staticmethod
    def order_key(account_id: str, order: str) -> str:
        return f"retailcrm:order:{account_id}:{order}"

    async def _read(self, key: str) -> bytes | None:
        (fields,) = await self._store.hgetall([key])
        value = fields.get(self._FIELD)
        if value is None:
            # While Redis is away a miss proves nothing: "retry", never "no such delivery".
            refuse_a_miss_while_degraded(self._store, key)
        return value

    async def get(self, account_id: str, delivery_id: str) -> SavedDelivery | None:
        body = await self._read(self.key(account_id, delivery_id))
        return None if body is None else earlier_delivery(body)

    async def for_order(self, account_id: str, order: str) -> SavedDelivery | None:
        delivery_id = await self._read(self.order_key(account_id, order))
        return None if delivery_id is None else await self.get(account_id, delivery_id.decode())

    async def drop(self, delivery: SavedDelivery) -> None:
        await self._store.hdel(self.key(delivery.account_id, delivery.id), [self._FIELD])
        if delivery.order:
            await self._store.hdel(self.order_key(delivery.account_id, delivery.order), [self._FIELD])


def earlier_delivery(body: bytes) -> SavedDelivery:
    """A delivery from the JSON the previous release kept in the store."""
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
