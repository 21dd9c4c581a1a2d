"""Domain types as JSON: the one shape the API answers, the CLI prints with --json and the store keeps.

Each answer is built as its declared Struct (router/core/answers.py) and written by msgspec, so
the bytes are what the OpenAPI document says. Money is a string ("1234.50") so that no JSON
parser turns it into a float.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
import orjson

from router.core import answers
from router.core.localising import error_ru, localised, price_ru
from router.core.memo import IdMemo
from router.core.models import (
    CarrierError,
    CarrierHealth,
    CarrierInfo,
    DeliveryType,
    Eta,
    Offer,
    OfferInsight,
    Place,
    PointType,
    Price,
    PriceLine,
    PriceLineKind,
    Quote,
    Rejection,
    money,
)
from router.core.wording import Lang

_encoder = msgspec.json.Encoder()


def encode(answer: msgspec.Struct) -> bytes:
    """An answer's JSON, as msgspec writes its Struct."""
    return _encoder.encode(answer)


def indented(answer: msgspec.Struct) -> bytes:
    """An answer as the CLI prints it with --json."""
    return msgspec.json.format(_encoder.encode(answer), indent=2)


def _price(price: Price) -> answers.Price:
    return answers.Price(
        total=str(price.total),
        currency=price.currency,
        breakdown=[answers.PriceLine(kind=ln.kind, label=ln.label, amount=str(ln.amount)) for ln in price.lines],
    )


def _eta(eta: Eta) -> answers.Eta:
    return answers.Eta(
        min_days=eta.min_days,
        max_days=eta.max_days,
        ship_date=eta.ship_date,
        min_date=eta.min_date,
        max_date=eta.max_date,
    )


def _place(place: Place) -> answers.Place:
    return answers.Place(
        country=place.country,
        city=place.city,
        region=place.region,
        postal_code=place.postal_code,
        address=place.address,
        lat=place.lat,
        lon=place.lon,
        timezone=place.timezone,
    )


# The codec's fast path for offers: an adapter may hand out one Price per sum and one Eta per
# transit span and ship day, kept all day (the CDEK adapter does), and places come from the
# resolver's cache, so each becomes its answer once, not once per offer and quote (an answer is
# only ever written, never changed, so one may sit in many quotes). Kept by identity and
# bounded: a rate card makes a new Price for every quote, and a large memo of those would only
# feed the garbage collector.
price_answer = IdMemo(_price, 256)
eta_answer = IdMemo(_eta, 4096)
place_answer = IdMemo(_place, 1024)


def offer_answer(
    offer: Offer, tags: list[answers.Tag], learned: answers.OfferLearned | None = None, lang: Lang = "en"
) -> answers.Offer:
    carrier_ru = offer.carrier_name_ru or offer.carrier_name
    service_ru = offer.service_name_ru or offer.service_name
    ru = lang == "ru"
    price = price_answer(offer.price)
    return answers.Offer(
        id=offer.id,
        carrier=offer.carrier,
        carrier_name=carrier_ru if ru else offer.carrier_name,
        carrier_name_ru=carrier_ru,
        service=offer.service,
        service_name=service_ru if ru else offer.service_name,
        service_name_ru=service_ru,
        delivery_type=offer.delivery_type,
        price=price_ru(price) if ru else price,
        eta=eta_answer(offer.eta),
        chargeable_weight_g=offer.chargeable_weight_g,
        tags=tags,
        estimate=offer.stale,
        stale=offer.stale,
        as_of=offer.as_of if offer.stale else None,
        point_types=_point_types(offer.point_types),
        learned=learned,
    )


@functools.lru_cache(maxsize=64)  # a frozenset caches its own hash; the same few sets all day
def _point_types(kinds: frozenset[PointType]) -> list[PointType]:
    return sorted(kinds)


def offer_from_json(body: dict[str, Any], line_kind: Callable[[str], PriceLineKind] = PriceLineKind) -> Offer:
    """An offer back from its answer's JSON (`offer_answer`); raises KeyError, ValueError or
    TypeError on anything else.

    `line_kind` reads each price line's kind; a reader that must keep quotes written by a later
    release can map kinds it does not know instead of refusing them."""
    price, eta = body["price"], body["eta"]
    return Offer(
        carrier=body["carrier"],
        carrier_name=body["carrier_name"],
        service=body["service"],
        service_name=body["service_name"],
        delivery_type=DeliveryType(body["delivery_type"]),
        price=Price(
            Decimal(price["total"]),
            tuple(
                PriceLine(line_kind(ln_["kind"]), Decimal(ln_["amount"]), ln_["label"]) for ln_ in price["breakdown"]
            ),
            price["currency"],
        ),
        eta=Eta(
            eta["min_days"],
            eta["max_days"],
            date.fromisoformat(eta["ship_date"]),
            date.fromisoformat(eta["min_date"]),
            date.fromisoformat(eta["max_date"]),
        ),
        chargeable_weight_g=body["chargeable_weight_g"],
        id=body.get("id", ""),
        stale=bool(body.get("estimate", False) or body.get("stale", False)),
        as_of=datetime.fromisoformat(body["as_of"]) if body.get("as_of") else None,
        point_types=frozenset(PointType(k) for k in body.get("point_types", ())),
        # Quotes stored before offers named themselves in Russian have the English name only.
        carrier_name_ru=body.get("carrier_name_ru", ""),
        service_name_ru=body.get("service_name_ru", ""),
    )


class _Expiry(msgspec.Struct):
    expires_at: str


_expiry_decoder = msgspec.json.Decoder(_Expiry)


def quote_expires_at(body: bytes) -> str:
    """A stored quote's `expires_at`, read without building the rest of the quote: msgspec skips
    the fields the Struct does not name, several times faster than loading the whole document."""
    return _expiry_decoder.decode(body).expires_at


class _Marked(msgspec.Struct):
    id: str
    estimate: bool = False


class _Chosen(msgspec.Struct):
    offer_id: str


class _Holding(msgspec.Struct):
    expires_at: str
    offers: list[_Marked]
    recommended: _Chosen | None


_holding_decoder = msgspec.json.Decoder(_Holding)


def quote_holding(body: bytes) -> tuple[str, bool]:
    """A stored quote's `expires_at`, and whether it holds a price at all: not when its recommended
    offer is an estimate, nor, with none recommended, when every offer is one. Read as
    `quote_expires_at` is, without building the rest of the quote."""
    kept = _holding_decoder.decode(body)
    estimates = {o.id for o in kept.offers if o.estimate}
    if kept.recommended is not None:
        held = kept.recommended.offer_id not in estimates
    else:
        held = len(estimates) < len(kept.offers) or not kept.offers
    return kept.expires_at, held


def quote_answer(quote: Quote) -> answers.Quote:
    """The quote in English, as it is stored; `localised` makes it another language's."""
    tags: dict[str | None, list[answers.Tag]] = {}
    chosen_as: tuple[tuple[answers.Tag, str | None], ...] = (
        ("cheapest", quote.cheapest),
        ("fastest", quote.fastest),
        ("recommended", quote.recommended),
    )
    for name, chosen in chosen_as:
        tags.setdefault(chosen, []).append(name)
    insights = quote.insights
    offers = []
    for o in quote.offers:
        insight = insights.get(o.id) if insights else None
        learned = None if insight is None else learned_answer(insight)
        offers.append(offer_answer(o, list(tags.get(o.id, ())), learned))
    recommended = None
    if quote.recommended is not None:
        score = quote.scores[quote.recommended]
        recommended = answers.Recommendation(
            offer_id=quote.recommended,
            policy=quote.policy.kind.value,
            reason=quote.reason,
            score=answers.Score(
                price=str(money(score.price)),
                days=score.days,
                day_value=str(money(score.day_value)),
                total=str(money(score.total)),
            ),
        )
    return answers.Quote(
        quote_id=quote.id,
        created_at=quote.created_at,
        expires_at=quote.expires_at,
        origin=place_answer(quote.origin),
        destination=place_answer(quote.destination),
        offers=offers,
        recommended=recommended,
        cheapest=quote.cheapest,
        fastest=quote.fastest,
        reason=quote.reason,
        rejections=[rejection_answer(r, quote.carrier_names) for r in quote.rejections],
        errors=[error_answer(e, quote.carrier_names) for e in quote.errors],
        parcels=[
            answers.QuotedParcel(weight_g=p.weight_g, length_cm=p.length_cm, width_cm=p.width_cm, height_cm=p.height_cm)
            for p in quote.shipment.parcels
        ],
        declared_value=str(money(quote.shipment.declared_value)),
        cod=quote.shipment.cod,
        reason_ru=quote.reason_ru,
    )


def rejection_answer(rejection: Rejection, names: Mapping[str, tuple[str, str]]) -> answers.Rejection:
    en, ru = names.get(rejection.carrier, (rejection.carrier, rejection.carrier))
    return answers.Rejection(
        carrier=rejection.carrier,
        carrier_name=en,
        carrier_name_ru=ru,
        service=rejection.service,
        code=rejection.code,  # type: ignore[arg-type]  # carriers take their codes from the catalog
        reason=rejection.reason,
        reason_ru=rejection.reason_ru or rejection.reason,
    )


def error_answer(
    error: CarrierError, names: Mapping[str, tuple[str, str]] | None = None, lang: Lang = "en"
) -> answers.CarrierError:
    en, ru = (names or {}).get(error.carrier, (error.carrier, error.carrier))
    # The domain keeps the kind as text; the engine only ever gives it one of the answer's kinds.
    answer = answers.CarrierError(
        carrier=error.carrier,
        carrier_name=en,
        carrier_name_ru=ru,
        kind=error.kind,  # type: ignore[arg-type]
        message=error.message,
    )
    return error_ru(answer) if lang == "ru" else answer


def quote_body(quote: Quote) -> bytes:
    """The quote as stored and answered in English: the hot path of every cache miss."""
    return _encoder.encode(quote_answer(quote))


_quote_decoder = msgspec.json.Decoder(answers.Quote)


def quote_in(body: bytes, lang: Lang) -> bytes:
    """A stored quote (`quote_body`) as answered in `lang`: English as it is, byte for byte."""
    if lang == "en":
        return body
    return _encoder.encode(localised(_quote_decoder.decode(body), lang))


def carrier_answer(
    info: CarrierInfo,
    health: CarrierHealth | None,
    suspensions: Iterable[answers.Suspension] = (),
    lang: Lang = "en",
) -> answers.Carrier:
    """A carrier with the suspensions in force; suspended on every lane, its status is `suspended`."""
    own = [s for s in suspensions if s.carrier == info.code]
    ru = lang == "ru"
    return answers.Carrier(
        code=info.code,
        name=(info.name_ru or info.name) if ru else info.name,
        name_ru=info.name_ru or info.name,
        kind=info.kind,
        demo=info.demo,
        status="suspended" if any(s.lane is None for s in own) else info.status,
        services=[
            answers.Service(
                code=s.code,
                name=(s.name_ru or s.name) if ru else s.name,
                name_ru=s.name_ru or s.name,
                delivery_type=s.delivery_type,
            )
            for s in info.services
        ],
        health=None if health is None else health_answer(health),
        suspensions=own,
    )


def health_answer(health: CarrierHealth) -> answers.CarrierHealth:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return answers.CarrierHealth(
        breaker=health.breaker,  # type: ignore[arg-type]
        window=answers.HealthWindow(
            calls=health.window_calls,
            error_rate=None if health.error_rate is None else round(health.error_rate, 4),
            p50_ms=ms(health.p50_ms),
            p99_ms=ms(health.p99_ms),
        ),
        stale_served=health.stale_served,
        retries=health.retries,
    )


def learned_answer(insight: OfferInsight) -> answers.OfferLearned:
    def share(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return answers.OfferLearned(
        summary=f"95 % delivered by {insight.p95_date.day} {insight.p95_date:%b}",
        p50_days=insight.p50_days,
        p80_days=insight.p80_days,
        p95_days=insight.p95_days,
        p50_date=insight.p50_date,
        p80_date=insight.p80_date,
        p95_date=insight.p95_date,
        on_time_rate=share(insight.on_time_rate),
        failure_rate=round(insight.failure_rate, 4),
        sample_size=insight.sample_size,
        service_sample_size=insight.service_sample_size,
        badge=insight.badge,
        badge_reason=insight.badge_reason,
        arrival_probability=share(insight.arrival_probability),
        badge_reason_ru=insight.badge_reason_ru,
    )


def dumps(value: Any) -> bytes:
    """JSON that is no declared answer (the OpenAPI document itself)."""
    return orjson.dumps(value)
