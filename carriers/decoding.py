"""Decoding a configuration document through its msgspec Structs, every problem named by its path.

The Structs of a file (`carriers/ratecard/schema.py`, the carriers TOML in `carriers/config.py`)
are the one declaration of its shape: field names, types, defaults and constraints (`Meta`).
`decode` converts a document (a dict from JSON or TOML) in one call when it is valid. When it is
not, msgspec names the first problem only, so the same types are walked field by field to name
every one, each by its path in the document (`services[0].zones.A.base`, `carriers[2].code`),
in words a person editing the file understands:

- a constraint's `Meta(description=...)` says what the field must be
  ('must be a local time "HH:MM", not "25:00"');
- `Meta(extra={"secret": True})` keeps the value itself out of the message, for fields where a
  pasted credential may sit;
- a `Literal` or a tagged union lists what it takes.

Keys starting with `_` are comments (a file's `_note`); they are dropped before decoding.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import msgspec

T = TypeVar("T")

_SKIPPED = (type(None), msgspec.UnsetType)
_KINDS = {
    "str": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}
# What a document holds, named as its writer sees it: JSON and TOML have numbers, not ints.
_GOT = {**_KINDS, "int": "a number"}
_EXPECTED = re.compile(r"Expected `(\w+)`, got `(\w+)`")
_BOUND = re.compile(r"Expected `\w+` (>=|>|<=|<) (\S+)$")
_LENGTH = re.compile(r"Expected `\w+` of length >= 1$")
_BOUND_WORDS = {">=": "at least", ">": "above", "<=": "at most", "<": "below"}


class Problem(msgspec.Struct, frozen=True):
    path: str  # "$" for the document itself
    message: str


def decode(document: Any, kind: type[T]) -> tuple[T | None, list[Problem]]:
    """The document as `kind`, or None and every problem found in it."""
    document = without_comments(document)
    try:
        return msgspec.convert(document, kind), []
    except msgspec.ValidationError as exc:
        first = exc
    problems = list(_check(document, kind, "", first))
    return None, problems or [_from_error(first, document, kind, "")]


def without_comments(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: without_comments(v) if isinstance(v, dict | list) else v
            for k, v in value.items()
            if not (isinstance(k, str) and k.startswith("_"))
        }
    # Lists of objects only: the lists inside lists are coordinates, thousands of pairs with no keys.
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [without_comments(v) for v in value]
    return value


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check(value: Any, kind: Any, path: str, error: msgspec.ValidationError | None = None) -> Iterator[Problem]:
    """Every problem of `value` as `kind` at `path`; nothing when it converts."""
    if error is None:
        try:
            msgspec.convert(value, kind)
            return
        except msgspec.ValidationError as exc:
            error = exc
    inner = list(_inside(value, kind, path))
    yield from inner or [_from_error(error, value, kind, path)]


def _inside(value: Any, kind: Any, path: str) -> Iterator[Problem]:
    """The problems found below `value`, when its type can be walked into; none otherwise."""
    bare, _ = _unwrap(kind)
    origin = get_origin(bare)
    if isinstance(bare, type) and issubclass(bare, msgspec.Struct):
        yield from _struct(value, bare, path)
    elif origin in (Union, types.UnionType):
        yield from _union(value, bare, path)
    elif origin is list and isinstance(value, list):
        (item,) = get_args(bare)
        for i, v in enumerate(value):
            yield from _check(v, item, f"{path}[{i}]")
    elif origin is dict and isinstance(value, dict):
        _, item = get_args(bare)
        for key, v in value.items():
            yield from _check(v, item, join(path, str(key)))


def _struct(value: Any, kind: type[msgspec.Struct], path: str) -> Iterator[Problem]:
    if not isinstance(value, dict):
        return
    config = kind.__struct_config__
    fields = msgspec.structs.fields(kind)
    names = {f.encode_name for f in fields}
    if config.tag_field is not None:
        names.add(config.tag_field)
    if config.forbid_unknown_fields:
        for key in value:
            if key not in names:
                yield Problem(join(path, str(key)), "unknown field")
    for f in fields:
        if f.encode_name in value:
            yield from _check(value[f.encode_name], f.type, join(path, f.encode_name))
        elif f.required:
            yield Problem(join(path, f.encode_name), "required")


def _union(value: Any, kind: Any, path: str) -> Iterator[Problem]:
    members = [m for m in get_args(kind) if m not in _SKIPPED]
    structs = [m for m in members if isinstance(m, type) and issubclass(m, msgspec.Struct)]
    tagged = [m for m in structs if m.__struct_config__.tag_field is not None]
    if tagged and isinstance(value, dict):
        field = tagged[0].__struct_config__.tag_field
        assert field is not None
        tags = {m.__struct_config__.tag: m for m in tagged}
        allowed = _either(list(tags))
        if field not in value:
            yield Problem(join(path, field), f"required: {allowed}")
        elif value[field] not in tags:
            yield Problem(join(path, field), f"must be {allowed}, not {value[field]!r}")
        else:
            yield from _check(value, tags[value[field]], path)
    elif len(members) == 1:
        yield from _check(value, members[0], path)


def _from_error(error: msgspec.ValidationError, value: Any, kind: Any, path: str) -> Problem:
    """A message for `value` itself, from its declared type first and msgspec's words second."""
    text, _, where = str(error).partition(" - at `$")
    where = where.rstrip("`")
    if where:
        # Only reached for types this module does not walk into; msgspec's path is then the best.
        return Problem(path + where if path else where.lstrip("."), text)
    bare, meta = _unwrap(kind)
    shown = "" if meta.get("secret") else f", not {value!r}"
    if meta.get("description"):
        return Problem(path or "$", f"must be {meta['description']}{shown}")
    if get_origin(bare) is Literal:
        return Problem(path or "$", f"must be {_either(list(get_args(bare)))}{shown}")
    if match := _EXPECTED.match(text):
        expected, got = _KINDS.get(match[1], match[1]), _GOT.get(match[2], match[2])
        return Problem(path or "$", f"must be {expected}, not {got}")
    if match := _BOUND.match(text):
        return Problem(path or "$", f"must be {_BOUND_WORDS[match[1]]} {match[2]}{shown}")
    if _LENGTH.match(text):
        return Problem(path or "$", "must not be empty")
    return Problem(path or "$", text)


def _unwrap(kind: Any) -> tuple[Any, dict[str, Any]]:
    """The type inside `Annotated`, and what its `Meta`s say (description, extra keys)."""
    said: dict[str, Any] = {}
    if get_origin(kind) is Annotated:
        kind, *metas = get_args(kind)
        for meta in metas:
            if isinstance(meta, msgspec.Meta):
                if meta.description:
                    said["description"] = meta.description
                said.update(meta.extra or {})
    return kind, said


def _either(values: list[Any]) -> str:
    shown = [f'"{v}"' if isinstance(v, str) else repr(v) for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
