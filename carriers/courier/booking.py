"""Booking the same-day courier: `CarrierOrder` to a `create-order` body, its answers to `OrderState`.

The body is the one `calculate-order` prices (`carriers.courier.carrier.route_body`), with the
sender's contact on the pick-up point and the recipient's, our number and the cash to collect
on the drop-off point. Building and reading are pure functions, tested without a network;
`CourierBooking` joins them to `carriers.courier.client` under each call's time budget.

The courier service decides at once: an order it takes has its `order_id` (our tracking
number for it) and a tracking page; an order it refuses names the fields it refused. The
courier comes to the pick-up point for every order by itself, and the service prints no
labels, so there is no intake and no label to ask for.
"""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

from carriers.api import within
from carriers.booking import CancelRefused, CarrierOrder, Contact, IntakeRequest, OrderState, OrderStatus
from carriers.courier import wire
from carriers.courier.carrier import AUTH_CODES, RATE_LIMIT_CODES, SERVER_CODES, problems, raise_for_errors, route_body
from carriers.courier.client import CourierClient
from carriers.errors import ApiErrorDetail, CarrierApiError

# The carrier's own statuses. `draft` is an order not yet sent to couriers (made in the web
# cabinet, not through this API); every other status but `canceled` is a live order.
CANCELLED_STATUSES = frozenset({"canceled"})
PENDING_STATUSES = frozenset({"draft"})
# What the API answers when an order is past cancelling (a courier is on the way or has it).
CANCEL_REFUSED_CODES = frozenset({"order_cannot_be_canceled", "order_cannot_be_cancelled"})
# `find` reads the recent orders this many pages back: a retried booking follows its first try
# within minutes, so its order is among the newest; older ones are not worth the requests.
FIND_PAGE_SIZE = 50
FIND_PAGES = 4

T = TypeVar("T")


# ---------------------------------------------------------------- the request


def phone_digits(phone: str) -> str:
    """The API's phone: the digits with the country code, no plus (`+7 916 123-45-67` → `79161234567`)."""
    return re.sub(r"\D", "", phone)


def contact_person(contact: Contact) -> wire.ContactPerson:
    name = f"{contact.name} ({contact.company})" if contact.company else contact.name
    return wire.ContactPerson(phone=phone_digits(contact.phone), name=name or None)


def create_body(
    order: CarrierOrder, *, matter: str = "Parcel", vehicle_type_id: int | None = None
) -> wire.CalculateRequest:
    """The `POST /create-order` body. The courier goes as soon as it can: it is a same-day service."""
    body = route_body(
        order.origin,
        order.destination,
        weight_g=sum(p.weight_g for p in order.parcels),
        declared_value_rub=order.declared_value_rub,
        cod_rub=order.cod_rub,
        matter=matter,
        vehicle_type_id=vehicle_type_id,
    )
    pickup, drop = body.points
    pickup.contact_person = contact_person(order.sender)
    drop.contact_person = contact_person(order.recipient)
    # Our number, not the shop's: it is what `find` looks for when a booking is retried. The
    # shop's order number goes in the note, so the courier can name it to the recipient.
    drop.client_order_id = order.number
    note = [f"order {order.shop_order_number}"] if order.shop_order_number else []
    if order.comment:
        note.append(order.comment)
    drop.note = "; ".join(note) or None
    return body


# ---------------------------------------------------------------- the answers


def _decode(decoder: msgspec.json.Decoder[T], body: bytes, carrier: str, status: int | None) -> T:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise CarrierApiError(carrier, f"unreadable answer: {exc}", status=status) from None
    except msgspec.DecodeError as exc:
        raise CarrierApiError(carrier, f"answer is not JSON ({exc})", status=status) from None


def _raise_if_service_failed(
    carrier: str, errors: tuple[ApiErrorDetail, ...], status: int | None, retry_after: float | None, refused: str
) -> None:
    """Errors about the service (limits, token, its own failure) raise; the rest are about the order."""
    if {e.code for e in errors} & (RATE_LIMIT_CODES | AUTH_CODES | SERVER_CODES):
        raise_for_errors(carrier, errors, status, retry_after, refused)


def order_state(order: wire.BookedOrder, carrier: str, status: int | None = None) -> OrderState:
    if order.order_id is None:
        raise CarrierApiError(carrier, "order without an order_id", status=status)
    ref = str(order.order_id)
    points = order.points or []
    tracking_url = points[-1].tracking_url if len(points) > 1 else None
    if order.status in CANCELLED_STATUSES:
        return OrderState(OrderStatus.CANCELLED, ref, ref, carrier_status=order.status, tracking_url=tracking_url)
    if order.status in PENDING_STATUSES:
        return OrderState(OrderStatus.PENDING, ref, carrier_status=order.status, tracking_url=tracking_url)
    return OrderState(OrderStatus.BOOKED, ref, ref, carrier_status=order.status, tracking_url=tracking_url)


def parse_create(
    body: bytes, *, carrier: str, status: int | None = None, retry_after: float | None = None
) -> OrderState:
    """The `create-order` answer: BOOKED with the order's id, or INVALID naming the refused fields."""
    answer = _decode(wire.order_decoder, body, carrier, status)
    if not answer.is_successful:
        errors = problems(answer.errors, answer.parameter_errors)
        _raise_if_service_failed(carrier, errors, status, retry_after, "order refused")
        return OrderState(OrderStatus.INVALID, "", errors=errors or (ApiErrorDetail("order_refused"),))
    if answer.order is None:
        raise CarrierApiError(carrier, "order taken but not in the answer", status=status)
    return order_state(answer.order, carrier, status)


def parse_orders(
    body: bytes, *, carrier: str, status: int | None = None, retry_after: float | None = None
) -> tuple[list[wire.BookedOrder], int | None]:
    """The `GET /orders` answer: the orders and how many there are in all."""
    answer = _decode(wire.orders_decoder, body, carrier, status)
    if not answer.is_successful:
        errors = problems(answer.errors, answer.parameter_errors)
        _raise_if_service_failed(carrier, errors, status, retry_after, "orders refused")
        raise CarrierApiError(carrier, "orders refused", status=status, errors=errors)
    return answer.orders or [], answer.orders_count


def parse_cancel(
    body: bytes, *, carrier: str, status: int | None = None, retry_after: float | None = None
) -> OrderState | None:
    """The `cancel-order` answer: the cancelled order (None if the answer leaves it out).

    Raises `CancelRefused` when the order is past cancelling, `CarrierApiError` on other refusals.
    """
    answer = _decode(wire.order_decoder, body, carrier, status)
    if not answer.is_successful:
        errors = problems(answer.errors, answer.parameter_errors)
        _raise_if_service_failed(carrier, errors, status, retry_after, "cancel refused")
        if {e.code for e in errors} & CANCEL_REFUSED_CODES:
            raise CancelRefused(carrier, "the order is past cancelling (a courier has taken it)")
        raise CarrierApiError(carrier, "cancel refused", status=status, errors=errors)
    return order_state(answer.order, carrier, status) if answer.order is not None else None


def matching(orders: list[wire.BookedOrder], number: str) -> wire.BookedOrder | None:
    """The order whose points carry `number`; a live one before a cancelled one (a cancelled
    booking may have been made again under the same number)."""
    found = [o for o in orders if any(p.client_order_id == number for p in o.points or [])]
    live = [o for o in found if o.status not in CANCELLED_STATUSES]
    return (live or found)[0] if found else None


# ---------------------------------------------------------------- the carrier


class CourierBooking:
    """`BookingApi` for the same-day courier, over the same client and time budget as its quotes."""

    prints_labels = False  # the courier service prints its own

    def __init__(
        self,
        client: CourierClient,
        *,
        code: str = "courier",
        timeout_s: float = 2.0,
        matter: str = "Parcel",
        vehicle_type_id: int | None = None,
    ) -> None:
        self.client = client
        self.code = code
        self.timeout_s = timeout_s
        self.matter = matter
        self.vehicle_type_id = vehicle_type_id

    def __repr__(self) -> str:
        return f"CourierBooking({self.code!r}, {self.client.base_url!r})"

    async def create(self, order: CarrierOrder) -> OrderState:
        body = wire.encode(create_body(order, matter=self.matter, vehicle_type_id=self.vehicle_type_id))
        status, retry_after, answer = await within(self.timeout_s, self.code, self.client.create_order(body))
        return parse_create(answer, carrier=self.code, status=status, retry_after=retry_after)

    async def follow(self, carrier_ref: str) -> OrderState:
        order_id = _order_id(carrier_ref, self.code)
        status, retry_after, answer = await within(
            self.timeout_s, self.code, self.client.orders({"order_id": order_id})
        )
        orders, _ = parse_orders(answer, carrier=self.code, status=status, retry_after=retry_after)
        for order in orders:
            if order.order_id == order_id:
                return order_state(order, self.code, status)
        raise CarrierApiError(self.code, f"no order {carrier_ref}", status=status)

    async def find(self, number: str) -> OrderState | None:
        """The API finds orders by its own id only, so the recent orders are read for our number
        on their drop-off points (`client_order_id`), newest first, `FIND_PAGES` pages back."""
        for page in range(FIND_PAGES):
            query = {"offset": page * FIND_PAGE_SIZE, "count": FIND_PAGE_SIZE}
            status, retry_after, answer = await within(self.timeout_s, self.code, self.client.orders(query))
            orders, total = parse_orders(answer, carrier=self.code, status=status, retry_after=retry_after)
            found = matching(orders, number)
            if found is not None:
                return order_state(found, self.code, status)
            seen = (page + 1) * FIND_PAGE_SIZE
            if len(orders) < FIND_PAGE_SIZE or (total is not None and seen >= total):
                return None
        return None

    async def cancel(self, carrier_ref: str) -> None:
        body = wire.encode({"order_id": _order_id(carrier_ref, self.code)})
        status, retry_after, answer = await within(self.timeout_s, self.code, self.client.cancel_order(body))
        parse_cancel(answer, carrier=self.code, status=status, retry_after=retry_after)

    async def label(self, carrier_ref: str, paper: str) -> bytes | None:
        return None  # no labels from this API: the service draws its own (`prints_labels`)

    async def request_intake(self, intake: IntakeRequest) -> str:
        # A courier order is its own pick-up: there is nothing to call a courier for separately,
        # and answering with a made-up id would let a caller believe one was booked.
        raise CarrierApiError(self.code, "no separate pick-ups: the courier collects each order by itself")

    async def cancel_intake(self, carrier_ref: str) -> None:
        raise CarrierApiError(self.code, "no separate pick-ups: the courier collects each order by itself")


def _order_id(carrier_ref: str, carrier: str) -> int:
    try:
        return int(carrier_ref)
    except ValueError:
        raise CarrierApiError(carrier, f"{carrier_ref!r} is not an order id of this carrier") from None
