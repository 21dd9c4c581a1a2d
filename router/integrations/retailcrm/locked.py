"""A quote as the QuoteBook keeps it — the JSON it was first answered with — read back into
domain types, so the CRM is offered, and saves, exactly what `POST /v1/quotes` answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from router.core.codec import offer_from_json
from router.core.models import (
    Offer,
    Place,
    PriceLineKind,
)
from router.core.regions import regions


@dataclass(frozen=True, slots=True)
class LockedQuote:
    id: str
    expires_at: datetime
    destination: Place
    offers: tuple[Offer, ...]

    def offer(self, offer_id: str) -> Offer | None:
        return next((o for o in self.offers if o.id == offer_id), None)


def _kind(value: str) -> PriceLineKind:
    try:
        return PriceLineKind(value)
    except ValueError:  # a kind added after this quote's reader; the amount still counts
        return PriceLineKind.OTHER


def _place(raw: dict[str, Any]) -> Place:
    return Place(
        lat=raw["lat"],
        lon=raw["lon"],
        country=raw["country"],
        city=raw.get("city"),
        # Quotes locked before ISO 3166-2 regions carry the admin1 code ("48").
        region=regions().of_written(raw["country"], raw.get("region")) or raw.get("region"),
        timezone=raw["timezone"],
        postal_code=raw.get("postal_code"),
        address=raw.get("address"),
    )


def read_locked(body: bytes) -> LockedQuote:
    raw = orjson.loads(body)
    return LockedQuote(
        id=raw["quote_id"],
        expires_at=datetime.fromisoformat(raw["expires_at"]),
        destination=_place(raw["destination"]),
        offers=tuple(offer_from_json(o, line_kind=_kind) for o in raw["offers"]),
    )
