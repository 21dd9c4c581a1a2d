"""A CDEK-format server with points of the test's own, and the carriers TOML that reaches it.

Test modules import the fixtures they use from here (pytest finds fixtures in a module's
namespace), so these stay out of any conftest other suites share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from carriers.sandbox import SandboxPoints, SandboxServers, start_sandbox
from tests.pickup_points.test_importers import cdek_point

ID_VARIABLE, SECRET_VARIABLE = "TEST_CDEK_CLIENT_ID", "TEST_CDEK_CLIENT_SECRET"
NEAR = {"lat": "55.75", "lon": "37.62", "limit": "100"}
VIEW = {"bbox": "37.5,55.7,37.7,55.8", "zoom": "20"}


def feed(count: int = 25, *, bad_at: int | None = None) -> list[dict[str, Any]]:
    """`count` CDEK offices around Moscow's centre, C00, C01, …; a record without a location at `bad_at`."""
    points = []
    for i in range(count):
        point = cdek_point(f"C{i:02d}")
        point["location"] = {**point["location"], "latitude": 55.75 + i / 2000, "longitude": 37.62 + i / 2000}
        points.append(point)
    if bad_at is not None:
        points.insert(bad_at - 1, {**cdek_point("BAD1"), "location": None})
    return points


@pytest.fixture
async def cdek_api() -> AsyncIterator[SandboxServers]:
    """The CDEK emulator listing `feed()` plus one bad record, 8th of 26."""
    servers = await start_sandbox(seed=7, cdek_points=SandboxPoints(feed(bad_at=8)))
    try:
        yield servers
    finally:
        await servers.close()


def carriers_toml(tmp_path: Path, servers: SandboxServers) -> Path:
    path = tmp_path / "carriers.toml"
    path.write_text(
        f"""
[[carriers]]
kind = "cdek"
code = "cdek"
base_url = "{servers.cdek_url}"
client_id_env = "{ID_VARIABLE}"
client_secret_env = "{SECRET_VARIABLE}"
""",
        encoding="utf-8",
    )
    return path


def credentials(servers: SandboxServers) -> dict[str, str]:
    return {ID_VARIABLE: servers.cdek_client_id, SECRET_VARIABLE: servers.cdek_client_secret}


async def control(servers: SandboxServers, path: str, body: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as http, http.post(servers.cdek_url + path, json=body) as resp:
        assert resp.status == 200, await resp.text()


async def fail_third_page(servers: SandboxServers) -> None:
    await control(servers, "/_sandbox/faults", {"status": 500, "after": 2, "count": 1, "path": "/v2/deliverypoints"})


async def withdraw(servers: SandboxServers, *codes: str) -> None:
    await control(servers, "/_sandbox/points", {"withdraw": list(codes)})


async def served_ids(api: Any) -> list[str]:
    response = await api.get("/v1/pickup-points", params=NEAR)
    assert response.status == 200, await response.text()
    return sorted(p["id"] for p in (await response.json())["points"])


async def on_the_map(api: Any) -> int:
    response = await api.get("/v1/pickup-points", params=VIEW)
    assert response.status == 200, await response.text()
    return int((await response.json())["total"])
