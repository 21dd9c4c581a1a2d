"""Abuse: whatever bytes a carrier answers with, reading them gives a quote or a carriers error.

A garbage, truncated or wrong-typed answer must become a `CarrierResponseError` saying why,
never another exception escaping into the quote engine. Hypothesis writes the answers: any
JSON at all, and answers in the published shapes with fields of the wrong types.
"""

from __future__ import annotations

import inspect
import json  # not orjson: it refuses integers past 64 bits, which a server may still send
from datetime import time
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import carriers.errors
from carriers.cdek.carrier import parse_tarifflist
from carriers.cdek.client import parse_deliverypoints_page, parse_token
from carriers.courier.carrier import parse_calculate
from carriers.errors import CarrierResponseError, CarriersError
from router.core.models import CarrierQuote
from tests.carriers.sandbox_fixtures import MOSCOW, MOSCOW_EAST, fixture, rate_request

SCALARS = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False) | st.text(max_size=8)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


def with_fields_replaced(document: dict[str, Any], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """`document` with some of its fields (at any depth of its first entries) set to other values."""

    def replace(doc: Any, draw: st.DrawFn) -> Any:
        if isinstance(doc, dict):
            return {k: draw(values) if draw(st.integers(0, 3)) == 0 else replace(v, draw) for k, v in doc.items()}
        if isinstance(doc, list):
            return [replace(v, draw) for v in doc[:3]]
        return doc

    return st.composite(lambda draw: replace(document, draw))()


def read_cdek(body: bytes) -> CarrierQuote:
    return parse_tarifflist(body, rate_request(), carrier="cdek", carrier_name="CDEK", cutoff=time(18))


def read_courier(body: bytes) -> CarrierQuote:
    return parse_calculate(
        body,
        rate_request(MOSCOW, MOSCOW_EAST),
        carrier="courier",
        carrier_name="Courier",
        service="same_day",
        service_name="Same day",
        cutoff=time(20),
    )


def read_token(body: bytes) -> object:
    return parse_token(body, "cdek")


def read_points(body: bytes) -> object:
    return parse_deliverypoints_page(body, "cdek")


READERS = [read_cdek, read_courier, read_token, read_points]


def answers_or_refuses(read: Any, body: bytes) -> None:
    try:
        read(body)
    except CarrierResponseError as exc:
        assert str(exc)  # says why


@pytest.mark.parametrize("read", READERS)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=JSON)
def test_any_json_is_read_or_refused_with_a_carrier_error(read: Any, document: Any) -> None:
    answers_or_refuses(read, json.dumps(document).encode())


@pytest.mark.parametrize("read", READERS)
@given(body=st.binary(max_size=64))
@settings(max_examples=60, deadline=None)
def test_any_bytes_are_read_or_refused_with_a_carrier_error(read: Any, body: bytes) -> None:
    answers_or_refuses(read, body)


@given(document=with_fields_replaced(fixture("cdek/tarifflist_ok.json"), SCALARS))
@settings(max_examples=100, deadline=None)
def test_a_tariff_list_with_wrong_typed_fields_is_read_or_refused(document: dict[str, Any]) -> None:
    answers_or_refuses(read_cdek, json.dumps(document).encode())


@given(document=with_fields_replaced(fixture("courier/calculate_ok.json"), SCALARS))
@settings(max_examples=100, deadline=None)
def test_a_courier_answer_with_wrong_typed_fields_is_read_or_refused(document: dict[str, Any]) -> None:
    answers_or_refuses(read_courier, json.dumps(document).encode())


def test_one_unreadable_tariff_costs_only_itself() -> None:
    answer = fixture("cdek/tarifflist_ok.json")
    answer["tariff_codes"][1]["period_min"] = "two"
    quote = read_cdek(orjson.dumps(answer))
    assert len(quote.offers) == len(answer["tariff_codes"]) - 1
    (rejection,) = quote.rejections
    assert rejection.service == str(answer["tariff_codes"][1]["tariff_code"]) and "period_min" in rejection.reason


def test_every_error_the_package_declares_derives_from_its_one_root() -> None:
    declared = [c for _, c in inspect.getmembers(carriers.errors, inspect.isclass) if issubclass(c, BaseException)]
    assert len(declared) >= 7
    assert all(issubclass(c, CarriersError) for c in declared)
    assert issubclass(carriers.errors.CarrierTimeout, TimeoutError)


@pytest.mark.parametrize("days", [10**6, 10**20])
def test_a_tariff_promising_implausible_transit_days_is_left_out_at_once(days: int) -> None:
    document = fixture("cdek/tarifflist_ok.json")
    document["tariff_codes"][0]["period_max"] = days
    quote = read_cdek(json.dumps(document).encode())
    code = str(document["tariff_codes"][0]["tariff_code"])
    assert code not in {o.service for o in quote.offers}
    assert any("implausible transit days" in r.reason for r in quote.rejections)
