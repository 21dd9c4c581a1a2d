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

from router.http.schemas.answers import Problem

REF = "#/components/schemas/{name}"
Handler = Callable[[web.Request], Any]

# Only these combinations resolve to a place; any one is enough (lat and lon come together).
# (null is as good as absent, so each needs a value, not only the key).
_GIVEN = {"type": "string", "pattern": r"[^\s\x1c-\x1f\x85]"}
LOCATION_NEEDS = {
    "anyOf": [
        {"required": ["city"], "properties": {"city": _GIVEN}},
        {"required": ["postal_code"], "properties": {"postal_code": _GIVEN}},
        {"required": ["lat", "lon"], "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}},
    ],
    "allOf": [
        {
            "if": {"required": [one], "properties": {one: {"type": "number"}}},
            "then": {"required": [other], "properties": {other: {"type": "number"}}},
        }
        for one, other in (("lat", "lon"), ("lon", "lat"))
    ],
}
# Nearest points around lat and lon, or a map of a box; a parcel's sides come together and
# with its weight, and pricing from an origin needs the weight.
_SIDES = ["length_cm", "width_cm", "height_cm"]
POINTS_NEED = {
    "oneOf": [
        {"required": ["lat", "lon"], "not": {"required": ["bbox"]}},
        {"required": ["bbox"], "not": {"anyOf": [{"required": ["lat"]}, {"required": ["lon"]}]}},
    ],
    "dependentRequired": {
        "lat": ["lon"],
        "lon": ["lat"],
        "origin": ["weight_g"],
        **{side: [*_SIDES, "weight_g"] for side in _SIDES},
    },
}
# The deadline policy needs its date; the chance of meeting it belongs to that policy alone.
POLICY_NEEDS = {
    "if": {"properties": {"kind": {"const": "deadline"}}, "required": ["kind"]},
    "then": {"required": ["deadline"], "properties": {"deadline": {"type": "string", "format": "date"}}},
    "else": {"properties": {"probability": {"type": "null"}}},
}


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
    return Answer(description, {"application/problem+json": Problem})


def pdf(description: str) -> Answer:
    return Answer(description, {"application/pdf": {"type": "string", "format": "binary"}})


def text(media: str, description: str) -> Answer:
    return Answer(description, {media: {"type": "string"}})


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


# What any operation that needs a key may also answer, whatever its own answers are.
KEYED_ANSWERS = {
    401: problem("No API key, or one unknown or revoked"),
    403: problem("This key may not call this endpoint (or not from this origin)"),
    429: problem("This key's rate limit is spent; Retry-After says when to retry"),
}
Security = list[dict[str, list[str]]]


def document(
    operations: Iterable[Operation],
    extra_paths: Mapping[str, Any],
    extra_schemas: Mapping[str, Any],
    also: Iterable[type[msgspec.Struct]] = (),
    *,
    security_schemes: Mapping[str, Any] | None = None,
    security: Callable[[Operation], Security] | None = None,
) -> dict[str, Any]:
    """`also`: types that schemas written by hand refer to by name. `security`: each operation's
    requirement (an empty list: none), from the schemes in `security_schemes`."""
    operations = list(operations)
    kinds: list[Any] = [*also, Problem]
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
            params += _query_params(op.query)
        if params:
            entry["parameters"] = params
        if op.body:
            entry["requestBody"] = {"required": True, "content": content(op.body)}
        required = None if security is None else security(op)
        answers = {**KEYED_ANSWERS, **op.answers} if required else op.answers
        entry["responses"] = {
            str(status): {"description": a.description, **({"content": content(a.content)} if a.content else {})}
            for status, a in sorted(answers.items())
        }
        if required is not None:
            entry["security"] = required
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    components: dict[str, Any] = {"schemas": {**schemas, **extra_schemas}}
    if security_schemes:
        components["securitySchemes"] = dict(security_schemes)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "carrier-router",
            "version": "1.0.0",
            "description": "Quote every carrier at once, pick the best, keep the price through checkout.",
        },
        "paths": {**paths, **extra_paths},
        "components": components,
    }


def _query_params(query: type[msgspec.Struct]) -> list[dict[str, Any]]:
    # One object spread over the query string (form style, exploded): the parameters are its
    # properties, and the rules between them (lat with lon, or bbox) can be said on the object.
    return [
        {
            "name": "query",
            "in": "query",
            "required": True,
            "style": "form",
            "explode": True,
            "schema": {"$ref": REF.format(name=query.__name__)},
        }
    ]


def _tighten(schemas: dict[str, Any]) -> None:
    if "LocationIn" in schemas:
        schemas["LocationIn"].update(LOCATION_NEEDS)
    for name in [n for n in schemas if n.endswith("Query")]:
        # A query parameter is absent or has a value; it is never null.
        for key, prop in schemas[name]["properties"].items():
            branches = [b for b in prop.get("anyOf", ()) if b != {"type": "null"}]
            if len(branches) == 1:
                rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
                schemas[name]["properties"][key] = {**branches[0], **rest}
    if "PolicyIn" in schemas:
        schemas["PolicyIn"].update(POLICY_NEEDS)
    if "PickupPointQuery" in schemas:
        schemas["PickupPointQuery"].update(POINTS_NEED)
    _numbers_too(schemas)


def _numbers_too(node: Any) -> Any:
    """Money is a string in the types (msgspec writes Decimal so) and a JSON number is read too:
    each decimal field says both, the number with the string's limits."""
    if isinstance(node, list):
        node[:] = [_numbers_too(item) for item in node]
    elif isinstance(node, dict) and node.get("format") == "decimal":
        limits = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
        number = {"type": "number", **{k: node.pop(k) for k in limits if k in node}}
        del node["format"]
        described = {"description": node.pop("description")} if "description" in node else {}
        return {"anyOf": [node, number], **described}
    elif isinstance(node, dict):
        for key, value in node.items():
            node[key] = _numbers_too(value)
    return node
