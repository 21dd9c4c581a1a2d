"""What each callback does, in the service's own terms: quote, list, lock, book, read, cancel, print.

`calculate` goes through the QuoteBook exactly as `POST /v1/quotes` does, so the CRM sees the
same prices (the same quote, within the cache TTL) and every offer it shows is locked under a
quote id, owned by the account: no other account is answered it from the cache or may save it. That id travels to `save` in a delivery data field; `save` refuses a quote that has
expired or never existed, and an estimate (a down carrier's last good answer, never held), rather
than record a price nobody guaranteed, and a delivery that
collects cash on delivery other than the calculation priced (router/integrations/retailcrm/cod.py).

A carrier that books through this service (`Shipper.books_with`) is booked by `save`, as
`POST /v1/shipments` books (router/integrations/retailcrm/booking.py builds the request), owned
by the account and keyed by the delivery's id and attempt: a CRM retrying a save gets the one
shipment, and its tracking number. A save with another body for a delivery already booked is
refused with what to do (delete, which cancels at the carrier, then save again): the carrier's
order cannot be edited, and answering the old booking would hide that the change was not made.
A booking that failed or was cancelled is followed by a new one at the next save. `print`
answers the shipments' labels, `shipmentSave`/`shipmentDelete` arrange and call off a courier
pick-up of booked deliveries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

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
from router.core.settings import Settings
from router.http.schemas.decode import convert
from router.integrations.retailcrm import booking
from router.integrations.retailcrm.accounts import Account
from router.integrations.retailcrm.cod import CodBook
from router.integrations.retailcrm.deliveries import (
    DeliveryBook,
    SavedDelivery,
    new_delivery_id,
)
from router.integrations.retailcrm.entities import QUOTE_ID_FIELD
from router.integrations.retailcrm.errors import DeliveryUnknown, Malformed, PickupUnknown, Refused
from router.integrations.retailcrm.locked import LockedQuote, read_locked
from router.integrations.retailcrm.reading import (
    CalculateRequest,
    PointQuery,
    PrintRequest,
    SaveRequest,
    ShipmentSaveRequest,
)
from router.printing import Paper
from router.quoting.book import QuoteBook
from router.quoting.engine import QuoteEngine
from router.quoting.places import Places
from router.records.tables import pickups
from router.shipping.errors import IdempotencyConflict, PickupNotFound, ShipmentNotFound, ShippingError
from router.shipping.model import Pickup, PickupRequest, ShipmentDetail, ShipmentStatus
from router.shipping.shipper import Shipper

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


def _same_region(place_region: str | None, point_region: str | None) -> bool:
    # Both ISO 3166-2; a point whose region could not be told is kept.
    return point_region is None or place_region is None or point_region == place_region


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
        shipper: Shipper,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._shipper = shipper
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
            if account.allows(n.point.carrier) and _same_region(place.region, n.point.region)
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
            shipment_id=earlier.shipment_id if earlier else None,
            track_number=earlier.track_number if earlier else None,
            attempt=earlier.attempt if earlier else 0,
        )
        if not self._shipper.books_with(offer.carrier):
            # A carrier booked outside this service: the delivery keeps its quoted price, as before.
            return await self._deliveries.put(saved)
        return await self._book(account, request, saved)

    async def _book(self, account: Account, request: SaveRequest, saved: SavedDelivery) -> SavedDelivery:
        order_number = request.order_number or request.order
        if order_number is None:
            raise Malformed("save.orderNumber", "is required to book: the carrier is given the order's number")
        wanted = booking.shipment_request(
            request,
            quote_id=saved.quote_id,
            offer_id=saved.tariff,
            pickup_point_id=saved.pickup_point,
            order_number=order_number,
        )
        if saved.shipment_id is not None:
            current = await self._current(account, saved.shipment_id)
            if current is None or current.status in (ShipmentStatus.FAILED, ShipmentStatus.CANCELLED):
                # That booking is over: this save books anew, under a key of its own.
                saved = replace(saved, shipment_id=None, track_number=None, attempt=saved.attempt + 1)
        if saved.shipment_id is None:
            # Kept before booking, so a retried or concurrent save of the order finds this id
            # (the order's unique index decides between racers) and books under the same key.
            saved = await self._deliveries.put(replace(saved, status=ShipmentStatus.BOOKING.value))
        booked_as = saved.shipment_id
        try:
            shipment, _ = await self._shipper.book(
                wanted,
                owner=account.id,
                idempotency_key=f"retailcrm:{saved.id}:{saved.attempt}",
                readers={account.id},
            )
        except (QuoteExpired, QuoteNotFound, QuoteNotHeld) as exc:
            # The quote ran out between the check above and booking.
            raise Refused(f"{exc}; calculate the delivery again, then save") from None
        except IdempotencyConflict:
            track = f", tracking number {saved.track_number}" if saved.track_number else ""
            raise Refused(
                f"delivery {saved.id} is already booked with the carrier as shipment {booked_as}{track};"
                " a booked delivery is not changed here: delete it (which cancels the carrier's order),"
                " then save it again"
            ) from None
        except InvalidRequest as exc:
            raise booking.refusal(exc.errors) from None
        except ShippingError as exc:
            raise Refused(exc.detail) from None
        saved = await self._deliveries.put(
            replace(saved, shipment_id=shipment.id, track_number=shipment.tracking_number, status=shipment.status.value)
        )
        if shipment.status is ShipmentStatus.FAILED:
            said = (
                "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in shipment.errors)
                or "no reason given"
            )
            raise Refused(
                f"{saved.tariff_name} refused to book the delivery (shipment {shipment.id}): {said};"
                " correct the order and save it again"
            )
        return saved

    async def _current(self, account: Account, shipment_id: str) -> ShipmentDetail | None:
        try:
            return await self._shipper.get(shipment_id, account.id)
        except ShipmentNotFound:
            return None

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
        if saved.shipment_id is not None and saved.status == ShipmentStatus.BOOKING.value:
            # The carrier had not decided when `save` answered (an asynchronous one, slow):
            # its decision, and tracking number, are the delivery's from the first look after.
            current = await self._current(account, saved.shipment_id)
            if current is not None and current.status is not ShipmentStatus.BOOKING:
                saved = await self._deliveries.put(
                    replace(saved, status=current.status.value, track_number=current.tracking_number)
                )
        return saved

    async def delete(self, account: Account, delivery_id: str) -> None:
        """The delivery forgotten, its carrier's order cancelled first (refused once the carrier has the parcel)."""
        saved = await self.get(account, delivery_id)
        if saved.shipment_id is not None:
            try:
                await self._shipper.cancel(saved.shipment_id, account.id)
            except ShipmentNotFound:
                pass
            except ShippingError as exc:
                raise Refused(f"delivery {delivery_id} stays: {exc.detail}") from None
        await self._deliveries.remove(saved)

    async def labels(self, account: Account, request: PrintRequest) -> bytes:
        """One PDF of the labels of the deliveries (or of the pick-ups' parcels) asked for."""
        if request.plate not in (None, LABEL_PLATE):
            raise Malformed("print.type", f"{request.plate!r} is no plate of this module; it prints {LABEL_PLATE!r}")
        shipment_ids: list[str] = []
        if request.entity_type == "order":
            for n, delivery_id in enumerate(request.ids):
                saved = await self._deliveries.get(account.id, delivery_id)
                if saved is None:
                    raise DeliveryUnknown(delivery_id)
                if saved.shipment_id is None:
                    raise Malformed(
                        f"print.deliveryIds[{n}]", f"delivery {delivery_id} is not booked with a carrier: no label"
                    )
                shipment_ids.append(saved.shipment_id)
        else:
            for pickup_id in request.ids:
                shipment_ids += await self._pickup_shipments(account, pickup_id)
        paper = Paper.A4 if len(shipment_ids) > 1 else Paper.A6
        try:
            return await self._shipper.papers.labels(shipment_ids, account.id, paper)
        except InvalidRequest as exc:
            raise Malformed("print.deliveryIds", exc.errors[0].message) from None
        except ShippingError as exc:
            raise Refused(exc.detail) from None

    async def _pickup_shipments(self, account: Account, pickup_id: str) -> list[str]:
        query = sa.select(pickups.c.document).where(pickups.c.id == pickup_id, pickups.c.owner == account.id)
        async with self._deliveries.db.read() as conn:
            document = (await conn.execute(query)).scalar_one_or_none()
        if document is None:
            raise PickupUnknown(pickup_id)
        return list(document["request"]["shipment_ids"])

    async def shipment_save(self, account: Account, request: ShipmentSaveRequest) -> Pickup:
        """A courier pick-up of the deliveries' parcels; an edited one is called off, then asked for anew."""
        shipment_ids: list[str] = []
        carriers: set[str] = set()
        for n, delivery_id in enumerate(request.delivery_ids):
            saved = await self._deliveries.get(account.id, delivery_id)
            if saved is None:
                raise DeliveryUnknown(delivery_id)
            if saved.shipment_id is None:
                raise Malformed(f"shipmentSave.orders[{n}].deliveryId", f"delivery {delivery_id} is not booked")
            shipment_ids.append(saved.shipment_id)
            carriers.add(saved.carrier)
        if len(carriers) > 1:
            raise Malformed(
                "shipmentSave.orders", f"one carrier's deliveries a pick-up, not {', '.join(sorted(carriers))}'"
            )
        place, contact = request.address, request.contact
        street = ", ".join(str(place.wire[k]) for k in ("street", "building") if place.wire.get(k))
        body: dict[str, Any] = {
            "carrier": carriers.pop(),
            "day": request.day.date().isoformat(),
            "time_from": request.time_from,
            "time_to": request.time_to,
            "address": street or place.text or "",
            "city": place.city or "",
            "contact": {"name": contact.name or "", "phone": contact.phone or ""},
            "shipment_ids": shipment_ids,
            "comment": request.comment,
        }
        try:
            pickup_request = convert(body, PickupRequest)
            if request.shipment_id is not None:
                await self.shipment_delete(account, request.shipment_id)
            return await self._shipper.papers.request_pickup(account.id, pickup_request)
        except InvalidRequest as exc:
            errors = exc.errors
            named = [(_pickup_path(e.path), e.message) for e in errors]
            (first, message), rest = named[0], named[1:]
            raise Malformed(first, message + "".join(f"; {path}: {why}" for path, why in rest)) from None
        except ShippingError as exc:
            raise Refused(exc.detail) from None

    async def shipment_delete(self, account: Account, pickup_id: str) -> Pickup:
        try:
            return await self._shipper.papers.cancel_pickup(account.id, pickup_id)
        except PickupNotFound:
            raise PickupUnknown(pickup_id) from None
        except ShippingError as exc:
            raise Refused(exc.detail) from None


# The one plate `print` makes: the parcels' labels.
LABEL_PLATE = "label"
_PICKUP_PATHS = (
    ("contact.phone", "shipmentSave.manager.phone"),
    ("contact", "shipmentSave.manager.firstName"),
    ("day", "shipmentSave.date"),
    ("time_from", "shipmentSave.time.from"),
    ("time_to", "shipmentSave.time.to"),
    ("address", "shipmentSave.address.text"),
    ("city", "shipmentSave.address.city"),
    ("shipment_ids", "shipmentSave.orders"),
    ("carrier", "shipmentSave.orders"),
    ("comment", "shipmentSave.comment"),
)


def _pickup_path(path: str) -> str:
    for ours, theirs in _PICKUP_PATHS:
        if path == ours or path.startswith(ours + ".") or path.startswith(ours + "["):
            return theirs + path[len(ours) :] if ours == "shipment_ids" else theirs
    return "shipmentSave." + path
