"""Every JSON answer of the public API is what its declared Struct writes, and what the document
says: the bytes decode strictly into the operation's documented type (no field more or less, each
of its type) and encode back to the very same bytes, so no answer is assembled beside its type."""

from __future__ import annotations

from typing import Any

import jsonschema
import msgspec

from pickup_points import answers as points
from router.allocation import answers as allocation
from router.core import answers as domain
from router.http.routes import openapi_document
from router.http.schemas import answers
from tests.router.http.test_api_outcomes import ROW, csv_body
from tests.router.http.test_api_quotes import MOSCOW_NOVOSIBIRSK

PARCEL = {"weight_g": "1200", "length_cm": "30", "width_cm": "20", "height_cm": "10"}
ALLOCATION = {
    "warehouses": [{"code": "MSK", "location": "Москва"}],
    "orders": [
        {
            "id": "A1",
            "destination": {"city": "Новосибирск"},
            "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
        },
        {
            "id": "A2",
            "destination": {"city": "Казань"},
            "parcels": [{"weight_g": 800, "length_cm": 20, "width_cm": 10, "height_cm": 10}],
        },
    ],
    "time_limit_s": 5,
}


def documented(path: str, method: str, status: int, media: str, raw: bytes) -> None:
    doc = openapi_document()
    schema = doc["paths"][path][method]["responses"][str(status)]["content"][media]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": doc["components"]}).validate(msgspec.json.decode(raw))


def written_by(kind: Any, raw: bytes) -> None:
    # strict: a string where the type has a number (or the other way round) is no match either
    decoded = msgspec.json.decode(raw, type=kind, strict=True)
    assert msgspec.json.encode(decoded) == raw


async def answer(resp: Any, status: int, path: str, kind: Any, media: str = "application/json") -> bytes:
    raw = await resp.read()
    assert resp.status == status, raw
    assert resp.content_type == media
    documented(path, resp.method.lower(), status, media, raw)
    written_by(kind, raw)
    return raw


async def test_every_json_answer_is_its_documented_struct_byte_for_byte(make_api) -> None:
    api = await make_api()
    imported = await api.post(
        "/v1/outcomes", data=csv_body(ROW.format(id="s1"), "bad"), headers={"Content-Type": "text/csv"}
    )
    await answer(imported, 200, "/v1/outcomes", answers.OutcomeImport)

    created = msgspec.json.decode(
        await answer(await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK), 201, "/v1/quotes", domain.Quote)
    )
    assert created["offers"] and any(o["learned"] for o in created["offers"])
    await answer(await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK), 200, "/v1/quotes", domain.Quote)
    got = await api.get(f"/v1/quotes/{created['quote_id']}")
    await answer(got, 200, "/v1/quotes/{quote_id}", domain.Quote)

    await answer(await api.get("/v1/carriers"), 200, "/v1/carriers", domain.Carriers)
    await answer(await api.post("/v1/allocations", json=ALLOCATION), 200, "/v1/allocations", allocation.Plan)

    near = {"lat": "55.75", "lon": "37.62", "limit": "5"}
    listed = await answer(
        await api.get("/v1/pickup-points", params=near), 200, "/v1/pickup-points", points.PickupPointList
    )
    priced = await api.get("/v1/pickup-points", params={**near, "origin": "Москва", **PARCEL})
    assert b'"offer":' in await answer(priced, 200, "/v1/pickup-points", points.PickupPointList)
    box = {"bbox": "37.3,55.5,37.9,56.0", "zoom": "10"}
    await answer(await api.get("/v1/pickup-points", params=box), 200, "/v1/pickup-points", points.PickupPointMap)
    point_id = msgspec.json.decode(listed)["points"][0]["id"]
    one = await api.get(f"/v1/pickup-points/{point_id}")
    await answer(one, 200, "/v1/pickup-points/{point_id}", points.PickupPoint)

    await answer(await api.get("/v1/places", params={"q": "Каз"}), 200, "/v1/places", answers.PlaceSuggestions)
    await answer(await api.get("/healthz"), 200, "/healthz", answers.Health)
    bad = await api.post("/v1/quotes", json={"parcels": []})
    await answer(bad, 422, "/v1/quotes", answers.Problem, "application/problem+json")


def test_a_field_beside_the_type_would_not_pass() -> None:
    import pytest

    raw = b'{"carriers":[],"extra":1}'
    with pytest.raises(msgspec.ValidationError):
        written_by(domain.Carriers, raw)
    written_by(answers.FieldProblem, b'{"path":"p","message":"m"}')
    with pytest.raises(AssertionError):  # the same fields, written in another way than the Struct's
        written_by(answers.FieldProblem, b'{"message":"m","path":"p"}')
