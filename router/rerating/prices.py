"""Tariff prices for re-rating, worked out once per lane and weight band instead of per shipment.

A rate card's total is the sum of its lines, each rounded to the kopeck on its own
(carriers/ratecard). The freight lines — base, weight, distance, fuel on those three, remote
area, line-haul — depend only on the lane (its zone and distance) and on each parcel's weight
break and size limits; insurance and cash on delivery depend only on the declared value. So the
carrier's own `quote_sync` is asked once per lane and weight band, with nothing declared, and
the declared-value lines are added with the card's own fees, rounded as the card rounds them:
the total is the quote's to the kopeck, for a dictionary lookup per carrier. Delivery dates
depend on the shipping day and the origin's time zone, not on the band, so they are kept apart,
and a row's `Rate`s are made only when asked for: re-rating under the cheapest policy needs the
price of the service used and the cheapest offer, which come from each card's fares directly.

A weight band is exact, not approximate: two parcels share one only when every service of the
carrier, in the lane's zone, charges them the same weight break (or the same started kilograms
past the last break) and takes or refuses both by its size limits.

Carriers that are not rate cards are asked in full for every shipment. Caches are bounded: past
their size they start afresh, which costs speed, never exactness.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Sequence
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from carriers.base import Carrier
from carriers.ratecard import RateCardCarrier
from router.core.calendar import make_eta
from router.core.models import (
    CarrierQuote,
    Eta,
    RateRequest,
)
from router.rerating.fares import ZERO, Card, Fare, Fares, Profile

CACHE_SIZE = 200_000
T = TypeVar("T")


class Rate(NamedTuple):
    """One service's price for one shipment under the tariffs."""

    carrier: str
    service: str
    total: Decimal
    eta: Eta
    id: str  # carrier:service, as offers are named


# A card on one lane: its zone's profile (None when the card does not serve the lane), the slot
# of its divisor among the chargeable weights, and its fares by band.
_LaneCard = tuple[Card, Profile | None, int, dict[object, Fares]]


class ShipmentRates:
    """Every service's price for one shipment; a `Rate` (with its dates) is made only when asked for."""

    __slots__ = ("_book", "_cod", "_extras", "_fares", "_others", "_rates", "refused", "request")

    def __init__(
        self,
        book: LanePrices,
        request: RateRequest,
        fares: list[Fares],
        extras: tuple[Decimal, ...] | None,
        others: list[Rate],
        refused: dict[tuple[str, str], str],
    ) -> None:
        self._book = book
        self.request = request
        self._fares = fares
        self._extras = extras  # each card's declared-value lines; None when nothing is declared
        self._cod = request.shipment.cod
        self._others = others  # rates of carriers that are not rate cards, asked in full
        self.refused = refused  # why those refused what they refused
        self._rates: list[Rate] | None = None

    def total(self, carrier: str, service: str) -> Decimal | None:
        """The price of one carrier's service, or None when it is not offered."""
        n = self._book._index.get(carrier)
        if n is not None:
            fare = self._fares[n].by_service.get(service)
            if fare is None or (self._cod and not fare[4]):
                return None
            extra = self._extras[n] if self._extras is not None else ZERO
            return fare[1] + extra if extra else fare[1]
        for r in self._others:
            if r.service == service and r.carrier == carrier:
                return r.total
        return None

    def cheapest(self) -> Rate | None:
        """The offer the cheapest policy recommends: lowest price, then earliest date, then id."""
        low: Decimal | None = None
        tied: list[tuple[int, Fare, Decimal]] = []
        extras = self._extras
        for n, fares in enumerate(self._fares):
            fare = fares.cheapest_cod if self._cod else fares.cheapest
            if fare is None:
                continue
            total = fare[1]
            if extras is not None and extras[n]:
                total = total + extras[n]
            if low is None or total < low:
                low, tied = total, [(n, fare, total)]
            elif total == low:
                tied.append((n, fare, total))
        if len(tied) == 1 and not self._others:
            n, fare, total = tied[0]
            return self._rate(n, fare, total)
        found = [self._rate(n, fare, total) for n, fare, total in tied] + self._others
        if not found:
            return None
        return min(found, key=lambda r: (r.total, r.eta.max_date, r.id))

    def rates(self) -> list[Rate]:
        """Every offer, in the order the carriers list them."""
        if self._rates is None:
            out = []
            extras, cod = self._extras, self._cod
            for n, fares in enumerate(self._fares):
                extra = extras[n] if extras is not None else ZERO
                for fare in fares.offered:
                    if cod and not fare[4]:
                        continue
                    out.append(self._rate(n, fare, fare[1] + extra if extra else fare[1]))
            out.extend(self._others)
            self._rates = out
        return self._rates

    def _rate(self, n: int, fare: Fare, total: Decimal) -> Rate:
        card = self._book._cards[n]
        return _tuple(Rate, (card.code, fare[0], total, self._book._eta(card, self.request, fare[2], fare[3]), fare[5]))


class LanePrices:
    """Every service's price for a shipment, as the carriers' quotes would give it."""

    def __init__(self, carriers: Sequence[Carrier]) -> None:
        self.codes = {c.code for c in carriers}
        self._cards = [Card(c) for c in carriers if isinstance(c, RateCardCarrier)]
        self._index = {card.code: n for n, card in reversed(list(enumerate(self._cards)))}  # the first of a code
        self._others = [c for c in carriers if not isinstance(c, RateCardCarrier)]
        self._divisors = sorted({card.divisor for card in self._cards})
        # A parcel inside every card's common limits needs no card's size check.
        self._fit = (
            min((card.fit_weight for card in self._cards), default=0),
            min((card.fit_side for card in self._cards), default=0.0),
            min((card.fit_sum for card in self._cards), default=0.0),
        )
        # Per lane, each card's zone profile and its fares by band: a row's lookups need no lane in the key.
        self._lanes: dict[Hashable, list[_LaneCard]] = {}
        # Lanes a card prices alike share their fares: a few zones instead of hundreds of lanes.
        self._by_terms: list[dict[Hashable, dict[object, Fares]]] = [{} for _ in self._cards]
        self._fares_kept = 0
        self._extras: dict[tuple[Decimal, bool], tuple[Decimal, ...]] = {}
        # Dates depend on the day and the origin's time zone only, never on the lane or the band:
        # kept apart, they are worked out a few hundred times in a run, not once per lane and day.
        self._etas: dict[tuple[object, ...], Eta] = {}

    async def quote(self, request: RateRequest, lane: Hashable) -> ShipmentRates:
        """The shipment's prices under these tariffs.

        `lane` names the request's two places (the places as written will do): equal lanes must
        resolve to equal places.
        """
        shipment = request.shipment
        parcels = shipment.parcels
        cards = self._lanes.get(lane)
        if cards is None:
            cards = self._lane(request, lane)
        declared, cod = shipment.declared_value, shipment.cod
        extras = None
        if cod or declared:
            extras = self._extras.get((declared, cod))
            if extras is None:
                extras = _keep(
                    self._extras, (declared, cod), tuple(c.declared_lines(declared, cod) for c in self._cards)
                )
        fares: list[Fares] = []
        if len(parcels) == 1:
            parcel = parcels[0]
            sides = parcel.sides_cm
            max_weight, max_side, max_sum = self._fit
            inside = parcel.weight_g <= max_weight and sides[0] <= max_side and sum(sides) <= max_sum
            weights = [parcel.chargeable_weight_g(d) for d in self._divisors]
            for card, profile, slot, kept in cards:
                if profile is None:
                    band: object = 1
                else:
                    weight = weights[slot]
                    if inside and weight <= profile.lasts[0]:
                        # The common parcel: within every limit and every last break, its band is
                        # the break it falls under, and that number is the whole key.
                        band = bisect.bisect_left(profile.breaks, weight)
                    else:
                        band = card.band(profile, parcel, weight, sides)
                found = kept.get(band)
                if found is None:
                    found = self._new_fares(card, kept, band, request)
                fares.append(found)
        else:
            for card, profile, _, kept in cards:
                if profile is None:
                    band = len(parcels)
                else:
                    band = tuple(
                        card.band(profile, p, p.chargeable_weight_g(card.divisor), p.sides_cm) for p in parcels
                    )
                found = kept.get(band)
                if found is None:
                    found = self._new_fares(card, kept, band, request)
                fares.append(found)
        others: list[Rate] = []
        refused: dict[tuple[str, str], str] = {}
        for carrier in self._others:
            try:
                answer = await carrier.quote(request)
            except Exception as exc:  # noqa: BLE001 - one broken tariff must not stop a million-row run
                refused[(carrier.code, "*")] = f"{type(exc).__name__}: {exc}"
                continue
            if not isinstance(answer, CarrierQuote):
                refused[(carrier.code, "*")] = f"answered {type(answer).__name__}"
                continue
            others.extend(
                Rate(o.carrier, o.service, o.price.total, o.eta, f"{o.carrier}:{o.service}") for o in answer.offers
            )
            refused.update(((r.carrier, r.service), r.reason) for r in answer.rejections)
        return ShipmentRates(self, request, fares, extras, others, refused)

    def _lane(self, request: RateRequest, lane: Hashable) -> list[_LaneCard]:
        if len(self._lanes) >= CACHE_SIZE:
            self._forget()
        found = []
        for n, card in enumerate(self._cards):
            profile, terms = card.terms(request.origin, request.destination)
            kept = self._by_terms[n].get(terms)
            if kept is None:
                kept = self._by_terms[n][terms] = {}
            found.append((card, profile, self._divisors.index(card.divisor), kept))
        self._lanes[lane] = found
        return found

    def _new_fares(self, card: Card, kept: dict[object, Fares], band: object, request: RateRequest) -> Fares:
        """The card's quote for the lane and band, asked once; bounded over all lanes together."""
        if self._fares_kept >= CACHE_SIZE:
            self._forget()
        fares = kept[band] = Fares(card, card.freight(request))
        self._fares_kept += 1
        return fares

    def _forget(self) -> None:
        # Rows already holding a lane's entry keep using it; the next rows start afresh.
        self._lanes.clear()
        for kept in self._by_terms:
            kept.clear()
        self._fares_kept = 0

    async def rates(self, request: RateRequest, lane: Hashable) -> tuple[list[Rate], dict[tuple[str, str], str]]:
        """The offers' prices and dates, and why carriers that are not rate cards refused what they
        refused (a rate card's refusals are told by `reason`)."""
        quoted = await self.quote(request, lane)
        return quoted.rates(), quoted.refused

    def reason(self, request: RateRequest, carrier: str, service: str) -> str:
        """Why `carrier` refused `service` for this very shipment, in the carrier's own words.

        Refusals by size or weight name the parcel's own figures, which its band does not keep.
        """
        for card in self._cards:
            if card.code == carrier:
                answer = card.carrier.quote_sync(request)
                return next((r.reason for r in answer.rejections if r.service == service), "")
        return ""

    def _eta(self, card: Card, request: RateRequest, min_days: int, max_days: int) -> Eta:
        timezone = request.origin.timezone
        key = (card.cutoff, request.ship_at, timezone, min_days, max_days)
        eta = self._etas.get(key)
        if eta is None:
            eta = _keep(self._etas, key, make_eta(request.ship_at, timezone, card.cutoff, min_days, max_days))
        return eta


_tuple = tuple.__new__  # a NamedTuple without its keyword-checking constructor, in the hot loop


def _keep(cache: dict[Any, T], key: object, value: T) -> T:
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value
