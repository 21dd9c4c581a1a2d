"""The courier API on the wire (Dostavista/Borzo business API 1.5), as msgspec Structs.

`calculate-order` and `create-order` take the same body (the order's points carry a contact and
our number only when booking); `create-order`, `cancel-order` and `GET /orders` answer orders.

Its units, converted in `carriers.courier.carrier` and nowhere else: weight in whole kilograms;
money as decimal strings in roubles (`"390.00"`, read digit for digit into Decimal); coordinates
as decimal strings; times as ISO 8601 with an offset. Fields we do not read are left undeclared.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec

# ---------------------------------------------------------------- the request


class ContactPerson(msgspec.Struct, omit_defaults=True):
    phone: str  # digits with the country code and no plus: 79161234567
    name: str | None = None


class RequestPoint(msgspec.Struct, omit_defaults=True):
    address: str
    latitude: str | None = None  # "55.755800"
    longitude: str | None = None
    required_start_datetime: str | None = None  # ISO 8601 in the city's own offset
    required_finish_datetime: str | None = None
    taking_amount: str | None = None  # cash to collect here, roubles
    contact_person: ContactPerson | None = None  # booking only
    client_order_id: str | None = None  # our number for what is dropped here; booking only
    note: str | None = None  # for the courier, booking only


class CalculateRequest(msgspec.Struct, omit_defaults=True):
    """`POST /calculate-order`: the first point is the pick-up, the last the drop."""

    type: str  # "standard"
    matter: str  # what is carried, in words
    total_weight_kg: Annotated[int, msgspec.Meta(ge=1)]
    points: list[RequestPoint]
    vehicle_type_id: int | None = None
    insurance_amount: str | None = None  # the declared value, roubles


# ---------------------------------------------------------------- the answer


class AnswerPoint(msgspec.Struct):
    required_start_datetime: datetime | None = None
    required_finish_datetime: datetime | None = None
    estimated_arrival_datetime: datetime | None = None


class Order(msgspec.Struct):
    """The priced order. Every amount is roubles; `payment_amount` is what the shop pays."""

    payment_amount: Decimal | None = None
    delivery_fee_amount: Decimal | None = None
    intercity_delivery_fee_amount: Decimal | None = None
    suburban_delivery_fee_amount: Decimal | None = None
    weight_fee_amount: Decimal | None = None
    insurance_fee_amount: Decimal | None = None
    money_transfer_fee_amount: Decimal | None = None
    cod_fee_amount: Decimal | None = None
    loading_fee_amount: Decimal | None = None
    door_to_door_fee_amount: Decimal | None = None
    overnight_fee_amount: Decimal | None = None
    waiting_fee_amount: Decimal | None = None
    return_fee_amount: Decimal | None = None
    discount_amount: Decimal | None = None  # positive; `payment_amount` already subtracts it
    promo_code_discount_amount: Decimal | None = None
    points: list[AnswerPoint] | None = None


# `parameter_errors` / `parameter_warnings`: codes nested by field name and point index, e.g.
# {"points": [null, {"address": ["address_not_found"]}]}; an empty list when there are none.
ParameterProblems = dict[str, Any] | list[Any] | str


class CalculateAnswer(msgspec.Struct):
    is_successful: bool
    order: Order | None = None
    errors: list[str | None] | str | None = None
    parameter_errors: ParameterProblems | None = None
    warnings: list[str | None] | str | None = None
    parameter_warnings: ParameterProblems | None = None


# ---------------------------------------------------------------- orders (booking)


class BookedPoint(msgspec.Struct):
    client_order_id: str | None = None
    tracking_url: str | None = None


class BookedOrder(msgspec.Struct):
    """An order the courier service keeps: `status` is new, available, active, completed, canceled, ..."""

    order_id: int | None = None
    status: str | None = None
    points: list[BookedPoint] | None = None


class OrderAnswer(msgspec.Struct):
    """`create-order` and `cancel-order`."""

    is_successful: bool
    order: BookedOrder | None = None
    errors: list[str | None] | str | None = None
    parameter_errors: ParameterProblems | None = None


class OrdersAnswer(msgspec.Struct):
    """`GET /orders`: the orders asked for by id, or a page of the recent ones, newest first."""

    is_successful: bool
    orders: list[BookedOrder] | None = None
    orders_count: int | None = None  # in all, across pages
    errors: list[str | None] | str | None = None
    parameter_errors: ParameterProblems | None = None


encode = msgspec.json.Encoder().encode
calculate_decoder = msgspec.json.Decoder(CalculateAnswer)
order_decoder = msgspec.json.Decoder(OrderAnswer)
orders_decoder = msgspec.json.Decoder(OrdersAnswer)
