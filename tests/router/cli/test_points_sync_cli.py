"""`carrier-router points sync cdek` against a CDEK-format server: every page, bad records named, nothing
written when it fails, and a running service that drops what the carrier dropped without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from carriers.sandbox import SandboxServers
from router.cli.main import main
from router.core.settings import Settings
from router.http.app import create_app
from tests.router.records.test_networks import data_dir_without_points
from tests.router.syncing.feeds import (  # noqa: F401  (fixture)
    SECRET_VARIABLE,
    carriers_toml,
    cdek_api,
    credentials,
    fail_third_page,
    served_ids,
    withdraw,
)


@pytest.fixture
def env(cdek_api: SandboxServers, tmp_path: Path) -> dict[str, str | None]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'records.sqlite3'}",
        "CARRIER_ROUTER_STATE": str(tmp_path / "state"),
        "CARRIER_ROUTER_CONFIG": str(carriers_toml(tmp_path, cdek_api)),
        "REDIS_URL": None,
        "COLUMNS": "200",
        **credentials(cdek_api),
    }


async def run(env: dict[str, str | None], *args: str) -> Result:
    # In a thread of its own: the command runs its own event loop, and the emulator answers from this one.
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env, catch_exceptions=False)


async def synced(env: dict[str, str | None]) -> Result:
    return await run(env, "points", "sync", "cdek", "--page-size", "10")


async def listed_count(env: dict[str, str | None]) -> int:
    result = await run(env, "points", "list", "--json")
    return int({n["network"]: n for n in orjson.loads(result.stdout)}["cdek"]["points"])


async def test_a_sync_reads_every_page_and_names_each_record_it_could_not_use(
    cdek_api: SandboxServers, env: dict[str, str | None]
) -> None:
    result = await synced(env)
    assert result.exit_code == 0, result.output
    assert (
        f"25 points of cdek synced from {cdek_api.cdek_url}/v2/deliverypoints in 3 pages; 1 rejected" in result.stdout
    )
    assert "cdek record 8 (BAD1): location: missing" in result.stderr
    assert cdek_api.cdek.requests["/v2/deliverypoints"] == 3
    assert await listed_count(env) == 25


async def test_a_sync_that_fails_on_page_3_changes_nothing_and_says_which_page(
    cdek_api: SandboxServers, env: dict[str, str | None]
) -> None:
    assert (await synced(env)).exit_code == 0
    await withdraw(cdek_api, "C00", "C01")
    await fail_third_page(cdek_api)
    result = await synced(env)
    assert result.exit_code == 1
    assert "page 3 of /v2/deliverypoints: cdek: HTTP 500" in result.output
    assert "the network is unchanged" in result.output and "Traceback" not in result.output
    assert await listed_count(env) == 25


async def test_a_missing_credential_is_one_line_naming_its_variable(env: dict[str, str | None]) -> None:
    result = await run({**env, SECRET_VARIABLE: None}, "points", "sync", "cdek")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {env['CARRIER_ROUTER_CONFIG']}: carriers[0].client_secret_env: "
        f"environment variable {SECRET_VARIABLE} is not set"
    ]


async def test_a_carrier_the_config_does_not_name_as_cdek_is_one_line_naming_the_file(
    env: dict[str, str | None],
) -> None:
    result = await run(env, "points", "sync", "boxberry")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {env['CARRIER_ROUTER_CONFIG']}: no kind = \"cdek\" carrier 'boxberry' (CDEK carriers: cdek)"
    ]


async def test_a_second_sync_that_drops_a_point_takes_it_off_a_running_service_without_a_restart(
    aiohttp_client: Any, cdek_api: SandboxServers, env: dict[str, str | None], tmp_path: Path, records_url: str
) -> None:
    env = {**env, "DATABASE_URL": records_url}
    assert (await synced(env)).exit_code == 0
    settings = Settings(
        data_dir=data_dir_without_points(tmp_path),
        state_dir=tmp_path / "state",
        database_url=records_url,
        points_reload_s=0.05,
    )
    api = await aiohttp_client(create_app(settings))
    assert "cdek:C05" in await served_ids(api)

    await withdraw(cdek_api, "C05")
    result = await synced(env)
    assert result.exit_code == 0 and "24 points of cdek synced (was 25)" in result.stdout
    for _ in range(400):  # the worker asks the records every 50 ms; a busy machine may take a while
        if "cdek:C05" not in await served_ids(api):
            break
        await asyncio.sleep(0.05)
    assert await served_ids(api) == [f"cdek:C{i:02d}" for i in range(25) if i != 5]
