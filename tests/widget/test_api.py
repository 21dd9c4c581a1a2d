"""The widget's endpoints on the real app: city autocomplete, the script and its chunks, the demo page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from router.core.settings import Settings
from router.http.app import create_app
from router.http.handlers import widget
from tests.router.http.test_openapi import conforms
from tests.widget.conftest import DIST

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api() -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(Settings())))
    await client.start_server()
    yield client
    await client.close()


async def test_places_suggest_novosibirsk_from_its_first_letters_in_either_script(api: TestClient) -> None:
    for typed in ("Новосиб", "novosib", "г. Новосиб"):
        resp = await api.get("/v1/places", params={"q": typed})
        assert resp.status == 200
        body = await resp.json()
        conforms(body, "PlaceSuggestions")
        first = body["places"][0]
        assert (first["name"], first["name_ru"], first["country"]) == ("Novosibirsk", "Новосибирск", "RU")


async def test_places_honour_limit_and_country(api: TestClient) -> None:
    body = await (await api.get("/v1/places", params={"q": "Мо", "limit": "3"})).json()
    assert len(body["places"]) == 3
    populations = [p["population"] for p in body["places"]]
    assert populations == sorted(populations, reverse=True)
    russian = await (await api.get("/v1/places", params={"q": "Мо", "country": "ru", "limit": "20"})).json()
    assert russian["places"] and {p["country"] for p in russian["places"]} == {"RU"}


async def test_places_suggest_novosibirsk_first_for_novos_with_its_iso_region(api: TestClient) -> None:
    body = await (await api.get("/v1/places", params={"q": "Новос", "limit": "5"})).json()

    first = body["places"][0]
    assert (first["name_ru"], first["region"], first["region_name_ru"]) == (
        "Новосибирск",
        "RU-NVS",
        "Новосибирская область",
    )
    assert {p["country"] for p in body["places"]} == {"RU"}


async def test_places_widen_to_every_country_with_a_star(api: TestClient) -> None:
    body = await (await api.get("/v1/places", params={"q": "Новос", "limit": "10", "country": "*"})).json()

    assert body["places"][0]["name_ru"] == "Новосибирск"
    assert "UA" in {p["country"] for p in body["places"]}


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "Мо", "limit": "0"}, "limit"),
        ({"q": "Мо", "limit": "21"}, "limit"),
        ({"q": "Мо", "limit": ""}, "limit"),
        ({"q": "Мо", "country": "RUS"}, "country"),
        ({"q": "Мо", "country": "**"}, "country"),
        ({"q": "Мо", "city": "x"}, "city"),
    ],
)
async def test_a_bad_places_query_is_a_422_naming_the_parameter(
    api: TestClient, params: dict[str, str], path: str
) -> None:
    resp = await api.get("/v1/places", params=params)
    assert resp.status == 422 and resp.content_type == "application/problem+json"
    assert [e["path"] for e in (await resp.json())["errors"]] == [path]


async def test_the_script_is_served_for_any_shop_and_chunks_for_good(api: TestClient) -> None:
    script = await api.get("/widget.js")
    assert script.status == 200 and script.content_type == "application/javascript"
    assert script.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=300" in script.headers["Cache-Control"]
    chunk_name = next((DIST / "widget" / "assets").glob("map-*.js")).name
    chunk = await api.get(f"/widget/assets/{chunk_name}")
    assert chunk.status == 200 and "immutable" in chunk.headers["Cache-Control"]
    assert chunk.headers["Access-Control-Allow-Origin"] == "*"
    for name in ("../manifest.json", "..%2F..%2Fwidget.js", "nope.js", "map.exe"):
        assert (await api.get(f"/widget/assets/{name}")).status == 404


async def test_an_unbuilt_widget_answers_how_to_build_it(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(widget, "DIST", tmp_path)
    resp = await api.get("/widget.js")
    assert resp.status == 503 and "scripts/build-widget" in (await resp.json())["detail"]


async def test_the_demo_page_carries_the_tag_and_escapes_what_it_is_given(api: TestClient) -> None:
    page = await (await api.get("/widget/demo", params={"lang": "en", "key": 'pk_"><script>'})).text()
    assert '<script src="/widget.js"' in page and 'data-lang="en"' in page
    assert 'data-key="pk_&quot;&gt;&lt;script&gt;"' in page
    assert '<script>"' not in page
    russian = await (await api.get("/widget/demo", params={"lang": "xx"})).text()
    assert 'data-lang="ru"' in russian
