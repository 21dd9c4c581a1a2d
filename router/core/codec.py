"""Domain types as JSON: the one shape the API answers, the CLI prints with --json and the store keeps.

Money is a string ("1234.50") so that no JSON parser turns it into a float.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
import orjson

from router.core.memo import IdMemo
from router.core.models import (
    CarrierHealth,
    CarrierInfo,
    DeliveryType,
    Eta,
    Offer,
    OfferInsight,
    Place,
    Price,
    PriceLine,
    PriceLineKind,
    Quote,
    money,
)


def price_json(price: Price) -> dict[str, Any]:
    return {
        "total": str(price.total),
        "currency": price.currency,
        "breakdown": [
            {"kind": line.kind.value, "label": line.label, "amount": str(line.amount)} for line in price.lines
        ],
    }


def eta_json(eta: Eta) -> dict[str, Any]:
    return {
        "min_days": eta.min_days,
        "max_days": eta.max_days,
        "ship_date": eta.ship_date.isoformat(),
        "min_date": eta.min_date.isoformat(),
        "max_date": eta.max_date.isoformat(),
    }


def place_json(place: Place) -> dict[str, Any]:
    return {
        "country": place.country,
        "city": place.city,
        "region": place.region,
        "postal_code": place.postal_code,
        "address": place.address,
        "lat": place.lat,
        "lon": place.lon,
        "timezone": place.timezone,
    }


def offer_json(offer: Offer, tags: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": offer.id,
        "carrier": offer.carrier,
        "carrier_name": offer.carrier_name,
        "service": offer.service,
        "service_name": offer.service_name,
        "delivery_type": offer.delivery_type.value,
        "price": price_json(offer.price),
        "eta": eta_json(offer.eta),
        "chargeable_weight_g": offer.chargeable_weight_g,
        "tags": tags,
    }
    if offer.stale:
        body["stale"] = True
        body["as_of"] = offer.as_of.isoformat() if offer.as_of else None
    return body


def offer_from_json(body: dict[str, Any], line_kind: Callable[[str], PriceLineKind] = PriceLineKind) -> Offer:
    """An offer back from `offer_json`; raises KeyError, ValueError or TypeError on anything else.

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
        stale=bool(body.get("stale", False)),
        as_of=datetime.fromisoformat(body["as_of"]) if body.get("as_of") else None,
    )


def _price_body(price: Price) -> dict[str, Any]:
    return {
        "total": str(price.total),
        "currency": price.currency,
        "breakdown": [{"kind": line.kind, "label": line.label, "amount": str(line.amount)} for line in price.lines],
    }


def _eta_body(eta: Eta) -> dict[str, Any]:
    return {
        "min_days": eta.min_days,
        "max_days": eta.max_days,
        "ship_date": eta.ship_date,
        "min_date": eta.min_date,
        "max_date": eta.max_date,
    }


# The codec's fast path for offers: an adapter may hand out one Price per sum and one Eta per
# transit span and ship day, kept all day (the CDEK adapter does), so each is turned into its
# JSON once, not once per offer and quote. Kept by identity and bounded: a rate card makes a new
# Price for every quote, and a large memo of those would only feed the garbage collector.
_price_json = IdMemo(_price_body, 256)
_eta_json = IdMemo(_eta_body, 4096)


class _Expiry(msgspec.Struct):
    expires_at: str


_expiry_decoder = msgspec.json.Decoder(_Expiry)


def quote_expires_at(body: bytes) -> str:
    """A stored quote's `expires_at`, read without building the rest of the quote: msgspec skips
    the fields the Struct does not name, several times faster than loading the whole document."""
    return _expiry_decoder.decode(body).expires_at


def quote_json(quote: Quote) -> dict[str, Any]:
    """The quote for orjson to write: enums and dates are left in place, as orjson writes them
    natively as their values and ISO dates (`isoformat` in Python costs more than the rest).
    Offers' `price` and `eta` objects may be shared with other quotes' JSON: write it, do not
    change it."""
    # The hot path of every cache miss: each offer is written in one dict literal, with the
    # same keys in the same order as `offer_json` (a test holds the two to the same bytes).
    tags: dict[str | None, list[str]] = {}
    for name, chosen in (("cheapest", quote.cheapest), ("fastest", quote.fastest), ("recommended", quote.recommended)):
        tags.setdefault(chosen, []).append(name)
    insights = quote.insights
    offers = []
    price_json, eta_json = _price_json, _eta_json
    for o in quote.offers:
        price, eta, offer_id = o.price, o.eta, o.id
        body: dict[str, Any] = {
            "id": offer_id,
            "carrier": o.carrier,
            "carrier_name": o.carrier_name,
            "service": o.service,
            "service_name": o.service_name,
            "delivery_type": o.delivery_type,
            "price": price_json(price),
            "eta": eta_json(eta),
            "chargeable_weight_g": o.chargeable_weight_g,
            "tags": list(tags.get(offer_id, ())),
        }
        if o.stale:
            body["stale"] = True
            body["as_of"] = o.as_of.isoformat() if o.as_of else None
        insight = insights.get(offer_id) if insights else None
        body["learned"] = None if insight is None else learned_json(insight)
        offers.append(body)

    recommended = None
    if quote.recommended is not None:
        score = quote.scores[quote.recommended]
        recommended = {
            "offer_id": quote.recommended,
            "policy": quote.policy.kind.value,
            "reason": quote.reason,
            "score": {
                "price": str(money(score.price)),
                "days": score.days,
                "day_value": str(money(score.day_value)),
                "total": str(money(score.total)),
            },
        }
    return {
        "quote_id": quote.id,
        "created_at": quote.created_at.isoformat(),
        "expires_at": quote.expires_at.isoformat(),
        "origin": place_json(quote.origin),
        "destination": place_json(quote.destination),
        "offers": offers,
        "recommended": recommended,
        "cheapest": quote.cheapest,
        "fastest": quote.fastest,
        "reason": quote.reason,
        "rejections": [{"carrier": r.carrier, "service": r.service, "reason": r.reason} for r in quote.rejections],
        "errors": [{"carrier": e.carrier, "kind": e.kind, "message": e.message} for e in quote.errors],
    }


def carrier_json(info: CarrierInfo, health: CarrierHealth | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": info.code,
        "name": info.name,
        "kind": info.kind,
        "demo": info.demo,
        "status": info.status,
        "services": [{"code": s.code, "name": s.name, "delivery_type": s.delivery_type.value} for s in info.services],
    }
    if health is not None:
        body["health"] = health_json(health)
    return body


def health_json(health: CarrierHealth) -> dict[str, Any]:
    def ms(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return {
        "breaker": health.breaker,
        "window": {
            "calls": health.window_calls,
            "error_rate": None if health.error_rate is None else round(health.error_rate, 4),
            "p50_ms": ms(health.p50_ms),
            "p99_ms": ms(health.p99_ms),
        },
        "stale_served": health.stale_served,
        "retries": health.retries,
    }


def learned_json(insight: OfferInsight | None) -> dict[str, Any] | None:
    if insight is None:
        return None
    return {
        "summary": f"95 % delivered by {insight.p95_date.day} {insight.p95_date:%b}",
        "p50_days": insight.p50_days,
        "p80_days": insight.p80_days,
        "p95_days": insight.p95_days,
        "p50_date": insight.p50_date.isoformat(),
        "p80_date": insight.p80_date.isoformat(),
        "p95_date": insight.p95_date.isoformat(),
        "on_time_rate": round(insight.on_time_rate, 4) if insight.on_time_rate is not None else None,
        "failure_rate": round(insight.failure_rate, 4),
        "sample_size": insight.sample_size,
        "service_sample_size": insight.service_sample_size,
        "badge": insight.badge.value,
        "badge_reason": insight.badge_reason,
        "arrival_probability": (
            round(insight.arrival_probability, 4) if insight.arrival_probability is not None else None
        ),
    }


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)
