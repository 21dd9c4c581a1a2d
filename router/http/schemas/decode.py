"""Request bodies through their msgspec types, every bad field named by the path the API uses.

msgspec stops at the first problem. A good body (nearly all of them) is decoded in that one
pass; a bad one is walked again field by field against the same types, so that the caller
learns every bad field in one round, each at its path (`parcels[0].weight_g`,
`policy.min_on_time_rate`) with msgspec's own message.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, TypeVar, Union, get_args, get_origin, get_type_hints

import msgspec

from router.core.errors import FieldError, InvalidRequest

T = TypeVar("T")

_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def decode_json(
    raw: bytes, kind: type[T], *, title: str = "Invalid request", prepare: Callable[[Any], Any] = lambda v: v
) -> T:
    """`raw` as `kind`; malformed JSON is a problem on `body`, bad fields are problems at their paths.

    `prepare` rewrites a bad body's shorthands before its fields are walked, so that a problem is
    named where the long form puts it."""
    if not raw.strip():
        raise InvalidRequest([FieldError("body", "is empty; send a JSON object")])
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError as exc:
        raise InvalidRequest([FieldError("body", f"is not valid JSON: {exc}")], title="Malformed JSON") from None
    return _reread(raw, kind, title, prepare)


def _reread(raw: bytes, kind: type[T], title: str, prepare: Callable[[Any], Any]) -> NoReturn:
    # msgspec checks types as it parses, so a body can fail validation before its JSON is seen
    # to be malformed further on.
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidRequest([FieldError("body", f"is not valid JSON: {exc}")], title="Malformed JSON") from None
    raise InvalidRequest(field_errors(prepare(value), kind), title=title)


def convert(
    value: Any,
    kind: type[T],
    *,
    title: str = "Invalid request",
    prepare: Callable[[Any], Any] = lambda v: v,
    strict: bool = True,
) -> T:
    """An already parsed JSON value as `kind`, every bad field reported. Not `strict`: strings
    are read as the numbers and booleans they spell (a query string's values)."""
    try:
        return msgspec.convert(value, kind, strict=strict)
    except msgspec.ValidationError:
        raise InvalidRequest(field_errors(prepare(value), kind, strict=strict), title=title) from None


def field_errors(value: Any, kind: Any, path: str = "", *, strict: bool = True) -> list[FieldError]:
    """Every problem `value` has as `kind`, each at its path; empty when it converts."""
    try:
        msgspec.convert(value, kind, strict=strict)
    except msgspec.ValidationError as exc:
        message, deeper = _split(str(exc))
    else:
        return []
    inner = _unwrap(kind)
    struct = _struct_of(inner, value)
    if struct is not None and isinstance(value, dict):
        # Missing and unknown fields are reported at the object; walked, each is named itself.
        return _struct_errors(value, struct, path, strict) or [FieldError(join(path, deeper.lstrip(".")), message)]
    if not deeper:
        return [FieldError(path, message)]
    item = _item_type(inner)
    if item is not None and isinstance(value, list):
        return [e for i, v in enumerate(value) for e in field_errors(v, item, f"{path}[{i}]", strict=strict)]
    if _is_dict(inner) and isinstance(value, dict):
        key_type, value_type = get_args(inner)
        found: list[FieldError] = []
        for key, v in value.items():
            at = join(path, str(key))
            found += field_errors(key, key_type, at, strict=strict) or field_errors(v, value_type, at, strict=strict)
        return found
    return [FieldError(join(path, deeper.lstrip(".")), message)]


def join(path: str, name: str) -> str:
    if not name or name.startswith("["):
        return path + name
    return f"{path}.{name}" if path else name


def _struct_errors(value: dict[str, Any], struct: type[msgspec.Struct], path: str, strict: bool) -> list[FieldError]:
    hints = get_type_hints(struct, include_extras=True)
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    found: list[FieldError] = []
    names = {f.encode_name for f in info.fields}
    for key in value:
        if key not in names:
            found.append(FieldError(join(path, key), "unknown field"))
    for f in info.fields:
        if f.encode_name not in value:
            if f.required:
                found.append(FieldError(join(path, f.encode_name), "is required"))
            continue
        found += field_errors(value[f.encode_name], hints[f.name], join(path, f.encode_name), strict=strict)
    return found


def _split(text: str) -> tuple[str, str]:
    match = _AT.match(text)
    assert match is not None
    return match["message"], match["path"] or ""


def _unwrap(kind: Any) -> Any:
    while get_origin(kind) is Annotated:
        kind = get_args(kind)[0]
    return kind


def _struct_of(kind: Any, value: Any) -> type[msgspec.Struct] | None:
    """The Struct a value is meant as: the type itself, or the object member of a union."""
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return kind
    if get_origin(kind) in (Union, types.UnionType):
        for member in map(_unwrap, get_args(kind)):
            if isinstance(member, type) and issubclass(member, msgspec.Struct):
                return member
    return None


def _item_type(kind: Any) -> Any:
    origin = get_origin(kind)
    if origin in (list, tuple, frozenset, set):
        return get_args(kind)[0]
    if origin in (Union, types.UnionType):
        items = [_item_type(_unwrap(m)) for m in get_args(kind)]
        return next((i for i in items if i is not None), None)
    return None


def _is_dict(kind: Any) -> bool:
    return get_origin(kind) is dict


def read_query(params: Any, kind: type[T], *, title: str = "Invalid query") -> T:
    """A query string as `kind`: each parameter once, none it does not name."""
    errors: list[FieldError] = []
    raw: dict[str, str] = {}
    known = frozenset(getattr(kind, "__struct_fields__", ()))
    # By pair: a query's multidict lists each name once when iterated, however often it is given.
    for name, value in params.items():
        if name not in known:
            errors.append(FieldError(name, "unknown parameter"))
        elif name in raw:
            errors.append(FieldError(name, "give it once"))
        else:
            raw[name] = value.strip()
    try:
        query = convert(raw, kind, title=title, strict=False)
    except InvalidRequest as exc:
        raise InvalidRequest(errors + exc.errors, title=title) from None
    # Read loosely, `null` would be an optional parameter's None: a parameter given has a value.
    errors += [
        FieldError(name, "give a value, or leave the parameter out") for name in raw if getattr(query, name) is None
    ]
    if errors:
        raise InvalidRequest(errors, title=title)
    return query
