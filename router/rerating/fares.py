"""One rate card's fares for re-rating: its freight per lane and weight band, with nothing declared.

How lanes and bands are told apart is drawn in `router.rerating.prices`; this module holds one
card's side of it: the profile of its weight breaks in a zone, the band a parcel falls in, the
card's own quote for a band, and the declared-value lines it adds.
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Hashable
from dataclasses import dataclass, replace
from decimal import Decimal

from carriers.ratecard import RateCardCarrier
from carriers.ratecard.tariff import Service
from router.core.geo import distance_km
from router.core.models import Parcel, Place, RateRequest, money

ZERO = Decimal(0)

# (service code, freight total or None when refused, (min days, max days)); a refusal is worded
# by `LanePrices.reason`, which names the parcel's own figures.
Freight = tuple[tuple[str, Decimal | None, tuple[int, int]], ...]


@dataclass(frozen=True, slots=True)
class Profile:
    """How one carrier's services in one zone tell weights apart."""

    breaks: tuple[int, ...]  # every break's max_g, sorted, across the zone's services
    lasts: tuple[int, ...]  # each service's last break; past it, started kilograms count


class Card:
    """One rate card, with the facts its bands need."""

    def __init__(self, carrier: RateCardCarrier) -> None:
        self.carrier = carrier
        card = carrier.card
        self.code = card.code
        self.card = card
        self.services: tuple[Service, ...] = card.services
        self.cutoff = card.cutoff
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
        self.profiles: dict[str | None, Profile | None] = {}
        self.priced_by_km = frozenset(zone for s in card.services for zone, t in s.zones.items() if t.per_km)

    def terms(self, origin: Place, destination: Place) -> tuple[Profile | None, Hashable]:
        """How the card prices a lane: its zone's profile, and what of the lane its freight depends on.

        Lanes with equal terms pay equal freight for equal bands: the card prices by the zone
        (base, weight, remote area), the line-haul into its area, and in a zone charged by the
        kilometre the started kilometres; a lane outside its countries is refused whatever the zone.
        """
        match = self.card.zones.resolve(origin, destination)
        countries = self.card.countries
        served = not countries or (origin.country in countries and destination.country in countries)
        started_km = None
        if match.zone in self.priced_by_km:
            km = match.distance_km
            if km is None:
                km = distance_km(origin.lat, origin.lon, destination.lat, destination.lon)
            started_km = max(1, math.ceil(km or 0.0))
        return self.profile(match.zone), (served, match.zone, match.inbound, started_km)

    def profile(self, zone: str | None) -> Profile | None:
        if zone not in self.profiles:
            tariffs = [s.zones[zone] for s in self.services if zone is not None and zone in s.zones]
            self.profiles[zone] = (
                Profile(
                    tuple(sorted({wb.max_g for t in tariffs for wb in t.weight_breaks})),
                    tuple(sorted({t.weight_breaks[-1].max_g for t in tariffs})),
                )
                if tariffs
                else None
            )
        return self.profiles[zone]

    def band(self, profile: Profile, parcel: Parcel, weight: int, sides: tuple[float, float, float]) -> object:
        """`weight` is the parcel's chargeable weight under this card's divisor, `sides` longest first."""
        beyond: tuple[int, ...] = ()
        if weight > profile.lasts[0]:
            beyond = tuple(-(-(weight - last) // 1000) for last in profile.lasts if weight > last)
        fits: tuple[bool, ...] = ()
        if not (parcel.weight_g <= self.fit_weight and sides[0] <= self.fit_side and sum(sides) <= self.fit_sum):
            fits = tuple(s.limits.breach(parcel) is None for s in self.services)
        return (bisect.bisect_left(profile.breaks, weight), beyond, fits)

    def freight(self, request: RateRequest) -> Freight:
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


class Fares:
    """One card's freight for one lane and band: what each service charges with nothing declared."""

    __slots__ = ("by_service", "cheapest", "cheapest_cod", "offered")

    def __init__(self, card: Card, freight: Freight) -> None:
        # (service, freight total, min days, max days, takes COD, offer id), in the card's order
        self.offered = tuple(
            (service, total, lo, hi, service in card.cod_services, f"{card.code}:{service}")
            for service, total, (lo, hi) in freight
            if total is not None
        )
        self.by_service = {o[0]: o for o in self.offered}
        # Within one card the declared-value lines are the same for every service, and a later
        # delivery date means more transit days, so the card's cheapest offer by the selection's
        # key (price, latest date, id) is its cheapest by (price, max days, service).
        rank = FARE_RANK
        self.cheapest = min(self.offered, key=rank, default=None)
        self.cheapest_cod = min((o for o in self.offered if o[4]), key=rank, default=None)


FARE_RANK = operator.itemgetter(1, 3, 0)  # freight total, max days, service
Fare = tuple[str, Decimal, int, int, bool, str]
