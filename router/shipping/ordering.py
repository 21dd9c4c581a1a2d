"""A booking request read against the quote it names: the carrier order, or every reason it is wrong.

The price booked is the price quoted, so the order is built from the quote (its offer, its two
ends, its parcels) and the request adds only what a quote does not know: who sends and who
receives, the office the buyer chose, the items and the cash to collect. Everything a carrier
would refuse that can be known here is refused here, field by field, before any carrier is
called: a phone that is no Russian mobile, a pickup offer without an office (or with one the
offer cannot deliver to), items heavier than the parcel, cash to collect on a quote made without.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from carriers.booking import CarrierOrder, Contact, Item, OrderParcel
from pickup_points.model import PickupPoint, Status
from router.core import answers
from router.core.errors import FieldError, InvalidRequest
from router.core.geo import distance_km
from router.core.models import DeliveryType, Place, PointType
from router.shipping.errors import QuoteNotBookable
from router.shipping.model import MAX_CASH, ItemIn, Recipient, ShipmentRequest
from router.shipping.model import Contact as ContactIn

# A point further than this from the quoted destination is another lane, and another price.
MAX_POINT_DISTANCE_KM = 60.0
_NOT_DIGITS = re.compile(r"[\s()\-.]")

PointLookup = Callable[[str], PickupPoint | None]


def phone_number(text: str, *, mobile: bool) -> str | None:
    """`text` as +7XXXXXXXXXX, or None if it is no Russian number (no mobile one, with `mobile`)."""
    digits = _NOT_DIGITS.sub("", text.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("8") and len(digits) == 11:
        digits = "7" + digits[1:]
    if len(digits) != 11 or not digits.isdigit() or not digits.startswith("7"):
        return None
    if mobile and digits[1] != "9":
        return None
    return "+" + digits


@dataclass(frozen=True, slots=True)
class Ordered:
    order: CarrierOrder
    offer: answers.Offer
    price: Decimal


def normalized(request: ShipmentRequest) -> ShipmentRequest:
    """The request with its whole numbers as ints, however they were spelled (2 or 2.0)."""
    items = [msgspec.structs.replace(i, quantity=int(i.quantity), weight_g=int(i.weight_g)) for i in request.items]
    return msgspec.structs.replace(request, items=items)


def read_quote(body: bytes) -> answers.Quote:
    return msgspec.json.decode(body, type=answers.Quote)


def order_from(shipment_id: str, request: ShipmentRequest, quote: answers.Quote, points: PointLookup) -> Ordered:
    """The carrier order for `request`; raises `InvalidRequest` with every field that is wrong,
    or `QuoteNotBookable` when the quote itself cannot be booked."""
    offer = next((o for o in quote.offers if o.id == request.offer_id), None)
    if offer is None:
        known = ", ".join(o.id for o in quote.offers) or "none"
        raise InvalidRequest(
            [FieldError("offer_id", f"quote {quote.quote_id} has no offer {request.offer_id!r} (it has {known})")]
        )
    if offer.estimate:
        raise QuoteNotBookable(
            f"offer {offer.id} is an estimate (its carrier was down when quoted) and is never held; ask for a fresh quote"
        )
    if not quote.parcels:
        raise QuoteNotBookable(
            f"quote {quote.quote_id} was made before quotes kept their parcels; ask for a fresh quote"
        )
    errors: list[FieldError] = []
    _amounts(errors, request)
    recipient = _contact(errors, "recipient", request.recipient, mobile=True)
    sender = _contact(errors, "sender", request.sender, mobile=False)
    destination = _place(quote.destination)
    point: PickupPoint | None = None
    if offer.delivery_type is DeliveryType.PICKUP:
        point = _point(errors, request, offer, quote, points)
        if point is not None:
            destination = Place(
                point.lat,
                point.lon,
                point.country,
                point.city,
                point.region,
                point.timezone,
                point.postal_code,
                point.address,
            )
    else:
        if request.pickup_point_id is not None:
            errors.append(FieldError("pickup_point_id", f"{offer.id} delivers to the door, not to a pickup point"))
        address = (request.delivery_address or "").strip() or (quote.destination.address or "")
        if not address:
            errors.append(
                FieldError("delivery_address", f"{offer.id} delivers to the door: say which street and house")
            )
        destination = Place(
            destination.lat, destination.lon, destination.country, destination.city, destination.region,
            destination.timezone, destination.postal_code, address or None,
        )  # fmt: skip
    parcel_g = sum(p.weight_g for p in quote.parcels)
    items_g = int(sum(item.weight_g * item.quantity for item in request.items))
    if items_g > parcel_g:
        errors.append(FieldError("items", f"the items weigh {items_g} g, more than the {parcel_g} g quoted"))
    cash = request.cash_to_collect
    if cash > 0 and not quote.cod:
        errors.append(
            FieldError("cash_to_collect", "the quote was made without cash on delivery: ask for one with cod: true")
        )
    items = _items(errors, request.items, cash)
    if errors:
        raise InvalidRequest(errors, title="The shipment cannot be booked as asked")
    parcels = tuple(
        OrderParcel(
            number=f"{shipment_id}-{n}",
            weight_g=p.weight_g,
            length_cm=math.ceil(p.length_cm),
            width_cm=math.ceil(p.width_cm),
            height_cm=math.ceil(p.height_cm),
            items=items if n == 1 else (),  # carriers want each item once; the first parcel holds the list
        )
        for n, p in enumerate(quote.parcels, start=1)
    )
    assert recipient is not None and sender is not None  # no errors, so both were read
    order = CarrierOrder(
        number=shipment_id,
        service=offer.service,
        delivery_type=offer.delivery_type,
        origin=_place(quote.origin),
        destination=destination,
        sender=sender,
        recipient=recipient,
        parcels=parcels,
        ship_date=offer.eta.ship_date,
        shop_order_number=request.order_number,
        pickup_point_id=point.code if point is not None else None,
        declared_value_rub=Decimal(quote.declared_value),
        cod_rub=cash,
        comment=request.comment,
    )
    return Ordered(order, offer, Decimal(offer.price.total))


def _amounts(errors: list[FieldError], request: ShipmentRequest) -> None:
    # msgspec reads any decimal, NaN and a thousandth of a kopeck included: money stops here.
    given = [("cash_to_collect", request.cash_to_collect)]
    for n, item in enumerate(request.items):
        given.append((f"items[{n}].unit_price", item.unit_price))
        if item.cod_per_unit is not None:
            given.append((f"items[{n}].cod_per_unit", item.cod_per_unit))
    for path, value in given:
        if not value.is_finite() or not 0 <= value <= MAX_CASH or value != value.quantize(Decimal("0.01")):
            errors.append(FieldError(path, f"roubles from 0 to {MAX_CASH}, kopecks at most"))


def _contact(errors: list[FieldError], path: str, given: ContactIn | Recipient, *, mobile: bool) -> Contact | None:
    phone = phone_number(given.phone, mobile=mobile)
    if phone is None:
        kind = "a Russian mobile number (+7 9XX XXX-XX-XX)" if mobile else "a Russian phone number (+7 XXX XXX-XX-XX)"
        errors.append(FieldError(f"{path}.phone", f"{given.phone!r} is not {kind}"))
        return None
    return Contact(name=given.name.strip(), phone=phone, email=given.email, company=given.company)


def _point(
    errors: list[FieldError], request: ShipmentRequest, offer: answers.Offer, quote: answers.Quote, points: PointLookup
) -> PickupPoint | None:
    if request.pickup_point_id is None:
        errors.append(FieldError("pickup_point_id", f"{offer.id} delivers to a pickup point: say which one"))
        return None
    point = points(request.pickup_point_id)
    where = "pickup_point_id"
    if point is None:
        errors.append(FieldError(where, f"no pickup point {request.pickup_point_id!r}"))
    elif point.carrier != offer.carrier:
        errors.append(FieldError(where, f"{point.id} is {point.carrier}'s point, not {offer.carrier}'s"))
    elif offer.point_types and PointType(point.type) not in offer.point_types:
        kinds = ", ".join(sorted(offer.point_types))
        errors.append(FieldError(where, f"{offer.id} delivers to {kinds} points only; {point.id} is a {point.type}"))
    elif point.status is not Status.ACTIVE:
        errors.append(FieldError(where, f"{point.id} is {point.status.value.replace('_', ' ')}"))
    elif not all(point.limits.fits(p.weight_g, _sides(p)) for p in quote.parcels):
        errors.append(FieldError(where, f"the parcel does not fit {point.id}'s weight or size limits"))
    elif distance_km(point.lat, point.lon, quote.destination.lat, quote.destination.lon) > MAX_POINT_DISTANCE_KM:
        errors.append(FieldError(where, f"{point.id} is not in {quote.destination.city or 'the quoted destination'}"))
    else:
        return point
    return None


def _sides(parcel: answers.QuotedParcel) -> tuple[float, float, float]:
    a, b, c = sorted((parcel.length_cm, parcel.width_cm, parcel.height_cm), reverse=True)
    return (a, b, c)


def _items(errors: list[FieldError], given: list[ItemIn], cash: Decimal) -> tuple[Item, ...]:
    """The items with what the buyer pays for each on delivery: as given, else each unit's price
    when cash is collected. The per-unit amounts must add up to the cash to collect."""
    if not given:
        return ()
    collect = cash > 0
    items = tuple(
        Item(
            name=i.name.strip(),
            sku=i.sku.strip(),
            quantity=int(i.quantity),
            unit_price_rub=i.unit_price,
            weight_g=int(i.weight_g),
            cod_per_unit_rub=(i.cod_per_unit if i.cod_per_unit is not None else i.unit_price)
            if collect
            else Decimal(0),
        )
        for i in given
    )
    if collect:
        total = sum((i.cod_per_unit_rub * i.quantity for i in items), Decimal(0))  # Item's are ints
        if total != cash:
            errors.append(
                FieldError(
                    "items",
                    f"the buyer would pay {total} for the items, not the {cash} to collect: "
                    "give each item's cod_per_unit",
                )
            )
    elif any(i.cod_per_unit for i in given):
        errors.append(FieldError("items", "an item has cod_per_unit but cash_to_collect is 0"))
    return items


def _place(place: answers.Place) -> Place:
    return Place(
        place.lat, place.lon, place.country, place.city, place.region, place.timezone, place.postal_code, place.address
    )
