"""The CRM's callback requests in the service's own terms: decoded through the entities'
Structs (router/integrations/retailcrm/entities.py), checked across fields, converted once.

The CRM weighs packages in grams and measures them in millimetres; the service quotes whole
grams (a carrier weighs up, never down) and centimetres. Every bad field is named by the path
the CRM knows it by (`calculate.packages[0].weight`), all of them in one answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from router.core.errors import FieldError, InvalidRequest
from router.core.models import Location
from router.http.schemas.decode import convert, decode_json, join
from router.integrations.retailcrm.entities import (
    DATE_LAYOUTS,
    MAX_MONEY,
    MAX_SIDE_MM,
    MAX_WEIGHT_G,
    Address,
    DeliveryAddress,
    Flag,
    Package,
    Person,
    Phone,
    RequestCalculate,
    RequestDelete,
    RequestPrint,
    RequestSave,
    RequestShipmentDelete,
    RequestShipmentSave,
    ShipmentPointQuery,
    TimeInterval,
)
from router.integrations.retailcrm.errors import Malformed

T = TypeVar("T")
_SIDES = ("length", "width", "height")
_UNDECLARED = "unknown field"


@dataclass(frozen=True, slots=True)
class Place:
    """A DeliveryAddress with its blanks as None; `wire` is what the CRM sent of its known fields."""

    index: str | None = None
    country_iso: str | None = None
    region: str | None = None
    city: str | None = None
    text: str | None = None
    terminal: str | None = None  # the chosen pickup point's code
    wire: dict[str, Any] = field(default_factory=dict)

    @property
    def given(self) -> bool:
        return bool(self.index or self.city)

    def location(self) -> Location:
        return Location(
            country=self.country_iso.upper() if self.country_iso else None,
            city=self.city,
            postal_code=self.index,
            address=self.text,
        )


@dataclass(frozen=True, slots=True)
class PackageSize:
    weight_g: int
    sides_cm: tuple[float, float, float] | None  # None: the CRM sent no sizes


@dataclass(frozen=True, slots=True)
class CalculateRequest:
    packages: tuple[PackageSize, ...]
    shipment_address: Place
    delivery_address: Place
    declared_value: Decimal  # RUB; the packages' items' when the CRM sends no total
    cod: Decimal  # RUB to collect from the buyer (the items' when the CRM sends no total); 0: none
    shipment_date: datetime | None  # naive: the shop's local time


@dataclass(frozen=True, slots=True)
class SaveDelivery:
    tariff: str | None  # the calculate result's `code` the manager picked
    shipment_address: Place
    delivery_address: Place
    payer_type: str | None
    extra_data: dict[str, Any]  # the delivery data fields, `quoteId` among them
    cost: Decimal | None  # what the CRM holds as the delivery's cost
    with_cod: bool = False  # the buyer pays on delivery
    cod: Decimal = Decimal(0)  # RUB the buyer pays on delivery; 0 when prepaid


@dataclass(frozen=True, slots=True)
class Contact:
    """A Customer or Manager: a name of its parts, the first phone, the e-mail; None when not sent."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class SaveItem:
    name: str | None
    sku: str | None  # the shop's article (externalId), else the CRM's offer id
    quantity: Decimal  # as the CRM counts it; 0 counts as 1
    declared_value: Decimal  # RUB a unit
    cod: Decimal  # RUB a unit collected on delivery


@dataclass(frozen=True, slots=True)
class SavePackage:
    weight_g: int  # 0: the CRM sent no weight
    items: tuple[SaveItem, ...]


@dataclass(frozen=True, slots=True)
class SaveRequest:
    delivery_id: str | None  # present when the CRM edits a delivery saved before
    order: str | None
    order_number: str | None
    delivery: SaveDelivery
    recipient: Contact = Contact()
    sender: Contact = Contact()
    sender_company: str | None = None
    packages: tuple[SavePackage, ...] = ()


@dataclass(frozen=True, slots=True)
class PrintRequest:
    entity_type: str  # "order": deliveries' labels; "shipment": the labels of pick-ups' parcels
    plate: str | None
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShipmentSaveRequest:
    shipment_id: str | None  # a pick-up saved before, to be replaced
    day: datetime
    time_from: str
    time_to: str
    address: Place
    delivery_ids: tuple[str, ...]
    contact: Contact
    comment: str


@dataclass(frozen=True, slots=True)
class PointQuery:
    country: str | None
    region: str | None
    city: str | None


def _malformed(action: str, errors: Sequence[FieldError]) -> Malformed:
    """One refusal naming every bad field; the CRM shows one message."""
    # The walk in decode.py names fields a type does not declare, as the JSON API forbids them;
    # the CRM's entities tolerate them (the CRM adds fields), so those are no problem here.
    errors = [e for e in errors if e.message != _UNDECLARED] or errors
    named = [(action if e.path == "body" else join(action, e.path), e.message) for e in errors]
    (first, message), rest = named[0], named[1:]
    return Malformed(first, message + "".join(f"; {path}: {why}" for path, why in rest))


def _decoded(raw: str, kind: type[T], action: str) -> T:
    try:
        return decode_json(raw.encode(), kind)
    except InvalidRequest as exc:
        raise _malformed(action, exc.errors) from None


def _converted(value: Any, kind: type[T], action: str) -> T:
    try:
        return convert(value, kind)
    except InvalidRequest as exc:
        raise _malformed(action, exc.errors) from None


def _text(value: str | int | None) -> str | None:
    return (str(value).strip() or None) if value is not None else None


NUL = "must not contain a NUL character"


def nul_errors(value: Any, path: str = "") -> list[FieldError]:
    """The texts in `value` holding NUL, which the records database cannot keep (PostgreSQL's
    text and JSON refuse it): refused up front, naming each, rather than failing on writing."""
    if isinstance(value, str):
        return [FieldError(path or "body", NUL)] if "\0" in value else []
    if isinstance(value, dict):
        return [e for name, item in value.items() for e in nul_errors(item, join(path, str(name)))]
    if isinstance(value, list):
        return [e for i, item in enumerate(value) for e in nul_errors(item, f"{path}[{i}]")]
    return []


def _within(errors: list[FieldError], path: str, value: Decimal | None, maximum: Decimal = MAX_MONEY) -> Decimal | None:
    if value is not None and (not value.is_finite() or not 0 <= value <= maximum):
        errors.append(FieldError(path, f"must be between 0 and {maximum}"))
        return None
    return value


def _place(given: Address) -> Place:
    if not isinstance(given, DeliveryAddress):  # null, or PHP's [] for an empty object
        return Place()
    return Place(
        index=_text(given.index),
        country_iso=_text(given.country_iso),
        region=_text(given.region),
        city=_text(given.city),
        text=_text(given.text),
        terminal=_text(given.terminal),
        wire=msgspec.to_builtins(given),
    )


def _items_totals(errors: list[FieldError], path: str, packages: Sequence[Package]) -> tuple[Decimal, Decimal]:
    """The declared value and the cash on delivery of the packages' items: per unit times quantity
    (a quantity of 0 counts as 1)."""
    declared = cod = Decimal(0)
    for i, package in enumerate(packages):
        for j, item in enumerate(package.items or ()):
            at = f"{path}[{i}].items[{j}]"
            quantity = _within(errors, f"{at}.quantity", item.quantity) or Decimal(1)
            declared += (_within(errors, f"{at}.declaredValue", item.declared_value) or Decimal(0)) * quantity
            cod += (_within(errors, f"{at}.cod", item.cod) or Decimal(0)) * quantity
    return declared, cod


def _size(errors: list[FieldError], path: str, package: Package) -> PackageSize:
    weight = package.weight_g
    if weight is None or (weight.is_finite() and weight <= 0):
        errors.append(FieldError(f"{path}.weight", "is required: the package's weight in grams, above 0"))
    elif not weight.is_finite() or weight > MAX_WEIGHT_G:
        errors.append(FieldError(f"{path}.weight", f"must be at most {MAX_WEIGHT_G} grams"))
    given = (package.length_mm, package.width_mm, package.height_mm)
    sides_mm = [_within(errors, f"{path}.{name}", side) or Decimal(0) for name, side in zip(_SIDES, given, strict=True)]
    sides_cm: tuple[float, float, float] | None = None
    if any(sides_mm):
        for name, side in zip(_SIDES, sides_mm, strict=True):
            if side <= 0:
                errors.append(FieldError(f"{path}.{name}", "give length, width and height together, in millimetres"))
            elif side > MAX_SIDE_MM:
                errors.append(FieldError(f"{path}.{name}", f"must be at most {MAX_SIDE_MM} millimetres"))
        a, b, c = (float(side) / 10 for side in sides_mm)
        sides_cm = (a, b, c)
    # Grams may come with a fraction; a carrier weighs up, never down.
    whole_g = math.ceil(weight) if weight is not None and weight.is_finite() and weight > 0 else 0
    return PackageSize(weight_g=whole_g, sides_cm=sides_cm)


def _currency(errors: list[FieldError], path: str, value: str | int | None) -> None:
    currency = _text(value)
    if currency is not None and currency.upper() != "RUB":
        errors.append(FieldError(path, f"prices are in RUB only, not {currency}"))


def _date(errors: list[FieldError], path: str, value: str | None) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    for layout in DATE_LAYOUTS:
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    errors.append(FieldError(path, "must be a date such as 2026-11-24 or 2026-11-24 10:00:00"))
    return None


def read_calculate(raw: str, max_packages: int) -> CalculateRequest:
    """The `calculate` form field's JSON."""
    return calculate_from(_decoded(raw, RequestCalculate, "calculate"), max_packages)


def parse_calculate(value: Any, max_packages: int) -> CalculateRequest:
    """A `calculate` request already parsed from JSON (the tests')."""
    return calculate_from(_converted(value, RequestCalculate, "calculate"), max_packages)


def calculate_from(request: RequestCalculate, max_packages: int) -> CalculateRequest:
    errors: list[FieldError] = []
    _currency(errors, "currency", request.currency)
    if len(request.packages) > max_packages:
        errors.append(FieldError("packages", f"at most {max_packages} packages in one delivery"))
    sizes = tuple(_size(errors, f"packages[{i}]", p) for i, p in enumerate(request.packages))
    items_declared, items_cod = _items_totals(errors, "packages", request.packages)
    # The CRM may leave a total out and send each item's amount instead.
    declared = _within(errors, "declaredValue", request.declared_value)
    declared = items_declared if declared is None else declared
    cod = _within(errors, "cod", request.cod)
    cod = items_cod if cod is None else cod
    shipment_date = _date(errors, "shipmentDate", request.shipment_date)
    if errors:
        raise _malformed("calculate", errors)
    return CalculateRequest(
        packages=sizes,
        shipment_address=_place(request.shipment_address),
        delivery_address=_place(request.delivery_address),
        declared_value=declared,
        cod=cod,
        shipment_date=shipment_date,
    )


def read_save(raw: str) -> SaveRequest:
    """The `save` form field's JSON."""
    return save_from(_decoded(raw, RequestSave, "save"))


def parse_save(value: Any) -> SaveRequest:
    """A `save` request already parsed from JSON (the tests')."""
    return save_from(_converted(value, RequestSave, "save"))


def _flag(value: Flag | None) -> bool:
    return value in (True, 1, "1", "true")


def _contact(given: Person | list[Any] | None) -> Contact:
    if not isinstance(given, Person):
        return Contact()
    parts = (_text(given.last_name), _text(given.first_name), _text(given.patronymic))
    phones = [given.phone, *(given.phones or ())]
    texts = [_text(p.number if isinstance(p, Phone) else p) for p in phones]
    return Contact(
        name=" ".join(p for p in parts if p) or None,
        phone=next((t for t in texts if t), None),
        email=_text(given.email),
    )


def _save_packages(packages: Sequence[Package]) -> tuple[SavePackage, ...]:
    # Amounts were checked by `_items_totals`; a weight the reader cannot use counts as unknown.
    read = []
    for package in packages:
        weight = package.weight_g
        weight_g = math.ceil(weight) if weight is not None and weight.is_finite() and weight > 0 else 0
        items = tuple(
            SaveItem(
                name=_text(item.name),
                sku=_text(item.external_id) or _text(item.offer_id),
                quantity=item.quantity or Decimal(0),
                declared_value=item.declared_value or Decimal(0),
                cod=item.cod or Decimal(0),
            )
            for item in package.items or ()
        )
        read.append(SavePackage(weight_g=min(weight_g, MAX_WEIGHT_G), items=items))
    return tuple(read)


def save_from(request: RequestSave) -> SaveRequest:
    errors: list[FieldError] = []
    _currency(errors, "currency", request.currency)
    delivery = request.delivery
    with_cod = _flag(delivery.with_cod)
    cod = Decimal(0)
    total = _within(errors, "delivery.cod", delivery.cod)
    if with_cod:  # an amount left in `cod` of a prepaid delivery is not collected
        # As in `calculate`, the items' amounts stand in when the delivery sends no total;
        # `save` checks no package's weight or sizes, only what its items collect.
        if total is None:
            _, total = _items_totals(errors, "packages", request.packages or ())
        if total <= 0 and not errors:
            errors.append(FieldError("delivery.cod", "is required with withCod: the amount the buyer pays on delivery"))
        cod = total
    cost = _within(errors, "delivery.cost", delivery.cost)
    if not with_cod:
        _items_totals(errors, "packages", request.packages or ())
    errors.extend(nul_errors(msgspec.to_builtins(request)))
    if errors:
        raise _malformed("save", errors)
    return SaveRequest(
        delivery_id=_text(request.delivery_id),
        order=_text(request.order),
        order_number=_text(request.order_number),
        delivery=SaveDelivery(
            tariff=_text(delivery.tariff),
            shipment_address=_place(delivery.shipment_address),
            delivery_address=_place(delivery.delivery_address),
            payer_type=_text(delivery.payer_type),
            extra_data=delivery.extra_data if isinstance(delivery.extra_data, dict) else {},
            cost=cost,
            with_cod=with_cod,
            cod=cod,
        ),
        recipient=_contact(request.customer),
        sender=_contact(request.manager),
        sender_company=_text(request.legal_entity),
        packages=_save_packages(request.packages or ()),
    )


def read_delete(raw: str) -> str:
    """The delivery id in the `delete` form field's JSON."""
    delivery_id = _text(_decoded(raw, RequestDelete, "delete").delivery_id)
    if delivery_id is None:
        raise Malformed("delete.deliveryId", "is required")
    if "\0" in delivery_id:
        raise Malformed("delete.deliveryId", NUL)
    return delivery_id


def read_print(raw: str) -> PrintRequest:
    """The `print` form field's JSON."""
    request = _decoded(raw, RequestPrint, "print")
    entity = _text(request.entity_type)
    if entity not in ("order", "shipment"):
        raise Malformed("print.entityType", f'must be "order" or "shipment", not {entity!r}')
    ids = tuple(_text(i) for i in request.delivery_ids)
    if any(i is None or "\0" in i for i in ids):
        raise Malformed("print.deliveryIds", "each must be a saved delivery's id")
    return PrintRequest(entity_type=entity, plate=_text(request.type), ids=tuple(i for i in ids if i))


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d)?$")


def _clock(errors: list[FieldError], path: str, value: str | int | None, default: str) -> str:
    text = _text(value)
    if text is None:
        return default
    found = _CLOCK.match(text)
    if found is None:
        errors.append(FieldError(path, "must be a time of day such as 10:00"))
        return default
    return f"{int(found[1]):02d}:{found[2]}"


def read_shipment_save(raw: str) -> ShipmentSaveRequest:
    """The `shipmentSave` form field's JSON."""
    request = _decoded(raw, RequestShipmentSave, "shipmentSave")
    errors: list[FieldError] = []
    day = _date(errors, "date", request.date)
    if day is None and not errors:
        errors.append(FieldError("date", "is required: the day the courier comes"))
    interval = request.time if isinstance(request.time, TimeInterval) else TimeInterval()
    time_from = _clock(errors, "time.from", interval.from_, "10:00")
    time_to = _clock(errors, "time.to", interval.to, "18:00")
    ids = tuple(_text(o.delivery_id) for o in request.orders)
    for n, delivery_id in enumerate(ids):
        if delivery_id is None:
            errors.append(FieldError(f"orders[{n}].deliveryId", "is required"))
    errors.extend(nul_errors(msgspec.to_builtins(request)))
    if errors:
        raise _malformed("shipmentSave", errors)
    assert day is not None
    return ShipmentSaveRequest(
        shipment_id=_text(request.shipment_id),
        day=day,
        time_from=time_from,
        time_to=time_to,
        address=_place(request.address),
        delivery_ids=tuple(i for i in ids if i),
        contact=_contact(request.manager),
        comment=(request.comment or "").strip(),
    )


def read_shipment_delete(raw: str) -> str:
    """The pick-up id in the `shipmentDelete` form field's JSON."""
    shipment_id = _text(_decoded(raw, RequestShipmentDelete, "shipmentDelete").shipment_id)
    if shipment_id is None or "\0" in shipment_id:
        raise Malformed("shipmentDelete.shipmentId", "is required: the pick-up's id")
    return shipment_id


def read_point_query(params: dict[str, str]) -> PointQuery:
    """`shipmentPointList`'s query parameters, which come as plain text."""
    try:
        query = convert(params, ShipmentPointQuery, strict=False)
    except InvalidRequest as exc:
        raise _malformed("", exc.errors) from None
    return PointQuery(
        country=_text(query.country or None), region=_text(query.region or None), city=_text(query.city or None)
    )
