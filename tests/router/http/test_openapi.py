"""The OpenAPI document stays in step with the routes, and real answers match it."""

from __future__ import annotations

from typing import Any

import jsonschema
from openapi_spec_validator import validate

from router.http.routes import openapi_document as document
from tests.router.http.test_api_quotes import MOSCOW_NOVOSIBIRSK


def conforms(instance: Any, schema_name: str) -> None:
    doc = document()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(instance)


def test_the_document_is_valid_openapi() -> None:
    validate(document())


async def test_every_route_is_documented_and_every_documented_route_exists(make_api) -> None:
    api = await make_api()
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in api.server.app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(method, path) for path, ops in document()["paths"].items() for method in ops}
    assert served == documented


async def test_answers_match_their_documented_schemas(make_api) -> None:
    api = await make_api()
    created = await (await api.post("/v1/quotes", json=MOSCOW_NOVOSIBIRSK)).json()
    conforms(created, "Quote")
    conforms(await (await api.get(f"/v1/quotes/{created['quote_id']}")).json(), "Quote")
    conforms((await (await api.get("/v1/carriers")).json())["carriers"][0], "Carrier")
    conforms(await (await api.get("/healthz")).json(), "Health")
    bad = await api.post("/v1/quotes", json={"parcels": []})
    conforms(await bad.json(), "Problem")


def test_a_wrong_answer_would_fail_the_schema() -> None:
    import pytest

    with pytest.raises(jsonschema.ValidationError):
        conforms({"total": 12.5, "currency": "RUB", "breakdown": []}, "Price")
