"""Connected accounts in the records database: clientIds recognised, never stored, never printed;
a change made by any process seen by every worker at once; nothing lost to concurrent changes."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from router.core.models import PolicyKind
from router.core.settings import Settings
from router.http.app import create_app
from router.integrations.retailcrm.accounts import AccountBook, UnknownAccount
from router.records import open_database
from router.records.tables import retailcrm_accounts
from tests.integrations.crm_client import CrmClient


async def test_a_client_id_finds_its_account_and_nothing_else_does(records_url: str) -> None:
    async with open_database(records_url) as db:
        book = AccountBook(db)
        shop, shop_id = await book.create("https://shop.retailcrm.ru/", "carrier-router", carriers=["magistral"])
        other, other_id = await book.create("https://other.retailcrm.ru", "carrier-router")
        assert await book.authenticate(shop_id) == shop and await book.authenticate(other_id) == other
        assert shop_id != other_id
        assert await book.authenticate(shop_id[:-1]) is None and await book.authenticate("") is None
        assert shop.crm_url == "https://shop.retailcrm.ru"
        assert [a.id for a in await book.accounts()] == [shop.id, other.id]


async def test_the_client_id_is_kept_nowhere_and_shown_in_no_repr(records_url: str) -> None:
    async with open_database(records_url) as db:
        account, client_id = await AccountBook(db).create("https://shop.retailcrm.ru", "carrier-router")
        async with db.read() as conn:
            (row,) = (await conn.execute(sa.select(retailcrm_accounts))).all()
    assert client_id not in repr(tuple(row))
    assert client_id not in repr(account) and account.client_id_sha256 not in repr(account)


async def test_another_process_sees_an_account_connected_and_disconnected(records_url: str) -> None:
    # Each book has its own engine and pool, as a worker and the CLI would.
    async with open_database(records_url) as worker_db, open_database(records_url, upgrade=False) as cli_db:
        worker, cli = AccountBook(worker_db), AccountBook(cli_db)
        account, client_id = await cli.create(
            "https://shop.retailcrm.ru",
            "carrier-router",
            ["vestnik"],
            PolicyKind.CHEAPEST,
            Decimal("80.50"),
            "Казань",
            (40.0, 30.0, 20.0),
        )
        seen = await worker.authenticate(client_id)
        assert seen == account
        policy = seen.policy(Decimal("50"))
        assert policy.kind is PolicyKind.CHEAPEST and policy.day_value == Decimal("80.50")
        assert policy.only == {"vestnik"} and seen.parcel_cm == (40.0, 30.0, 20.0) and seen.origin == "Казань"
        await cli.remove(account.id)
        assert await worker.authenticate(client_id) is None
        assert await worker.accounts() == []


async def test_disconnecting_twice_or_an_unknown_account_is_named(records_url: str) -> None:
    async with open_database(records_url) as db:
        book = AccountBook(db)
        account, _ = await book.create("https://shop.retailcrm.ru", "carrier-router")
        assert (await book.remove(account.id)).active is False
        for gone in (account.id, "crm_nope"):
            with pytest.raises(UnknownAccount):
                await book.remove(gone)
        # Disconnected, not erased: what it saved stays a record.
        assert (await book.get(account.id)) is not None


async def test_an_account_without_its_own_day_value_takes_the_services_and_kopecks_are_exact(
    records_url: str,
) -> None:
    async with open_database(records_url) as db:
        book = AccountBook(db)
        account, _ = await book.create("https://shop.retailcrm.ru", "carrier-router")
        assert account.policy(Decimal("50")).day_value == Decimal("50")
        assert account.allows("anything")
        with pytest.raises(ValueError, match="kopecks"):
            await book.create("https://shop.retailcrm.ru", "carrier-router", day_value=Decimal("80.555"))
        assert len(await book.accounts()) == 1


async def test_concurrent_connects_and_disconnects_from_many_processes_lose_nothing(records_url: str) -> None:
    async with open_database(records_url) as first:
        old = [await AccountBook(first).create(f"https://old{i}.retailcrm.ru", "carrier-router") for i in range(10)]

    async def one_process(i: int) -> str:
        async with open_database(records_url, upgrade=False) as db:
            book = AccountBook(db)
            await book.remove(old[i][0].id)
            _, client_id = await book.create(f"https://new{i}.retailcrm.ru", "carrier-router")
            return client_id

    client_ids = await asyncio.gather(*(one_process(i) for i in range(10)))
    async with open_database(records_url) as db:
        book = AccountBook(db)
        connected = await book.accounts()
        assert sorted(a.crm_url for a in connected) == sorted(f"https://new{i}.retailcrm.ru" for i in range(10))
        assert all([await book.authenticate(c) is not None for c in client_ids])
        assert all([await book.authenticate(c) is None for _, c in old])


async def test_an_account_from_the_previous_releases_file_still_calls_the_module(
    aiohttp_client, records_url: str, tmp_path: Path
) -> None:
    # Its clientId's digest and the rest, in the file's own format (as the previous release wrote it).
    async with open_database(f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}") as scratch:
        made, client_id = await AccountBook(scratch).create("https://shop.retailcrm.ru", "carrier-router")
    old = {
        "accounts": [
            {
                "id": made.id,
                "crm_url": "https://shop.retailcrm.ru",
                "module_code": "carrier-router",
                "client_id_sha256": made.client_id_sha256,
                "created_at": "2026-11-01T09:30:00+00:00",
                "carriers": ["vestnik"],
                "policy": "cheapest",
                "day_value": "80.5",
                "origin": "Казань",
                "parcel_cm": [40.0, 30.0, 20.0],
                "active": True,
            }
        ]
    }
    (tmp_path / "retailcrm_accounts.json").write_text(json.dumps(old), encoding="utf-8")
    settings = Settings(state_dir=tmp_path, database_url=records_url)
    api = await aiohttp_client(create_app(settings))
    tariffs = (await CrmClient(api, client_id).tariffs()).result
    assert tariffs and {t["code"].split(":")[0] for t in tariffs} == {"vestnik"}
    assert not (tmp_path / "retailcrm_accounts.json").exists()
    async with open_database(records_url) as db:
        (account,) = await AccountBook(db).accounts()
    assert account.day_value == Decimal("80.50") and account.policy_kind is PolicyKind.CHEAPEST
    assert account.origin == "Казань" and account.parcel_cm == (40.0, 30.0, 20.0)
