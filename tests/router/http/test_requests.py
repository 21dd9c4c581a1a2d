from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from router.core.errors import InvalidRequest
from router.core.models import PolicyKind
from router.http.schemas.allocations import parse_allocation_ndjson
from router.http.schemas.quotes import parse_quote_request, read_quote_request

GOOD: dict[str, Any] = {
    "origin": {"city": "Москва"},
    "destination": {"city": "Novosibirsk"},
    "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
}


def parse(body: Any) -> Any:
    return parse_quote_request(body, max_parcels=50, day_value=Decimal("50"))


def error_paths(body: Any) -> set[str]:
    with pytest.raises(InvalidRequest) as caught:
        parse(body)
    return {e.path for e in caught.value.errors}


def test_a_good_request_becomes_a_shipment_and_a_default_policy() -> None:
    shipment, policy = parse({**GOOD, "declared_value": "5000.50", "cod": True})
    assert shipment.parcels[0].weight_g == 1200
    assert shipment.declared_value == Decimal("5000.50")
    assert shipment.cod is True
    assert policy.kind is PolicyKind.BALANCED and policy.day_value == Decimal("50")


def test_a_city_may_be_given_as_a_plain_string() -> None:
    shipment, _ = parse({**GOOD, "destination": "Казань"})
    assert shipment.destination.city == "Казань"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"parcels": [{"weight_g": -5, "length_cm": 1, "width_cm": 1, "height_cm": 1}]}, "parcels[0].weight_g"),
        ({"parcels": [{"weight_g": "heavy", "length_cm": 1, "width_cm": 1, "height_cm": 1}]}, "parcels[0].weight_g"),
        ({"parcels": [{"weight_g": 1.5, "length_cm": 1, "width_cm": 1, "height_cm": 1}]}, "parcels[0].weight_g"),
        ({"parcels": [{"weight_g": True, "length_cm": 1, "width_cm": 1, "height_cm": 1}]}, "parcels[0].weight_g"),
        ({"parcels": [{"weight_g": 100, "length_cm": 0, "width_cm": 1, "height_cm": 1}]}, "parcels[0].length_cm"),
        ({"parcels": [{"weight_g": 100, "width_cm": 1, "height_cm": 1}]}, "parcels[0].length_cm"),
        ({"parcels": []}, "parcels"),
        ({"parcels": "box"}, "parcels"),
        ({"parcels": None}, "parcels"),
        ({"destination": 42}, "destination"),
        ({"destination": {}}, "destination"),
        ({"destination": {"lat": 95, "lon": 10}}, "destination.lat"),
        ({"destination": {"lat": 55.0}}, "destination.lon"),
        ({"destination": {"city": ["Moscow"]}}, "destination.city"),
        ({"destination": {"town": "Moscow"}}, "destination.town"),
        ({"origin": {"city": "x" * 500}}, "origin.city"),
        ({"declared_value": "a lot"}, "declared_value"),
        ({"declared_value": -1}, "declared_value"),
        ({"declared_value": "10.005"}, "declared_value"),
        ({"cod": "yes"}, "cod"),
        ({"ship_at": "2026-11-24T10:00:00"}, "ship_at"),
        ({"ship_at": "tomorrow"}, "ship_at"),
        ({"policy": "best"}, "policy.kind"),
        ({"policy": {"kind": "deadline"}}, "policy.deadline"),
        ({"policy": {"only": "cdek"}}, "policy.only"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_each_bad_field_is_named_by_its_path(change: dict[str, Any], path: str) -> None:
    assert path in error_paths({**GOOD, **change})


def test_missing_ends_and_parcels_are_all_reported_at_once() -> None:
    assert error_paths({}) == {"origin", "destination", "parcels"}


def test_a_body_that_is_not_an_object_is_refused() -> None:
    assert error_paths([1, 2, 3]) == {""}


def test_too_many_parcels_are_refused() -> None:
    parcel = GOOD["parcels"][0]
    with pytest.raises(InvalidRequest) as caught:
        parse_quote_request({**GOOD, "parcels": [parcel] * 3}, max_parcels=2, day_value=Decimal("50"))
    assert caught.value.errors[0].path == "parcels"


@pytest.mark.parametrize("raw", [b"2\xff\xfey", b'[1, "x" oops', b"", b"   "])
def test_a_body_malformed_after_its_first_value_is_a_problem_on_the_body(raw: bytes) -> None:
    # msgspec checks types while parsing: `2` fails as an object before the rest is read.
    with pytest.raises(InvalidRequest) as caught:
        read_quote_request(raw, max_parcels=50, day_value=Decimal("50"))
    assert [e.path for e in caught.value.errors] == ["body"]


def test_an_ndjson_order_line_malformed_after_its_first_value_is_set_aside() -> None:
    header = b'{"warehouses": [{"code": "MSK", "location": "Moscow"}]}'
    parsed = parse_allocation_ndjson(header + b"\n2 oops\n", max_parcels=5)
    assert [(r.line, [e.path for e in r.errors]) for r in parsed.rejected] == [(2, [""])]
