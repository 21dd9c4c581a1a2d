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


def test_the_document_declares_how_keys_are_sent_and_what_each_operation_needs() -> None:
    doc = document()
    assert set(doc["components"]["securitySchemes"]) == {"secretKey", "publishableKey", "apiKeyHeader"}
    needs = {
        op["operationId"]: {name for requirement in op["security"] for name in requirement}
        for path, ops in doc["paths"].items()
        for op in ops.values()
        if not path.startswith("/integrations/")
    }
    assert needs["createQuote"] == {"secretKey", "publishableKey", "apiKeyHeader"}
    assert needs["importOutcomes"] == needs["metrics"] == {"secretKey", "apiKeyHeader"}
    assert needs["health"] == needs["openapi"] == needs["widgetScript"] == set()
    assert "401" in doc["paths"]["/v1/outcomes"]["post"]["responses"]
    assert "401" not in doc["paths"]["/healthz"]["get"]["responses"]


async def test_each_operation_asks_for_the_keys_its_document_names(make_api, tmp_path) -> None:
    from router.core.settings import Settings
    from router.records.keys import KeyKind
    from tests.keys import create_key

    shop = "https://shop.example"
    _, publishable = await create_key(tmp_path, KeyKind.PUBLISHABLE, "widget", (shop,))
    api = await make_api(Settings(state_dir=tmp_path))
    for path, ops in document()["paths"].items():
        if path.startswith("/integrations/"):
            continue
        url = path.replace("{quote_id}", "q_none").replace("{point_id}", "none").replace("{name}", "none")
        for method, op in ops.items():
            schemes = {name for requirement in op["security"] for name in requirement}
            bare = await api.request(method, url)
            assert (bare.status == 401) == bool(schemes), (method, path, bare.status)
            widget = await api.request(method, url, headers={"Authorization": f"Bearer {publishable}", "Origin": shop})
            if schemes:
                assert (widget.status == 403) == ("publishableKey" not in schemes), (method, path, widget.status)
