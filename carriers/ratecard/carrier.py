"""Pricing a shipment from a rate card: the `Carrier` for partners with no API."""

from __future__ import annotations

import math

from carriers.geo import distance_km
from carriers.ratecard.tariff import (
    HUNDRED,
    ZERO,
    RateCard,
    Service,
)
from carriers.zones import (
    ZoneMatch,
)
from router.calendar import make_eta
from router.models import (
    CarrierInfo,
    CarrierQuote,
    Eta,
    Offer,
    Price,
    PriceLine,
    PriceLineKind,
    RateRequest,
    Rejection,
    ServiceInfo,
)


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

    def __init__(self, card: RateCard) -> None:
        self.card = card
        self.code = card.code
        self._priced_by_km = frozenset(
            zone
            for s in card.services
            for zone, tariff in s.zones.items()
            if tariff.per_km
        )
        # Labels are fixed per card; formatting Decimals on every quote would be wasted work.
        sur = card.surcharges
        self._fuel_label = f"Fuel surcharge {sur.fuel_pct}%"
        self._insurance_label = (
            f"Insurance {sur.insurance.pct}% of declared value" if sur.insurance else ""
        )
        self._cod_label = f"Cash on delivery {sur.cod.pct}%" if sur.cod else ""
        self._info = CarrierInfo(
            code=card.code,
            name=card.name,
            kind="ratecard",
            services=tuple(
                ServiceInfo(s.code, s.name, s.delivery_type) for s in card.services
            ),
            demo=card.demo,
        )

    def __repr__(self) -> str:
        return f"RateCardCarrier({self.code!r}, source={self.card.source!r})"

    def info(self) -> CarrierInfo:
        return self._info

    async def quote(self, request: RateRequest) -> CarrierQuote:
        return self.quote_sync(request)

    def quote_sync(self, request: RateRequest) -> CarrierQuote:
        """The same answer as `quote`, for callers outside an event loop (CLI, benchmarks)."""
        card = self.card
        if not request.shipment.parcels:
            return CarrierQuote(
                rejections=tuple(
                    Rejection(card.code, s.code, "no parcels to carry")
                    for s in card.services
                )
            )
        reason = self._country_problem(request)
        match = (
            ZoneMatch(None, reason)
            if reason
            else card.zones.resolve(request.origin, request.destination)
        )
        if match.zone is None:
            return CarrierQuote(
                rejections=tuple(
                    Rejection(card.code, s.code, match.reason) for s in card.services
                )
            )
        if match.distance_km is None and match.zone in self._priced_by_km:
            o, d = request.origin, request.destination
            match = ZoneMatch(
                match.zone, distance_km=distance_km(o.lat, o.lon, d.lat, d.lon)
            )
        divisor = card.volumetric_divisor
        chargeable = tuple(
            p.chargeable_weight_g(divisor) for p in request.shipment.parcels
        )
        offers: list[Offer] = []
        rejections: list[Rejection] = []
        etas: dict[tuple[int, int], Eta] = {}
        for service in card.services:
            outcome = self._quote_service(service, match, chargeable, request, etas)
            if isinstance(outcome, Offer):
                offers.append(outcome)
            else:
                rejections.append(outcome)
        return CarrierQuote(offers=tuple(offers), rejections=tuple(rejections))

    def _country_problem(self, request: RateRequest) -> str:
        countries = self.card.countries
        if not countries:
            return ""
        if request.origin.country not in countries:
            return f"origin country {request.origin.country} not served"
        if request.destination.country not in countries:
            return f"destination country {request.destination.country} not served"
        return ""

    def _quote_service(
        self,
        service: Service,
        match: ZoneMatch,
        chargeable: tuple[int, ...],
        request: RateRequest,
        etas: dict[tuple[int, int], Eta],
    ) -> Offer | Rejection:
        card = self.card
        zone = match.zone
        assert zone is not None
        tariff = service.zones.get(zone)
        if tariff is None:
            return Rejection(
                card.code, service.code, f"service not offered in zone {zone}"
            )
        shipment = request.shipment
        if shipment.cod and not (service.cod and card.surcharges.cod is not None):
            return Rejection(card.code, service.code, "cash on delivery not offered")

        weight = ZERO
        for i, parcel in enumerate(shipment.parcels):
            breach = service.limits.breach(parcel)
            if breach is not None:
                return Rejection(card.code, service.code, f"parcels[{i}] {breach}")
            charge = tariff.weight_charge(chargeable[i])
            if charge is None:
                return Rejection(
                    card.code,
                    service.code,
                    f"parcels[{i}] chargeable weight {chargeable[i]} g is beyond the tariff",
                )
            weight += charge
        chargeable_total = sum(chargeable)

        count = len(shipment.parcels)
        lines = [
            PriceLine(
                PriceLineKind.BASE,
                tariff.base * count,
                f"Base rate, zone {zone}" + (f", {count} parcels" if count > 1 else ""),
            )
        ]
        if weight:
            lines.append(
                PriceLine(
                    PriceLineKind.WEIGHT,
                    weight,
                    f"Weight, {_kg(chargeable_total)} kg chargeable",
                )
            )
        freight = tariff.base * count + weight
        if tariff.per_km:
            km = match.distance_km or 0.0
            # Billed per started kilometre, and never less than one: a courier still drives there.
            started_km = max(1, math.ceil(km))
            distance = tariff.per_km * started_km
            lines.append(
                PriceLine(
                    PriceLineKind.DISTANCE, distance, f"Distance, {started_km} km"
                )
            )
            freight += distance

        sur = card.surcharges
        if sur.fuel_pct:
            lines.append(
                PriceLine(
                    PriceLineKind.FUEL,
                    freight * sur.fuel_pct / HUNDRED,
                    self._fuel_label,
                )
            )
        declared = max(shipment.declared_value, ZERO)
        if sur.insurance is not None and declared > 0:
            lines.append(
                PriceLine(
                    PriceLineKind.INSURANCE,
                    sur.insurance.of(declared),
                    self._insurance_label,
                )
            )
        if shipment.cod and sur.cod is not None:
            lines.append(
                PriceLine(PriceLineKind.COD, sur.cod.of(declared), self._cod_label)
            )
        if zone in sur.remote_zones and sur.remote_area_fee:
            lines.append(
                PriceLine(
                    PriceLineKind.REMOTE_AREA,
                    sur.remote_area_fee,
                    f"Remote area, zone {zone}",
                )
            )
        min_days, max_days = tariff.min_days, tariff.max_days
        if match.inbound and card.inbound is not None:
            lines.append(
                PriceLine(
                    PriceLineKind.OTHER,
                    card.inbound.fee,
                    "Line-haul into the carrier's region",
                )
            )
            min_days += card.inbound.extra_days
            max_days += card.inbound.extra_days

        key = (min_days, max_days)
        eta = etas.get(key)
        if eta is None:
            eta = etas[key] = make_eta(
                request.ship_at,
                request.origin.timezone,
                card.cutoff,
                min_days,
                max_days,
            )
        return Offer(
            carrier=card.code,
            carrier_name=card.name,
            service=service.code,
            service_name=service.name,
            delivery_type=service.delivery_type,
            price=Price.of(lines, card.currency),
            eta=eta,
            chargeable_weight_g=chargeable_total,
        )
