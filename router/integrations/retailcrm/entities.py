"""The CRM's callback requests, declared once as msgspec Structs with their constraints.

Field names follow the CRM's published types (`RetailCrm\\Api\\Model\\Callback\\Entity\\Delivery`
in its PHP client), camelCase on the wire; a Python name carries its unit where the CRM's does
not (`weight_g` is the CRM's `weight`). The callbacks' JSON is decoded through these types in one
pass (router/integrations/retailcrm/reading.py), and the OpenAPI fragment is generated from
them (router/integrations/retailcrm/openapi.py). Fields this module does not use are tolerated
and ignored; a field it uses with the wrong type is refused, named by its path. What a schema
cannot say (a package's sides come together, totals from the items) is checked after decoding.

PHP encodes an empty associative array as `[]`, so an empty list stands for an empty object; PHP
numbers come as JSON numbers or their text, and money becomes `Decimal` from either exactly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

MAX_WEIGHT_G = 1_000_000
MAX_SIDE_MM = 10_000
MAX_MONEY = Decimal("100000000")
MAX_TEXT = 500
# The delivery data field that carries a calculation's quote id to `save` (see registration).
QUOTE_ID_FIELD = "quoteId"
# Dates as the CRM has sent them: a day, or a day and the shop's wall-clock time.
DATE_LAYOUTS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")

# PHP may send a number where its type says string; blank counts as not given.
Text = Annotated[str, Meta(max_length=MAX_TEXT)] | int
# Address fields the module only hands back to the CRM in `get`, as they came.
Kept = str | int


# Decimal's limits are not msgspec constraints: the reader checks them, the schema says them.
# msgspec writes a Decimal's schema as a string; `x-type` is the JSON it is read from
# (router/integrations/retailcrm/openapi.py puts it in place). The pattern applies to text only.
def _decimal(description: str, maximum: Decimal | int = MAX_MONEY) -> Meta:
    return Meta(
        description=f"{description}: a number, or its decimal text",
        extra_json_schema={
            "x-type": ["number", "string"],
            "pattern": r"^\s*[0-9]+(?:\.[0-9]+)?\s*$",
            "minimum": 0,
            "maximum": int(maximum),
        },
    )


Roubles = Annotated[Decimal, _decimal("Roubles")]
Grams = Annotated[Decimal, _decimal("Grams, above 0", MAX_WEIGHT_G)]
Millimetres = Annotated[Decimal, _decimal("Millimetres", MAX_SIDE_MM)]
Quantity = Annotated[Decimal, _decimal("Units; 0 counts as 1")]
EmptyArray = Annotated[list[Any], Meta(max_length=0, description="PHP's empty associative array: no fields")]
# PHP's and a form's encodings of a bool.
Flag = bool | Literal[0, 1] | Literal["0", "1", "true", "false"]
# The reader parses the layouts and says so in words, where a regex would be the refusal's message.
DateText = Annotated[
    str,
    Meta(
        description="A date such as 2026-11-24 or 2026-11-24 10:00:00, the shop's local time",
        extra_json_schema={"pattern": r"^\s*(?:\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}:\d{2})?)?\s*$"},
    ),
]
Fields = dict[str, Any] | EmptyArray


class _Entity(msgspec.Struct, rename="camel", omit_defaults=True):
    pass


class DeliveryAddress(_Entity):
    index: Text | None = None
    country_iso: Text | None = None
    region: Text | None = None
    region_id: Kept | None = None
    city: Text | None = None
    city_id: Kept | None = None
    city_type: Kept | None = None
    street: Kept | None = None
    street_id: Kept | None = None
    street_type: Kept | None = None
    building: Kept | None = None
    flat: Kept | None = None
    floor: Kept | None = None
    block: Kept | None = None
    house: Kept | None = None
    housing: Kept | None = None
    metro: Kept | None = None
    notes: Kept | None = None
    text: Text | None = None
    terminal: Annotated[Text, Meta(description="The chosen pickup point's code")] | None = None
    terminal_data: Fields | None = None  # a Terminal; PHP sends an empty one as []


Address = DeliveryAddress | EmptyArray | None


class PackageItem(_Entity):
    # What booking tells the carrier of each item (its name and the shop's article).
    name: Text | None = None
    offer_id: Kept | None = None
    external_id: Kept | None = None
    declared_value: Annotated[Decimal, _decimal("Roubles per unit")] | None = None
    cod: Annotated[Decimal, _decimal("Roubles per unit collected on delivery")] | None = None
    quantity: Quantity | None = None


class Package(_Entity):
    # `calculate` needs the weight; `save` reads only the items.
    weight_g: Grams | None = msgspec.field(default=None, name="weight")
    # All three or none.
    length_mm: Millimetres | None = msgspec.field(default=None, name="length")
    width_mm: Millimetres | None = msgspec.field(default=None, name="width")
    height_mm: Millimetres | None = msgspec.field(default=None, name="height")
    items: list[PackageItem] | None = None


class RequestCalculate(_Entity):
    packages: Annotated[list[Package], Meta(min_length=1)]
    shipment_address: Address = None
    delivery_address: Address = None
    declared_value: Roubles | None = None
    cod: Annotated[Decimal, _decimal("Roubles collected on delivery; 0: prepaid")] | None = None
    currency: Text | None = None
    shipment_date: DateText | None = None


class SaveDeliveryData(_Entity):
    tariff: Annotated[Text, Meta(description="The calculated result's code the manager picked")] | None = None
    shipment_address: Address = None
    delivery_address: Address = None
    payer_type: Text | None = None
    extra_data: Annotated[Fields, Meta(description=f"Delivery data fields, {QUOTE_ID_FIELD} among them")] | None = None
    cost: Roubles | None = None
    with_cod: Flag | None = None
    cod: Annotated[Decimal, _decimal("Roubles the buyer pays on delivery")] | None = None


class Phone(_Entity):
    """A customer's phone as the CRM's Customer entity carries it."""

    number: Text | None = None


class Person(_Entity):
    """The CRM's Customer (the buyer, who receives) or Manager (who sends): only what a carrier
    needs of them is read. The Customer's phones come as texts or as `{number}` objects."""

    first_name: Text | None = None
    last_name: Text | None = None
    patronymic: Text | None = None
    phone: Text | None = None
    phones: list[Text | Phone] | None = None
    email: Text | None = None


class RequestSave(_Entity):
    delivery: SaveDeliveryData
    customer: Annotated[Person, Meta(description="The buyer: the parcel's recipient")] | EmptyArray | None = None
    manager: Annotated[Person, Meta(description="The manager: the sender's contact")] | EmptyArray | None = None
    legal_entity: Annotated[Text, Meta(description="The shop's legal entity: the sender's company")] | None = None
    delivery_id: Annotated[Text, Meta(description="Present when the CRM edits a saved delivery")] | None = None
    order: Text | None = None
    order_number: Text | None = None
    packages: list[Package] | None = None
    currency: Text | None = None


class RequestDelete(_Entity):
    delivery_id: Text


class RequestPrint(_Entity):
    entity_type: Annotated[Text, Meta(description='"order": labels of deliveries; "shipment": of pick-ups')]
    delivery_ids: Annotated[list[Text], Meta(min_length=1, max_length=500)]
    type: Annotated[Text, Meta(description="The plate's code (see the module's plateList)")] | None = None


class TimeInterval(_Entity):
    from_: Annotated[Text, Meta(description="HH:MM")] | None = msgspec.field(default=None, name="from")
    to: Annotated[Text, Meta(description="HH:MM")] | None = None


class ShipmentOrder(_Entity):
    delivery_id: Text


class RequestShipmentSave(_Entity):
    """A courier pick-up the manager asks for: the deliveries it collects, when and where."""

    date: DateText
    orders: Annotated[list[ShipmentOrder], Meta(min_length=1, max_length=5000)]
    shipment_id: Annotated[Text, Meta(description="Present when the CRM edits a pick-up saved before")] | None = None
    time: TimeInterval | EmptyArray | None = None
    address: Address = None
    manager: Person | EmptyArray | None = None
    comment: Annotated[str, Meta(max_length=500)] | None = None


class RequestShipmentDelete(_Entity):
    shipment_id: Text


# Query parameters are text, present or not: never null, never a number. A place's name fits
# in far fewer characters; the limit keeps the request line within aiohttp's 8190 bytes even
# with five parameters of 4-byte characters, percent-encoded to 12 bytes each.
MAX_QUERY_TEXT = 100
QueryText = Annotated[str, Meta(max_length=MAX_QUERY_TEXT)]
ClientId = Annotated[str, Meta(description="The connected account's secret")]


class ShipmentPointQuery(_Entity):
    """The CRM's GeoHierarchyRow: where the shop wants to hand parcels over."""

    client_id: ClientId
    country: QueryText | UnsetType = UNSET
    region: QueryText | UnsetType = UNSET
    region_id: QueryText | UnsetType = UNSET
    city: QueryText | UnsetType = UNSET
    city_id: QueryText | UnsetType = UNSET


class GetQuery(_Entity):
    client_id: ClientId
    delivery_id: str


class TariffListQuery(_Entity):
    client_id: ClientId
