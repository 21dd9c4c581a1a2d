"""CDEK's order statuses in our status language, and its status histories and webhook calls read.

`CDEK_STATUSES` holds every order status code CDEK API v2 is known to send, with CDEK's own
Russian name and an English one. The list is CDEK's appendix "Статусы заказов" (api-docs.cdek.ru,
"Приложение. Статусы заказа"), checked against the status enums of public CDEK SDKs and plugins
(Spoleto.Delivery's `OrderStatus`, the CDEK PHP SDK's `STATUS_*` constants, and integrations that
still receive the older spellings). Those older spellings (`READY_TO_SHIP_AT_SENDING_OFFICE`,
`MET_AT_TRANSIT_OFFICE`, `ISSUED_FOR_DELIVERY`, ...) name the same steps as the current codes and
are mapped alike.

Decisions the table encodes:
- `ACCEPTED` (taken for checking) and `CREATED` (checked, has its number) are both `created`:
  the parcel is still with the shop.
- `INVALID` is `cancelled`: CDEK refused the order, so nothing will travel; the booking shows the
  refusal with CDEK's errors (`carriers.booking.OrderStatus.INVALID`).
- `RETURNED_TO_*_WAREHOUSE` are not returns to the shop (CDEK: "этот статус не означает возврат
  груза отправителю"): a parcel put back on a shelf in the sender, transit or recipient city. In
  the recipient city it follows a failed attempt at the door: `delivery_failed`.
- `NOT_DELIVERED` (the buyer refused or never came) and `POSTOMAT_SEIZED` (storage in a locker ran
  out) are `delivery_failed`; what follows them is the way back to the shop.
- On the way back (`is_return`: a webhook's flag, or any status after a failed delivery in a
  history) the same codes mean the return: moving is `returning`, and arriving where the shop
  collects it (`DELIVERED`, `POSTOMAT_RECEIVED`, `ACCEPTED_AT_PICK_UP_POINT`, `POSTOMAT_POSTED`,
  `RETURNED_TO_SENDER_CITY_WAREHOUSE`) is `returned`. `SENT_TO_SENDER_CITY` and
  `ACCEPTED_IN_SENDER_CITY` only happen on the way back and are `returning` either way.
- CDEK has no status for a lost or a damaged parcel: those become known through a claim, and are
  recorded by hand. A lost parcel simply stops moving.

An unknown code is kept: `cdek_status` answers `Status.UNKNOWN` and the event keeps CDEK's code
and text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import msgspec

from carriers.cdek import orders_wire as ow
from carriers.errors import CarrierResponseError
from carriers.tracking import Status, TrackingEvent

__all__ = [
    "CDEK_STATUSES",
    "ORDER_STATUS",
    "CdekStatusCall",
    "StatusInfo",
    "cdek_status",
    "read_statuses",
    "read_webhook",
]

CARRIER = "cdek"
ORDER_STATUS = "ORDER_STATUS"


class StatusInfo(NamedTuple):
    status: Status
    name_ru: str
    name_en: str


_S = Status
CDEK_STATUSES: dict[str, StatusInfo] = {
    # the order on record
    "ACCEPTED": StatusInfo(_S.CREATED, "Принят", "Accepted for checking"),
    "CREATED": StatusInfo(_S.CREATED, "Создан", "Created"),
    "REMOVED": StatusInfo(_S.CANCELLED, "Удален", "Removed"),
    "INVALID": StatusInfo(_S.CANCELLED, "Некорректный заказ", "Invalid order"),
    # the sender's city
    "RECEIVED_AT_SHIPMENT_WAREHOUSE": StatusInfo(
        _S.ACCEPTED, "Принят на склад отправителя", "At the sender's warehouse"
    ),
    "RECEIVED_AT_SENDER_WAREHOUSE": StatusInfo(_S.ACCEPTED, "Принят на склад отправителя", "At the sender's warehouse"),
    "DELIVERED_SENDER_CITY_CDEK": StatusInfo(
        _S.ACCEPTED, "Сдан в СДЭК в г. отправителе", "Handed to CDEK in the sender's city"
    ),
    "READY_FOR_SHIPMENT_IN_SENDER_CITY": StatusInfo(
        _S.ACCEPTED, "Выдан на отправку в г. отправителе", "Ready to ship in the sender's city"
    ),
    "READY_TO_SHIP_AT_SENDING_OFFICE": StatusInfo(
        _S.ACCEPTED, "Выдан на отправку в г. отправителе", "Ready to ship in the sender's city"
    ),
    "RETURNED_TO_SENDER_CITY_WAREHOUSE": StatusInfo(
        _S.ACCEPTED, "Возвращен на склад отправителя", "Back at the sender's city warehouse"
    ),
    "RETURNED_TO_SENDER_WAREHOUSE": StatusInfo(
        _S.ACCEPTED, "Возвращен на склад отправителя", "Back at the sender's city warehouse"
    ),
    "TAKEN_BY_TRANSPORTER_FROM_SENDER_CITY": StatusInfo(
        _S.IN_TRANSIT, "Сдан перевозчику в г. отправителе", "Handed to the transporter in the sender's city"
    ),
    "PASSED_TO_CARRIER_AT_SENDING_OFFICE": StatusInfo(
        _S.IN_TRANSIT, "Сдан перевозчику в г. отправителе", "Handed to the transporter in the sender's city"
    ),
    # transit
    "SENT_TO_TRANSIT_CITY": StatusInfo(_S.IN_TRANSIT, "Отправлен в г. транзит", "Sent to a transit city"),
    "SEND_TO_TRANSIT_OFFICE": StatusInfo(_S.IN_TRANSIT, "Отправлен в г. транзит", "Sent to a transit city"),
    "ACCEPTED_IN_TRANSIT_CITY": StatusInfo(_S.IN_TRANSIT, "Встречен в г. транзите", "Arrived in a transit city"),
    "MET_AT_TRANSIT_OFFICE": StatusInfo(_S.IN_TRANSIT, "Встречен в г. транзите", "Arrived in a transit city"),
    "ACCEPTED_AT_TRANSIT_WAREHOUSE": StatusInfo(_S.IN_TRANSIT, "Принят на склад транзита", "At a transit warehouse"),
    "ACCEPTED_TO_OFFICE_TRANSIT_WAREHOUSE": StatusInfo(
        _S.IN_TRANSIT, "Принят на склад транзита", "At a transit warehouse"
    ),
    "ENTERED_TO_OFFICE_TRANSIT_WAREHOUSE": StatusInfo(
        _S.IN_TRANSIT, "Поступил в г. транзита", "Entered a transit warehouse"
    ),
    "RETURNED_TO_TRANSIT_WAREHOUSE": StatusInfo(
        _S.IN_TRANSIT, "Возвращен на склад транзита", "Back at a transit warehouse"
    ),
    "READY_FOR_SHIPMENT_IN_TRANSIT_CITY": StatusInfo(
        _S.IN_TRANSIT, "Выдан на отправку в г. транзите", "Ready to ship in a transit city"
    ),
    "READY_TO_SHIP_IN_TRANSIT_OFFICE": StatusInfo(
        _S.IN_TRANSIT, "Выдан на отправку в г. транзите", "Ready to ship in a transit city"
    ),
    "TAKEN_BY_TRANSPORTER_FROM_TRANSIT_CITY": StatusInfo(
        _S.IN_TRANSIT, "Сдан перевозчику в г. транзите", "Handed to the transporter in a transit city"
    ),
    "PASSED_TO_CARRIER_AT_TRANSIT_OFFICE": StatusInfo(
        _S.IN_TRANSIT, "Сдан перевозчику в г. транзите", "Handed to the transporter in a transit city"
    ),
    "SENT_TO_RECIPIENT_CITY": StatusInfo(_S.IN_TRANSIT, "Отправлен в г. получатель", "Sent to the recipient's city"),
    "SEND_TO_RECIPIENT_OFFICE": StatusInfo(_S.IN_TRANSIT, "Отправлен в г. получатель", "Sent to the recipient's city"),
    # the way back (these two only ever happen on it)
    "SENT_TO_SENDER_CITY": StatusInfo(_S.RETURNING, "Отправлен в г. отправитель", "Sent back to the sender's city"),
    "SEND_TO_SENDING_OFFICE": StatusInfo(_S.RETURNING, "Отправлен в г. отправитель", "Sent back to the sender's city"),
    "ACCEPTED_IN_SENDER_CITY": StatusInfo(
        _S.RETURNING, "Встречен в г. отправителе", "Arrived back in the sender's city"
    ),
    "MET_AT_SENDING_OFFICE": StatusInfo(_S.RETURNING, "Встречен в г. отправителе", "Arrived back in the sender's city"),
    # the recipient's city
    "ACCEPTED_IN_RECIPIENT_CITY": StatusInfo(
        _S.IN_TRANSIT, "Встречен в г. получателе", "Arrived in the recipient's city"
    ),
    "MET_AT_RECIPIENT_OFFICE": StatusInfo(_S.IN_TRANSIT, "Встречен в г. получателе", "Arrived in the recipient's city"),
    "ACCEPTED_AT_RECIPIENT_CITY_WAREHOUSE": StatusInfo(
        _S.IN_TRANSIT, "Принят на склад доставки", "At the delivery warehouse, awaiting the courier"
    ),
    "ACCEPTED_AT_DELIVERY_WAREHOUSE": StatusInfo(
        _S.IN_TRANSIT, "Принят на склад доставки", "At the delivery warehouse, awaiting the courier"
    ),
    "ENTERED_TO_DELIVERY_WAREHOUSE": StatusInfo(
        _S.IN_TRANSIT, "Поступил на склад доставки", "Entered the delivery warehouse"
    ),
    "ENTERED_TO_WAREHOUSE_ON_DEMAND": StatusInfo(
        _S.IN_TRANSIT, "Поступил на склад до востребования", "Entered the pickup point's warehouse"
    ),
    "ACCEPTED_AT_PICK_UP_POINT": StatusInfo(
        _S.AT_PICKUP_POINT, "Принят на склад до востребования", "Ready for collection at the pickup point"
    ),
    "ACCEPTED_AT_WAREHOUSE_ON_DEMAND": StatusInfo(
        _S.AT_PICKUP_POINT, "Принят на склад до востребования", "Ready for collection at the pickup point"
    ),
    "POSTOMAT_POSTED": StatusInfo(_S.AT_PICKUP_POINT, "Заложен в постамат", "Placed in the parcel locker"),
    "TAKEN_BY_COURIER": StatusInfo(_S.OUT_FOR_DELIVERY, "Выдан на доставку", "Out for delivery"),
    "ISSUED_FOR_DELIVERY": StatusInfo(_S.OUT_FOR_DELIVERY, "Выдан на доставку", "Out for delivery"),
    "RETURNED_TO_RECIPIENT_CITY_WAREHOUSE": StatusInfo(
        _S.DELIVERY_FAILED, "Возвращен на склад доставки", "Back at the delivery warehouse after a failed attempt"
    ),
    "RETURNED_TO_DELIVERY_WAREHOUSE": StatusInfo(
        _S.DELIVERY_FAILED, "Возвращен на склад доставки", "Back at the delivery warehouse after a failed attempt"
    ),
    # the end
    "DELIVERED": StatusInfo(_S.DELIVERED, "Вручен", "Delivered"),
    "POSTOMAT_RECEIVED": StatusInfo(_S.DELIVERED, "Изъят из постамата клиентом", "Collected from the parcel locker"),
    "NOT_DELIVERED": StatusInfo(_S.DELIVERY_FAILED, "Не вручен", "Not delivered, going back to the sender"),
    "POSTOMAT_SEIZED": StatusInfo(
        _S.DELIVERY_FAILED, "Изъят из постамата курьером", "Taken out of the locker uncollected"
    ),
    # international
    "IN_CUSTOMS_INTERNATIONAL": StatusInfo(
        _S.IN_TRANSIT, "Таможенное оформление в стране отправления", "In customs in the sending country"
    ),
    "SHIPPED_TO_DESTINATION": StatusInfo(
        _S.IN_TRANSIT, "Отправлено в страну назначения", "Shipped to the destination country"
    ),
    "PASSED_TO_TRANSIT_CARRIER": StatusInfo(
        _S.IN_TRANSIT, "Передано транзитному перевозчику", "Handed to a transit carrier"
    ),
    "IN_CUSTOMS_LOCAL": StatusInfo(
        _S.IN_TRANSIT, "Таможенное оформление в стране назначения", "In customs in the destination country"
    ),
    "CUSTOMS_COMPLETE": StatusInfo(_S.IN_TRANSIT, "Таможенное оформление завершено", "Customs cleared"),
}

# What a code means on the way back to the shop, where that differs from the way out.
RETURN_ARRIVALS = frozenset(
    {
        "DELIVERED",
        "POSTOMAT_RECEIVED",
        "ACCEPTED_AT_PICK_UP_POINT",
        "ACCEPTED_AT_WAREHOUSE_ON_DEMAND",
        "POSTOMAT_POSTED",
        "RETURNED_TO_SENDER_CITY_WAREHOUSE",
        "RETURNED_TO_SENDER_WAREHOUSE",
    }
)
# Statuses after which the rest of a history is the way back.
RETURN_STARTS = frozenset({"NOT_DELIVERED", "POSTOMAT_SEIZED"})
_STAY_ON_RETURN = frozenset({Status.CANCELLED, Status.DELIVERY_FAILED, Status.UNKNOWN})


def cdek_status(code: str, is_return: bool = False) -> Status:
    """Our status for a CDEK code; on the way back to the shop (`is_return`) as the return sees it."""
    info = CDEK_STATUSES.get(code.strip().upper())
    if info is None:
        return Status.UNKNOWN
    if not is_return or info.status in _STAY_ON_RETURN:
        return info.status
    return Status.RETURNED if code.strip().upper() in RETURN_ARRIVALS else Status.RETURNING


def status_time(text: str) -> datetime:
    """CDEK's `2024-03-05T10:00:00+0300` in its own offset; a time without one is UTC (CDEK's servers')."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CarrierResponseError(f"{CARRIER}: status time {text!r} is not a date and time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _text(code: str, given: str | None) -> str:
    info = CDEK_STATUSES.get(code.strip().upper())
    return given or (info.name_ru if info else code)


def _city_code(value: str | int | None) -> str | None:
    return None if value in (None, "") else str(value)


def read_statuses(
    statuses: Sequence[ow.Status] | bytes, *, carrier: str = CARRIER, is_return: bool = False
) -> list[TrackingEvent]:
    """An order's `statuses[]` (newest first, as CDEK lists them) as events, oldest first.

    `is_return`: the order itself is a return. Otherwise everything after a failed delivery
    (`NOT_DELIVERED`, `POSTOMAT_SEIZED`) is read as the way back.
    """
    if isinstance(statuses, bytes | bytearray):
        try:
            statuses = ow.statuses_decoder.decode(statuses)
        except msgspec.DecodeError as exc:
            raise CarrierResponseError(f"{carrier}: unreadable statuses ({exc})") from None
    timed = sorted(((status_time(s.date_time), i, s) for i, s in enumerate(statuses)), key=lambda t: (t[0], -t[1]))
    events: list[TrackingEvent] = []
    returning = is_return
    for at, _, s in timed:
        code = s.code.strip().upper()
        events.append(
            TrackingEvent(
                carrier=carrier,
                carrier_code=s.code,
                carrier_text=_text(code, s.name),
                status=cdek_status(code, returning),
                at=at,
                city=s.city or None,
                city_code=_city_code(s.city_code),
                is_return=returning,
                reason_code=s.reason_code or None,
            )
        )
        returning = returning or code in RETURN_STARTS
    return events


@dataclass(frozen=True, slots=True)
class CdekStatusCall:
    """One `ORDER_STATUS` webhook call: the event, and what matches it to one of our orders."""

    event: TrackingEvent
    uuid: str  # CDEK's order uuid (our `carrier_ref`)
    cdek_number: str | None  # the tracking number
    number: str | None  # our shipment id, as the order was made with it


def read_webhook(body: bytes, *, carrier: str = CARRIER) -> CdekStatusCall:
    """An `ORDER_STATUS` call's body; anything else raises `CarrierResponseError` saying what."""
    try:
        call = ow.status_call_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise CarrierResponseError(f"{carrier}: unreadable status call ({exc})") from None
    if call.type.upper() != ORDER_STATUS:
        raise CarrierResponseError(f"{carrier}: a {call.type!r} call is not an {ORDER_STATUS} call")
    attrs = call.attributes
    if not call.uuid or not attrs.code:
        raise CarrierResponseError(f"{carrier}: status call names no order or no status")
    code = attrs.code.strip().upper()
    event = TrackingEvent(
        carrier=carrier,
        carrier_code=attrs.code,
        carrier_text=_text(code, None),
        status=cdek_status(code, attrs.is_return),
        at=status_time(attrs.status_date_time or call.date_time),
        city=attrs.city_name or None,
        city_code=_city_code(attrs.city_code),
        is_return=attrs.is_return,
        reason_code=attrs.status_reason_code or None,
    )
    cdek_number = _city_code(attrs.cdek_number)
    return CdekStatusCall(event, call.uuid, cdek_number, attrs.number or None)
