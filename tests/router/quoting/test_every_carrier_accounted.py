"""Every carrier asked is in the quote: with offers, rejections or errors, never silently gone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from router.core.models import CarrierQuote, Location, Parcel, Policy, RateRequest, Rejection, Shipment
from router.core.settings import Settings
from router.quoting.engine import NO_OFFERS, QuoteEngine
from router.quoting.places import Places
from tests.carriers.sandbox_fixtures import sandbox
from tests.router.fakes import FakeCarrier

__all__ = ["sandbox"]  # the fixture, found by pytest in this module's namespace

SHIPMENT = Shipment(Location(city="Москва"), Location(city="Новосибирск"), (Parcel(1200, 30, 20, 10),))


@dataclass
class Quiet(FakeCarrier):
    rejections: tuple[Rejection, ...] = ()

    async def quote(self, request: RateRequest) -> CarrierQuote:
        return CarrierQuote(rejections=self.rejections)


@pytest.fixture(scope="module")
def places() -> Places:
    return Places()


async def test_a_carrier_answering_no_offers_and_no_reason_is_listed_as_a_rejection(places: Places) -> None:
    engine = QuoteEngine([FakeCarrier("ok"), Quiet("quiet")], places, Settings())
    quote = await engine.quote(SHIPMENT, Policy())
    assert [o.carrier for o in quote.offers] == ["ok"]
    assert [(r.carrier, r.service, r.reason) for r in quote.rejections] == [("quiet", "*", NO_OFFERS)]
    assert quote.errors == ()


async def test_a_carrier_that_gave_its_reasons_is_listed_with_them_alone(places: Places) -> None:
    said = (Rejection("quiet", "std", "over the weight limit"),)
    engine = QuoteEngine([Quiet("quiet", rejections=said)], places, Settings())
    quote = await engine.quote(SHIPMENT, Policy())
    assert quote.rejections == said


async def test_an_empty_cdek_answer_is_a_rejection_in_the_api(sandbox: Any, aiohttp_client: Any) -> None:
    from router.http.app import create_app

    client = await aiohttp_client(create_app(sandbox.configure(Settings())))
    async with (
        aiohttp.ClientSession() as http,
        http.post(sandbox.cdek_url + "/_sandbox/faults", json={"empty": True}) as resp,
    ):
        assert resp.status == 200
    body = {
        "origin": {"city": "Москва"},
        "destination": {"city": "Новосибирск"},
        "parcels": [{"weight_g": 1200, "length_cm": 30, "width_cm": 20, "height_cm": 10}],
    }
    resp = await client.post("/v1/quotes", json=body)
    assert resp.status == 201
    quote = await resp.json()
    assert "cdek" not in {o["carrier"] for o in quote["offers"]}
    cdek = [r for r in quote["rejections"] if r["carrier"] == "cdek"]
    assert [(r["service"], r["code"], r["reason"]) for r in cdek] == [("*", "no_offers", NO_OFFERS)]
