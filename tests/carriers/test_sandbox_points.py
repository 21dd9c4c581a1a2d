"""The CDEK emulator's delivery points as a sync meets them: many pages, points withdrawn, a page that fails."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from carriers.api import Secret
from carriers.cdek.client import CdekClient
from carriers.cdek.points import Paging, delivery_points
from carriers.errors import CarrierUnavailable
from carriers.sandbox import SandboxPoints, SandboxServers, start_sandbox
from carriers.sandbox.faults import parse_faults
from carriers.sandbox.points import delivery_points as demo_points
from tests.carriers.sandbox_fixtures import http  # noqa: F401  (fixture)

FIRST = demo_points()[:25]


@pytest.fixture
async def small() -> AsyncIterator[SandboxServers]:
    servers = await start_sandbox(seed=7, cdek_points=SandboxPoints(FIRST))
    try:
        yield servers
    finally:
        await servers.close()


def client(servers: SandboxServers, http: aiohttp.ClientSession) -> CdekClient:
    return CdekClient(
        http,
        client_id=Secret(servers.cdek_client_id),
        client_secret=Secret(servers.cdek_client_secret),
        base_url=servers.cdek_url,
    )


async def codes(cdek: CdekClient, paging: Paging | None = None) -> list[str]:
    return [p["code"] async for p in delivery_points(cdek, "cdek", page_size=10, paging=paging)]


async def test_the_points_given_are_listed_over_as_many_pages_as_they_take(
    small: SandboxServers, http: aiohttp.ClientSession
) -> None:
    paging = Paging()
    assert await codes(client(small, http), paging) == [p["code"] for p in FIRST]
    assert (paging.pages, paging.points) == (3, 25)
    assert small.cdek.requests["/v2/deliverypoints"] == 3


async def test_a_withdrawn_point_is_no_longer_listed_until_the_points_are_restored(
    small: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek = client(small, http)
    gone = FIRST[12]["code"]
    async with http.post(small.cdek_url + "/_sandbox/points", json={"withdraw": [gone]}) as resp:
        assert resp.status == 200 and await resp.json() == {"listed": 24, "withdrawn": [gone]}
    assert await codes(cdek) == [p["code"] for p in FIRST if p["code"] != gone]

    async with http.post(small.cdek_url + "/_sandbox/points", json={"withdraw": [FIRST[0]["code"], "NOPE1"]}) as resp:
        assert resp.status == 404 and (await resp.json())["unknown"] == ["NOPE1"]
    assert len(await codes(cdek)) == 24  # a request naming an unknown point withdraws nothing
    async with http.delete(small.cdek_url + "/_sandbox/points") as resp:
        assert (await resp.json())["listed"] == 25
    assert len(await codes(cdek)) == 25


async def test_a_fault_after_two_pages_fails_the_third_and_the_next_listing_is_whole(
    small: SandboxServers, http: aiohttp.ClientSession
) -> None:
    cdek = client(small, http)
    body = {"status": 500, "after": 2, "count": 1, "path": "/v2/deliverypoints"}
    async with http.post(small.cdek_url + "/_sandbox/faults", json=body) as resp:
        assert resp.status == 200, await resp.text()
    paging = Paging()
    with pytest.raises(CarrierUnavailable):
        await codes(cdek, paging)
    assert paging.pages == 2
    assert len(await codes(cdek)) == 25


def test_after_must_be_a_whole_number_from_zero() -> None:
    with pytest.raises(ValueError, match="after must be"):
        parse_faults({"after": -1})
    assert parse_faults({"status": 500, "after": 2})[0].after == 2
