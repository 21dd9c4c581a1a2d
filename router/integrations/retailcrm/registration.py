"""The `integrationModule` that registers this service in a CRM account as a delivery module.

Declared as msgspec Structs; field names follow `RetailCrm\\Api\\Model\\Entity\\Integration\\IntegrationModule` and
`…\\Integration\\Delivery\\DeliveryConfiguration` (with `Status` and `DeliveryDataField`) in the
CRM's PHP client. The CRM calls `baseUrl` followed by each action's path.
"""

from __future__ import annotations

from typing import Any

import msgspec

from carriers.tracking import Status as TrackingStatus
from router.integrations.retailcrm.accounts import Account
from router.integrations.retailcrm.entities import QUOTE_ID_FIELD

PREFIX = "/integrations/retailcrm"
# The CRM calls `{baseUrl}/{action path}` (its docs write it so, and its own module bundle
# registers paths without a leading slash), so baseUrl carries the prefix and each path is
# relative to it. Every action listed here is served (router/http/routes.py): `save` books with
# the carrier, `delete` cancels there, `print` answers the labels, `shipmentSave` and
# `shipmentDelete` arrange and call off a courier pick-up.
ACTIONS = {
    "calculate": "calculate",
    "save": "save",
    "get": "get",
    "delete": "delete",
    "print": "print",
    "shipmentSave": "shipmentSave",
    "shipmentDelete": "shipmentDelete",
    "shipmentPointList": "shipmentPointList",
    "tariffList": "tariffList",
}


def path(action: str) -> str:
    """Where the service serves an action: what the CRM calls, baseUrl being the public URL."""
    return f"{PREFIX}/{ACTIONS[action]}"


PAYER_TYPES = ["receiver", "sender"]
COUNTRIES = ["RU"]


class _Sent(msgspec.Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    pass


class Status(_Sent):
    code: str
    name: str
    is_editable: bool
    is_error: bool
    is_preprocessing: bool


class Plate(_Sent):
    """A printed form the CRM offers for an order or a shipment (pick-up); `print` gets its code."""

    type: str
    code: str
    label: str


class DeliveryDataField(_Sent):
    code: str
    label: str
    hint: str
    type: str
    multiple: bool
    visible: bool
    required: bool
    affects_cost: bool
    editable: bool


class DeliveryConfiguration(_Sent):
    description: str
    actions: dict[str, str]
    payer_type: list[str]
    rate_delivery_cost: bool
    allow_packages: bool
    cod_available: bool
    self_shipment_available: bool
    allow_track_number: bool
    available_countries: list[str]
    status_list: list[Status]
    plate_list: list[Plate]
    delivery_data_field_list: list[DeliveryDataField]


class Integrations(_Sent):
    delivery: DeliveryConfiguration


class IntegrationModule(_Sent):
    code: str
    integration_code: str
    active: bool
    name: str
    client_id: str
    base_url: str
    account_url: str
    available_countries: list[str]
    integrations: Integrations


# What `save` answers: a delivery kept at its quoted price (a carrier booked outside this
# service), and booking's own states.
BOOKING_STATUSES = [
    Status(code="new", name="Saved at the quoted price", is_editable=True, is_error=False, is_preprocessing=False),
    Status(
        code="booking", name="Being booked with the carrier", is_editable=False, is_error=False, is_preprocessing=True
    ),
    Status(code="booked", name="Booked with the carrier", is_editable=False, is_error=False, is_preprocessing=False),
    Status(code="failed", name="Refused by the carrier", is_editable=True, is_error=True, is_preprocessing=False),
    Status(code="cancelled", name="Cancelled at the carrier", is_editable=True, is_error=False, is_preprocessing=False),
]
# What the parcel's tracking pushes (router.integrations.retailcrm.tracking): the status language
# of carriers.tracking, code for code, so every status a push may carry is one the CRM knows.
# `cancelled` is booking's already. Once the carrier has the parcel the delivery is no longer the
# manager's to edit; a failed attempt, a loss or damage is theirs to act on.
TRACKING_NAMES = {
    TrackingStatus.CREATED: "Создан у перевозчика",
    TrackingStatus.ACCEPTED: "Принят перевозчиком",
    TrackingStatus.IN_TRANSIT: "В пути",
    TrackingStatus.AT_PICKUP_POINT: "Ожидает в пункте выдачи",
    TrackingStatus.OUT_FOR_DELIVERY: "Передан курьеру",
    TrackingStatus.DELIVERED: "Вручен",
    TrackingStatus.DELIVERY_FAILED: "Не удалось вручить",
    TrackingStatus.RETURNING: "Возвращается отправителю",
    TrackingStatus.RETURNED: "Возвращен отправителю",
    TrackingStatus.LOST: "Утерян",
    TrackingStatus.DAMAGED: "Поврежден",
    TrackingStatus.CANCELLED: "Отменен",
    TrackingStatus.UNKNOWN: "Статус перевозчика без соответствия",
}
TRACKING_ERRORS = frozenset({TrackingStatus.DELIVERY_FAILED, TrackingStatus.LOST, TrackingStatus.DAMAGED})
_BOOKING_CODES = {s.code for s in BOOKING_STATUSES}
STATUSES = BOOKING_STATUSES + [
    Status(
        code=status.value,
        name=name,
        is_editable=status is TrackingStatus.CREATED,
        is_error=status in TRACKING_ERRORS,
        is_preprocessing=False,
    )
    for status, name in TRACKING_NAMES.items()
    if status.value not in _BOOKING_CODES
]
DECLARED_CODES = frozenset(s.code for s in STATUSES)
# `print` makes the parcels' labels, of an order's delivery or of every parcel a pick-up collects.
PLATES = [
    Plate(type="order", code="label", label="Parcel labels"),
    Plate(type="shipment", code="label", label="Parcel labels"),
]
DELIVERY_DATA_FIELDS = [
    DeliveryDataField(
        code=QUOTE_ID_FIELD,
        label="Quote",
        hint="The quote whose price this delivery keeps; filled in by the calculation",
        type="text",
        multiple=False,
        visible=True,
        required=False,
        affects_cost=False,
        editable=False,
    )
]


def integration_module(account: Account, client_id: str, public_url: str, name: str) -> dict[str, Any]:
    """The module as the CRM's API takes it, in JSON terms."""
    service_url = public_url.rstrip("/")
    module = IntegrationModule(
        code=account.module_code,
        integration_code=account.module_code,
        active=account.active,
        name=name,
        client_id=client_id,
        base_url=service_url + PREFIX,
        account_url=service_url + "/",
        available_countries=COUNTRIES,
        integrations=Integrations(
            delivery=DeliveryConfiguration(
                description=(
                    "Quotes every carrier at once, offers their pickup points, books the chosen one at the price"
                    " the buyer saw, prints its labels and arranges the courier pick-up."
                ),
                actions=ACTIONS,
                payer_type=PAYER_TYPES,
                rate_delivery_cost=True,
                allow_packages=True,
                cod_available=True,
                self_shipment_available=True,
                allow_track_number=True,
                available_countries=COUNTRIES,
                status_list=STATUSES,
                plate_list=PLATES,
                delivery_data_field_list=DELIVERY_DATA_FIELDS,
            )
        ),
    )
    built: dict[str, Any] = msgspec.to_builtins(module)
    return built
