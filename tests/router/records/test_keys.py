"""API keys in the records database: every worker sees a revocation, concurrent changes lose nothing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from router.core.settings import Settings
from router.http import appkeys
from router.http.app import create_app
from router.records import open_database, open_records
from router.records.keys import KeyKind, KeyRing, UnknownKey


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_key_revoked_anywhere_is_refused_by_every_worker_on_its_next_request(
    aiohttp_client, records_url: str, tmp_path: Path
) -> None:
    settings = Settings(state_dir=tmp_path, database_url=records_url)
    workers = [await aiohttp_client(create_app(settings)) for _ in range(2)]
    async with open_records(settings) as records:
        key, token = await KeyRing(records).create(KeyKind.SECRET, "shop")
        assert [(await w.get("/v1/carriers", headers=bearer(token))).status for w in workers] == [200, 200]
        rings = [w.server.app[appkeys.KEYRING] for w in workers]
        before = [ring.db.changes.token() for ring in rings]
        await KeyRing(records).revoke(key.id)  # as `carrier-router keys revoke` does, from its own process
        for ring, token_before in zip(rings, before, strict=True):
            await _heard_since(ring.db, token_before)  # at once on SQLite; PostgreSQL's NOTIFY on commit
    assert [(await w.get("/v1/carriers", headers=bearer(token))).status for w in workers] == [401, 401]


async def test_concurrent_creates_and_revocations_from_many_processes_lose_nothing(records_url: str) -> None:
    # Each ring has its own engine and pool, as separate processes would.
    async with open_database(records_url) as first:
        made = [await KeyRing(first).create(KeyKind.SECRET, f"old {i}") for i in range(20)]

    async def one_process(i: int) -> str:
        async with open_database(records_url, upgrade=False) as db:
            ring = KeyRing(db)
            await ring.revoke(made[i][0].id)
            key, _ = await ring.create(KeyKind.SECRET, f"new {i}")
            return key.id

    created = await asyncio.gather(*(one_process(i) for i in range(20)))
    async with open_database(records_url) as db:
        keys = {k.id: k for k in await KeyRing(db).keys()}
    assert set(created) <= set(keys) and len(keys) == 40
    assert all(not keys[k.id].active for k, _ in made)
    assert all(keys[k].active for k in created)


async def test_revoking_keeps_the_first_moment_and_an_unknown_id_is_named(records_url: str) -> None:
    async with open_database(records_url) as db:
        ring = KeyRing(db)
        key, token = await ring.create(KeyKind.PUBLISHABLE, "widget", ("https://shop.example/",))
        assert (await ring.authenticate(token)) == key and await ring.allows_origin("https://shop.example")
        first = await ring.revoke(key.id)
        again = await ring.revoke(key.id)
        assert first.revoked_at == again.revoked_at is not None
        assert await ring.authenticate(token) is None and not await ring.allows_origin("https://shop.example")
        assert not await ring.is_open()  # revoking the last key locks the service, never opens it
        with pytest.raises(UnknownKey):
            await ring.revoke("key_nope")


async def test_keys_of_the_previous_release_are_brought_in_once(tmp_path: Path) -> None:
    # The file an earlier release kept its keys in (its format, verbatim).
    async with open_database(f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}") as scratch:
        key, token = await KeyRing(scratch).create(KeyKind.SECRET, "shop")
    old = {
        "keys": [
            {
                "id": key.id,
                "kind": "secret",
                "name": "shop",
                "hint": key.hint,
                "sha256": key.sha256,
                "origins": [],
                "created_at": key.created_at.isoformat(),
                "revoked_at": None,
                "rate_per_minute": None,
            },
            {
                "id": "key_gone",
                "kind": "secret",
                "name": "old",
                "hint": "sk_abcd",
                "sha256": "f" * 64,
                "origins": [],
                "created_at": "2026-01-01T00:00:00+00:00",
                "revoked_at": "2026-02-01T00:00:00+00:00",
                "rate_per_minute": 5,
            },
        ]
    }
    (tmp_path / "keys.json").write_text(json.dumps(old))
    settings = Settings(state_dir=tmp_path)
    async with open_records(settings) as records:
        ring = KeyRing(records)
        assert await ring.authenticate(token) == key
        gone = {k.id: k for k in await ring.keys()}["key_gone"]
        assert not gone.active and gone.rate_per_minute == 5
    assert not (tmp_path / "keys.json").exists() and (tmp_path / "keys.json.imported").exists()
    async with open_records(settings) as records:  # a second start imports nothing twice
        assert len(await KeyRing(records).keys()) == 2


def test_the_cli_creating_and_revoking_at_once_loses_no_key(tmp_path: Path) -> None:
    env = {**os.environ, "CARRIER_ROUTER_STATE": str(tmp_path)}
    cli = [sys.executable, "-m", "router.cli"]

    def run(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([*cli, "keys", *args], env=env, stdout=subprocess.PIPE, text=True)

    first = run("create", "--name", "first")
    first_id = first.communicate(timeout=60)[0].split()[0]
    procs = [run("create", "--name", f"shop {i}") for i in range(4)] + [run("revoke", first_id)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    keys = asyncio.run(_keys(tmp_path))
    assert sorted(k.name for k in keys if k.active) == [f"shop {i}" for i in range(4)]
    assert [k.id for k in keys if not k.active] == [first_id]


async def _keys(state: Path) -> list:
    async with open_records(Settings(state_dir=state)) as records:
        return await KeyRing(records).keys()


async def test_records_answer_again_after_postgresql_restarts_and_503_while_it_is_down(
    aiohttp_client, postgres_url: str, tmp_path: Path
) -> None:
    from tests.conftest import _postgres_admin

    settings = Settings(state_dir=tmp_path, database_url=postgres_url)
    api = await aiohttp_client(create_app(settings))
    async with open_records(settings) as records:
        _, token = await KeyRing(records).create(KeyKind.SECRET, "shop")
        _, unseen = await KeyRing(records).create(KeyKind.SECRET, "warehouse")
    assert (await api.get("/v1/carriers", headers=bearer(token))).status == 200
    name = postgres_url.rsplit("/", 1)[1]
    kill = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    await asyncio.to_thread(_postgres_admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    await asyncio.to_thread(_postgres_admin, kill)
    # A key the worker has not read yet needs the database: unavailable for now, not a 500.
    down = await api.get("/v1/carriers", headers=bearer(unseen))
    assert down.status == 503 and down.content_type == "application/problem+json" and down.headers["Retry-After"]
    await asyncio.to_thread(_postgres_admin, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    for key in (token, unseen):
        assert (await api.get("/v1/carriers", headers=bearer(key))).status == 200


def test_the_cli_says_in_one_line_where_the_database_did_not_answer(tmp_path: Path) -> None:
    env = {**os.environ, "CARRIER_ROUTER_STATE": str(tmp_path), "DATABASE_URL": "postgresql://u:secret@127.0.0.1:9/x"}
    done = subprocess.run(
        [sys.executable, "-m", "router.cli", "keys", "create", "--name", "shop"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "127.0.0.1:9" in done.stderr and "secret" not in done.stderr


async def _heard_since(db, before) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL delivers the NOTIFY on commit, on the listener's own connection: wait for it, bounded.
    for _ in range(500):
        if db.changes.token() != before:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the change was never heard")


async def test_a_key_is_read_from_the_database_once_until_another_process_changes_the_keys(
    records_url: str,
) -> None:
    async with open_database(records_url) as db, open_database(records_url, upgrade=False) as other:
        assert await db.changes.listening()
        ring = KeyRing(db)
        key, token = await KeyRing(other).create(KeyKind.SECRET, "shop")
        await asyncio.sleep(0.05)
        assert await ring.authenticate(token) == key

        reads = 0
        real_read = db.read

        def counting_read():  # type: ignore[no-untyped-def]
            nonlocal reads
            reads += 1
            return real_read()

        db.read = counting_read  # type: ignore[method-assign]
        assert [await ring.authenticate(token) for _ in range(5)] == [key] * 5
        assert reads == 0, "an unchanged key was read from the database again"

        before = db.changes.token()
        await KeyRing(other).revoke(key.id)  # as `carrier-router keys revoke` does
        await _heard_since(db, before)
        assert await ring.authenticate(token) is None
        assert reads == 1


async def test_without_a_listener_every_look_up_asks_postgresql(postgres_url: str) -> None:
    async with open_database(postgres_url) as db:  # changes not started: nothing is known
        ring = KeyRing(db)
        key, token = await ring.create(KeyKind.SECRET, "shop")
        assert db.changes.token() is None
        async with open_database(postgres_url, upgrade=False) as other:
            await KeyRing(other).revoke(key.id)
        assert await ring.authenticate(token) is None
