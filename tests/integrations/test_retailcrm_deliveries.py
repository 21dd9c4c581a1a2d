"""Saved deliveries are records: they outlive the store, one order keeps one delivery however
saves race, one account never reaches another's, and the previous release's are moved in."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

from router.core.models import DeliveryType
from router.core.settings import Settings
from router.http import appkeys as keys
from router.integrations.retailcrm.accounts import AccountBook
from router.integrations.retailcrm.deliveries import DeliveryBook, EarlierDeliveries, SavedDelivery, new_delivery_id
from router.records import Database, open_database
from router.records.tables import retailcrm_deliveries
from router.store import MemoryStore, Store
from tests.integrations.crm_client import CrmClient
from tests.integrations.test_retailcrm_callbacks import MOSCOW_KAZAN_TWO_PACKAGES, pick, save_payload


def a_delivery(account_id: str, order: str | None = "1001", **changed: Any) -> SavedDelivery:
    delivery = SavedDelivery(
        id=new_delivery_id(),
        account_id=account_id,
        quote_id="q_1",
        tariff="vestnik:courier",
        tariff_name="Вестник: курьер",
        carrier="vestnik",
        delivery_type=DeliveryType.COURIER,
        cost=Decimal("1234.50"),
        ship_date=date(2026, 12, 8),
        delivery_date=date(2026, 12, 11),
        saved_at=datetime(2026, 12, 7, 18, 30, tzinfo=UTC),
        order=order,
        order_number="1001A",
        payer_type="receiver",
        cod=Decimal("3000.00"),
        shipment_address={"city": "Москва", "index": "101000"},
        delivery_address={"city": "Казань", "text": "ул. Баумана, 5"},
    )
    return replace(delivery, **changed)


async def an_account(db: Database, crm: str = "shop") -> str:
    account, _ = await AccountBook(db).create(f"https://{crm}.retailcrm.ru", "carrier-router")
    return account.id


async def rows(db: Database) -> list[Any]:
    async with db.read() as conn:
        return list(await conn.execute(sa.select(retailcrm_deliveries)))


async def test_a_saved_delivery_outlives_a_wiped_store_and_a_restart(
    make_api, records_url: str, redis_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    settings = Settings(state_dir=tmp_path, database_url=records_url, redis_url=redis_url, redis_prefix=redis_prefix)
    api = await make_api(settings)
    _, client_id = await api.server.app[keys.RETAILCRM_ACCOUNTS].create("https://shop.retailcrm.ru", "carrier-router")
    crm = CrmClient(api, client_id)
    offer = pick((await crm.calculate(MOSCOW_KAZAN_TWO_PACKAGES)).result, "courier")
    saved = (await crm.save(save_payload(offer))).result

    wipe = redis.Redis.from_url(redis_url)
    wipe.delete(*wipe.keys(redis_prefix + "*"))
    wipe.close()
    for worker in (crm, CrmClient(await make_api(settings), client_id)):  # the same and a fresh one
        back = (await worker.load(saved["deliveryId"])).result
        assert (back["tariff"], back["cost"]) == (offer["code"], offer["cost"])


async def test_a_delivery_comes_back_as_it_was_saved(records_url: str) -> None:
    async with open_database(records_url) as db:
        book = DeliveryBook(db, MemoryStore())
        account = await an_account(db)
        pickup = a_delivery(account, order=None, delivery_type=DeliveryType.PICKUP, pickup_point="vestnik:17", cod=None)
        for delivery in (a_delivery(account), pickup):
            assert await book.put(delivery) == delivery
            assert await book.get(account, delivery.id) == delivery


async def test_saves_racing_for_one_order_leave_one_delivery_under_one_id(records_url: str) -> None:
    async with open_database(records_url) as first:
        account = await an_account(first)

    async def one_worker(i: int) -> SavedDelivery:
        # Each with its own engine and pool, as separate workers would.
        async with open_database(records_url, upgrade=False) as db:
            return await DeliveryBook(db, MemoryStore()).put(a_delivery(account, cost=Decimal(1000 + i)))

    kept = await asyncio.gather(*(one_worker(i) for i in range(8)))
    assert len({d.id for d in kept}) == 1  # every save answered the one delivery's id
    async with open_database(records_url) as db:
        (row,) = await rows(db)
        stored = await DeliveryBook(db, MemoryStore()).for_order(account, "1001")
    assert stored is not None and stored.id == row.id == kept[0].id
    assert stored.cost in {d.cost for d in kept}


async def test_a_save_naming_its_delivery_takes_its_order_from_any_other(records_url: str) -> None:
    async with open_database(records_url) as db:
        book = DeliveryBook(db, MemoryStore())
        account = await an_account(db)
        first = await book.put(a_delivery(account, order="1001"))
        second = await book.put(a_delivery(account, order="1002"))
        moved = await book.put(replace(second, order="1001"))
        assert moved.id == second.id
        assert await book.get(account, first.id) is None
        assert await book.for_order(account, "1001") == moved


async def test_one_accounts_deliveries_are_out_of_another_accounts_reach(records_url: str) -> None:
    async with open_database(records_url) as db:
        book = DeliveryBook(db, MemoryStore())
        shop, other = await an_account(db, "shop"), await an_account(db, "other")
        mine = await book.put(a_delivery(shop))
        theirs = await book.put(a_delivery(other))  # the same CRM order number, another CRM
        assert mine.id != theirs.id and len(await rows(db)) == 2
        assert await book.get(other, mine.id) is None
        assert await book.for_order(other, "1001") == theirs and await book.for_order(shop, "1001") == mine
        await book.remove(replace(mine, account_id=other))
        assert await book.get(shop, mine.id) == mine


async def test_a_delivery_the_previous_release_kept_in_the_store_is_moved_into_the_records(
    records_url: str, store: Store
) -> None:
    async with open_database(records_url) as db:
        account = await an_account(db)
        # As the previous release wrote it: one hash per delivery, one per order naming it.
        old = {
            "id": "d_old",
            "account_id": account,
            "quote_id": "q_old",
            "tariff": "magistral:door",
            "tariff_name": "Магистраль: до двери",
            "carrier": "magistral",
            "delivery_type": "courier",
            "cost": "987.60",
            "ship_date": "2026-11-30",
            "delivery_date": "2026-12-03",
            "saved_at": "2026-11-29T12:00:00+00:00",
            "status": "new",
            "order": "1001",
            "order_number": "1001A",
            "pickup_point": None,
            "payer_type": "sender",
            "shipment_address": {"city": "Москва"},
            "delivery_address": {"city": "Казань"},
        }
        await store.hset(EarlierDeliveries.key(account, "d_old"), "record", json.dumps(old).encode())
        await store.hset(EarlierDeliveries.order_key(account, "1001"), "record", b"d_old")
        other = await an_account(db, "other")
        assert await DeliveryBook(db, store).get(other, "d_old") is None

        found = await DeliveryBook(db, store).for_order(account, "1001")
        assert found is not None and (found.id, found.cost, found.cod) == ("d_old", Decimal("987.60"), None)
        assert await DeliveryBook(db, MemoryStore()).get(account, "d_old") == found  # in the records now
        assert await store.hgetall([EarlierDeliveries.key(account, "d_old")]) == [{}]
        again = await DeliveryBook(db, store).put(replace(a_delivery(account), id=found.id))
        assert again.id == "d_old" and len(await rows(db)) == 1


async def test_texts_the_records_cannot_keep_are_refused_naming_the_field_and_long_orders_are_kept(
    make_api, records_url: str, tmp_path: Path
) -> None:
    # PostgreSQL keeps no NUL character in text or JSON: a refusal, not "retry" or a 500.
    api = await make_api(Settings(state_dir=tmp_path, database_url=records_url))
    _, client_id = await api.server.app[keys.RETAILCRM_ACCOUNTS].create("https://shop.retailcrm.ru", "carrier-router")
    crm = CrmClient(api, client_id)
    offer = pick((await crm.calculate(MOSCOW_KAZAN_TWO_PACKAGES)).result, "courier")
    payload = save_payload(offer)
    payload["delivery"]["deliveryAddress"]["text"] = "ул. Баумана,\x00 5"
    refused = await crm.save(payload)
    assert refused.status == 400 and refused.error.startswith("save.delivery.deliveryAddress.text: ")
    assert "NUL" in refused.error
    for answer, field in ((await crm.load("d_\x00"), "deliveryId"), (await crm.delete("d_\x00"), "delete.deliveryId")):
        assert answer.status == 400 and answer.error.startswith(f"{field}: "), answer
    long_order = "заказ-" + "9" * 300  # the CRM's texts run to 500 characters
    # The carrier is told the short order number; the CRM's long order id is kept.
    long_save = {**save_payload(offer, order=long_order), "orderNumber": "1001A"}
    saved = (await crm.save(long_save)).result
    assert (await crm.save(long_save)).result["deliveryId"] == saved["deliveryId"]
