"""A CRM `save` read as a booking: the `ShipmentRequest` it makes, and the CRM's names for what
booking refuses.

The CRM sends the buyer as `customer` (the recipient), the manager who saves (the sender's
contact; the shop's `legalEntity` its company), the packages with their items and the cash to
collect. The price and the two ends come from the quote the calculation locked, as they do
for `POST /v1/shipments`; the CRM's order number is the shop's. Booking's own field names
(`recipient.phone`) are turned back into the CRM's (`save.customer.phones`), so the manager is
told what to fix in the order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from router.core.errors import FieldError, InvalidRequest
from router.http.schemas.decode import convert
from router.integrations.retailcrm.errors import Malformed
from router.integrations.retailcrm.reading import SaveItem, SaveRequest
from router.shipping.model import MAX_ITEMS, ShipmentRequest

KOPECK = Decimal("0.01")
# What the buyer pays on delivery beyond what the items say they collect (the delivery itself, or
# an order total the items do not break down) is a line of its own: carriers collect item by item.
REST_LINE = {"name": "Оплата при получении", "sku": "cod", "quantity": 1, "weight_g": 0}
# Booking's paths, first match wins, as the CRM's.
_CRM_PATHS = (
    ("recipient.phone", "save.customer.phones"),
    ("recipient.email", "save.customer.email"),
    ("recipient", "save.customer.firstName"),
    ("sender.phone", "save.manager.phone"),
    ("sender.email", "save.manager.email"),
    ("sender.company", "save.legalEntity"),
    ("sender", "save.manager.firstName"),
    ("pickup_point_id", "save.delivery.deliveryAddress.terminal"),
    ("delivery_address", "save.delivery.deliveryAddress.text"),
    ("cash_to_collect", "save.delivery.cod"),
    ("items", "save.packages"),
    ("order_number", "save.orderNumber"),
    ("offer_id", "save.delivery.tariff"),
    ("quote_id", "save.delivery.extraData.quoteId"),
    ("comment", "save.delivery"),
)


def crm_path(path: str) -> str:
    for ours, theirs in _CRM_PATHS:
        if path == ours or path.startswith(ours + ".") or path.startswith(ours + "["):
            return theirs
    return "save." + path if path else "save"


def refusal(errors: list[FieldError]) -> Malformed:
    """Booking's field problems as one message in the CRM's names."""
    named = [(crm_path(e.path), e.message) for e in errors]
    (first, message), rest = named[0], named[1:]
    return Malformed(first, message + "".join(f"; {path}: {why}" for path, why in rest))


def _units(item: SaveItem) -> tuple[int, Decimal, Decimal]:
    """Whole units, with each one's price and cash: a fractional quantity (2.5 kg) is one unit of its total."""
    quantity = item.quantity if item.quantity > 0 else Decimal(1)
    if quantity == quantity.to_integral_value():
        return int(quantity), item.declared_value, item.cod
    return 1, item.declared_value * quantity, item.cod * quantity


def _items(request: SaveRequest, cash: Decimal) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for p_n, package in enumerate(request.packages):
        units = sum(_units(item)[0] for item in package.items)
        for i_n, item in enumerate(package.items):
            quantity, price, cod = _units(item)
            items.append(
                {
                    "name": item.name or f"Item {p_n + 1}.{i_n + 1}",
                    "sku": item.sku or f"{p_n + 1}.{i_n + 1}",
                    "quantity": quantity,
                    "unit_price": price.quantize(KOPECK),
                    # The CRM weighs packages, not items: a package's weight is shared among its units.
                    "weight_g": package.weight_g // units if units else 0,
                    "cod": cod.quantize(KOPECK),
                }
            )
    if cash > 0 and items:
        by_cod = sum((line["cod"] * line["quantity"] for line in items), Decimal(0))
        by_price = sum((line["unit_price"] * line["quantity"] for line in items), Decimal(0))
        if by_cod == 0 and by_price == cash:  # the items' prices are what the buyer pays
            for line in items:
                line["cod_per_unit"] = line["unit_price"]
        elif by_cod > cash:
            raise Malformed(
                "save.delivery.cod",
                f"the items collect {by_cod} RUB on delivery, more than the delivery's cod of {cash} RUB",
            )
        else:
            for line in items:
                line["cod_per_unit"] = line["cod"]
            if by_cod < cash:
                rest = cash - by_cod
                items.append({**REST_LINE, "unit_price": rest, "cod_per_unit": rest})
    for line in items:
        line.pop("cod", None)
    if len(items) > MAX_ITEMS:
        raise Malformed("save.packages", f"at most {MAX_ITEMS} items in one delivery")
    return items


def shipment_request(
    request: SaveRequest, *, quote_id: str, offer_id: str, pickup_point_id: str | None, order_number: str
) -> ShipmentRequest:
    """The booking `request` asks for; `Malformed`, in the CRM's names, for what it lacks."""
    recipient, sender = request.recipient, request.sender
    missing = []
    if recipient.name is None:
        missing.append(("save.customer.firstName", "the buyer's name is required to book the delivery"))
    if recipient.phone is None:
        missing.append(("save.customer.phones", "the buyer's phone is required to book the delivery"))
    if sender.name is None and request.sender_company is None:
        missing.append(("save.manager.firstName", "the sender's name (the manager's, or legalEntity) is required"))
    if sender.phone is None:
        missing.append(("save.manager.phone", "the sender's phone is required: give the manager a phone in the CRM"))
    if missing:
        (first, message), rest = missing[0], missing[1:]
        raise Malformed(first, message + "".join(f"; {path}: {why}" for path, why in rest))
    cash = request.delivery.cod if request.delivery.with_cod else Decimal(0)
    place = request.delivery.delivery_address
    wire = place.wire
    street = ", ".join(str(wire[k]) for k in ("street", "building", "flat") if wire.get(k))
    body: dict[str, Any] = {
        "quote_id": quote_id,
        "offer_id": offer_id,
        "order_number": order_number,
        "recipient": {"name": recipient.name, "phone": recipient.phone},
        "sender": {"name": sender.name or request.sender_company, "phone": sender.phone},
        "items": _items(request, cash),
        "cash_to_collect": cash.quantize(KOPECK),
    }
    if recipient.email:
        body["recipient"]["email"] = recipient.email
    if request.sender_company:
        body["sender"]["company"] = request.sender_company
    if pickup_point_id is not None:
        body["pickup_point_id"] = pickup_point_id
    elif street or place.text:
        body["delivery_address"] = street or place.text
    try:
        return convert(body, ShipmentRequest)
    except InvalidRequest as exc:
        raise refusal(exc.errors) from None
