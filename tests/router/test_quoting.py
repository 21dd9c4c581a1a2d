from __future__ import annotations

import time
from decimal import Decimal

import pytest

from router.models import Location, Parcel, Policy, PolicyKind, Shipment
from router.places import Places
from router.quoting import QuoteEngine
from router.settings import Settings
from tests.router.fakes import FakeCarrier

SHIPMENT = Shipment(
    origin=Location(city="Москва"),
    destination=Location(city="Новосибирск"),
    parcels=(Parcel(1200, 30, 20, 10),),
    declared_value=Decimal("5000"),
)


@pytest.fixture(scope="session")
def places() -> Places:
    return Places()


def engine(places: Places, *carriers: FakeCarrier, deadline_s: float = 0.3) -> QuoteEngine:
    return QuoteEngine(list(carriers), places, Settings(deadline_s=deadline_s, carrier_timeout_s=deadline_s))


async def test_every_carrier_is_asked_with_both_ends_resolved(places: Places) -> None:
    a, b = FakeCarrier("a"), FakeCarrier("b")
    quote = await engine(places, a, b).quote(SHIPMENT, Policy())
    assert {o.carrier for o in quote.offers} == {"a", "b"}
    request = a.calls[0]
    assert request.destination.timezone == "Asia/Novosibirsk"
    assert request.origin.timezone == "Europe/Moscow"


async def test_quote_returns_other_offers_when_one_carrier_hangs(places: Places) -> None:
    started = time.monotonic()
    quote = await engine(places, FakeCarrier("ok"), FakeCarrier("stuck", behaviour="hang")).quote(SHIPMENT, Policy())
    elapsed = time.monotonic() - started
    assert [o.carrier for o in quote.offers] == ["ok"]
    assert [(e.carrier, e.kind) for e in quote.errors] == [("stuck", "timeout")]
    assert elapsed < 2.0  # bounded by the 0.3 s deadline, with room for a slow machine


async def test_quote_returns_other_offers_when_one_carrier_raises(places: Places) -> None:
    quote = await engine(places, FakeCarrier("ok"), FakeCarrier("boom", behaviour="raise")).quote(SHIPMENT, Policy())
    assert [o.carrier for o in quote.offers] == ["ok"]
    assert quote.errors[0].carrier == "boom" and quote.errors[0].kind == "error"
    assert "carrier exploded" in quote.errors[0].message


@pytest.mark.parametrize("behaviour", ["junk", "wrong_carrier"])
async def test_an_answer_that_is_not_a_quote_is_reported_not_shown(places: Places, behaviour: str) -> None:
    quote = await engine(places, FakeCarrier("ok"), FakeCarrier("odd", behaviour=behaviour)).quote(SHIPMENT, Policy())
    assert [o.carrier for o in quote.offers] == ["ok"]
    assert [(e.carrier, e.kind) for e in quote.errors] == [("odd", "invalid_response")]


async def test_carriers_are_asked_concurrently(places: Places) -> None:
    slow = [FakeCarrier(f"c{i}", delay_s=0.2) for i in range(5)]
    started = time.monotonic()
    quote = await engine(places, *slow, deadline_s=2.0).quote(SHIPMENT, Policy())
    assert len(quote.offers) == 5
    assert time.monotonic() - started < 0.9  # five 0.2 s carriers in sequence would take 1 s


async def test_excluded_carriers_are_not_even_asked(places: Places) -> None:
    a, b = FakeCarrier("a"), FakeCarrier("b")
    quote = await engine(places, a, b).quote(SHIPMENT, Policy(exclude=frozenset({"b"})))
    assert b.calls == [] and [o.carrier for o in quote.offers] == ["a"]


async def test_offers_come_cheapest_first_with_ids_and_a_reasoned_recommendation(places: Places) -> None:
    carriers = [FakeCarrier("dear", price="900.00", days=1), FakeCarrier("cheap", price="100.00", days=8)]
    quote = await engine(places, *carriers).quote(SHIPMENT, Policy(PolicyKind.CHEAPEST))
    assert [o.id for o in quote.offers] == ["cheap:std", "dear:std"]
    assert quote.recommended == "cheap:std" and quote.fastest == "dear:std"
    assert quote.reason


async def test_quote_expires_after_the_guarantee_period(places: Places) -> None:
    quote = await engine(places, FakeCarrier("a")).quote(SHIPMENT, Policy())
    assert (quote.expires_at - quote.created_at).total_seconds() == Settings().quote_ttl_s
