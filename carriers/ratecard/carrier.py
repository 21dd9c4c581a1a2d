"""Pricing a shipment from a rate card: the `Carrier` for partners with no API."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple

from carriers.ratecard.tariff import (
    HUNDRED,
    ZERO,
    RateCard,
    Service,
    ZoneTariff,
)
from carriers.ratecard.zones import (
    ZoneMatch,
    refused,
)
from router.core.calendar import add_working_days, ship_date
from router.core.geo import distance_km
from router.core.models import (
    CarrierInfo,
    CarrierQuote,
    Eta,
    Offer,
    Parcel,
    Place,
    Price,
    PriceLine,
    PriceLineKind,
    RateRequest,
    Rejection,
    ServiceInfo,
    money,
)
from router.core.wording import RejectionCode, rejection

# Lanes (pairs of places) whose zone and fixed lines a card keeps: a shop's traffic repeats a
# few hundred lanes; quotes by coordinates each make their own and only churn this bound.
LANES_KEPT = 4096
_place_fields = attrgetter(*Place.__dataclass_fields__)
ZERO_KOPECKS = Decimal("0.00")


def _kg(grams: int) -> str:
    return f"{grams / 1000:g}"  # a label, not money: float is fine here


class RateCardCarrier:
    """A `Carrier` whose whole tariff is a `RateCard`; quoting does no I/O.

    Several parcels in one shipment are priced as the carrier handles them: each pays the base
    rate and the weight break of its own chargeable weight (summing the weights first would
    undercharge two light boxes as one), while distance, remote-area, insurance and COD are
    charged once for the shipment. One parcel over a service's limits leaves the whole service
    out, since a shipment is not split across services.
    """

    remote = False

    def __init__(self, card: RateCard) -> None:
        self.card = card
        self.code = card.code
        self._priced_by_km = frozenset(zone for s in card.services for zone, tariff in s.zones.items() if tariff.per_km)
        # Labels are fixed per card; formatting Decimals on every quote would be wasted work.
        sur = card.surcharges
        self._fuel_label = f"Fuel surcharge {sur.fuel_pct}%"
        self._insurance_label = f"Insurance {sur.insurance.pct}% of declared value" if sur.insurance else ""
        self._cod_label = f"Cash on delivery {sur.cod.pct}%" if sur.cod else ""
        self._info = CarrierInfo(
            code=card.code,
            name=card.name,
            name_ru=card.name_ru,
            kind="ratecard",
            services=tuple(ServiceInfo(s.code, s.name, s.delivery_type, s.name_ru) for s in card.services),
            demo=card.demo,
        )
        self._no_parcels = CarrierQuote(
            rejections=tuple(rejection(card.code, s.code, RejectionCode.NO_PARCELS) for s in card.services)
        )
        self._lanes: dict[tuple[tuple[object, ...], tuple[object, ...]], _Lane] = {}

    def __repr__(self) -> str:
        return f"RateCardCarrier({self.code!r}, source={self.card.source!r})"

    def info(self) -> CarrierInfo:
        return self._info

    def close(self) -> None:
        pass

    async def quote(self, request: RateRequest) -> CarrierQuote:
        return self.quote_sync(request)

    def quote_sync(self, request: RateRequest) -> CarrierQuote:
        """The same answer as `quote`, for callers outside an event loop (CLI, benchmarks)."""
        parcels = request.shipment.parcels
        if not parcels:
            return self._no_parcels
        lane = self._lane(request.origin, request.destination)
        if lane.refused is not None:
            return lane.refused
        card = self.card
        divisor = card.volumetric_divisor
        chargeable = tuple(p.chargeable_weight_g(divisor) for p in parcels)
        shipment = request.shipment
        cod = shipment.cod
        per_quote = _PerQuote(self, request, chargeable)
        offers: list[Offer] = []
        rejections: list[Rejection] = []
        for entry in lane.services:
            if isinstance(entry, Rejection):
                rejections.append(entry)
                continue
            outcome = self._price(entry, chargeable, parcels, cod, per_quote)
            if isinstance(outcome, Offer):
                offers.append(outcome)
            else:
                rejections.append(outcome)
        return CarrierQuote(offers=tuple(offers), rejections=tuple(rejections))

    def _lane(self, origin: Place, destination: Place) -> _Lane:
        """Everything a quote on this lane charges whatever the parcels: the zone, each service's
        tariff or refusal, the distance, remote-area and line-haul lines, the transit days."""
        # Keyed by every field of both places (what equal places means), read in one C call:
        # the resolver makes a new `Place` for every request, and hashing two dataclasses field
        # by field on every card of every quote would cost more than a tuple of their fields.
        key = (_place_fields(origin), _place_fields(destination))
        lane = self._lanes.get(key)
        if lane is None:
            if len(self._lanes) >= LANES_KEPT:
                self._lanes.clear()
            lane = self._lanes[key] = self._build_lane(origin, destination)
        return lane

    def _build_lane(self, origin: Place, destination: Place) -> _Lane:
        card = self.card
        match = self._country_problem(origin, destination) or card.zones.resolve(origin, destination)
        if match.zone is None:
            refusals = (Rejection(card.code, s.code, match.reason, match.code, match.reason_ru) for s in card.services)
            return _Lane(CarrierQuote(rejections=tuple(refusals)), ())
        zone = match.zone
        if match.distance_km is None and zone in self._priced_by_km:
            match = ZoneMatch(zone, distance_km=distance_km(origin.lat, origin.lon, destination.lat, destination.lon))
        sur = card.surcharges
        remote = (
            _Fixed(
                PriceLine(PriceLineKind.REMOTE_AREA, money(sur.remote_area_fee), f"Remote area, zone {zone}"),
                sur.remote_area_fee,
            )
            if zone in sur.remote_zones and sur.remote_area_fee
            else None
        )
        inbound = card.inbound if match.inbound else None
        extra_days = inbound.extra_days if inbound is not None else 0
        haul = (
            _Fixed(
                PriceLine(PriceLineKind.OTHER, money(inbound.fee), "Line-haul into the carrier's region"), inbound.fee
            )
            if inbound is not None
            else None
        )
        entries: list[_LaneService | Rejection] = []
        for service in card.services:
            tariff = service.zones.get(zone)
            if tariff is None:
                entries.append(rejection(card.code, service.code, RejectionCode.ZONE_NOT_SERVED, zone=zone))
                continue
            distance = None
            if tariff.per_km:
                # Billed per started kilometre, and never less than one: a courier still drives there.
                started_km = max(1, math.ceil(match.distance_km or 0.0))
                amount = tariff.per_km * started_km
                distance = _Fixed(
                    PriceLine(PriceLineKind.DISTANCE, money(amount), f"Distance, {started_km} km"), amount
                )
            entries.append(
                _LaneService(
                    service,
                    tariff,
                    f"Base rate, zone {zone}",
                    PriceLine(PriceLineKind.BASE, money(tariff.base), f"Base rate, zone {zone}"),
                    distance,
                    remote,
                    haul,
                    tariff.min_days + extra_days,
                    tariff.max_days + extra_days,
                    f"{card.code}:{service.code}",
                    rejection(card.code, service.code, RejectionCode.COD_NOT_OFFERED)
                    if not (service.cod and sur.cod is not None)
                    else None,
                )
            )
        return _Lane(None, tuple(entries))

    def _country_problem(self, origin: Place, destination: Place) -> ZoneMatch | None:
        countries = self.card.countries
        if not countries:
            return None
        if origin.country not in countries:
            return refused(RejectionCode.ORIGIN_NOT_SERVED, "origin_country", country=origin.country)
        if destination.country not in countries:
            return refused(RejectionCode.DESTINATION_NOT_SERVED, "destination_country", country=destination.country)
        return None

    def _price(
        self,
        entry: _LaneService,
        chargeable: tuple[int, ...],
        parcels: tuple[Parcel, ...],
        cod: bool,
        per_quote: _PerQuote,
    ) -> Offer | Rejection:
        if cod and entry.no_cod is not None:
            return entry.no_cod
        service, tariff = entry.service, entry.tariff
        limits = service.limits
        weight = ZERO
        for i, parcel in enumerate(parcels):
            breach = limits.breach(parcel)
            if breach is not None:
                code, figures = breach
                return rejection(self.code, service.code, code, i=i, **figures)
            charge = tariff.weight_charge(chargeable[i])
            if charge is None:
                return rejection(self.code, service.code, RejectionCode.BEYOND_TARIFF, i=i, weight_g=chargeable[i])
            weight += charge

        # Lines are rounded one by one as `Price.of` would; the fuel is a share of the freight
        # as charged before rounding, as the card's own arithmetic has it.
        count = len(parcels)
        if count == 1:
            base = entry.base_line
            freight = tariff.base + weight
        else:
            amount = tariff.base * count
            base = PriceLine(PriceLineKind.BASE, money(amount), f"{entry.base_label}, {count} parcels")
            freight = amount + weight
        lines = [base]
        if weight:
            lines.append(PriceLine(PriceLineKind.WEIGHT, money(weight), per_quote.weight_label))
        distance = entry.distance
        if distance is not None:
            lines.append(distance.line)
            freight += distance.amount
        card = self.card
        fuel_pct = card.surcharges.fuel_pct
        if fuel_pct:
            lines.append(PriceLine(PriceLineKind.FUEL, money(freight * fuel_pct / HUNDRED), self._fuel_label))
        lines += per_quote.declared_lines
        if entry.remote is not None:
            lines.append(entry.remote.line)
        if entry.haul is not None:
            lines.append(entry.haul.line)
        total = ZERO_KOPECKS
        for line in lines:
            total += line.amount
        return Offer(
            card.code,
            card.name,
            service.code,
            service.name,
            service.delivery_type,
            Price(total, tuple(lines), card.currency),
            per_quote.eta(entry.min_days, entry.max_days),
            per_quote.chargeable_total,
            entry.offer_id,
            carrier_name_ru=card.name_ru,
            service_name_ru=service.name_ru,
        )


class _Fixed(NamedTuple):
    """A price line that is the same on every quote of a lane, and its amount before rounding."""

    line: PriceLine
    amount: Decimal


class _LaneService(NamedTuple):
    service: Service
    tariff: ZoneTariff
    base_label: str
    base_line: PriceLine  # one parcel's
    distance: _Fixed | None
    remote: _Fixed | None
    haul: _Fixed | None  # line-haul into the home area
    min_days: int
    max_days: int
    offer_id: str
    no_cod: Rejection | None  # why cash on delivery is refused, when it is


class _Lane(NamedTuple):
    refused: CarrierQuote | None  # the whole card refuses this lane
    services: tuple[_LaneService | Rejection, ...]


class _PerQuote:
    """What every service of one card shares within one quote, worked out once."""

    __slots__ = ("chargeable_total", "declared_lines", "weight_label", "_request", "_card", "_day")

    def __init__(self, carrier: RateCardCarrier, request: RateRequest, chargeable: tuple[int, ...]) -> None:
        card = carrier.card
        self._request = request
        self._card = card
        self._day: date | None = None
        self.chargeable_total = total = sum(chargeable)
        self.weight_label = f"Weight, {_kg(total)} kg chargeable"
        shipment = request.shipment
        sur = card.surcharges
        declared = max(shipment.declared_value, ZERO)
        lines: list[PriceLine] = []
        if sur.insurance is not None and declared > 0:
            lines.append(
                PriceLine(PriceLineKind.INSURANCE, money(sur.insurance.of(declared)), carrier._insurance_label)
            )
        if shipment.cod and sur.cod is not None:
            lines.append(PriceLine(PriceLineKind.COD, money(sur.cod.of(declared)), carrier._cod_label))
        self.declared_lines = lines

    def eta(self, min_days: int, max_days: int) -> Eta:
        day = self._day
        if day is None:
            request = self._request
            day = self._day = ship_date(request.ship_at, request.origin.timezone, self._card.cutoff)
        return _eta(day, min_days, max_days)


_etas: dict[tuple[date, int, int], Eta] = {}


def _eta(day: date, min_days: int, max_days: int) -> Eta:
    """`make_eta` once its ship date is known; the same window from the same day is one shared object."""
    key = (day, min_days, max_days)
    eta = _etas.get(key)
    if eta is None:
        if min_days < 0 or max_days < min_days:
            raise ValueError(f"bad transit days: min {min_days}, max {max_days}")
        if len(_etas) >= LANES_KEPT:
            _etas.clear()
        eta = _etas[key] = Eta(
            min_days, max_days, day, add_working_days(day, min_days), add_working_days(day, max_days)
        )
    return eta
