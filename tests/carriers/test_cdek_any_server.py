"""Configuration alone points the CDEK adapter at any server speaking the published v2 format.

The server here is not the sandbox: a small `web.Application` that knows nothing of this project
and answers the published fixtures (token, tariff list, two pages of delivery points), checking
what the adapter sends as CDEK would. The service reaches it through a carriers TOML only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from carriers.cdek.carrier import CdekCarrier
from carriers.registry import load_carriers
from router.core.settings import Settings
from tests.carriers.sandbox_fixtures import fixture

CLIENT_ID, CLIENT_SECRET = "account-id", "account-secret"
TOKEN = fixture("cdek/token.json")["access_token"]


def v2_server(seen: list[dict[str, Any]]) -> web.Application:
    points = fixture("cdek/deliverypoints_page.json")
    # Four points, served two to a page: the adapter must follow X-Total-Elements to the second.
    all_points = points + [{**p, "code": p["code"] + "B"} for p in points]

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
            "client_credentials",
            CLIENT_ID,
            CLIENT_SECRET,
        ):
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response(fixture("cdek/token.json"))

    def authorized(request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def tarifflist(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"errors": [{"code": "v2_unauthorized", "message": "token"}]}, status=401)
        seen.append(await request.json())
        return web.json_response(fixture("cdek/tarifflist_ok.json"))

    async def deliverypoints(request: web.Request) -> web.Response:
        if not authorized(request):
            return web.json_response({"errors": [{"code": "v2_unauthorized", "message": "token"}]}, status=401)
        page, size = int(request.query["page"]), int(request.query["size"])
        chosen = [p for p in all_points if p["location"]["city_code"] == int(request.query.get("city_code", "270"))]
        return web.json_response(
            chosen[page * size : (page + 1) * size], headers={"X-Total-Elements": str(len(chosen))}
        )

    app = web.Application()
    app.router.add_post("/v2/oauth/token", token)
    app.router.add_post("/v2/calculator/tarifflist", tarifflist)
    app.router.add_get("/v2/deliverypoints", deliverypoints)
    return app


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    test_server = TestServer(v2_server(seen))
    await test_server.start_server()
    try:
        yield test_server, seen
    finally:
        await test_server.close()


def config(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "carriers.toml"
    path.write_text(
        "[[carriers]]\n"
        'kind = "cdek"\n'
        'code = "cdek-live"\n'
        'name = "CDEK"\n'
        f'base_url = "{base_url}/v2"\n'
        'client_id_env = "ACCOUNT_CDEK_ID"\n'
        'client_secret_env = "ACCOUNT_CDEK_SECRET"\n'
        "timeout_s = 2.0\n",
        encoding="utf-8",
    )
    return path


async def test_the_service_quotes_a_configured_v2_server_and_its_offers_are_the_servers_prices(
    server: tuple[TestServer, list[dict[str, Any]]],
    tmp_path: Path,
    aiohttp_client: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from router.http.app import create_app

    test_server, seen = server
    monkeypatch.setenv("ACCOUNT_CDEK_ID", CLIENT_ID)
    monkeypatch.setenv("ACCOUNT_CDEK_SECRET", CLIENT_SECRET)
    client = await aiohttp_client(
        create_app(Settings(config_path=config(tmp_path, str(test_server.make_url(""))).resolve()))
    )
    resp = await client.post(
        "/v1/quotes",
        json={
            "origin": {"city": "Москва"},
            "destination": {"city": "Новосибирск"},
            "parcels": [{"weight_g": 1200, "length_cm": 30.2, "width_cm": 20, "height_cm": 10}],
        },
    )
    assert resp.status == 201, await resp.text()
    quote = await resp.json()
    assert quote["errors"] == []
    offers = {o["service"]: o for o in quote["offers"] if o["carrier"] == "cdek-live"}
    published = {t["tariff_code"]: t for t in fixture("cdek/tarifflist_ok.json")["tariff_codes"]}
    assert set(offers) == {str(code) for code in published}
    for code, tariff in published.items():
        offer = offers[str(code)]
        assert Decimal(offer["price"]["total"]) == Decimal(str(tariff["delivery_sum"])).quantize(Decimal("0.01"))
        assert (offer["eta"]["min_days"], offer["eta"]["max_days"]) == (tariff["period_min"], tariff["period_max"])
    assert offers["137"]["delivery_type"] == "courier" and offers["368"]["delivery_type"] == "pickup"  # to a locker
    (body,) = seen  # grams and whole centimetres, rounded up, as the calculator takes them
    assert body["packages"] == [{"weight": 1200, "length": 31, "width": 20, "height": 10}]


async def test_a_configured_v2_server_gives_its_pickup_points_page_by_page(
    server: tuple[TestServer, list[dict[str, Any]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aiohttp

    test_server, _ = server
    monkeypatch.setenv("ACCOUNT_CDEK_ID", CLIENT_ID)
    monkeypatch.setenv("ACCOUNT_CDEK_SECRET", CLIENT_SECRET)
    async with aiohttp.ClientSession() as http:
        (carrier,) = load_carriers(Settings(config_path=config(tmp_path, str(test_server.make_url("")))), http)
        assert isinstance(carrier, CdekCarrier)
        imported = await carrier.import_delivery_points(
            {"city_code": 270}, page_size=2, zone_for=lambda lat, lon: "Asia/Novosibirsk"
        )
    assert imported.errors == ()
    assert sorted(p.code for p in imported.points) == ["NSK27", "NSK27B", "NSK310", "NSK310B"]
    locker = next(p for p in imported.points if p.code == "NSK310")
    published = next(p for p in fixture("cdek/deliverypoints_page.json") if p["code"] == "NSK310")
    assert (locker.lat, locker.lon) == (published["location"]["latitude"], published["location"]["longitude"])
    assert locker.limits.max_weight_g == round(published["weight_max"] * 1000)  # kilograms on the wire
    assert carrier.client.token_requests == 1
