from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from carriers.api import CarrierApiError
from router.core.models import (
    CarrierInfo,
    CarrierQuote,
    DeliveryType,
    Location,
    Parcel,
    PointType,
    Policy,
    PolicyKind,
    RateRequest,
    ServiceInfo,
    Shipment,
)
from router.core.settings import Settings
from router.quoting.breaker import guard_carriers
from router.quoting.engine import QuoteEngine
from router.quoting.last_good import LastGood
from router.quoting.places import Places
from router.store import MemoryStore
from tests.router.fakes import FakeCarrier, make_offer

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


async def test_a_carrier_timeout_shorter_than_the_deadline_ends_the_wait(places: Places) -> None:
    settings = Settings(deadline_s=5.0, carrier_timeout_s=0.2)
    hung = QuoteEngine([FakeCarrier("ok"), FakeCarrier("stuck", behaviour="hang")], places, settings)
    started = time.monotonic()
    quote = await hung.quote(SHIPMENT, Policy())
    assert time.monotonic() - started < 2.5  # the 0.2 s carrier timeout, far below the 5 s deadline
    assert [o.carrier for o in quote.offers] == ["ok"]
    (error,) = quote.errors
    assert (error.carrier, error.kind) == ("stuck", "timeout")
    assert "deadline" not in error.message


async def test_quote_returns_other_offers_when_one_carrier_raises(
    places: Places, caplog: pytest.LogCaptureFixture
) -> None:
    quote = await engine(places, FakeCarrier("ok"), FakeCarrier("boom", behaviour="raise")).quote(SHIPMENT, Policy())
    assert [o.carrier for o in quote.offers] == ["ok"]
    assert quote.errors[0].carrier == "boom" and quote.errors[0].kind == "error"
    # Our own exception's text stays in the log, with its traceback; the answer only names the carrier.
    assert "exploded" not in quote.errors[0].message and "RuntimeError" not in quote.errors[0].message
    (logged,) = [r for r in caplog.records if r.exc_info]
    assert "carrier exploded" in str(logged.exc_info[1])  # type: ignore[index]


async def test_an_unreadable_answer_is_the_carriers_fault_and_the_decoders_words_stay_in_the_log(
    places: Places, caplog: pytest.LogCaptureFixture
) -> None:
    quote = await engine(places, FakeCarrier("ok"), FakeCarrier("odd", behaviour="unreadable")).quote(
        SHIPMENT, Policy()
    )
    (error,) = quote.errors
    assert (error.carrier, error.kind) == ("odd", "invalid_response")
    assert "Expected" not in error.message and "$." not in error.message
    assert any("$.total_sum" in r.getMessage() for r in caplog.records)


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


# ------------------------------------------------------------------ stale answers and carrier health


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []
        self.reads: list[str] = []

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self.writes.append(key)
        await super().set(key, value, ttl_s)

    async def get(self, key: str) -> bytes | None:
        self.reads.append(key)
        return await super().get(key)


def remembering(places: Places, *carriers: FakeCarrier, store: MemoryStore | None = None, clock: Clock | None = None):  # type: ignore[no-untyped-def]
    last_good = LastGood(store if store is not None else MemoryStore())
    settings = Settings(deadline_s=0.3, carrier_timeout_s=0.3)
    return QuoteEngine(list(carriers), places, settings, clock or Clock(), last_good=last_good), last_good


async def test_a_failing_api_carrier_is_shown_from_its_last_good_answer_marked_stale(places: Places) -> None:
    clock = Clock()
    card, api = FakeCarrier("card", price="500.00"), FakeCarrier("api", price="300.00", remote=True)
    engine, last_good = remembering(places, card, api, clock=clock)
    first = await engine.quote(SHIPMENT, Policy())
    await last_good.flush()
    made_at = clock.now

    clock.now += timedelta(minutes=20)
    api.behaviour = "unavailable"
    quote = await engine.quote(SHIPMENT, Policy())

    (stale,) = [o for o in quote.offers if o.carrier == "api"]
    assert stale.stale and stale.as_of == made_at
    assert stale.price == first.offers[0].price
    assert not next(o for o in quote.offers if o.carrier == "card").stale
    (error,) = quote.errors
    assert (error.carrier, error.kind) == ("api", "unavailable")
    assert "stale" in error.message


async def test_a_hanging_api_carrier_is_shown_from_its_last_good_answer_within_the_deadline(places: Places) -> None:
    api = FakeCarrier("api", remote=True)
    engine, last_good = remembering(places, FakeCarrier("card"), api)
    await engine.quote(SHIPMENT, Policy())
    await last_good.flush()

    api.behaviour = "hang"
    started = time.monotonic()
    quote = await engine.quote(SHIPMENT, Policy())
    assert time.monotonic() - started < 2.0  # the 0.3 s deadline, with room for a slow machine
    assert [o.stale for o in quote.offers if o.carrier == "api"] == [True]
    assert [(e.carrier, e.kind) for e in quote.errors] == [("api", "timeout")]


async def test_no_stale_answer_stands_in_for_another_lane(places: Places) -> None:
    api = FakeCarrier("api", remote=True)
    engine, last_good = remembering(places, FakeCarrier("card"), api)
    await engine.quote(SHIPMENT, Policy())
    await last_good.flush()

    api.behaviour = "raise"
    heavier = Shipment(SHIPMENT.origin, SHIPMENT.destination, (Parcel(9000, 30, 20, 10),), SHIPMENT.declared_value)
    elsewhere = Shipment(SHIPMENT.origin, Location(city="Казань"), SHIPMENT.parcels, SHIPMENT.declared_value)
    for shipment in (heavier, elsewhere):
        quote = await engine.quote(shipment, Policy())
        assert [o.carrier for o in quote.offers] == ["card"]
        assert "stale" not in quote.errors[0].message


async def test_a_stale_answer_stands_in_only_for_the_same_parcel_as_the_carrier_is_sent_it(places: Places) -> None:
    api = FakeCarrier("api", remote=True)
    engine, last_good = remembering(places, FakeCarrier("card"), api)
    light = Shipment(SHIPMENT.origin, SHIPMENT.destination, (Parcel(1001, 30, 20, 10),), Decimal("5000"))
    await engine.quote(light, Policy())
    await last_good.flush()

    api.behaviour = "raise"
    heavier = replace(light, parcels=(Parcel(1499, 30, 20, 10),))
    more_valuable = replace(light, declared_value=Decimal("5000.50"))
    cash = replace(light, cod=True)
    for other in (heavier, more_valuable, cash):
        quote = await engine.quote(other, Policy())
        assert [o.carrier for o in quote.offers] == ["card"]
        assert "estimate" not in quote.errors[0].message
    # The same parcel turned on its side, its sides rounded up to whole centimetres as the carrier reads them.
    same = replace(light, parcels=(Parcel(1001, 19.4, 29.9, 10),))
    quote = await engine.quote(same, Policy(PolicyKind.FASTEST))
    assert {o.carrier: o.stale for o in quote.offers} == {"api": True, "card": False}
    assert "as an estimate" in quote.errors[0].message


async def test_a_carriers_refusal_is_not_covered_by_a_stale_answer(places: Places) -> None:
    api = FakeCarrier("api", remote=True)
    engine, last_good = remembering(places, FakeCarrier("card"), api)
    await engine.quote(SHIPMENT, Policy())
    await last_good.flush()

    api.behaviour = "refuse"
    quote = await engine.quote(SHIPMENT, Policy())
    assert [o.carrier for o in quote.offers] == ["card"]
    assert quote.errors[0].carrier == "api" and "stale" not in quote.errors[0].message


async def test_a_fresh_offer_is_recommended_over_a_cheaper_stale_one(places: Places) -> None:
    api = FakeCarrier("api", price="100.00", days=3, remote=True)
    engine, last_good = remembering(places, FakeCarrier("card", price="400.00", days=3), api)
    assert (await engine.quote(SHIPMENT, Policy(PolicyKind.CHEAPEST))).recommended == "api:std"
    await last_good.flush()

    api.behaviour = "raise"
    quote = await engine.quote(SHIPMENT, Policy(PolicyKind.CHEAPEST))
    assert quote.offers[0].id == "api:std" and quote.offers[0].stale  # still listed, cheapest first
    assert quote.recommended == "card:std"


async def test_only_a_stale_offer_is_recommended_when_nobody_answered_afresh(places: Places) -> None:
    api = FakeCarrier("api", remote=True)
    engine, last_good = remembering(places, api)
    await engine.quote(SHIPMENT, Policy())
    await last_good.flush()
    api.behaviour = "raise"
    quote = await engine.quote(SHIPMENT, Policy())
    assert quote.recommended == "api:std" and quote.offers[0].stale


async def test_rate_cards_never_pay_for_a_store_write_or_read(places: Places) -> None:
    store = CountingStore()
    engine, last_good = remembering(places, FakeCarrier("a"), FakeCarrier("b", behaviour="raise"), store=store)
    for _ in range(3):
        await engine.quote(SHIPMENT, Policy())
    await last_good.flush()
    assert store.writes == [] and store.reads == []


async def test_an_api_carriers_answer_is_written_once_per_lane_not_on_every_quote(places: Places) -> None:
    store = CountingStore()
    engine, last_good = remembering(places, FakeCarrier("api", remote=True), store=store)
    for _ in range(5):
        await engine.quote(SHIPMENT, Policy())
    await last_good.flush()
    assert len(store.writes) == 1
    assert store.reads == []  # nobody failed, so nothing stale was looked up


async def test_the_engine_keeps_each_carriers_outcomes_and_latency(places: Places) -> None:
    ok, flaky = FakeCarrier("ok", delay_s=0.01), FakeCarrier("flaky", remote=True)
    engine = QuoteEngine([ok, flaky], places, Settings(deadline_s=0.3, carrier_timeout_s=0.3))
    for behaviour in ("answer", "raise", "answer", "hang"):
        flaky.behaviour = behaviour
        await engine.quote(SHIPMENT, Policy())
    health = {info.code: h for info, h in await engine.carrier_health()}
    assert health["ok"].window_calls == 4 and health["ok"].error_rate == 0
    assert health["ok"].p50_ms is not None and health["ok"].p50_ms >= 10
    assert health["flaky"].error_rate == 0.5
    assert dict(health["flaky"].outcomes) == {"ok": 2, "error": 1, "timeout": 1}
    assert health["flaky"].p99_ms is not None and health["flaky"].p99_ms >= 250  # the hang, cut at 0.3 s
    assert health["ok"].breaker is None  # no breaker around a fake


async def test_a_store_that_hangs_does_not_hold_the_quote_past_its_deadline(places: Places) -> None:
    class Hanging(MemoryStore):
        async def get(self, key: str) -> bytes | None:
            await asyncio.Event().wait()
            return None

    api = FakeCarrier("api", remote=True, behaviour="hang")
    engine, _ = remembering(places, FakeCarrier("card"), api, store=Hanging())
    started = time.monotonic()
    quote = await engine.quote(SHIPMENT, Policy())
    assert time.monotonic() - started < 2.0  # the 0.3 s deadline and a short wait, with room to spare
    assert [o.carrier for o in quote.offers] == ["card"]
    assert [(e.carrier, e.kind) for e in quote.errors] == [("api", "timeout")]


async def test_rate_cards_are_asked_in_line_beside_carriers_that_wait_and_fail_the_same_way(places: Places) -> None:
    from carriers.ratecard.carrier import RateCardCarrier
    from carriers.registry import load_carriers

    cards = [c for c in load_carriers(Settings()) if isinstance(c, RateCardCarrier)]
    ends = places.resolve(SHIPMENT.origin, "origin"), places.resolve(SHIPMENT.destination, "destination")
    request = RateRequest(SHIPMENT, *ends, datetime.now(UTC))
    working = next(c for c in cards if c.quote_sync(request).offers)
    broken = next(c for c in cards if c is not working)
    broken.quote_sync = lambda request: 1 / 0  # type: ignore[method-assign]
    slow = FakeCarrier("slow", delay_s=0.05)
    quote = await QuoteEngine([broken, working, slow], places, Settings(deadline_s=2.0)).quote(SHIPMENT, Policy())
    assert {o.carrier for o in quote.offers} == {working.code, "slow"}
    assert all(o.id == f"{o.carrier}:{o.service}" for o in quote.offers)
    assert [(e.carrier, e.kind) for e in quote.errors] == [(broken.code, "error")]
    assert "ZeroDivisionError" not in quote.errors[0].message and "division" not in quote.errors[0].message


def test_an_offer_given_its_id_in_the_engine_is_offer_with_id() -> None:
    from dataclasses import fields, replace

    from router.quoting.engine import _with_id
    from tests.router.fakes import make_offer

    offer = replace(
        make_offer("cdek", "pvz", "412.50", 4),
        id="",
        stale=True,
        as_of=datetime(2026, 11, 1, tzinfo=UTC),
        point_types=frozenset({PointType.PVZ}),
    )
    assert len(fields(offer)) == 14  # a new field must be copied by _with_id too
    assert _with_id(offer) == offer.with_id()
    assert _with_id(offer).id == "cdek:pvz"


class ParcelApi:
    """A third API carrier, neither CDEK nor the courier: it only declares itself remote."""

    code = "parcelapi"
    remote = True

    def __init__(self) -> None:
        self.calls = 0

    def info(self) -> CarrierInfo:
        return CarrierInfo(self.code, "Parcel API", "api", (ServiceInfo("std", "Std", DeliveryType.COURIER),))

    async def quote(self, request: RateRequest) -> CarrierQuote:
        self.calls += 1
        raise CarrierApiError(self.code, "HTTP 502", status=502)  # not transient: no retry

    def quote_sync(self, request: RateRequest) -> None:
        return None

    def close(self) -> None:
        pass


async def test_a_new_api_carrier_that_declares_itself_remote_gets_a_breaker_that_its_failures_open(
    places: Places,
) -> None:
    api, card = ParcelApi(), FakeCarrier("card")  # FakeCarrier is not remote
    carriers = guard_carriers([api, card], MemoryStore(), min_failures=3, window_s=10, buckets=10, open_s=60)
    assert carriers[1] is card
    quotes = QuoteEngine(carriers, places, Settings(deadline_s=1.0))
    for _ in range(3):
        quote = await quotes.quote(SHIPMENT, Policy())
        assert [(e.carrier, e.kind) for e in quote.errors] == [("parcelapi", "invalid_response")]
    quote = await quotes.quote(SHIPMENT, Policy())
    assert [(e.carrier, e.kind) for e in quote.errors] == [("parcelapi", "unavailable")]  # turned away
    assert api.calls == 3
    health = {info.code: h for info, h in await quotes.carrier_health()}
    assert health["parcelapi"].breaker == "open"
    assert health["card"].breaker is None


class AnswersAtOnce(FakeCarrier):
    """A carrier with a synchronous fast path, as a rate card has."""

    def quote_sync(self, request: RateRequest) -> CarrierQuote:
        return CarrierQuote(offers=(make_offer(self.code, "std", self.price, self.days),))


async def test_a_carrier_that_answers_quote_sync_is_not_awaited_and_one_that_returns_none_is(places: Places) -> None:
    at_once, awaited = AnswersAtOnce("now", price="100.00"), FakeCarrier("later")
    quote = await engine(places, at_once, awaited).quote(SHIPMENT, Policy())
    assert {o.carrier for o in quote.offers} == {"now", "later"}
    assert at_once.calls == [] and len(awaited.calls) == 1
