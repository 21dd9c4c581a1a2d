"""Domain types are plain frozen dataclasses: every field, default and parameter as declared."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from router.core.models import CarrierQuote, Offer, Price, Rejection, Score
from tests.router.fakes import make_offer


def values(obj: object) -> dict[str, object]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}  # type: ignore[arg-type]


def test_an_offer_built_by_position_or_by_name_holds_every_field_and_the_defaults() -> None:
    model = make_offer("acme", "std", "310.50", 3)
    given = [model.carrier, model.carrier_name, model.service, model.service_name, model.delivery_type,
             model.price, model.eta, model.chargeable_weight_g]  # fmt: skip
    positional = Offer(*given)
    assert values(positional) == {
        **dict(zip([f.name for f in dataclasses.fields(Offer)], given, strict=False)),
        "id": "",
        "stale": False,
        "as_of": None,
        "point_types": frozenset(),
        "carrier_name_ru": "",
        "service_name_ru": "",
    }
    as_of = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    named = Offer(
        **{f.name: getattr(model, f.name) for f in dataclasses.fields(Offer)} | {"stale": True, "as_of": as_of}
    )
    assert named.stale is True and named.as_of == as_of and named.id == "acme:std"
    assert dataclasses.replace(named, id="x").id == "x" and hash(named) == hash(dataclasses.replace(named))
    with pytest.raises(dataclasses.FrozenInstanceError):
        named.id = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Offer(*given[:-1])  # type: ignore[call-arg]


def test_scores_and_carrier_answers_keep_their_parameters_and_values() -> None:
    score = Score(Decimal("100.00"), 3, Decimal("50"), Decimal("250.00"))
    assert values(score) == {
        "price": Decimal("100.00"),
        "days": 3,
        "day_value": Decimal("50"),
        "total": Decimal("250.00"),
    }
    rejection = Rejection("acme", "std", "too heavy")
    assert values(CarrierQuote(rejections=(rejection,))) == {"offers": (), "rejections": (rejection,)}
    for cls in (Offer, Score, CarrierQuote):
        names = [f.name for f in dataclasses.fields(cls)]
        assert list(inspect.signature(cls).parameters) == names


def test_domain_types_carry_only_their_declared_values() -> None:
    # No cache rides on them: their slots are exactly their fields.
    for cls in (Offer, Score, CarrierQuote, Price):
        assert cls.__slots__ == tuple(f.name for f in dataclasses.fields(cls))
    assert [f.name for f in dataclasses.fields(Price)] == ["total", "lines", "currency"]
