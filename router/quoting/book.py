"""Quotes kept for their price guarantee, and identical requests answered from cache.

A quote is stored as the exact JSON body it was first answered with (packed: router/packing.py),
so `GET /v1/quotes/{id}` returns it unchanged until it expires. It stays readable for a day
after that, so a late checkout learns the quote expired (410) rather than never existed (404).

An estimate (a down carrier's last good answer, router/quoting/last_good.py) is shown, never
held: a quote whose recommended offer is one, or whose offers all are, is refused when read back
(`QuoteNotHeld`, 409), so the shop asks for a fresh quote rather than keep a price nobody gave.

A quote belongs to its owner: the API key that asked for it, the RetailCRM account its module
asked for, or OPEN on a service that runs without keys. It is read back only by a caller the
owner's quotes are shown to (`get`'s `readers`); to anyone else it is the same 404 as an id never
made, during an outage the same 503, so an id cannot be probed. Quotes kept before they had owners
read back as OPEN's: a service with keys cannot tell whose they were.

Identical requests within the cache TTL from the same owner get the same quote back (the same
id, and the guarantee that started when it was made). The cache key includes the current UTC
hour: carriers' cut-offs fall on the hour, so a cached quote never outlives a cut-off that would
move its dates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from router.core.codec import quote_body, quote_holding
from router.core.errors import QuoteExpired, QuoteNotFound, QuoteNotHeld
from router.core.models import CarrierError, Location, Place, Policy, Shipment
from router.core.settings import Settings
from router.quoting.engine import QuoteEngine
from router.store import Store, refuse_a_miss_it_cannot_vouch_for
from router.store.packing import load_quote_dictionary, pack_quote, unpack_owned_quote

AFTERLIFE_S = 24 * 3600
QUOTE_KEY = "quote:"
OPEN = "open"  # the owner of quotes made on a service without keys (key ids start "key_")


@dataclass(frozen=True, slots=True)
class StoredQuote:
    body: bytes  # the JSON the quote was answered with
    cached: bool
    errors: tuple[CarrierError, ...] = ()


class QuoteBook:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        load_quote_dictionary()
        self._store = store
        # A quote made while Redis is away must reach every worker once it is back.
        store.write_back_after_outages(QUOTE_KEY)
        self._settings = settings
        self._clock = clock
        self._hour_of: tuple[int, int, int, int] | None = None
        self._hour_text = ""
        # Places come from the resolver's cache, the same few objects again and again.
        self._place_keys: dict[Place, list[object]] = {}
        self._resolved_by: QuoteEngine | None = None
        self._resolved: dict[tuple[Location, Location], tuple[Place, Place]] = {}

    async def create(self, engine: QuoteEngine, shipment: Shipment, policy: Policy, *, owner: str) -> StoredQuote:
        """`owner`: who asks (an API key's id, a CRM account's id, or OPEN). A cached quote is only
        ever answered to the owner that made it: it carries the buyer's addresses and its id."""
        origin, destination = self._resolve(engine, shipment)
        key = "qcache:" + self.cache_key(shipment, policy, origin, destination, owner)
        # The cache entry holds the quote's id; the quote is read through it in one round trip.
        kept = await self._store.get_referenced(key, QUOTE_KEY)
        if kept is not None:
            kept_by, body = unpack_owned_quote(kept)
            if kept_by == owner:  # the key holds the owner; this holds even if a key ever collided
                return StoredQuote(body, cached=True)
        quote = await engine.quote(shipment, policy, (origin, destination))
        body = quote_body(quote)
        kept_for_s = self._settings.quote_ttl_s + AFTERLIFE_S
        writes = [(QUOTE_KEY + quote.id, pack_quote(body, owner), kept_for_s)]
        # A quote with carrier errors is not cached: the next buyer should get a fresh try.
        if not quote.errors:
            writes.append((key, quote.id.encode(), min(self._settings.cache_ttl_s, self._settings.quote_ttl_s)))
        await self._store.set_many(writes)
        return StoredQuote(body, cached=False, errors=quote.errors)

    def _resolve(self, engine: QuoteEngine, shipment: Shipment) -> tuple[Place, Place]:
        """`engine.resolve`, kept per pair of locations as asked: the bundled places never change,
        and a shop's buyers ask about the same few cities over and over. A location that does not
        resolve raises every time, as it is not kept."""
        if engine is not self._resolved_by:
            self._resolved_by, self._resolved = engine, {}
        key = (shipment.origin, shipment.destination)
        ends = self._resolved.get(key)
        if ends is None:
            ends = engine.resolve(shipment)
            if len(self._resolved) >= 4096:
                self._resolved.clear()
            self._resolved[key] = ends
        return ends

    async def get(self, quote_id: str, readers: Container[str]) -> bytes:
        """The quote as first answered, if its owner is among `readers`: the owners whose quotes
        the caller may read."""
        kept = await self._store.get(QUOTE_KEY + quote_id)
        owner, body = unpack_owned_quote(kept) if kept is not None else (None, b"")
        if kept is None or (owner or OPEN) not in readers:
            await refuse_a_miss_it_cannot_vouch_for(self._store, f"quote {quote_id}")
            raise QuoteNotFound(quote_id)
        expires_at, held = quote_holding(body)
        if not held:
            raise QuoteNotHeld(quote_id)
        if datetime.fromisoformat(expires_at) <= self._clock():
            raise QuoteExpired(quote_id, expires_at)
        return body

    def cache_key(self, shipment: Shipment, policy: Policy, origin: Place, destination: Place, owner: str = "") -> str:
        parts = [
            owner,
            self._place_key(origin),
            self._place_key(destination),
            sorted((p.weight_g, *p.sides_cm) for p in shipment.parcels),
            str(shipment.declared_value.normalize()),
            shipment.cod,
            shipment.ship_at.isoformat() if shipment.ship_at else self._hour(),
            policy.kind.value,
            str(policy.day_value.normalize()),
            policy.deadline.isoformat() if policy.deadline else None,
            sorted(policy.only),
            sorted(policy.exclude),
            policy.min_on_time_rate,
            policy.probability,
        ]
        return hashlib.blake2b(orjson.dumps(parts), digest_size=16).hexdigest()

    def _place_key(self, place: Place) -> list[object]:
        key = self._place_keys.get(place)
        if key is None:
            if len(self._place_keys) >= 4096:
                self._place_keys.clear()
            key = self._place_keys[place] = _place_key(place)
        return key

    def _hour(self) -> str:
        """The clock's UTC hour as strftime("%Y-%m-%dT%H") writes it, formatted once an hour."""
        now = self._clock()
        hour = (now.year, now.month, now.day, now.hour)
        if hour != self._hour_of:
            self._hour_of, self._hour_text = hour, now.strftime("%Y-%m-%dT%H")
        return self._hour_text


def _place_key(place: Place) -> list[object]:
    # Five decimals is about a metre: finer differences do not change any price.
    # The address is part of it: the quote repeats it to the buyer, so two buyers in one city must
    # not share an answer.
    return [round(place.lat, 5), round(place.lon, 5), place.country, place.city, place.postal_code, place.address]
