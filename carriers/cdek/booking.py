"""Booking with CDEK: `CarrierOrder` to `/v2/orders` and back, labels, cancelling and pick-ups.

The builders and readers are pure functions over `carriers.cdek.orders_wire`; `CdekBooking` is
the `carriers.booking.BookingApi` that sends them through the account's `CdekClient`, each call
under its own time budget (`carriers.api.within`).

CDEK decides an order after it answers: `create` usually comes back `PENDING` and `follow`
reads the decision. Our shipment id goes out as the order's `number`, so `find` can tell
whether an order that may have reached CDEK (a timeout, a 500 after the order was made) is
there before anything is sent again. An order CDEK refuses is data, not an error: an `INVALID`
state with CDEK's errors, each naming its field in the message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import msgspec

from carriers.api import within
from carriers.booking import CancelRefused, CarrierOrder, Contact, IntakeRequest, OrderState, OrderStatus
from carriers.cdek import orders_wire as ow
from carriers.cdek.client import CdekClient
from carriers.cdek.statuses import read_statuses
from carriers.cdek.wire import Location, error_details
from carriers.errors import ApiErrorDetail, CarrierApiError, CarrierResponseError
from router.core.models import DeliveryType, Place

ORDERS_PATH = "/v2/orders"
BARCODES_PATH = "/v2/print/barcodes"
INTAKES_PATH = "/v2/intakes"
WEBHOOKS_PATH = "/v2/webhooks"
TRACKING_URL = "https://www.cdek.ru/ru/tracking?order_id={}"
PAPER_FORMATS = frozenset({"A4", "A5", "A6", "A7"})
# Pauses between asking whether a label is made: about five seconds in all, the first look
# straight away (a form of one label is often ready by then).
LABEL_POLL_PAUSES_S = (0.0, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.5)
# The codes CDEK answers when there is no order (or pick-up) by the uuid or number asked.
NOT_FOUND_CODES = frozenset({"v2_entity_not_found", "v2_entity_not_found_im_number", "v2_order_not_found"})
REMOVED = "REMOVED"
# The calls the service subscribes to: statuses, and labels made (so the label job need not poll).
ORDER_STATUS, PRINT_FORM = "ORDER_STATUS", "PRINT_FORM"

# ---------------------------------------------------------------- building requests


def _contact(contact: Contact) -> ow.Contact:
    return ow.Contact(name=contact.name, phones=[ow.Phone(contact.phone)], email=contact.email, company=contact.company)


def location(place: Place) -> Location:
    """An address CDEK recognises: the street address with its city, postcode and coordinates."""
    return Location(
        country_code=place.country,
        postal_code=place.postal_code,
        city=place.city,
        address=place.address or place.city,
        latitude=place.lat,
        longitude=place.lon,
    )


def order_request(order: CarrierOrder) -> ow.OrderRequest:
    if order.delivery_type is DeliveryType.PICKUP and not order.pickup_point_id:
        raise ValueError(f"order {order.number}: a pickup offer needs the pickup point")
    packages = [
        ow.OrderPackage(
            number=parcel.number,
            weight=parcel.weight_g,
            length=parcel.length_cm,
            width=parcel.width_cm,
            height=parcel.height_cm,
            items=[
                ow.OrderItem(
                    name=item.name,
                    ware_key=item.sku,
                    payment=ow.Money(item.cod_per_unit_rub),
                    cost=item.unit_price_rub,
                    weight=item.weight_g,
                    amount=item.quantity,
                )
                for item in parcel.items
            ],
        )
        for parcel in order.parcels
    ]
    pickup = order.delivery_type is DeliveryType.PICKUP
    return ow.OrderRequest(
        type=1,
        number=order.number,
        tariff_code=int(order.service),
        recipient=_contact(order.recipient),
        sender=_contact(order.sender),
        packages=packages,
        shipment_point=order.shipment_point_id or None,
        from_location=None if order.shipment_point_id else location(order.origin),
        delivery_point=order.pickup_point_id if pickup else None,
        to_location=None if pickup else location(order.destination),
        comment=order.comment or None,
    )


def order_body(order: CarrierOrder) -> bytes:
    return ow.encode(order_request(order))


def barcode_body(carrier_ref: str, paper: str) -> bytes:
    paper = paper.upper()
    if paper not in PAPER_FORMATS:
        raise ValueError(f"label paper {paper!r}: one of {', '.join(sorted(PAPER_FORMATS))}")
    return ow.encode(ow.BarcodeRequest([ow.PrintOrder(order_uuid=carrier_ref)], copy_count=1, format=paper, lang="RUS"))


def intake_request(intake: IntakeRequest) -> ow.IntakeRequest:
    return ow.IntakeRequest(
        intake_date=intake.day.isoformat(),
        intake_time_from=intake.time_from.strftime("%H:%M"),
        intake_time_to=intake.time_to.strftime("%H:%M"),
        name=f"Parcels: {intake.parcels}",
        weight=intake.weight_g,
        sender=_contact(intake.sender),
        from_location=location(intake.origin),
        # CDEK ties a pick-up to at most one order; for several it collects whatever is ready.
        order_uuid=intake.order_refs[0] if len(intake.order_refs) == 1 else None,
        comment=intake.comment or None,
    )


# ---------------------------------------------------------------- reading answers


def newest_status(statuses: Sequence[ow.Status]) -> ow.Status | None:
    """CDEK lists statuses newest first; the latest time wins should a list come in another order."""
    return max(statuses, key=lambda s: s.date_time) if statuses else None


def _invalid_errors(requests: Iterable[ow.Request]) -> tuple[ApiErrorDetail, ...]:
    invalid = [r for r in requests if r.state.upper() == "INVALID"]
    creates = [r for r in invalid if r.type.upper() == "CREATE"] or invalid
    return tuple(e for r in creates for e in error_details(r.errors))


def order_state(answer: ow.OrderAnswer, carrier: str) -> OrderState:
    """What an order answer (of a create, a follow or a find) says of the order."""
    entity = answer.entity or ow.OrderEntity()
    requests = answer.requests or []
    uuid = entity.uuid or ""
    newest = newest_status(entity.statuses or [])
    carrier_status = newest.code if newest else None
    if carrier_status == REMOVED or any(
        r.type.upper() == "DELETE" and r.state.upper() == "SUCCESSFUL" for r in requests
    ):
        return OrderState(OrderStatus.CANCELLED, uuid, carrier_status=carrier_status or REMOVED)
    errors = _invalid_errors(requests)
    create_refused = any(r.type.upper() == "CREATE" and r.state.upper() == "INVALID" for r in requests)
    if create_refused or carrier_status == "INVALID" or (not uuid and errors):
        return OrderState(OrderStatus.INVALID, uuid, errors=errors, carrier_status=carrier_status)
    if not uuid:
        raise CarrierApiError(carrier, "order answer names no order")
    events = tuple(read_statuses(entity.statuses or [], carrier=carrier, is_return=entity.is_return))
    if entity.cdek_number not in (None, ""):
        number = str(entity.cdek_number)
        return OrderState(
            OrderStatus.BOOKED,
            uuid,
            tracking_number=number,
            carrier_status=carrier_status,
            tracking_url=TRACKING_URL.format(number),
            events=events,
        )
    return OrderState(OrderStatus.PENDING, uuid, carrier_status=carrier_status, events=events)


def read_order(body: bytes, carrier: str) -> OrderState:
    try:
        return order_state(ow.order_decoder.decode(body), carrier)
    except msgspec.DecodeError as exc:
        raise CarrierApiError(carrier, f"unreadable order answer ({exc})") from None


def read_entity(body: bytes, carrier: str, what: str) -> ow.EntityAnswer:
    """A POST's or DELETE's answer; a request CDEK refused at once raises with its errors."""
    try:
        answer = ow.entity_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise CarrierApiError(carrier, f"unreadable {what} answer ({exc})") from None
    errors = _invalid_errors(answer.requests or [])
    if errors or any(r.state.upper() == "INVALID" for r in answer.requests or []):
        raise CarrierApiError(carrier, f"{what} refused", errors=errors)
    if answer.entity is None or not answer.entity.uuid:
        raise CarrierApiError(carrier, f"{what} answer names no entity")
    return answer


def label_url(body: bytes, carrier: str) -> str | None:
    """The made label's URL; None while CDEK is making it; its refusal raises."""
    try:
        answer = ow.print_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise CarrierApiError(carrier, f"unreadable print answer ({exc})") from None
    entity = answer.entity or ow.PrintEntity()
    codes = {s.code.upper() for s in entity.statuses or []}
    errors = _invalid_errors(answer.requests or [])
    if errors or codes & {"INVALID", REMOVED}:
        raise CarrierApiError(carrier, "label refused", errors=errors)
    return entity.url or None


def read_print_call(body: bytes, carrier: str) -> ow.PrintFormCall:
    """A `PRINT_FORM` call's body; anything else raises `CarrierResponseError` saying what."""
    try:
        call = ow.print_call_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise CarrierResponseError(f"{carrier}: unreadable print form call ({exc})") from None
    if call.type.upper() != PRINT_FORM:
        raise CarrierResponseError(f"{carrier}: a {call.type!r} call is not a {PRINT_FORM} call")
    if not call.uuid or not call.attributes.url:
        raise CarrierResponseError(f"{carrier}: print form call names no print request or no url")
    return call


def call_type(body: bytes, carrier: str) -> str:
    """Which kind of webhook call a body is (`ORDER_STATUS`, `PRINT_FORM`, ...)."""
    try:
        return ow.call_type_decoder.decode(body).type.upper()
    except msgspec.DecodeError as exc:
        raise CarrierResponseError(f"{carrier}: unreadable call ({exc})") from None


def is_not_found(exc: CarrierApiError) -> bool:
    """Whether CDEK said there is no such order (a 404, or a 400 with a not-found code)."""
    if type(exc) is not CarrierApiError:  # auth, rate limit and 5xx say nothing of the order
        return False
    return exc.status == 404 or any(e.code in NOT_FOUND_CODES for e in exc.errors)


def is_refusal(exc: CarrierApiError) -> bool:
    """A 4xx with CDEK's reasons: about the request itself, not the carrier's health."""
    return type(exc) is CarrierApiError and exc.status is not None and 400 <= exc.status < 500


def _reason(errors: Iterable[ApiErrorDetail]) -> str:
    return "; ".join(e.message or e.code for e in errors)


# ---------------------------------------------------------------- the adapter


class CdekBooking:
    """`BookingApi` for one CDEK account; it calls back (`CallsBack`) and prints by call (`PrintsByCall`)."""

    prints_labels = True
    calls = (ORDER_STATUS, PRINT_FORM)

    def __init__(
        self,
        client: CdekClient,
        *,
        code: str = "cdek",
        timeout_s: float = 10.0,
        label_poll_pauses_s: Sequence[float] = LABEL_POLL_PAUSES_S,
    ) -> None:
        self.client = client
        self.code = code
        self.timeout_s = timeout_s
        self._label_pauses_s = tuple(label_poll_pauses_s)

    def __repr__(self) -> str:
        return f"CdekBooking({self.code!r}, {self.client.base_url!r})"

    async def _call(
        self, method: str, path: str, *, body: bytes | None = None, params: dict[str, str] | None = None
    ) -> bytes:
        return await within(self.timeout_s, self.code, self.client.call(method, path, body=body, params=params))

    async def create(self, order: CarrierOrder) -> OrderState:
        try:
            answer = await self._call("POST", ORDERS_PATH, body=order_body(order))
        except CarrierApiError as exc:
            if is_refusal(exc) and exc.errors:
                return OrderState(OrderStatus.INVALID, "", errors=exc.errors)
            raise
        return read_order(answer, self.code)

    async def find(self, number: str) -> OrderState | None:
        try:
            answer = await self._call("GET", ORDERS_PATH, params={"im_number": number})
        except CarrierApiError as exc:
            if is_not_found(exc):
                return None
            raise
        state = read_order(answer, self.code)
        return None if not state.carrier_ref else state

    async def follow(self, carrier_ref: str) -> OrderState:
        return read_order(await self._call("GET", f"{ORDERS_PATH}/{carrier_ref}"), self.code)

    async def cancel(self, carrier_ref: str) -> None:
        try:
            answer = await self._call("DELETE", f"{ORDERS_PATH}/{carrier_ref}")
        except CarrierApiError as exc:
            if is_not_found(exc) or not is_refusal(exc):
                raise
            raise CancelRefused(self.code, _reason(exc.errors) or str(exc)) from None
        try:
            entity = ow.entity_decoder.decode(answer)
        except msgspec.DecodeError as exc:
            raise CarrierApiError(self.code, f"unreadable cancel answer ({exc})") from None
        requests = entity.requests or []
        if any(r.state.upper() == "INVALID" for r in requests):
            raise CancelRefused(self.code, _reason(_invalid_errors(requests)) or "refused")

    async def label(self, carrier_ref: str, paper: str) -> bytes | None:
        return await self.made_label(await self.order_label(carrier_ref, paper))

    async def order_label(self, carrier_ref: str, paper: str) -> str:
        body = barcode_body(carrier_ref, paper)
        entity = read_entity(await self._call("POST", BARCODES_PATH, body=body), self.code, "label")
        assert entity.entity is not None and entity.entity.uuid  # read_entity saw to it
        return entity.entity.uuid

    async def made_label(self, print_ref: str, *, wait: bool = True) -> bytes | None:
        path = f"{BARCODES_PATH}/{print_ref}"
        for pause in self._label_pauses_s if wait else (0.0,):
            if pause:
                await asyncio.sleep(pause)
            url = label_url(await self._call("GET", path), self.code)
            if url is not None:
                return await self.fetch_label(url)
        return None

    async def fetch_label(self, url: str) -> bytes:
        pdf = await within(self.timeout_s, self.code, self.client.fetch_pdf(url))
        if not pdf.startswith(b"%PDF"):
            raise CarrierApiError(self.code, "label is not a PDF")
        return pdf

    async def request_intake(self, intake: IntakeRequest) -> str:
        body = ow.encode(intake_request(intake))
        answer = read_entity(await self._call("POST", INTAKES_PATH, body=body), self.code, "pick-up")
        assert answer.entity is not None and answer.entity.uuid
        return answer.entity.uuid

    async def cancel_intake(self, carrier_ref: str) -> None:
        read_entity(await self._call("DELETE", f"{INTAKES_PATH}/{carrier_ref}"), self.code, "pick-up cancel")

    async def subscribe(self, url: str, kind: str = ORDER_STATUS) -> str:
        """CDEK told to call `url` with every `kind` event of the account; once, however often asked."""
        listed = msgspec.json.decode(await self._call("GET", WEBHOOKS_PATH))
        for hook in listed if isinstance(listed, list) else []:
            if isinstance(hook, dict) and hook.get("url") == url and hook.get("type") == kind and hook.get("uuid"):
                return str(hook["uuid"])
        body = msgspec.json.encode({"type": kind, "url": url})
        return str(read_entity(await self._call("POST", WEBHOOKS_PATH, body=body), self.code, "webhook").entity.uuid)  # type: ignore[union-attr]
