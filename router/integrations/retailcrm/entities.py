"""The CRM's callback requests, read from the JSON in the action's form field.

Field names follow the CRM's published types (`RetailCrm\\Api\\Model\\Callback\\Entity\\Delivery`
in its PHP client). Units are converted here, once: the CRM weighs packages in grams and
measures them in millimetres, and sends money as roubles in JSON numbers, which become
`Decimal` through their decimal text. Fields this module does not use are tolerated and
ignored; a field it uses with the wrong type is refused, named by its path.

PHP encodes an empty associative array as `[]`, so an empty list stands for an empty object.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from router.core.models import Location
from router.integrations.retailcrm.errors import Malformed

MAX_WEIGHT_G = 1_000_000
MAX_SIDE_MM = 10_000
MAX_MONEY = Decimal("100000000")
MAX_TEXT = 500
# The delivery data field that carries a calculation's quote id to `save` (see registration).
QUOTE_ID_FIELD = "quoteId"
# Every field of the CRM's DeliveryAddress type; `get` hands back what the CRM sent of these.
ADDRESS_FIELDS = (
    "index", "countryIso", "region", "regionId", "city", "cityId", "cityType", "street",
    "streetId", "streetType", "building", "flat", "floor", "block", "house", "housing",
    "metro", "notes", "text", "terminal", "terminalData",
)  # fmt: skip


def _object(value: Any, path: str, required: bool = False) -> dict[str, Any]:
    if value is None or value == []:
        if required:
            raise Malformed(path, "is required")
        return {}
    if not isinstance(value, dict):
        raise Malformed(path, "must be an object")
    return value


def _text(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Malformed(path, "must be a string")
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise Malformed(path, f"must be at most {MAX_TEXT} characters")
    return text or None


def _decimal(value: Any, path: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Malformed(path, "must be a number")
    try:
        # str() first: a float's shortest decimal text is what the CRM meant (1500.1, not 1500.0999…).
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise Malformed(path, f"{value!r} is not a number") from None
    if not amount.is_finite() or not 0 <= amount <= MAX_MONEY:
        raise Malformed(path, f"must be between 0 and {MAX_MONEY}")
    return amount


def _flag(value: Any, path: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if value in (0, 1, "0", "1", "true", "false"):  # PHP's and form encodings of a bool
        return value in (1, "1", "true")
    raise Malformed(path, "must be true or false")


def _date(value: Any, path: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                return datetime.strptime(value.strip(), layout)
            except ValueError:
                continue
    raise Malformed(path, "must be a date such as 2026-11-24 or 2026-11-24 10:00:00")


@dataclass(frozen=True, slots=True)
class DeliveryAddress:
    index: str | None = None
    country_iso: str | None = None
    region: str | None = None
    city: str | None = None
    text: str | None = None
    terminal: str | None = None  # the chosen pickup point's code
    wire: dict[str, Any] = field(default_factory=dict)  # as the CRM sent it, known fields only

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


def _address(value: Any, path: str) -> DeliveryAddress:
    raw = _object(value, path)
    return DeliveryAddress(
        index=_text(raw.get("index"), f"{path}.index"),
        country_iso=_text(raw.get("countryIso"), f"{path}.countryIso"),
        region=_text(raw.get("region"), f"{path}.region"),
        city=_text(raw.get("city"), f"{path}.city"),
        text=_text(raw.get("text"), f"{path}.text"),
        terminal=_text(raw.get("terminal"), f"{path}.terminal"),
        wire={k: raw[k] for k in ADDRESS_FIELDS if raw.get(k) is not None},
    )


@dataclass(frozen=True, slots=True)
class PackageItem:
    declared_value: Decimal  # RUB per unit
    cod: Decimal  # RUB per unit
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class Package:
    weight_g: int
    sides_cm: tuple[float, float, float] | None  # None: the CRM sent no sizes
    items: tuple[PackageItem, ...] = ()


def _package(value: Any, path: str) -> Package:
    raw = _object(value, path, required=True)
    weight = _decimal(raw.get("weight"), f"{path}.weight")
    if weight is None or weight <= 0:
        raise Malformed(f"{path}.weight", "is required: the package's weight in grams, above 0")
    if weight > MAX_WEIGHT_G:
        raise Malformed(f"{path}.weight", f"must be at most {MAX_WEIGHT_G} grams")
    sides_mm = [_decimal(raw.get(name), f"{path}.{name}") or Decimal(0) for name in ("length", "width", "height")]
    sides_cm: tuple[float, float, float] | None = None
    if any(sides_mm):
        for name, side in zip(("length", "width", "height"), sides_mm, strict=False):
            if side <= 0:
                raise Malformed(f"{path}.{name}", "give length, width and height together, in millimetres")
            if side > MAX_SIDE_MM:
                raise Malformed(f"{path}.{name}", f"must be at most {MAX_SIDE_MM} millimetres")
        a, b, c = (float(side) / 10 for side in sides_mm)
        sides_cm = (a, b, c)
    raw_items = raw.get("items") or []
    if not isinstance(raw_items, list):
        raise Malformed(f"{path}.items", "must be a list")
    items = []
    for i, item in enumerate(raw_items):
        item_path = f"{path}.items[{i}]"
        obj = _object(item, item_path, required=True)
        items.append(
            PackageItem(
                declared_value=_decimal(obj.get("declaredValue"), f"{item_path}.declaredValue") or Decimal(0),
                cod=_decimal(obj.get("cod"), f"{item_path}.cod") or Decimal(0),
                quantity=_decimal(obj.get("quantity"), f"{item_path}.quantity") or Decimal(1),
            )
        )
    # Grams arrive as a float; a carrier weighs up, never down.
    return Package(weight_g=math.ceil(weight), sides_cm=sides_cm, items=tuple(items))


def _packages(value: Any, path: str, max_packages: int) -> tuple[Package, ...]:
    if not isinstance(value, list) or not value:
        raise Malformed(path, "must be a non-empty list of packages")
    if len(value) > max_packages:
        raise Malformed(path, f"at most {max_packages} packages in one delivery")
    return tuple(_package(p, f"{path}[{i}]") for i, p in enumerate(value))


def _currency(value: Any, path: str) -> None:
    currency = _text(value, path)
    if currency is not None and currency.upper() != "RUB":
        raise Malformed(path, f"prices are in RUB only, not {currency}")


@dataclass(frozen=True, slots=True)
class CalculateRequest:
    packages: tuple[Package, ...]
    shipment_address: DeliveryAddress
    delivery_address: DeliveryAddress
    declared_value: Decimal  # RUB; the packages' items' when the CRM sends no total
    cod: Decimal  # RUB to collect from the buyer (the items' when the CRM sends no total); 0: none
    shipment_date: datetime | None  # naive: the shop's local time


def _total(total: Decimal | None, packages: tuple[Package, ...], per_item: str) -> Decimal:
    """The order's amount; the CRM may leave it out and send each item's `per_item` instead."""
    if total is not None:
        return total
    return sum((getattr(item, per_item) * item.quantity for p in packages for item in p.items), Decimal(0))


def parse_calculate(value: Any, max_packages: int) -> CalculateRequest:
    raw = _object(value, "calculate", required=True)
    _currency(raw.get("currency"), "calculate.currency")
    packages = _packages(raw.get("packages"), "calculate.packages", max_packages)
    return CalculateRequest(
        packages=packages,
        shipment_address=_address(raw.get("shipmentAddress"), "calculate.shipmentAddress"),
        delivery_address=_address(raw.get("deliveryAddress"), "calculate.deliveryAddress"),
        declared_value=_total(
            _decimal(raw.get("declaredValue"), "calculate.declaredValue"), packages, "declared_value"
        ),
        cod=_total(_decimal(raw.get("cod"), "calculate.cod"), packages, "cod"),
        shipment_date=_date(raw.get("shipmentDate"), "calculate.shipmentDate"),
    )


@dataclass(frozen=True, slots=True)
class SaveDeliveryData:
    tariff: str | None  # the calculate result's `code` the manager picked
    shipment_address: DeliveryAddress
    delivery_address: DeliveryAddress
    payer_type: str | None
    extra_data: dict[str, Any]  # the delivery data fields, `quoteId` among them
    cost: Decimal | None  # what the CRM holds as the delivery's cost
    with_cod: bool = False  # the buyer pays on delivery
    cod: Decimal = Decimal(0)  # RUB the buyer pays on delivery; 0 when prepaid


@dataclass(frozen=True, slots=True)
class SaveRequest:
    delivery_id: str | None  # present when the CRM edits a delivery saved before
    order: str | None
    order_number: str | None
    delivery: SaveDeliveryData


def _items_cod(value: Any, path: str) -> Decimal:
    """What the packages' items collect: `save` checks no package's weight or sizes, so only these."""
    if value is None or value == []:
        return Decimal(0)
    if not isinstance(value, list):
        raise Malformed(path, "must be a list of packages")
    total = Decimal(0)
    for i, package in enumerate(value):
        items = _object(package, f"{path}[{i}]").get("items") or []
        if not isinstance(items, list):
            raise Malformed(f"{path}[{i}].items", "must be a list")
        for j, item in enumerate(items):
            item_path = f"{path}[{i}].items[{j}]"
            obj = _object(item, item_path)
            cod = _decimal(obj.get("cod"), f"{item_path}.cod") or Decimal(0)
            total += cod * (_decimal(obj.get("quantity"), f"{item_path}.quantity") or Decimal(1))
    return total


def _save_cod(raw: dict[str, Any], delivery: dict[str, Any], with_cod: bool) -> Decimal:
    if not with_cod:  # an amount left in `cod` of a prepaid delivery is not collected
        return Decimal(0)
    total = _decimal(delivery.get("cod"), "save.delivery.cod")
    # As in `calculate`, the items' amounts stand in when the delivery sends no total.
    amount = total if total is not None else _items_cod(raw.get("packages"), "save.packages")
    if amount <= 0:
        raise Malformed("save.delivery.cod", "is required with withCod: the amount the buyer pays on delivery")
    return amount


def parse_save(value: Any) -> SaveRequest:
    raw = _object(value, "save", required=True)
    _currency(raw.get("currency"), "save.currency")
    delivery = _object(raw.get("delivery"), "save.delivery", required=True)
    with_cod = _flag(delivery.get("withCod"), "save.delivery.withCod")
    return SaveRequest(
        delivery_id=_text(raw.get("deliveryId"), "save.deliveryId"),
        order=_text(raw.get("order"), "save.order"),
        order_number=_text(raw.get("orderNumber"), "save.orderNumber"),
        delivery=SaveDeliveryData(
            tariff=_text(delivery.get("tariff"), "save.delivery.tariff"),
            shipment_address=_address(delivery.get("shipmentAddress"), "save.delivery.shipmentAddress"),
            delivery_address=_address(delivery.get("deliveryAddress"), "save.delivery.deliveryAddress"),
            payer_type=_text(delivery.get("payerType"), "save.delivery.payerType"),
            extra_data=_object(delivery.get("extraData"), "save.delivery.extraData"),
            cost=_decimal(delivery.get("cost"), "save.delivery.cost"),
            with_cod=with_cod,
            cod=_save_cod(raw, delivery, with_cod),
        ),
    )


def parse_delete(value: Any) -> str:
    raw = _object(value, "delete", required=True)
    delivery_id = _text(raw.get("deliveryId"), "delete.deliveryId")
    if delivery_id is None:
        raise Malformed("delete.deliveryId", "is required")
    return delivery_id


@dataclass(frozen=True, slots=True)
class PointQuery:
    """The CRM's GeoHierarchyRow: where the shop wants to hand parcels over."""

    country: str | None
    region: str | None
    city: str | None


def parse_point_query(params: dict[str, str]) -> PointQuery:
    return PointQuery(
        country=_text(params.get("country"), "country"),
        region=_text(params.get("region"), "region"),
        city=_text(params.get("city"), "city"),
    )
