"""The records database: its schema comes from the migrations, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from router.core.settings import Settings
from router.records import RecordsError, RecordsUnavailable, open_database, records_url
from router.records.database import async_url, head_revision
from router.records.tables import api_keys, metadata


async def test_an_empty_database_is_upgraded_to_the_head_and_matches_the_tables(records_url: str) -> None:
    async with open_database(records_url) as db:
        assert await db.revision() == head_revision()
        async with db.read() as conn:
            diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        assert diff == [], "the tables and the migrations disagree: write a migration"


async def test_migrations_go_down_and_up_again(records_url: str) -> None:
    async with open_database(records_url) as db:
        await db.downgrade("base")
        assert await db.revision() is None
        async with db.read() as conn:
            names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert "api_keys" not in names
        await db.upgrade()
        assert await db.revision() == head_revision()


async def test_processes_starting_together_migrate_once(records_url: str) -> None:
    async def start() -> str | None:
        async with open_database(records_url) as db:
            return await db.revision()

    assert await asyncio.gather(*(start() for _ in range(4))) == [head_revision()] * 4


async def test_moments_come_back_in_utc_and_naive_ones_are_refused(records_url: str) -> None:
    moscow = timezone(timedelta(hours=3))
    made = datetime(2026, 12, 7, 21, 30, tzinfo=moscow)
    row = dict(id="k1", kind="secret", name="n", hint="sk_", sha256="0" * 64, origins=[], created_at=made)
    async with open_database(records_url) as db:
        async with db.write() as conn:
            await conn.execute(api_keys.insert().values(**row))
        async with db.read() as conn:
            back = (await conn.execute(sa.select(api_keys.c.created_at))).scalar_one()
        assert back == made and back.tzinfo == UTC
        with pytest.raises(sa.exc.StatementError):
            async with db.write() as conn:
                await conn.execute(
                    api_keys.insert().values(
                        **{**row, "id": "k2", "sha256": "1" * 64, "created_at": made.replace(tzinfo=None)}
                    )
                )


async def test_a_write_that_fails_leaves_nothing_behind(records_url: str) -> None:
    row = dict(kind="secret", name="n", hint="sk_", sha256="0" * 64, origins=[], created_at=datetime.now(UTC))
    async with open_database(records_url) as db:
        with pytest.raises(sa.exc.IntegrityError):
            async with db.write() as conn:
                await conn.execute(api_keys.insert().values(id="a", **row))
                await conn.execute(api_keys.insert().values(id="b", **row))  # the same sha256
        async with db.read() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(api_keys))).scalar_one() == 0


def test_the_default_is_a_sqlite_file_in_the_state_directory_and_database_url_wins(tmp_path) -> None:
    assert records_url(Settings(state_dir=tmp_path)) == f"sqlite:///{tmp_path}/records.sqlite3"
    url = "postgresql://u@db.example:5432/shop"
    assert records_url(Settings(state_dir=tmp_path, database_url=url)) == url
    assert async_url(url).drivername == "postgresql+asyncpg"
    with pytest.raises(RecordsError, match="not 'mysql'"):
        async_url("mysql://u@h/db")
    with pytest.raises(RecordsError, match="not a database URL"):
        async_url("not a url")


async def test_a_server_that_does_not_answer_is_unavailable_not_a_crash() -> None:
    with pytest.raises(RecordsUnavailable):
        async with open_database("postgresql://postgres@127.0.0.1:9/none", connect_args={"timeout": 2}):
            pass


async def test_records_written_under_the_first_schema_survive_the_upgrade_to_the_head(records_url: str) -> None:
    from router.records.tables import retailcrm_accounts, retailcrm_deliveries

    made = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    key = dict(id="key_1", kind="secret", name="shop", hint="sk_abcd", sha256="a" * 64, origins=[], created_at=made)
    account = dict(
        id="acc_1",
        crm_url="https://shop.retailcrm.ru",
        module_code="carrier-router",
        client_id_sha256="b" * 64,
        created_at=made,
        carriers=[],
        policy="balanced",
        day_value_kopecks=5000,
        origin=None,
        parcel_cm=[30.0, 20.0, 10.0],
        active=True,
    )
    delivery = dict(id="d_1", account_id="acc_1", order_ref="A-1", saved_at=made, document={"cost": "360.00"})
    async with open_database(records_url, upgrade=False) as db:
        await db.upgrade("0001")
        async with db.write() as conn:
            await conn.execute(api_keys.insert().values(**key))
            await conn.execute(retailcrm_accounts.insert().values(**account))
            await conn.execute(retailcrm_deliveries.insert().values(**delivery))
        await db.upgrade()
        assert await db.revision() == head_revision()
        async with db.read() as conn:
            assert (await conn.execute(sa.select(api_keys.c.sha256))).scalar_one() == "a" * 64
            assert (await conn.execute(sa.select(retailcrm_accounts.c.day_value_kopecks))).scalar_one() == 5000
            row = (await conn.execute(sa.select(retailcrm_deliveries))).one()
        assert (row.order_ref, row.document) == ("A-1", {"cost": "360.00"})
