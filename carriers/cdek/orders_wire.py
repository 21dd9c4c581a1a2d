"""CDEK API v2 booking on the wire: orders, print forms and courier pick-ups, as msgspec Structs.

The quoting side lives in `carriers.cdek.wire`; this module is the rest of what booking sends
and reads. Units are CDEK's: grams and whole centimetres, roubles as JSON numbers (`encode`
writes a Decimal as a number, digit for digit). Answers are read leniently: fields we do not
read are left undeclared, and what CDEK sometimes leaves out has a default.

    POST   /v2/orders                 OrderRequest  -> EntityAnswer (202, decided later)
    GET    /v2/orders/{uuid}          -> OrderAnswer        ?im_number= | ?cdek_number= as well
    DELETE /v2/orders/{uuid}          -> EntityAnswer (202)
    POST   /v2/print/barcodes         BarcodeRequest -> EntityAnswer; GET …/{uuid} -> PrintAnswer
    POST   /v2/intakes                IntakeRequest -> EntityAnswer; DELETE /v2/intakes/{uuid}
    POST   (our url)                  StatusCall: an ORDER_STATUS webhook call; PrintFormCall: a
                                      PRINT_FORM call (`{type, date_time, uuid, attributes {type, url}}`)
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from carriers.cdek.wire import ApiError, Location

# ---------------------------------------------------------------- requests


class Money(msgspec.Struct):
    value: Decimal  # roubles


class Phone(msgspec.Struct):
    number: str  # +7XXXXXXXXXX


class Contact(msgspec.Struct, omit_defaults=True):
    name: str
    phones: list[Phone]
    email: str | None = None
    company: str | None = None


class OrderItem(msgspec.Struct):
    name: str
    ware_key: str  # the SKU
    payment: Money  # cash to collect for one unit; 0 when the order is prepaid
    cost: Decimal  # declared value of one unit
    weight: int  # grams, one unit
    amount: int  # units


class OrderPackage(msgspec.Struct):
    number: str
    weight: int  # grams
    length: int  # whole centimetres
    width: int
    height: int
    items: list[OrderItem]


class OrderRequest(msgspec.Struct, omit_defaults=True):
    """`POST /v2/orders`: one parcel set, from an office or an address, to an office or an address."""

    type: int  # 1: the "online store" contract
    number: str  # our shipment id: a retry finds the order by it (`?im_number=`)
    tariff_code: int
    recipient: Contact
    sender: Contact
    packages: list[OrderPackage]
    shipment_point: str | None = None  # the office the parcels are dropped at ...
    from_location: Location | None = None  # ... or the address they are collected from
    delivery_point: str | None = None  # the office or locker they go to ...
    to_location: Location | None = None  # ... or the address
    delivery_recipient_cost: Money | None = None
    comment: str | None = None


class PrintOrder(msgspec.Struct, omit_defaults=True):
    order_uuid: str | None = None
    cdek_number: str | None = None


class BarcodeRequest(msgspec.Struct):
    """`POST /v2/print/barcodes`: the parcels' labels."""

    orders: list[PrintOrder]
    copy_count: int
    format: str  # A4 | A5 | A6 | A7
    lang: str  # RUS | ENG


class IntakeRequest(msgspec.Struct, omit_defaults=True):
    """`POST /v2/intakes`: a courier to collect parcels from an address on a day."""

    intake_date: str  # YYYY-MM-DD
    intake_time_from: str  # HH:MM
    intake_time_to: str
    name: str  # what is collected
    weight: int  # grams, in all
    sender: Contact
    from_location: Location
    order_uuid: str | None = None  # one order the pick-up is for, when it is for one
    comment: str | None = None
    need_call: bool = False


# ---------------------------------------------------------------- answers


class Status(msgspec.Struct):
    code: str
    name: str = ""
    date_time: str = ""  # 2024-03-05T10:00:00+0300
    city: str | None = None
    city_code: str | int | None = None
    reason_code: str | None = None  # why it did not go as planned (a failed delivery, a return)


class Request(msgspec.Struct):
    """One of `requests[]`: what became of a create, delete or print request."""

    type: str = ""  # CREATE | UPDATE | DELETE | GET | ...
    state: str = ""  # ACCEPTED | WAITING | SUCCESSFUL | INVALID
    request_uuid: str | None = None
    date_time: str | None = None
    errors: list[ApiError] | None = None


class Entity(msgspec.Struct):
    uuid: str | None = None


class EntityAnswer(msgspec.Struct):
    """What a POST or DELETE answers: the entity's uuid and the request's fate so far."""

    entity: Entity | None = None
    requests: list[Request] | None = None


class OrderEntity(msgspec.Struct):
    uuid: str | None = None
    is_return: bool = False  # the order is the way back of another one
    cdek_number: str | int | None = None  # a string in current answers, a number in some older ones
    number: str | None = None
    tariff_code: int | None = None
    statuses: list[Status] | None = None


class OrderAnswer(msgspec.Struct):
    entity: OrderEntity | None = None
    requests: list[Request] | None = None


class PrintEntity(msgspec.Struct):
    uuid: str | None = None
    url: str | None = None  # there once the form is made
    statuses: list[Status] | None = None  # ACCEPTED -> PROCESSING -> READY | INVALID | REMOVED


class PrintAnswer(msgspec.Struct):
    entity: PrintEntity | None = None
    requests: list[Request] | None = None


class StatusAttributes(msgspec.Struct):
    code: str
    is_return: bool = False
    cdek_number: str | int | None = None
    number: str | None = None  # our shipment id, as the order was made with it
    status_reason_code: str | None = None
    status_date_time: str = ""  # 2024-03-05T10:00:00+0300, the status's own time
    city_name: str | None = None
    city_code: str | int | None = None


class StatusCall(msgspec.Struct):
    """What CDEK POSTs to an `ORDER_STATUS` webhook's url: one status of one order."""

    type: str
    uuid: str  # the order's uuid
    attributes: StatusAttributes
    date_time: str = ""  # when the call was made


class PrintFormAttributes(msgspec.Struct):
    type: str = ""  # barcode | waybill | receipt
    url: str = ""  # the PDF, fetched with the account's bearer token


class PrintFormCall(msgspec.Struct):
    """What CDEK POSTs to a `PRINT_FORM` webhook's url: a print form it was asked for is made."""

    type: str
    uuid: str  # the print request's uuid, as `POST /v2/print/barcodes` answered it
    attributes: PrintFormAttributes
    date_time: str = ""


class CallType(msgspec.Struct):
    """Only what says which kind of call a webhook body is."""

    type: str


encode = msgspec.json.Encoder(decimal_format="number").encode
entity_decoder = msgspec.json.Decoder(EntityAnswer)
order_decoder = msgspec.json.Decoder(OrderAnswer)
print_decoder = msgspec.json.Decoder(PrintAnswer)
statuses_decoder = msgspec.json.Decoder(list[Status])
status_call_decoder = msgspec.json.Decoder(StatusCall)
print_call_decoder = msgspec.json.Decoder(PrintFormCall)
call_type_decoder = msgspec.json.Decoder(CallType)
