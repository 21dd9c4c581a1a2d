"""`POST /v1/outcomes` and what it changes in quotes and in `GET /v1/carriers`."""

from __future__ import annotations

import io
from pathlib import Path

import orjson

from router.api_keys import KeyKind, KeyRing
from router.settings import Settings
from tests.router.outcome_sim import HEADER
from tests.router.test_openapi import conforms

ROW = "{id},vestnik,parcel,RU-48,RU-53,2026-11-02T10:00:00+03:00,2026-11-10,2026-11-09T12:00:00+07:00,delivered,no"


def csv_body(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


async def post_csv(api, body: bytes):  # type: ignore[no-untyped-def]
    return await api.post("/v1/outcomes", data=body, headers={"Content-Type": "text/csv"})


async def test_a_csv_upload_is_imported_and_bad_rows_are_listed_with_their_line(make_api) -> None:
    api = await make_api()
    body = csv_body(ROW.format(id="a1"), "a2,vestnik,parcel,RU-48,RU-53,someday,,,delivered,", ROW.format(id="a3"))
    resp = await post_csv(api, body)
    assert resp.status == 200
    report = await resp.json()
    conforms(report, "OutcomeImport")
    assert (report["rows"], report["imported"], report["rejected"], report["duplicates"]) == (3, 2, 1, 0)
    assert [(p["line"], p["field"]) for p in report["problems"]] == [(3, "handed_over_at"), (3, "delivered_at")]


async def test_sending_the_same_outcomes_again_imports_nothing_new(make_api) -> None:
    api = await make_api()
    body = csv_body(*(ROW.format(id=f"b{i}") for i in range(5)))
    assert (await (await post_csv(api, body)).json())["imported"] == 5
    again = await (await post_csv(api, body)).json()
    assert (again["imported"], again["duplicates"]) == (0, 5)


async def test_ndjson_and_json_bodies_are_accepted(make_api) -> None:
    api = await make_api()
    item = {
        "shipment_id": "n1",
        "carrier": "magistral",
        "service": "door",
        "origin": {"lat": 55.75, "lon": 37.62},
        "destination": "RU-53",
        "handed_over_at": "2026-11-02",
        "status": "lost",
    }
    ndjson = await api.post(
        "/v1/outcomes", data=orjson.dumps(item) + b"\n", headers={"Content-Type": "application/x-ndjson"}
    )
    assert (await ndjson.json())["imported"] == 1
    listed = await api.post("/v1/outcomes", json={"outcomes": [{**item, "shipment_id": "n2"}, {"carrier": 5}]})
    report = await listed.json()
    assert (report["imported"], report["rejected"]) == (1, 1)
    assert {p["line"] for p in report["problems"]} == {2}


async def test_bodies_that_are_not_outcomes_are_422_naming_the_problem(make_api) -> None:
    api = await make_api()
    empty = await post_csv(api, b"")
    assert empty.status == 422 and empty.content_type == "application/problem+json"
    assert (await empty.json())["errors"][0]["path"] == "body"
    no_column = await post_csv(api, b"shipment_id,carrier\ns1,vestnik\n")
    assert no_column.status == 422
    assert "handed_over_at" in (await no_column.json())["errors"][0]["message"]
    not_a_list = await api.post("/v1/outcomes", json={"outcomes": "all of them"})
    assert not_a_list.status == 422
    assert (await not_a_list.json())["errors"][0]["path"] == "outcomes"
    garbage = await api.post("/v1/outcomes", data=b"{oops", headers={"Content-Type": "application/json"})
    assert garbage.status == 422


async def test_a_body_beyond_the_limit_is_413(make_api) -> None:
    from router.api.outcomes import MAX_BODY_BYTES

    api = await make_api()
    body = io.BytesIO(csv_body(ROW.format(id="x")) + b"#" * MAX_BODY_BYTES)
    resp = await api.post("/v1/outcomes", data=body, headers={"Content-Type": "text/csv"})
    assert resp.status == 413 and resp.content_type == "application/problem+json"


async def test_outcomes_need_a_secret_key_once_keys_exist(make_api, tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys.json")
    _, secret = ring.create(KeyKind.SECRET, "shop")
    _, publishable = ring.create(KeyKind.PUBLISHABLE, "widget", ("https://shop.example",))
    api = await make_api(Settings(state_dir=tmp_path))
    body = csv_body(ROW.format(id="k1"))
    headers = {"Content-Type": "text/csv"}
    assert (await api.post("/v1/outcomes", data=body, headers=headers)).status == 401
    refused = await api.post(
        "/v1/outcomes",
        data=body,
        headers={**headers, "Authorization": f"Bearer {publishable}", "Origin": "https://shop.example"},
    )
    assert refused.status == 403
    ok = await api.post("/v1/outcomes", data=body, headers={**headers, "Authorization": f"Bearer {secret}"})
    assert ok.status == 200
