"""Imported pickup-point networks in the records: whole networks replaced at once, served by a new app."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.util import await_only

from pickup_points.errors import NetworkNameError
from pickup_points.storage import save_network
from router.core.settings import DEFAULT_DATA_DIR, Settings
from router.http import appkeys as keys
from router.http.app import create_app
from router.http.handlers.pickup_points import reload_points
from router.records import open_database
from router.records.networks import NetworkRecordError, Networks, UnknownNetwork, served_points
from router.records.tables import pickup_network_points
from tests.pickup_points.factories import every_field, point


def data_dir_without_points(tmp_path: Path) -> Path:
    """The bundled data (carriers, places) with a pickup-point directory of the test's own."""
    data = tmp_path / "data"
    data.mkdir()
    for entry in DEFAULT_DATA_DIR.iterdir():
        if entry.name != "pickup_points":
            (data / entry.name).symlink_to(entry)
    return data


def version(name: str, count: int, label: str) -> list[Any]:
    return [point(f"{i:04d}", 55.0 + i / 1000, 37.0, network=name, name=f"{label} {i}") for i in range(count)]


async def test_a_network_reads_back_exactly_as_it_was_imported(records_url: str) -> None:
    points = every_field(64.7012345678, country="RU")
    async with open_database(records_url) as db:
        record = await Networks(db).save("n", points, "/feeds/n.csv")
        loaded = await Networks(db).load()
        assert await Networks(db).networks() == [record]
    assert loaded.errors == ()
    assert loaded.points == tuple(points)  # coordinates to the last digit, not the CSV's six decimals
    assert loaded.marks == {"n": record.imported_at} and record.point_count == 2


async def test_a_network_stored_with_the_old_region_codes_or_names_loads_with_iso_3166_2_ones(records_url: str) -> None:
    # As imports and syncs kept them before regions were ISO codes: the demo files' GeoNames
    # admin1 codes, history's RU-48 form, CDEK's names; one name no subject has.
    written = {"a": "48", "b": "RU-53", "c": "Новосибирская обл.", "d": "RU-KGD", "e": "Сибирский ФО"}
    points = [point(code, network="old", region=region) for code, region in written.items()]
    async with open_database(records_url) as db:
        await Networks(db).save("old", points, "old.csv")
        loaded = await Networks(db).load()
    assert loaded.errors == ()
    assert {p.code: p.region for p in loaded.points} == {
        "a": "RU-MOW",
        "b": "RU-NVS",
        "c": "RU-NVS",
        "d": "RU-KGD",
        "e": None,
    }


async def test_a_reader_during_a_reimport_sees_the_whole_old_network_then_the_whole_new_one(
    records_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("router.records.networks._BATCH", 10)
    seen_midway: list[tuple[str, ...]] = []
    async with open_database(records_url) as db, open_database(records_url, upgrade=False) as elsewhere:
        await Networks(db).save("n", version("n", 25, "old"), "old.csv")

        def read_midway(conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
            # Runs inside the writer's transaction, after its first batch of new points went in.
            if statement.lstrip().upper().startswith("INSERT INTO PICKUP_NETWORK_POINTS") and not seen_midway:
                loaded = await_only(Networks(elsewhere).load())
                seen_midway.append(tuple(p.name for p in loaded.points))

        sa.event.listen(db.engine.sync_engine, "after_cursor_execute", read_midway)
        await Networks(db).save("n", version("n", 30, "new"), "new.csv")
        after = await Networks(elsewhere).load()
    assert seen_midway == [tuple(f"old {i}" for i in range(25))]
    assert [p.name for p in after.points] == [f"new {i}" for i in range(30)]


async def test_an_import_that_fails_halfway_leaves_the_previous_network_whole(
    records_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("router.records.networks._BATCH", 10)
    broken = version("n", 30, "new")
    broken[25] = replace(broken[25], code=broken[3].code)  # the third batch breaks the primary key
    async with open_database(records_url) as db:
        before = await Networks(db).save("n", version("n", 25, "old"), "old.csv")
        with pytest.raises(sa.exc.IntegrityError):
            await Networks(db).save("n", broken, "new.csv")
        loaded = await Networks(db).load()
        assert await Networks(db).networks() == [before]
    assert [p.name for p in loaded.points] == [f"old {i}" for i in range(25)]


async def test_removing_a_network_takes_its_points_and_an_unknown_one_is_named(records_url: str) -> None:
    async with open_database(records_url) as db:
        networks = Networks(db)
        await networks.save("a", version("a", 3, "a"), "a.csv")
        await networks.save("b", version("b", 2, "b"), "b.csv")
        removed = await networks.remove("a")
        with pytest.raises(UnknownNetwork):
            await networks.remove("a")
        async with db.read() as conn:
            left = (await conn.execute(sa.select(pickup_network_points.c.network).distinct())).scalars().all()
        assert removed.name == "a" and removed.point_count == 3
        assert left == ["b"] and set(await networks.marks()) == {"b"}


async def test_what_cannot_be_kept_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    async with open_database(f"sqlite:///{tmp_path / 'r.sqlite3'}") as db:
        networks = Networks(db)
        with pytest.raises(NetworkNameError):
            await networks.save("../x", version("../x", 1, "x"), "x.csv")
        with pytest.raises(NetworkRecordError, match="belongs to 'other'"):
            await networks.save("n", [point("1", network="other")], "x.csv")
        with pytest.raises(NetworkRecordError, match="longer than 100"):
            await networks.save("n", [point("c" * 101, network="n")], "x.csv")
        with pytest.raises(NetworkRecordError, match="no points"):
            await networks.save("n", [], "x.csv")
        assert await networks.networks() == []


async def test_a_stored_point_that_no_longer_reads_is_skipped_and_named(tmp_path: Path) -> None:
    async with open_database(f"sqlite:///{tmp_path / 'r.sqlite3'}") as db:
        await Networks(db).save("n", version("n", 2, "p"), "n.csv")
        async with db.write() as conn:
            document = point_feature_with_zone("Mars/Olympus_Mons")
            await conn.execute(
                pickup_network_points.update().where(pickup_network_points.c.point_id == "0001"), {"document": document}
            )
        loaded = await Networks(db).load()
    assert [p.code for p in loaded.points] == ["0000"]
    assert [str(e) for e in loaded.errors] == [
        "records: n:0001: timezone: 'Mars/Olympus_Mons' is not an IANA time zone"
    ]


def point_feature_with_zone(zone: str) -> dict[str, Any]:
    from pickup_points.storage import point_feature

    feature = point_feature(point("0001", network="n"))
    feature["properties"]["timezone"] = zone
    return feature


async def test_an_imported_network_replaces_the_bundled_one_of_its_name_in_a_new_app(
    aiohttp_client: Any, records_url: str, tmp_path: Path
) -> None:
    bundled = data_dir_without_points(tmp_path) / "pickup_points"
    save_network(
        [point("B1", 55.75, 37.62, network="magistral"), point("K1", 55.75, 37.62, network="kept")],
        bundled,
        "demo_points",
    )
    settings = Settings(data_dir=tmp_path / "data", state_dir=tmp_path / "state", database_url=records_url)
    async with open_database(records_url) as db:
        await Networks(db).save("magistral", [point("I1", 55.7501, 37.62, network="magistral")], "feed.json")
        await Networks(db).save("partner", [point("P1", 55.7502, 37.62, network="partner")], "partner.csv")
    api = await aiohttp_client(create_app(settings))
    response = await api.get("/v1/pickup-points", params={"lat": "55.75", "lon": "37.62", "limit": "10"})
    assert response.status == 200, await response.text()
    ids = sorted(r["id"] for r in (await response.json())["points"])
    assert ids == ["kept:K1", "magistral:I1", "partner:P1"]


async def test_a_network_the_previous_release_imported_into_the_data_directory_is_still_served(
    records_url: str, tmp_path: Path
) -> None:
    # The previous release's `points import` wrote <data_dir>/pickup_points/<network>.csv itself.
    data = tmp_path / "data"
    save_network([point("OLD1", network="partner")], data / "pickup_points", "partner")
    async with open_database(records_url) as db:
        served = await served_points(data / "pickup_points", Networks(db))
    assert [p.id for p in served.points] == ["partner:OLD1"] and served.files == ("partner.csv",)


async def ids_near_moscow(api: Any) -> list[str]:
    response = await api.get("/v1/pickup-points", params={"lat": "55.75", "lon": "37.62", "limit": "10"})
    assert response.status == 200, await response.text()
    return sorted(r["id"] for r in (await response.json())["points"])


async def test_a_running_app_serves_an_import_once_it_reloads_and_only_then(
    aiohttp_client: Any, records_url: str, tmp_path: Path
) -> None:
    bundled = data_dir_without_points(tmp_path) / "pickup_points"
    save_network([point("K1", network="kept")], bundled, "demo_points")
    settings = Settings(
        data_dir=tmp_path / "data", state_dir=tmp_path / "state", database_url=records_url, points_reload_s=0
    )
    api = await aiohttp_client(create_app(settings))
    live, networks = api.app[keys.PICKUP_POINTS], Networks(api.app[keys.RECORDS])
    assert not await reload_points(live, bundled, networks)

    await networks.save("partner", [point("P1", 55.7502, 37.62, network="partner")], "partner.csv")
    assert await ids_near_moscow(api) == ["kept:K1"]
    assert await reload_points(live, bundled, networks)
    assert await ids_near_moscow(api) == ["kept:K1", "partner:P1"]
    assert not await reload_points(live, bundled, networks)

    await networks.save("partner", [point("P2", 55.7502, 37.62, network="partner")], "partner.csv")
    assert await reload_points(live, bundled, networks)
    assert await ids_near_moscow(api) == ["kept:K1", "partner:P2"]
    await networks.remove("partner")
    assert await reload_points(live, bundled, networks)
    assert await ids_near_moscow(api) == ["kept:K1"]


async def test_workers_follow_imports_made_by_another_process(
    aiohttp_client: Any, records_url: str, tmp_path: Path
) -> None:
    data = data_dir_without_points(tmp_path)
    save_network([point("K1", network="kept")], data / "pickup_points", "demo_points")
    settings = Settings(data_dir=data, state_dir=tmp_path / "state", database_url=records_url, points_reload_s=0.05)
    workers = [await aiohttp_client(create_app(settings)) for _ in range(2)]
    async with open_database(records_url) as db:  # as `carrier-router points import` does, from its own process
        await Networks(db).save("partner", [point("P1", 55.7502, 37.62, network="partner")], "partner.csv")
    for worker in workers:
        for _ in range(400):  # the follower asks every 50 ms; a busy machine may take a while
            if await ids_near_moscow(worker) != ["kept:K1"]:
                break
            await asyncio.sleep(0.05)
        assert await ids_near_moscow(worker) == ["kept:K1", "partner:P1"]


async def test_processes_importing_one_network_at_once_all_succeed_and_one_whole_version_remains(
    records_url: str,
) -> None:
    async with open_database(records_url):
        pass  # the schema, once

    async def one_process(i: int) -> None:
        async with open_database(records_url, upgrade=False) as db:
            await Networks(db).save("n", version("n", 20 + i, f"v{i}"), f"v{i}.csv")

    await asyncio.gather(*(one_process(i) for i in range(6)))
    async with open_database(records_url, upgrade=False) as db:
        loaded = await Networks(db).load()
        (record,) = await Networks(db).networks()
    label = record.source.removesuffix(".csv")
    assert [p.name for p in loaded.points] == [f"{label} {i}" for i in range(record.point_count)]
    assert record.point_count == 20 + int(label[1:])
