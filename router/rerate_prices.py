"""Tariff prices for re-rating, worked out once per lane and weight band instead of per shipment.

A rate card's total is the sum of its lines, each rounded to the kopeck on its own
(carriers/ratecard). The freight lines — base, weight, distance, fuel on those three, remote
area, line-haul — depend only on the lane (its zone and distance) and on each parcel's weight
break and size limits; insurance and cash on delivery depend only on the declared value. So the
carrier's own `quote_sync` is asked once per lane and weight band, with nothing declared, and
the declared-value lines are added with the card's own fees, rounded as the card rounds them:
the total is the quote's to the kopeck, for a dictionary lookup per carrier.

A weight band is exact, not approximate: two parcels share one only when every service of the
carrier, in the lane's zone, charges them the same weight break (or the same started kilograms
past the last break) and takes or refuses both by its size limits.

Carriers that are not rate cards are asked in full for every shipment. Caches are bounded: past
their size they start afresh, which costs speed, never exactness.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

from carriers.base import Carrier
from carriers.ratecard import RateCardCarrier
from carriers.ratecard.tariff import Service
from router.calendar import make_eta
from router.models import (
    CarrierQuote,
    Eta,
    Parcel,
    RateRequest,
    money,
)

CACHE_SIZE = 200_000
ZERO = Decimal(0)
T = TypeVar("T")


class Rate(NamedTuple):
    """One service's price for one shipment under the tariffs."""

    carrier: str
    service: str
    total: Decimal
    eta: Eta
    id: str  # carrier:service, as offers are named


# (service code, freight total or None when refused, (min days, max days)); a refusal is worded
# by `LanePrices.reason`, which names the parcel's own figures.
_Freight = tuple[tuple[str, Decimal | None, tuple[int, int]], ...]
# A lane and band on one day: the rates with nothing declared, and each rate with whether it takes COD.
_Dated = tuple[tuple["Rate", ...], tuple[tuple["Rate", bool], ...]]


@dataclass(frozen=True, slots=True)
class _Profile:
    """How one carrier's services in one zone tell weights apart."""

    breaks: tuple[int, ...]  # every break's max_g, sorted, across the zone's services
    lasts: tuple[int, ...]  # each service's last break; past it, started kilograms count


class _Card:
    """One rate card, with the facts its bands need."""

    def __init__(self, carrier: RateCardCarrier) -> None:
        self.carrier = carrier
        card = carrier.card
        self.code = card.code
        self.card = card
        self.services: tuple[Service, ...] = card.services
        self.divisor = card.volumetric_divisor
        # A parcel inside every service's limits needs no per-service check.
        limits = [s.limits for s in card.services]
        self.fit_weight = min((lim.max_weight_g for lim in limits), default=0)
        self.fit_side = min((lim.max_side_cm or math.inf for lim in limits), default=0.0)
        self.fit_sum = min((lim.max_sum_sides_cm or math.inf for lim in limits), default=0.0)
        sur = card.surcharges
        self.insurance = sur.insurance
        self.cod_fee = sur.cod
        self.cod_services = frozenset(s.code for s in card.services if s.cod and sur.cod is not None)
        self.profiles: dict[str | None, _Profile | None] = {}

    def profile(self, zone: str | None) -> _Profile | None:
        if zone not in self.profiles:
            tariffs = [s.zones[zone] for s in self.services if zone is not None and zone in s.zones]
            self.profiles[zone] = (
                _Profile(
                    tuple(sorted({wb.max_g for t in tariffs for wb in t.weight_breaks})),
                    tuple(sorted({t.weight_breaks[-1].max_g for t in tariffs})),
                )
                if tariffs
                else None
            )
        return self.profiles[zone]

    def band(self, profile: _Profile, parcel: Parcel, weight: int, sides: tuple[float, float, float]) -> object:
        """`weight` is the parcel's chargeable weight under this card's divisor, `sides` longest first."""
        beyond: tuple[int, ...] = ()
        if weight > profile.lasts[0]:
            beyond = tuple(-(-(weight - last) // 1000) for last in profile.lasts if weight > last)
        fits: tuple[bool, ...] = ()
        if not (parcel.weight_g <= self.fit_weight and sides[0] <= self.fit_side and sum(sides) <= self.fit_sum):
            fits = tuple(s.limits.breach(parcel) is None for s in self.services)
        return (bisect.bisect_left(profile.breaks, weight), beyond, fits)

    def freight(self, request: RateRequest) -> _Freight:
        """The carrier's own quote for the shipment with nothing declared: the freight lines only."""
        bare = replace(request.shipment, declared_value=ZERO, cod=False)
        answer = self.carrier.quote_sync(replace(request, shipment=bare))
        offers = {o.service: o for o in answer.offers}
        return tuple(
            (s.code, offers[s.code].price.total, (offers[s.code].eta.min_days, offers[s.code].eta.max_days))
            if s.code in offers
            else (s.code, None, (0, 0))
            for s in self.services
        )

    def declared_lines(self, declared: Decimal, cod: bool) -> Decimal:
        """Insurance and cash on delivery, each rounded as its own price line."""
        extra = ZERO
        declared = max(declared, ZERO)
        if self.insurance is not None and declared > 0:
            extra += money(self.insurance.of(declared))
        if cod and self.cod_fee is not None:
            extra += money(self.cod_fee.of(declared))
        return extra


class LanePrices:
    """Every service's price for a shipment, as the carriers' quotes would give it."""

    def __init__(self, carriers: Sequence[Carrier]) -> None:
        self.codes = {c.code for c in carriers}
        self._cards = [_Card(c) for c in carriers if isinstance(c, RateCardCarrier)]
        self._others = [c for c in carriers if not isinstance(c, RateCardCarrier)]
        self._profiles: dict[Hashable, list[_Profile | None]] = {}  # lane → each card's zone profile
        self._freight: list[dict[tuple[object, ...], _Freight]] = [{} for _ in self._cards]
        self._dated: list[dict[tuple[object, ...], _Dated]] = [{} for _ in self._cards]
        self._declared: list[dict[tuple[Decimal, bool], Decimal]] = [{} for _ in self._cards]

    async def rates(self, request: RateRequest, lane: Hashable) -> tuple[list[Rate], dict[tuple[str, str], str]]:
        """The offers' prices and dates, and why carriers that are not rate cards refused what they
        refused (a rate card's refusals are told by `reason`).

        `lane` names the request's two places (the places as written will do): equal lanes must
        resolve to equal places.
        """
        rates: list[Rate] = []
        refused: dict[tuple[str, str], str] = {}
        shipment = request.shipment
        parcels = shipment.parcels
        profiles = self._profiles.get(lane)
        if profiles is None:
            profiles = _keep(self._profiles, lane, [
                card.profile(card.card.zones.resolve(request.origin, request.destination).zone) for card in self._cards
            ])  # fmt: skip
        declared, cod = shipment.declared_value, shipment.cod
        plain = not cod and not declared
        chargeable: dict[int, list[int]] = {}
        sides = [p.sides_cm for p in parcels]
        for n, card in enumerate(self._cards):
            profile = profiles[n]
            if profile is None:
                bands: object = len(parcels)
            else:
                weights = chargeable.get(card.divisor)
                if weights is None:
                    weights = chargeable[card.divisor] = [p.chargeable_weight_g(card.divisor) for p in parcels]
                if len(parcels) == 1:
                    bands = card.band(profile, parcels[0], weights[0], sides[0])
                else:
                    bands = tuple(card.band(profile, p, w, s) for p, w, s in zip(parcels, weights, sides))
            key = (lane, bands, request.ship_at)
            dated = self._dated[n].get(key)
            if dated is None:
                dated = _keep(self._dated[n], key, self._dated_rates(n, card, request, (lane, bands)))
            if plain:
                rates.extend(dated[0])
                continue
            extra = self._declared[n].get((declared, cod))
            if extra is None:
                extra = _keep(self._declared[n], (declared, cod), card.declared_lines(declared, cod))
            for rate, cod_ok in dated[1]:
                if cod and not cod_ok:
                    continue
                if extra:
                    rate = _tuple(Rate, (rate[0], rate[1], rate[2] + extra, rate[3], rate[4]))
                rates.append(rate)
        for carrier in self._others:
            try:
                answer = await carrier.quote(request)
            except Exception as exc:  # noqa: BLE001 - one broken tariff must not stop a million-row run
                refused[(carrier.code, "*")] = f"{type(exc).__name__}: {exc}"
                continue
            if not isinstance(answer, CarrierQuote):
                refused[(carrier.code, "*")] = f"answered {type(answer).__name__}"
                continue
            rates.extend(Rate(o.carrier, o.service, o.price.total, o.eta, f"{o.carrier}:{o.service}") for o in answer.offers)
            refused.update(((r.carrier, r.service), r.reason) for r in answer.rejections)
        return rates, refused

    def reason(self, request: RateRequest, carrier: str, service: str) -> str:
        """Why `carrier` refused `service` for this very shipment, in the carrier's own words.

        Refusals by size or weight name the parcel's own figures, which its band does not keep.
        """
        for card in self._cards:
            if card.code == carrier:
                answer = card.carrier.quote_sync(request)
                return next((r.reason for r in answer.rejections if r.service == service), "")
        return ""

    def _dated_rates(self, n: int, card: _Card, request: RateRequest, key: tuple[object, ...]) -> _Dated:
        """The freight rates of a lane and band on one shipping day: the quote's, once per lane and band."""
        freight = self._freight[n].get(key)
        if freight is None:
            freight = _keep(self._freight[n], key, card.freight(request))
        offered = []
        for service, total, days in freight:
            if total is None:
                continue
            eta = make_eta(request.ship_at, request.origin.timezone, card.card.cutoff, *days)
            offered.append((Rate(card.code, service, total, eta, f"{card.code}:{service}"), service in card.cod_services))
        return tuple(r for r, _ in offered), tuple(offered)


_tuple = tuple.__new__  # a NamedTuple without its keyword-checking constructor, in the hot loop


def _keep(cache: dict[Any, T], key: object, value: T) -> T:
    if len(cache) >= CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value
