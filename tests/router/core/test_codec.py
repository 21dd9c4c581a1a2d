from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
import orjson

from router.core import answers, codec
from router.core.codec import learned_answer, offer_answer, price_answer, quote_body
from router.core.models import (
    Badge,
    CarrierError,
    Location,
    Offer,
    OfferInsight,
    Parcel,
    Policy,
    Quote,
    Rejection,
    Score,
    Shipment,
)
from router.quoting.places import Places
from tests.router.fakes import make_insight, make_offer

SHIP = date(2026, 11, 24)


def insight() -> OfferInsight:
    return make_insight(0.91234, badge=Badge.SILVER, badge_reason="on time 91 %", ship=SHIP)


def a_quote() -> Quote:
    places = Places()
    fresh = make_offer("acme", "std", "310.50", 3, start=SHIP).with_id()
    stale = replace(
        make_offer("slow", "eco", "199.00", 6, start=SHIP).with_id(),
        stale=True,
        as_of=datetime(2026, 11, 23, 9, 30, tzinfo=UTC),
    )
    shipment = Shipment(Location(city="Москва"), Location(city="Казань"), (Parcel(1200, 30, 20, 10),))
    return Quote(
        id="q_1",
        created_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        expires_at=datetime(2026, 11, 23, 10, 30, tzinfo=UTC),
        shipment=shipment,
        origin=places.resolve(shipment.origin, "origin"),
        destination=places.resolve(shipment.destination, "destination"),
        policy=Policy(),
        offers=(fresh, stale),
        recommended=fresh.id,
        cheapest=stale.id,
        fastest=fresh.id,
        reason="the fastest for 111.50 more",
        scores={fresh.id: Score(fresh.price.total, 3, fresh.price.total / 7, fresh.price.total * 2)},
        rejections=(Rejection("big", "std", "too heavy"),),
        errors=(CarrierError("gone", "timeout", "no answer in 1.5 s"),),
        insights={fresh.id: insight()},
    )


def fresh(offer: Offer, tags: list[str], learned: answers.OfferLearned | None = None) -> answers.Offer:
    """The offer's answer built from nothing kept: what the memos must not change."""
    return msgspec.structs.replace(
        offer_answer(offer, tags, learned),  # type: ignore[arg-type]
        price=codec._price(offer.price),
        eta=codec._eta(offer.eta),
    )


def test_every_offer_in_a_quote_is_written_as_its_declared_answer() -> None:
    quote = a_quote()
    body = quote_body(quote)
    tags = {"acme:std": ["fastest", "recommended"], "slow:eco": ["cheapest"]}
    expected = [
        fresh(o, tags[o.id], learned_answer(quote.insights[o.id]) if o.id in quote.insights else None)
        for o in quote.offers
    ]
    assert orjson.loads(body)["offers"] == orjson.loads(msgspec.json.encode(expected))
    written = orjson.loads(body)["offers"]
    assert written[1]["estimate"] is True and written[1]["stale"] is True
    assert written[1]["as_of"] == "2026-11-23T09:30:00Z"
    # only an estimate says so
    assert "estimate" not in written[0] and "stale" not in written[0] and "as_of" not in written[0]
    assert written[0]["learned"]["on_time_rate"] == 0.9123 and written[1]["learned"] is None
    assert orjson.loads(body)["created_at"] == "2026-11-23T10:00:00Z"


def test_a_quote_keeps_its_money_as_exact_strings() -> None:
    body = orjson.loads(quote_body(a_quote()))
    assert body["offers"][0]["price"]["total"] == "310.50"
    assert body["recommended"]["score"]["day_value"] == "44.36"
    assert [e["kind"] for e in body["errors"]] == ["timeout"]
    assert body["rejections"] == [
        {
            "carrier": "big",
            "carrier_name": "big",
            "carrier_name_ru": "big",
            "service": "std",
            "code": "carrier_refused",
            "reason": "too heavy",
            "reason_ru": "too heavy",
        }
    ]


def test_prices_and_windows_shared_by_offers_and_quotes_are_each_written_as_their_own() -> None:
    from router.core.models import Eta, Price, PriceLine, PriceLineKind

    base = a_quote()
    shared_price = Price(Decimal("300.00"), (PriceLine(PriceLineKind.BASE, Decimal("300.00"), "delivery"),))
    split_price = Price(
        Decimal("300.00"),
        (
            PriceLine(PriceLineKind.BASE, Decimal("260.00"), "delivery"),
            PriceLine(PriceLineKind.FUEL, Decimal("40.00"), "fuel"),
        ),
    )
    window = Eta(2, 4, SHIP, date(2026, 11, 26), date(2026, 11, 28))
    # Quotes one after another, some offers sharing one price or window, some with equal-valued
    # copies, and more prices than are kept: each offer is written as if built afresh.
    for n in range(5000):
        own = Price(Decimal(n + 1), (PriceLine(PriceLineKind.BASE, Decimal(n + 1), "delivery"),))
        offers = tuple(
            replace(o, service=f"s{i}", id=f"{o.carrier}:s{i}", price=p, eta=e)
            for i, (o, p, e) in enumerate(
                [
                    (base.offers[0], shared_price, window),
                    (base.offers[0], shared_price, replace(window, max_days=5)),
                    (base.offers[1], split_price, window),
                    (base.offers[1], own, window),
                ]
            )
        )
        quote = replace(base, offers=offers, recommended=None, cheapest=None, fastest=None, insights={})
        if n % 97 and n != 4999:
            quote_body(quote)
            continue
        expected = msgspec.json.encode([fresh(o, []) for o in offers])
        assert orjson.loads(quote_body(quote))["offers"] == orjson.loads(expected)


def test_a_shared_prices_answer_is_built_once_and_is_no_part_of_its_value() -> None:
    from router.core.models import Price, PriceLine, PriceLineKind

    def price() -> Price:
        return Price.of(
            [
                PriceLine(PriceLineKind.BASE, Decimal("350"), "Доставка"),
                PriceLine(PriceLineKind.FUEL, Decimal("12.5"), "Топливо"),
            ]
        )

    shared, other = price(), price()
    body = price_answer(shared)
    assert price_answer(shared) is body  # a second offer sharing the Price reuses its answer
    assert body == answers.Price(
        total="362.50",
        currency="RUB",
        breakdown=[
            answers.PriceLine(kind=PriceLineKind.BASE, label="Доставка", amount="350.00"),
            answers.PriceLine(kind=PriceLineKind.FUEL, label="Топливо", amount="12.50"),
        ],
    )
    # The answer lives in the codec, not on the Price: equal prices stay equal and alike.
    assert price_answer(other) == body and price_answer(other) is not body
    assert shared == other and hash(shared) == hash(other) and repr(shared) == repr(other)
    assert not hasattr(shared, "__dict__")


def test_a_stored_quotes_expiry_is_read_from_its_json() -> None:
    from router.core.codec import quote_expires_at

    body = orjson.dumps(
        {"quote_id": "q", "offers": [{"x": '"expires_at":"no"'}], "expires_at": "2026-11-24T10:00:00+00:00"}
    )
    assert quote_expires_at(body) == "2026-11-24T10:00:00+00:00"


def test_a_stored_quote_holds_a_price_unless_what_it_recommends_is_an_estimate() -> None:
    from router.core.codec import quote_holding

    def stored(recommended: str | None, *estimates: bool) -> bytes:
        offers = [{"id": f"o{i}", "estimate": e} if e else {"id": f"o{i}"} for i, e in enumerate(estimates)]
        chosen = {"offer_id": recommended, "reason": "x"} if recommended else None
        return orjson.dumps({"expires_at": "2026-11-24T10:00:00Z", "offers": offers, "recommended": chosen})

    assert quote_holding(stored("o0", False, True)) == ("2026-11-24T10:00:00Z", True)
    assert quote_holding(stored("o1", False, True))[1] is False
    assert quote_holding(stored(None, False, True))[1] is True  # nothing chosen, but a firm offer stands
    assert quote_holding(stored(None, True, True))[1] is False
    assert quote_holding(stored(None))[1] is True  # no offers: nothing to hold, and nothing estimated


def test_a_russian_answer_takes_the_reasons_russian_and_a_quote_kept_without_them_stays_english() -> None:
    learned = replace(insight(), badge_reason_ru="в срок 91 %")
    quote = replace(a_quote(), reason_ru="быстрее всех", insights={"acme:std": learned})
    english = quote_body(quote)
    kept = orjson.loads(english)
    assert (kept["reason"], kept["recommended"]["reason"], kept["reason_ru"]) == (
        "the fastest for 111.50 more",
        "the fastest for 111.50 more",
        "быстрее всех",
    )
    assert kept["offers"][0]["learned"]["badge_reason"] == "on time 91 %"
    assert codec.quote_in(english, "en") == english

    russian = orjson.loads(codec.quote_in(english, "ru"))
    assert russian["reason"] == russian["recommended"]["reason"] == "быстрее всех"
    assert russian["offers"][0]["learned"]["badge_reason"] == "в срок 91 %"
    assert russian["offers"][0]["learned"]["summary"] == "95 % посылок доставлено к 24 ноября"

    # A quote kept before the Russian reasons were written: its reasons stay English.
    del kept["reason_ru"], kept["offers"][0]["learned"]["badge_reason_ru"]
    old = orjson.loads(codec.quote_in(orjson.dumps(kept), "ru"))
    assert old["reason"] == old["recommended"]["reason"] == "the fastest for 111.50 more"
    assert old["offers"][0]["learned"]["badge_reason"] == "on time 91 %"
