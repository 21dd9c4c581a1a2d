"""What each callback does, in the service's own terms: quote, list, lock, read, cancel.

`calculate` goes through the QuoteBook exactly as `POST /v1/quotes` does, so the CRM sees the
same prices (the same quote, within the cache TTL) and every offer it shows is locked under a
quote id, owned by the account: no other account is answered it from the cache or may save it. That id travels to `save` in a delivery data field; `save` refuses a quote that has
expired or never existed, and an estimate (a down carrier's last good answer, never held), rather
than record a price nobody guaranteed, and a delivery that
collects cash on delivery other than the calculation priced (router/integrations/retailcrm/cod.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from pickup_points.model import Feature, PickupPoint
from pickup_points.search import PickupDirectory
from router.core.errors import InvalidRequest, PlaceNotFound, QuoteExpired, QuoteNotFound, QuoteNotHeld
from router.core.models import (
    CarrierInfo,
    DeliveryType,
    Location,
    Offer,
    Parcel,
    Place,
    ServiceInfo,
    Shipment,
    money,
)
from router.core.regions import regions
from router.core.settings import Settings
from router.integrations.retailcrm.accounts import Account
from router.integrations.retailcrm.cod import CodBook
from router.integrations.retailcrm.deliveries import (
    DeliveryBook,
    SavedDelivery,
    new_delivery_id,
)
from router.integrations.retailcrm.entities import QUOTE_ID_FIELD
from router.integrations.retailcrm.errors import DeliveryUnknown, Malformed, Refused
from router.integrations.retailcrm.locked import LockedQuote, read_locked
from router.integrations.retailcrm.reading import CalculateRequest, PointQuery, SaveRequest
from router.quoting.book import QuoteBook
from router.quoting.engine import QuoteEngine
from router.quoting.places import Places

# Pickup points offered with each pickup tariff: the nearest to the buyer's address, within a
# city's reach. The search looks at more points than it offers because other carriers' points
# crowd the nearest ones in big cities.
POINTS_PER_OFFER = 30
POINT_SEARCH_LIMIT = 1000
NEARBY_KM = 30.0
# Points listed for a city on the CRM's settings page.
CITY_POINTS_LIMIT = 500
# The CRM's names for what the place resolver and the quote engine report problems under.
_CRM_NAMES = {
    "origin": "calculate.shipmentAddress",
    "destination": "calculate.deliveryAddress",
    "postal_code": "index",
    "country": "countryIso",
    "address": "text",
}


@dataclass(frozen=True, slots=True)
class Offered:
    """One calculated offer as the CRM will show it: the quote it is locked under, and points."""

    offer: Offer
    quote_id: str
    points: tuple[PickupPoint, ...] = ()


def _crm_path(path: str) -> str:
    return ".".join(_CRM_NAMES.get(part, part) for part in path.split("."))


def _same_region(place_region: str | None, point_country: str, point_region: str | None) -> bool:
    # A point's region is as its source wrote it: a code (the demo networks' admin1 codes) is
    # compared as ISO 3166-2, a name (CDEK's) cannot be and so keeps the point.
    code = regions().of_written(point_country, point_region)
    return code is None or place_region is None or code == place_region


def _field_error(exc: InvalidRequest) -> Malformed:
    error = exc.errors[0]
    return Malformed(_crm_path(error.path), error.message)


class Callbacks:
    def __init__(
        self,
        engine: QuoteEngine,
        quotes: QuoteBook,
        directory: PickupDirectory,
        places: Places,
        deliveries: DeliveryBook,
        cod: CodBook,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._quotes = quotes
        self._directory = directory
        self._places = places
        self._deliveries = deliveries
        self._cod = cod
        self._settings = settings
        self._clock = clock

    async def calculate(self, account: Account, request: CalculateRequest) -> tuple[Offered, ...]:
        shipment = self._shipment(account, request)
        try:
            stored = await self._quotes.create(
                self._engine, shipment, account.policy(self._settings.day_value), owner=account.id
            )
        except InvalidRequest as exc:
            raise _field_error(exc) from None
        locked = read_locked(stored.body)
        if not locked.offers and stored.errors:
            reasons = "; ".join(f"{e.carrier}: {e.message}" for e in stored.errors)
            raise Refused(f"no carrier could quote this delivery ({reasons}); try again shortly")
        await self._cod.record(account.id, locked.id, request.cod, locked.expires_at, self._clock())
        pickups = [o for o in locked.offers if o.delivery_type is DeliveryType.PICKUP]
        points = self._points_near(locked.destination, shipment, pickups) if pickups else {}
        offered = []
        for offer in locked.offers:
            if offer.delivery_type is DeliveryType.PICKUP:
                nearby = points.get(offer.id, ())
                if not nearby:  # a pickup tariff with nowhere to pick up is no offer at all
                    continue
                offered.append(Offered(offer, locked.id, nearby))
            else:
                offered.append(Offered(offer, locked.id))
        return tuple(offered)

    def _shipment(self, account: Account, request: CalculateRequest) -> Shipment:
        if request.shipment_address.given:
            origin = request.shipment_address.location()
        elif account.origin:
            origin = Location(city=account.origin)
        else:
            raise Malformed(
                "calculate.shipmentAddress",
                "give the city or index parcels leave from, or connect the account with --origin",
            )
        if not request.delivery_address.given:
            raise Malformed("calculate.deliveryAddress", "give the buyer's city or index")
        parcels = tuple(Parcel(p.weight_g, *(p.sides_cm or account.parcel_cm)) for p in request.packages)
        return Shipment(
            origin=origin,
            destination=request.delivery_address.location(),
            parcels=parcels,
            declared_value=request.declared_value,
            cod=request.cod > 0,
            ship_at=self._ship_at(request, origin),
        )

    def _ship_at(self, request: CalculateRequest, origin: Location) -> datetime | None:
        if request.shipment_date is None:
            return None
        try:
            place = self._places.resolve(origin, "calculate.shipmentAddress")
        except PlaceNotFound as exc:
            raise _field_error(exc) from None
        # The CRM's dates are the shop's wall clock; a day already begun means "as soon as possible".
        local = request.shipment_date.replace(tzinfo=ZoneInfo(place.timezone))
        return local if local > self._clock() else None

    def _points_near(self, place: Place, shipment: Shipment, offers: list[Offer]) -> dict[str, tuple[PickupPoint, ...]]:
        """Each pickup offer's points by offer id: its carrier's, of the kinds its service delivers to."""
        found = self._directory.nearest(place.lat, place.lon, POINT_SEARCH_LIMIT, NEARBY_KM, now=self._clock())
        by_carrier: dict[str, list[Offer]] = defaultdict(list)
        for offer in offers:
            by_carrier[offer.carrier].append(offer)
        chosen: dict[str, list[PickupPoint]] = defaultdict(list)
        for nearby in found.results:
            point = nearby.point
            takers = [
                o
                for o in by_carrier.get(point.carrier, ())
                if o.delivers_to(point.type) and len(chosen[o.id]) < POINTS_PER_OFFER
            ]
            if not takers or (shipment.cod and Feature.COD not in point.features):
                continue
            if all(point.limits.fits(p.weight_g, p.sides_cm) for p in shipment.parcels):
                for offer in takers:
                    chosen[offer.id].append(point)
        return {offer_id: tuple(points) for offer_id, points in chosen.items()}

    def tariffs(self, account: Account) -> list[tuple[CarrierInfo, ServiceInfo]]:
        return [
            (info, service)
            for info in self._engine.carrier_infos()
            if account.allows(info.code)
            for service in info.services
        ]

    def shipment_points(self, account: Account, query: PointQuery) -> tuple[PickupPoint, ...]:
        if query.city is None:
            raise Malformed("city", "is required: points are listed for one city at a time")
        try:
            place = self._places.resolve(Location(country=query.country, city=query.city), "")
        except PlaceNotFound as exc:
            raise _field_error(exc) from None
        found = self._directory.nearest(place.lat, place.lon, POINT_SEARCH_LIMIT, NEARBY_KM, now=self._clock())
        # Points are named after the nearest locality (a Moscow district, a village by Kazan), so
        # "in the city" is the city's reach within its own region: a town across a regional
        # border is another city's business. The CRM's `region` is a name and the city already
        # places it, so it adds nothing to the filter.
        points = (
            n.point
            for n in found.results
            if account.allows(n.point.carrier) and _same_region(place.region, n.point.country, n.point.region)
        )
        return tuple(p for _, p in zip(range(CITY_POINTS_LIMIT), points, strict=False))

    async def save(self, account: Account, request: SaveRequest) -> SavedDelivery:
        delivery = request.delivery
        if delivery.tariff is None:
            raise Malformed("save.delivery.tariff", "is required: the code of a calculated tariff")
        quote_id = delivery.extra_data.get(QUOTE_ID_FIELD)
        if not isinstance(quote_id, str) or not quote_id:
            raise Refused(
                f"save.delivery.extraData.{QUOTE_ID_FIELD} is missing, so no quoted price backs this"
                " delivery; calculate the delivery again, then save"
            )
        try:
            # The account's own quotes only: another's id is as unknown here as one never made.
            locked = read_locked(await self._quotes.get(quote_id, readers=(account.id,)))
        except QuoteExpired as exc:
            raise Refused(
                f"the price quoted for this delivery (quote {quote_id}) expired at {exc.expired_at};"
                " calculate the delivery again, then save"
            ) from None
        except QuoteNotHeld:
            raise Refused(
                f"the price quoted for this delivery (quote {quote_id}) is an estimate, made while the carrier"
                " was not answering, and is not held; calculate the delivery again, then save"
            ) from None
        except QuoteNotFound:
            raise Refused(
                f"save.delivery.extraData.{QUOTE_ID_FIELD}: quote {quote_id} is unknown here;"
                " calculate the delivery again, then save"
            ) from None
        offer = locked.offer(delivery.tariff)
        if offer is None or not account.allows(offer.carrier):
            raise Refused(
                f"tariff {delivery.tariff} is not among the offers of quote {quote_id};"
                " calculate the delivery again and pick one of its tariffs"
            )
        if offer.stale:
            raise Refused(
                f"tariff {delivery.tariff} of quote {quote_id} is an estimate, made while the carrier was not"
                " answering, and is not held; calculate the delivery again, then save"
            )
        await self._check_cod(account, locked, delivery.cod)
        point = self._chosen_point(offer, delivery.delivery_address.terminal)
        if point is not None and delivery.with_cod and Feature.COD not in point.features:
            raise Refused(
                f"pickup point {point.id} does not take cash on delivery; choose one that does"
                " (calculate with the order's cod to be offered only those)"
            )
        earlier = None
        if request.delivery_id:
            earlier = await self._deliveries.get(account.id, request.delivery_id)
        if earlier is None and request.order:
            earlier = await self._deliveries.for_order(account.id, request.order)
        saved = SavedDelivery(
            id=earlier.id if earlier else new_delivery_id(),
            account_id=account.id,
            quote_id=locked.id,
            tariff=offer.id,
            tariff_name=f"{offer.carrier_name}: {offer.service_name}",
            carrier=offer.carrier,
            delivery_type=offer.delivery_type,
            cost=offer.price.total,
            ship_date=offer.eta.ship_date,
            delivery_date=offer.eta.max_date,
            saved_at=self._clock(),
            order=request.order,
            order_number=request.order_number,
            pickup_point=point.id if point else None,
            payer_type=delivery.payer_type,
            cod=money(delivery.cod),
            shipment_address=delivery.shipment_address.wire,
            delivery_address=delivery.delivery_address.wire,
        )
        return await self._deliveries.put(saved)

    async def _check_cod(self, account: Account, locked: LockedQuote, collects: Decimal) -> None:
        # Refused rather than calculated again here: in the CRM's published flow `calculate` is
        # the one action that prices (the manager picks among its results), while `save`
        # (RequestSave, SaveDeliveryData) hands over the choice already made, `cost` included,
        # and its answer's `cost` would replace that price without anyone being shown the new
        # one. A delivery must keep the price the buyer saw, so a cash-on-delivery change is
        # sent back to `calculate`.
        priced = await self._cod.priced(account.id, locked.id)
        collects = money(collects)
        # The carriers' fee is a share of the declared value, not of the sum collected, so only
        # whether cash is collected changes the price: a shop whose save collects the order total
        # with delivery (unknown at `calculate`) keeps its quote.
        if priced is not None and (collects > 0) in {amount > 0 for amount in priced}:
            return
        again = "calculate the delivery again, then save"
        if priced is None:
            raise Refused(
                f"save.delivery.extraData.{QUOTE_ID_FIELD}: quote {locked.id} was not calculated through this"
                f" module for this account, so whether its prices include cash on delivery is unknown; {again}"
            )
        quoted = " or ".join("prepaid" if a == 0 else f"for {a} RUB cash on delivery" for a in sorted(priced))
        if collects == 0:
            raise Refused(
                f"save.delivery.withCod: this delivery is prepaid, but quote {locked.id} was priced {quoted},"
                f" the carriers' cash-on-delivery fee included; {again}"
            )
        raise Refused(
            f"save.delivery.cod: this delivery collects {collects} RUB on delivery, but quote {locked.id}"
            f" was priced {quoted}; calculate the delivery again with the order's cod, then save"
        )

    def _chosen_point(self, offer: Offer, code: str | None) -> PickupPoint | None:
        if offer.delivery_type is not DeliveryType.PICKUP:
            return None
        if code is None:
            raise Refused(
                f"{offer.carrier_name}: {offer.service_name} is delivered to a pickup point;"
                " choose one in save.delivery.deliveryAddress.terminal"
            )
        point = self._directory.get(code)
        if point is None or point.carrier != offer.carrier:
            raise Refused(f"pickup point {code} is not one of {offer.carrier_name}'s points; choose one of the offered")
        if not offer.delivers_to(point.type):
            raise Refused(
                f"{offer.carrier_name}: {offer.service_name} is not delivered to a point of type {point.type.value}"
                f" such as {point.id}; choose one of the points offered with this tariff"
            )
        return point

    async def get(self, account: Account, delivery_id: str) -> SavedDelivery:
        saved = await self._deliveries.get(account.id, delivery_id)
        if saved is None:
            raise DeliveryUnknown(delivery_id)
        return saved

    async def delete(self, account: Account, delivery_id: str) -> None:
        await self._deliveries.remove(await self.get(account, delivery_id))
