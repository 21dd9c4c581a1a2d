"""The OpenAPI 3.1 document, generated: components from the wire types' msgspec Structs, paths
from the table of operations that also registers the routes (router/http/routes.py).

What JSON Schema cannot get from a type alone is added here by name: a location needs a city,
a postal code or both coordinates (`LOCATION_NEEDS`). Formats `city`, `ru-postal-code` and
`country` name values the bundled place data knows (`GET /v1/places` lists the cities).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

REF = "#/components/schemas/{name}"
Handler = Callable[[web.Request], Any]

# Only these combinations resolve to a place; any one is enough (lat and lon come together).
LOCATION_NEEDS = [{"required": ["city"]}, {"required": ["postal_code"]}, {"required": ["lat", "lon"]}]


@dataclass(frozen=True)
class Answer:
    description: str
    # media type -> a type, a tuple of types (one of them), or a schema
    content: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One route: registered with aiohttp and documented from the same row."""

    method: str
    path: str
    handler: Handler
    operation_id: str
    summary: str
    answers: Mapping[int, Answer]
    description: str = ""
    body: Mapping[str, Any] = field(default_factory=dict)  # media type -> a type or a schema
    query: type[msgspec.Struct] | None = None
    params: tuple[dict[str, Any], ...] = ()


def json(kind: Any, description: str) -> Answer:
    return Answer(description, {"application/json": kind})


def problem(description: str) -> Answer:
    from router.http.schemas.answers import Problem

    return Answer(description, {"application/problem+json": Problem})


def text(media: str, description: str) -> Answer:
    return Answer(description, {media: {"type": "string"}})


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def document(
    operations: Iterable[Operation], extra_paths: Mapping[str, Any], extra_schemas: Mapping[str, Any]
) -> dict[str, Any]:
    operations = list(operations)
    kinds: list[Any] = []
    for op in operations:
        contents = [*op.body.values(), *(c for a in op.answers.values() for c in a.content.values())]
        for k in contents:
            kinds += list(k) if isinstance(k, tuple) else [] if isinstance(k, dict) else [k]
        if op.query is not None:
            kinds.append(op.query)
    unique = list(dict.fromkeys(kinds))
    refs, schemas = msgspec.json.schema_components(unique, ref_template=REF)
    by_kind = dict(zip(unique, refs, strict=True))
    _tighten(schemas)

    def schema(kind: Any) -> Any:
        if isinstance(kind, tuple):  # one of several answers
            return {"oneOf": [by_kind[k] for k in kind]}
        return kind if isinstance(kind, dict) else by_kind[kind]

    def content(media: Mapping[str, Any]) -> dict[str, Any]:
        return {m: {"schema": schema(k)} for m, k in media.items()}

    paths: dict[str, Any] = {}
    for op in operations:
        entry: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
        if op.description:
            entry["description"] = op.description
        params = list(op.params)
        if op.query is not None:
            params += _query_params(op.query, schemas)
        if params:
            entry["parameters"] = params
        if op.body:
            entry["requestBody"] = {"required": True, "content": content(op.body)}
        entry["responses"] = {
            str(status): {"description": a.description, **({"content": content(a.content)} if a.content else {})}
            for status, a in op.answers.items()
        }
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    for name in [n for n in schemas if n.endswith("Query")]:
        del schemas[name]  # parameters, not bodies: each is listed on its operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "carrier-router",
            "version": "1.0.0",
            "description": "Quote every carrier at once, pick the best, keep the price through checkout.",
        },
        "paths": {**paths, **extra_paths},
        "components": {"schemas": {**schemas, **extra_schemas}},
    }


def _query_params(query: type[msgspec.Struct], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    own = schemas[query.__name__]
    required = set(own.get("required", ()))
    params = []
    for name, prop in own["properties"].items():
        # A parameter is absent rather than null: the null branch of an optional field goes.
        branches = [b for b in prop.get("anyOf", ()) if b != {"type": "null"}]
        prop = {**{k: v for k, v in prop.items() if k != "anyOf"}, **branches[0]} if branches else dict(prop)
        description = prop.pop("description", None)
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _tighten(schemas: dict[str, Any]) -> None:
    if "LocationIn" in schemas:
        schemas["LocationIn"]["anyOf"] = LOCATION_NEEDS
        schemas["LocationIn"]["dependentRequired"] = {"lat": ["lon"], "lon": ["lat"]}
