"""A network synced from a CDEK-format API: every page, at once on the worker that synced, kept when a sync fails."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import aiohttp
import pytest

from carriers.sandbox import SandboxPoints, SandboxServers, start_sandbox
from carriers.sandbox.points import delivery_points
from router.core.settings import Settings
from router.http import appkeys as keys
from router.http.app import create_app
from router.records import open_database
from router.records.networks import Networks
from router.store import MemoryStore, Store
from router.syncing import SyncBusy, Syncer, SyncFailed, point_sources
from tests.router.records.test_networks import data_dir_without_points
from tests.router.syncing.feeds import (  # noqa: F401  (fixture)
    carriers_toml,
    cdek_api,
    credentials,
    fail_third_page,
    on_the_map,
    served_ids,
    withdraw,
)

EVERY_ONE = [f"cdek:C{i:02d}" for i in range(25)]


@pytest.fixture
def settings(cdek_api: SandboxServers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in credentials(cdek_api).items():
        monkeypatch.setenv(name, value)
    return Settings(
        data_dir=data_dir_without_points(tmp_path),
        state_dir=tmp_path / "state",
        database_url=f"sqlite:///{tmp_path / 'records.sqlite3'}",
        config_path=carriers_toml(tmp_path, cdek_api),
        points_reload_s=0,
    )


def paged(syncer: Syncer, size: int = 10) -> Syncer:
    syncer.sources = {code: replace(source, page_size=size) for code, source in syncer.sources.items()}
    return syncer


async def test_the_worker_that_syncs_serves_the_new_network_at_once_and_a_dropped_point_leaves_the_map(
    aiohttp_client: Any, cdek_api: SandboxServers, settings: Settings
) -> None:
    api = await aiohttp_client(create_app(settings))
    syncer = paged(api.app[keys.POINT_SYNC])
    first = await syncer.sync("cdek")
    assert (len(first.result.points), first.result.rejected, first.pages) == (25, 1, 3)
    assert await served_ids(api) == EVERY_ONE and await on_the_map(api) == 25

    await withdraw(cdek_api, "C07")
    second = await syncer.sync("cdek")
    assert second.before == 25 and len(second.result.points) == 24
    assert await served_ids(api) == [i for i in EVERY_ONE if i != "cdek:C07"]
    assert await on_the_map(api) == 24
    assert (await api.get("/v1/pickup-points/cdek:C07")).status == 404


async def test_a_sync_failing_on_page_3_keeps_the_network_and_healthz_says_so_until_one_succeeds(
    aiohttp_client: Any, cdek_api: SandboxServers, settings: Settings
) -> None:
    # A schedule of an hour: the sync at start is the only one it makes in this test.
    api = await aiohttp_client(create_app(settings.with_(points_sync_s=3600)))
    live = api.app[keys.PICKUP_POINTS]
    for _ in range(400):  # the first sync runs beside the start; a busy machine may take a while
        if "cdek" in live.marks:
            break
        await asyncio.sleep(0.05)
    synced_at = live.marks["cdek"]
    health = await (await api.get("/healthz")).json()
    assert health["networks"] == {"cdek": {"synced_at": ANY, "last_error": None, "failed_at": None}}
    assert datetime.fromisoformat(health["networks"]["cdek"]["synced_at"]) == synced_at

    await withdraw(cdek_api, "C03")
    await fail_third_page(cdek_api)
    syncer = paged(api.app[keys.POINT_SYNC])
    with pytest.raises(SyncFailed, match="page 3 of"):
        await syncer.sync("cdek")
    health = await (await api.get("/healthz")).json()
    assert health["status"] == "ok"
    network = health["networks"]["cdek"]
    assert datetime.fromisoformat(network["synced_at"]) == synced_at and network["failed_at"] is not None
    assert network["last_error"].startswith("page 3 of /v2/deliverypoints: cdek: HTTP 500")
    assert cdek_api.cdek_url not in network["last_error"]
    assert await served_ids(api) == EVERY_ONE  # C03 too: the sync that would drop it failed

    await syncer.sync("cdek")
    network = (await (await api.get("/healthz")).json())["networks"]["cdek"]
    assert network["last_error"] is None and datetime.fromisoformat(network["synced_at"]) > synced_at
    assert "cdek:C03" not in await served_ids(api)


async def test_a_synced_networks_points_carry_iso_regions_from_cdeks_names_or_else_their_coordinates(
    aiohttp_client: Any, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator's own points, as CDEK shapes them: Moscow, Novosibirsk and Kazan by their real city codes.
    moscow, novosibirsk, kazan = (
        next(p for p in delivery_points() if p["location"]["city_code"] == city) for city in (44, 270, 424)
    )
    # A region CDEK names in words no table knows (a federal district, not a subject).
    unnamed = {**novosibirsk, "code": "UNNAMED", "location": {**novosibirsk["location"], "region": "Сибирский ФО"}}
    servers = await start_sandbox(seed=7, cdek_points=SandboxPoints([moscow, novosibirsk, kazan, unnamed]))
    try:
        for name, value in credentials(servers).items():
            monkeypatch.setenv(name, value)
        assert [p["location"]["region"] for p in (moscow, novosibirsk, kazan)] == [
            "Москва",
            "Новосибирская обл.",
            "Респ. Татарстан",
        ]
        (tmp_path / "own").mkdir()
        api = await aiohttp_client(create_app(replace(settings, config_path=carriers_toml(tmp_path / "own", servers))))
        report = await api.app[keys.POINT_SYNC].sync("cdek")
        assert report.result.rejected == 0

        regions = {}
        for point in (moscow, novosibirsk, kazan, unnamed):
            response = await api.get(f"/v1/pickup-points/cdek:{point['code']}")
            assert response.status == 200, await response.text()
            regions[point["code"]] = (await response.json())["region"]
    finally:
        await servers.close()
    assert list(regions.values()) == ["RU-MOW", "RU-NVS", "RU-TA", "RU-NVS"]


async def test_healthz_names_no_network_while_syncing_is_off(aiohttp_client: Any, settings: Settings) -> None:
    api = await aiohttp_client(create_app(settings))
    assert (await (await api.get("/healthz")).json())["networks"] == {}
    assert Settings.from_env({}).points_sync_s == 0
    assert Settings.from_env({"CARRIER_ROUTER_POINTS_SYNC_S": "900"}).points_sync_s == 900


async def test_a_network_another_process_is_syncing_is_not_read_twice(
    cdek_api: SandboxServers, settings: Settings
) -> None:
    store = MemoryStore()
    async with aiohttp.ClientSession() as http, open_database(str(settings.database_url)) as db:
        syncer = Syncer(point_sources(settings, http), Networks(db), store)
        await store.add("points-sync:cdek:running", b"elsewhere", 60)
        with pytest.raises(SyncBusy):
            await syncer.sync("cdek")
        assert cdek_api.cdek.requests["/v2/deliverypoints"] == 0

        await store.delete("points-sync:cdek:running")
        await syncer.sync("cdek")
        assert await store.get("points-sync:cdek:running") is None  # released for the next one
        await syncer.sync("cdek")


async def test_of_workers_sharing_a_store_one_syncs_what_is_due(
    cdek_api: SandboxServers, settings: Settings, store: Store
) -> None:
    async with aiohttp.ClientSession() as http, open_database(str(settings.database_url)) as db:
        workers = [paged(Syncer(point_sources(settings, http), Networks(db), store)) for _ in range(3)]
        await asyncio.gather(*(w.sync_due(3600) for w in workers))
        await asyncio.gather(*(w.sync_due(3600) for w in workers))
        (record,) = await Networks(db).networks()
    assert cdek_api.cdek.requests["/v2/deliverypoints"] == 3  # one sync's three pages
    assert record.point_count == 25


async def test_a_carrier_listing_no_usable_point_leaves_the_network_as_it_was(
    cdek_api: SandboxServers, settings: Settings
) -> None:
    async with aiohttp.ClientSession() as http, open_database(str(settings.database_url)) as db:
        syncer = Syncer(point_sources(settings, http), Networks(db), MemoryStore())
        await syncer.sync("cdek")
        await withdraw(cdek_api, *(f"C{i:02d}" for i in range(25)))  # the bad record alone is left
        with pytest.raises(SyncFailed, match=r"no usable points in /v2/deliverypoints \(1 rejected of 1\)"):
            await syncer.sync("cdek")
        (record,) = await Networks(db).networks()
        failure = await syncer.failure("cdek")
    assert record.point_count == 25
    assert failure is not None and failure.error.startswith("no usable points")


async def test_a_reload_that_read_the_records_before_a_sync_saved_cannot_swap_in_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from router.http.handlers import pickup_points as handlers
    from tests.pickup_points.factories import point

    bundled = data_dir_without_points(tmp_path) / "pickup_points"
    read_once, go_on = asyncio.Event(), asyncio.Event()
    real = handlers.served_points

    async def slow_first_read(*args: Any) -> Any:
        served = await real(*args)
        if not read_once.is_set():
            read_once.set()
            await go_on.wait()
        return served

    monkeypatch.setattr(handlers, "served_points", slow_first_read)
    async with open_database(f"sqlite:///{tmp_path / 'r.sqlite3'}") as db:
        networks = Networks(db)
        live = handlers.LivePoints(await asyncio.to_thread(handlers.PickupDirectory.build, []))
        await networks.save("cdek", [point("OLD", network="cdek")], "first")
        follower = asyncio.create_task(handlers.reload_points(live, bundled, networks))
        await read_once.wait()  # the follower holds the first version, not yet swapped in
        await networks.save("cdek", [point("NEW", network="cdek")], "second")
        after_sync = asyncio.create_task(handlers.reload_points(live, bundled, networks))
        # Room for the sync's reload to finish first, as it would without turns; with them it
        # waits for the follower, and the pause only lets time pass (never a cause of failure).
        await asyncio.wait({after_sync}, timeout=1.0)
        go_on.set()
        await asyncio.gather(follower, after_sync)
        assert live.marks == await networks.marks()
    assert live.directory.get("cdek:NEW") is not None and live.directory.get("cdek:OLD") is None
