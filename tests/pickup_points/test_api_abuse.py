"""Queries a caller should not send: each is a 422 problem naming the parameter, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.pickup_points.factories import PARCEL_QUERY as PARCEL

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one app per module: see conftest

BAD_QUERIES = [
    ({"lon": "37.6"}, "lat"),
    ({"lat": "95", "lon": "37.6"}, "lat"),
    ({"lat": "north", "lon": "37.6"}, "lat"),
    ({"lat": "55", "lon": "37", "limit": "0"}, "limit"),
    ({"lat": "55", "lon": "37", "limit": "1000"}, "limit"),
    ({"lat": "55", "lon": "37", "radius_km": "-1"}, "radius_km"),
    ({"lat": "55", "lon": "37", "type": "kiosk"}, "type"),
    ({"lat": "55", "lon": "37", "features": "teleport"}, "features"),
    ({"lat": "55", "lon": "37", "open_at": "tomorrow"}, "open_at"),
    ({"lat": "55", "lon": "37", "weight_g": "-5"}, "weight_g"),
    ({"lat": "55", "lon": "37", "weight_g": "500", "length_cm": "10"}, "length_cm"),
    ({"lat": "55", "lon": "37", "origin": "Москва"}, "weight_g"),
    ({"lat": "55", "lon": "37", "origin": "Nowhere-on-earth-xq", **PARCEL}, "origin"),
    ({"lat": "55", "lon": "37", "colour": "red"}, "colour"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "10,60,20,50"}, "bbox"),
    ({"bbox": "10,50,20,60", "lat": "55"}, "bbox"),
    ({"bbox": "10,50,20,60", "zoom": "99"}, "zoom"),
    ({"lat": "nan", "lon": "37"}, "lat"),
]


@pytest.mark.parametrize(("params", "field"), BAD_QUERIES)
async def test_bad_query_is_a_problem_naming_the_parameter(api: TestClient, params: dict, field: str) -> None:
    resp = await api.get("/v1/pickup-points", params=params)
    assert resp.status == 422, await resp.text()
    assert resp.content_type == "application/problem+json"
    body: dict[str, Any] = await resp.json()
    assert any(e["path"] == field or e["path"].startswith(field + ".") for e in body["errors"]), body
