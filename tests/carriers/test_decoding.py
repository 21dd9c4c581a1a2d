"""Decoding a document through its Structs: every problem named by its path, in plain words."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from carriers.decoding import Problem, decode

Money = Annotated[str, Meta(pattern=r"^\d+(\.\d\d)?$", description='an amount like "9.50"')]
Token = Annotated[str, Meta(pattern=r"^[A-Z_]+$", description="a variable name", extra={"secret": True})]


class Line(Struct, frozen=True, forbid_unknown_fields=True):
    price: Money
    kind: Literal["base", "fuel"] = "base"


class Square(Struct, frozen=True, tag_field="type", tag="square"):
    side: Annotated[float, Meta(gt=0)]


class Circle(Struct, frozen=True, tag_field="type", tag="circle"):
    radius: Annotated[float, Meta(gt=0)]


class Document(Struct, frozen=True, forbid_unknown_fields=True):
    lines: Annotated[list[Line], Meta(min_length=1)]
    by_zone: dict[str, Line]
    shape: Square | Circle
    token: Token | UnsetType = UNSET


GOOD = {
    "_note": "a comment",
    "lines": [{"price": "1.00"}],
    "by_zone": {"A": {"price": "2"}},
    "shape": {"type": "circle", "radius": 1},
}


def test_a_valid_document_decodes_in_one_call_and_comments_are_dropped() -> None:
    document, problems = decode(GOOD, Document)
    assert problems == [] and document is not None
    assert document.lines[0].price == "1.00" and isinstance(document.shape, Circle)


def test_every_problem_is_named_by_its_path_including_dictionary_keys() -> None:
    bad = {
        "lines": [{"price": 1.5}, {"price": "1", "kind": "tax", "extra": 1}],
        "by_zone": {"A": {"price": "2"}, "B.1": {}},
        "shape": {"type": "triangle"},
        "unknown": True,
    }
    document, problems = decode(bad, Document)
    assert document is None
    assert problems == [
        Problem("unknown", "unknown field"),
        Problem("lines[0].price", 'must be an amount like "9.50", not 1.5'),
        Problem("lines[1].extra", "unknown field"),
        Problem("lines[1].kind", 'must be "base" or "fuel", not \'tax\''),
        Problem("by_zone.B.1.price", "required"),
        Problem("shape.type", 'must be "square" or "circle", not \'triangle\''),
    ]


def test_bounds_emptiness_and_wrong_kinds_are_said_in_words() -> None:
    _, problems = decode({**GOOD, "lines": [], "shape": {"type": "square", "side": 0}, "by_zone": []}, Document)
    assert problems == [
        Problem("lines", "must not be empty"),
        Problem("by_zone", "must be an object, not a list"),
        Problem("shape.side", "must be above 0.0, not 0"),
    ]


def test_a_secret_field_is_refused_without_its_value_in_the_message() -> None:
    _, problems = decode({**GOOD, "token": "s3cr3t-value"}, Document)
    assert problems == [Problem("token", "must be a variable name")]


def test_a_document_that_is_not_an_object_is_named_at_the_root() -> None:
    _, problems = decode(["not", "an", "object"], Document)
    assert problems == [Problem("$", "must be an object, not a list")]
