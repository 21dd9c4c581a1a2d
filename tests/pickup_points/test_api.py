"""The pickup-point endpoints on the real app and the demo networks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from router.core.geo import haversine_km
from tests.pickup_points.factories import PARCEL_QUERY as PARCEL

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one app per module: see conftest


async def ok(resp: Any) -> Any:
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_moscow_nearest_twenty_with_distance_hours_features_price_and_dates(api: TestClient) -> None:
    body = await ok(
        await api.get(
            "/v1/pickup-points", params={"lat": "55.75", "lon": "37.62", "limit": "20", "origin": "Москва", **PARCEL}
        )
    )
    points = body["points"]
    assert body["count"] == len(points) == 20
    assert len({p["network"] for p in points}) >= 2
    distances = [p["distance_km"] for p in points]
    assert distances == sorted(distances)
    for p in points:
        assert p["distance_km"] == pytest.approx(float(haversine_km(55.75, 37.62, p["lat"], p["lon"])), abs=1e-3)
        assert p["hours"]["week"] and p["hours"]["text"]
        assert isinstance(p["features"], list) and isinstance(p["open_now"], bool)
        offer = p["offer"]
        assert offer is not None, p["id"]
        assert offer["carrier"] == p["carrier"] and offer["delivery_type"] == "pickup"
        assert sum(Decimal(line["amount"]) for line in offer["price"]["breakdown"]) == Decimal(offer["price"]["total"])
        assert offer["eta"]["min_date"] <= offer["eta"]["max_date"]


async def test_without_a_parcel_points_come_unpriced(api: TestClient) -> None:
    body = await ok(await api.get("/v1/pickup-points", params={"lat": "55.75", "lon": "37.62"}))
    assert body["count"] == 20 and "offer" not in body["points"][0]


async def test_filters_reach_the_search(api: TestClient) -> None:
    params = {
        "lat": "55.75",
        "lon": "37.62",
        "limit": "30",
        "network": "magistral",
        "type": "locker",
        "weight_g": "14000",
    }
    points = (await ok(await api.get("/v1/pickup-points", params=params)))["points"]
    assert len(points) == 30
    assert {(p["network"], p["type"]) for p in points} == {("magistral", "locker")}
    assert all(p["limits"]["max_weight_g"] >= 14000 for p in points)
    heavy = (await ok(await api.get("/v1/pickup-points", params={**params, "weight_g": "16000"})))["points"]
    assert heavy == []
    fitting = (
        await ok(
            await api.get(
                "/v1/pickup-points", params={"lat": "55.75", "lon": "37.62", "features": "fitting_room,returns"}
            )
        )
    )["points"]
    assert fitting and all({"fitting_room", "returns"} <= set(p["features"]) for p in fitting)


async def test_open_at_a_sunday_leaves_out_post_offices_closed_on_sundays(api: TestClient) -> None:
    params = {"lat": "55.75", "lon": "37.62", "limit": "50", "network": "vestnik"}
    sunday = (await ok(await api.get("/v1/pickup-points", params={**params, "open_at": "2026-03-08T12:00:00+03:00"})))[
        "points"
    ]
    assert sunday == []
    monday = (await ok(await api.get("/v1/pickup-points", params={**params, "open_at": "2026-03-09T12:00:00+03:00"})))[
        "points"
    ]
    assert len(monday) == 50


async def test_anadyr_query_finds_both_sides_of_180(api: TestClient) -> None:
    points = (
        await ok(
            await api.get(
                "/v1/pickup-points", params={"lat": "64.73", "lon": "177.51", "radius_km": "300", "limit": "50"}
            )
        )
    )["points"]
    assert any(p["lon"] < 0 for p in points) and any(p["lon"] > 0 for p in points)
    assert [p["distance_km"] for p in points] == sorted(p["distance_km"] for p in points)
    geo = await ok(await api.get("/v1/pickup-points", params={"bbox": "175,62,-175,68", "zoom": "12"}))
    lons = [f["geometry"]["coordinates"][0] for f in geo["features"]]
    assert any(x < 0 for x in lons) and any(x > 0 for x in lons)


async def test_bbox_answers_clustered_geojson_that_counts_every_point(api: TestClient) -> None:
    country = await ok(await api.get("/v1/pickup-points", params={"bbox": "-180,40,180,82", "zoom": "3"}))
    assert country["type"] == "FeatureCollection"
    counted = sum(f["properties"]["count"] for f in country["features"])
    assert counted == country["total"] > 8000
    assert len(country["features"]) < 300
    kinds = {f["properties"]["kind"] for f in country["features"]}
    assert "cluster" in kinds


async def test_one_point_by_id_with_its_site(api: TestClient) -> None:
    first = (await ok(await api.get("/v1/pickup-points", params={"lat": "64.73", "lon": "177.51", "limit": "1"})))[
        "points"
    ][0]
    point = await ok(await api.get(f"/v1/pickup-points/{first['id']}"))
    assert point["id"] == first["id"] and point["timezone"] == "Asia/Anadyr"
    assert first["id"] in point["site"]["point_ids"]
    missing = await api.get("/v1/pickup-points/nope:1")
    assert missing.status == 404 and missing.content_type == "application/problem+json"


async def test_answers_match_the_openapi_document(api: TestClient) -> None:
    from tests.router.http.test_openapi import conforms

    listed = await ok(
        await api.get(
            "/v1/pickup-points", params={"lat": "55.75", "lon": "37.62", "limit": "3", "origin": "Москва", **PARCEL}
        )
    )
    conforms(listed, "PickupPointList")
    conforms(
        await ok(await api.get("/v1/pickup-points", params={"bbox": "36,55,39,56.5", "zoom": "9"})), "PickupPointMap"
    )
    conforms(await ok(await api.get(f"/v1/pickup-points/{listed['points'][0]['id']}")), "PickupPoint")
