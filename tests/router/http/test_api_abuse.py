"""Bad input is a 4xx problem+json naming the field, never a 500."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson
import pytest

from router.core.settings import Settings
from tests.router.http.test_api_quotes import MOSCOW_NOVOSIBIRSK

JSON = {"Content-Type": "application/json"}


async def problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    return await resp.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"parcels": [{"weight_g": -1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}]}, "parcels[0].weight_g"),
        ({"destination": {"city": "Нигдеград"}}, "destination.city"),
        ({"parcels": None}, "parcels"),
        ({"parcels": [{"weight_g": "1.2kg", "length_cm": 30, "width_cm": 20, "height_cm": 10}]}, "parcels[0].weight_g"),
        ({"origin": 12}, "origin"),
    ],
)
async def test_a_bad_request_is_a_problem_naming_the_field(make_api, change: dict[str, Any], path: str) -> None:
    api = await make_api()
    body = await problem(await api.post("/v1/quotes", json={**MOSCOW_NOVOSIBIRSK, **change}), 422)
    assert path in [e["path"] for e in body["errors"]]


async def test_malformed_json_is_a_problem_on_the_body(make_api) -> None:
    api = await make_api()
    body = await problem(await api.post("/v1/quotes", data=b"{not json", headers=JSON), 422)
    assert body["errors"][0]["path"] == "body"


async def test_an_oversized_body_is_refused_with_413(make_api) -> None:
    api = await make_api(Settings(max_body_bytes=1024))
    await problem(await api.post("/v1/quotes", data=b"{" + b" " * 4096 + b"}", headers=JSON), 413)


async def test_an_unknown_route_is_problem_json(make_api) -> None:
    api = await make_api()
    await problem(await api.get("/v1/nothing"), 404)


async def test_a_wrong_method_is_problem_json(make_api) -> None:
    api = await make_api()
    await problem(await api.delete("/v1/quotes"), 405)


@pytest.mark.parametrize("ship_at", ["9999-12-31T10:00:00+00:00", "0001-01-02T10:00:00+00:00"])
async def test_a_ship_date_centuries_away_is_the_callers_error_not_the_carriers(make_api, ship_at: str) -> None:
    # Before, year 9999 reached the carriers, overflowed their date arithmetic and counted as
    # their failure: a caller could open a shared breaker.
    api = await make_api()
    resp = await api.post("/v1/quotes", json={**MOSCOW_NOVOSIBIRSK, "ship_at": ship_at})
    assert resp.status == 422 and resp.content_type == "application/problem+json"
    assert [e["path"] for e in (await resp.json())["errors"]] == ["ship_at"]


@pytest.mark.parametrize("open_at", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00", "1900-01-01T10:00:00+03:00"])
async def test_pickup_points_open_at_the_end_of_time_is_a_422_naming_open_at(make_api, open_at: str) -> None:
    api = await make_api()
    resp = await api.get("/v1/pickup-points", params={"lat": "55.75", "lon": "37.61", "open_at": open_at})
    assert resp.status == 422
    assert [e["path"] for e in (await resp.json())["errors"]] == ["open_at"]


FAR_DAYS = ["9999-12-31", "0001-01-01", (date.today() + timedelta(days=400)).isoformat()]


@pytest.mark.parametrize("deadline", FAR_DAYS)
async def test_a_deadline_policy_out_of_the_years_window_is_a_422_naming_it(make_api, deadline: str) -> None:
    api = await make_api()
    body = {**MOSCOW_NOVOSIBIRSK, "policy": {"kind": "deadline", "deadline": deadline}}
    answer = await problem(await api.post("/v1/quotes", json=body), 422)
    assert [e["path"] for e in answer["errors"]] == ["policy.deadline"]


@pytest.mark.parametrize("deadline", FAR_DAYS)
async def test_an_orders_deadline_out_of_the_years_window_is_a_422_naming_it(make_api, deadline: str) -> None:
    api = await make_api()
    order = {"id": "A1", "destination": "Омск", "parcels": MOSCOW_NOVOSIBIRSK["parcels"], "deadline": deadline}
    body = {"warehouses": [{"code": "MSK", "location": "Москва"}], "orders": [order]}
    answer = await problem(await api.post("/v1/allocations", json=body), 422)
    assert [e["path"] for e in answer["errors"]] == ["orders[0].deadline"]


async def test_an_ndjson_orders_far_deadline_sets_that_line_aside(make_api) -> None:
    api = await make_api()
    order = {"destination": "Омск", "parcels": MOSCOW_NOVOSIBIRSK["parcels"]}
    lines = [
        {"warehouses": [{"code": "MSK", "location": "Москва"}]},
        {**order, "id": "A1", "deadline": "9999-12-31"},
        {**order, "id": "A2"},
    ]
    data = b"\n".join(orjson.dumps(line) for line in lines)
    resp = await api.post("/v1/allocations", data=data, headers={"Content-Type": "application/x-ndjson"})
    assert resp.status == 200, await resp.text()
    plan = await resp.json()
    assert [(r["line"], [e["path"] for e in r["errors"]]) for r in plan["rejected"]] == [(2, ["deadline"])]


async def test_an_allocations_ship_date_centuries_away_is_a_422_naming_it(make_api) -> None:
    api = await make_api()
    order = {"id": "A1", "destination": "Омск", "parcels": MOSCOW_NOVOSIBIRSK["parcels"]}
    body = {"warehouses": [{"code": "MSK", "location": "Москва"}], "orders": [order], "ship_at": "9999-12-31T10:00:00Z"}
    answer = await problem(await api.post("/v1/allocations", json=body), 422)
    assert [e["path"] for e in answer["errors"]] == ["ship_at"]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",  # what a browser sends from any page without a CORS preflight
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "application/json; charset=latin-1",
        None,  # an untyped body needs no preflight either
    ],
)
async def test_a_json_endpoint_refuses_a_body_of_another_type_with_415(make_api, content_type: str | None) -> None:
    api = await make_api()
    headers = {} if content_type is None else {"Content-Type": content_type}
    # Without a type of ours, aiohttp's client would name the bytes octet-stream.
    skip = ["Content-Type"] if content_type is None else []
    data = orjson.dumps(MOSCOW_NOVOSIBIRSK)
    resp = await api.post("/v1/quotes", data=data, headers=headers, skip_auto_headers=skip)
    assert content_type is not None or "Content-Type" not in resp.request_info.headers
    body = await problem(resp, 415)
    assert "application/json" in body["detail"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=UTF-8", "application/vnd.shop+json"]
)
async def test_json_and_its_plus_json_family_are_read(make_api, content_type: str) -> None:
    api = await make_api()
    resp = await api.post("/v1/quotes", data=orjson.dumps(MOSCOW_NOVOSIBIRSK), headers={"Content-Type": content_type})
    assert resp.status == 201, await resp.text()


async def test_endpoints_that_read_csv_or_ndjson_keep_them_and_refuse_text_plain(make_api) -> None:
    api = await make_api()
    await problem(await api.post("/v1/outcomes", data=b"shipment_id\n", headers={"Content-Type": "text/plain"}), 415)
    await problem(await api.post("/v1/allocations", data=b"{}", headers={"Content-Type": "text/plain"}), 415)
    csv = await api.post("/v1/outcomes", data=b"shipment_id\n", headers={"Content-Type": "application/csv"})
    assert csv.status != 415
