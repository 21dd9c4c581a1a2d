"""The CRM's response types as msgspec Structs, built from domain values and encoded through them.

Field names follow `RetailCrm\\Api\\Model\\Callback\\Entity\\Delivery\\ResponseProperty` and
`…\\Delivery\\Terminal`/`Tariff` in the CRM's PHP client. Absent values are left out rather
than sent as null. The OpenAPI fragment's answers are generated from these same types.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from pickup_points.hours import format_hours
from pickup_points.model import PickupPoint
from router.core.models import CarrierInfo, DeliveryType, Offer, ServiceInfo
from router.integrations.retailcrm.callbacks import Offered
from router.integrations.retailcrm.deliveries import SavedDelivery
from router.shipping.model import Pickup

# The CRM's two kinds of tariff.
TariffType = Literal["courier", "selfDelivery"]
TARIFF_TYPES: dict[DeliveryType, TariffType] = {DeliveryType.COURIER: "courier", DeliveryType.PICKUP: "selfDelivery"}
_POINT_KINDS = {"pvz": "pickup point", "locker": "parcel locker", "post": "post office", "store": "store"}
# The CRM's costs are JSON numbers (PHP floats): the encoder writes a Decimal's own digits as one,
# and the schema says so (`x-type`: see router/integrations/retailcrm/openapi.py).
Rubles = Annotated[Decimal, Meta(description="Roubles, as quoted", extra_json_schema={"x-type": "number"})]
ENCODER = msgspec.json.Encoder(decimal_format="number")


class _Answer(msgspec.Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=True):
    pass


class Failure(_Answer):
    """The CRM's error envelope; it shows errorMsg to the manager."""

    success: Literal[False]
    error_msg: str


class Coordinates(_Answer):
    latitude: float
    longitude: float


class Terminal(_Answer):
    """A pickup point; code is the point's id here (network:code)."""

    code: str
    name: str
    address: str
    schedule: str
    description: str
    coordinates: Coordinates
    cost: Rubles | UnsetType = UNSET


class CalculatedData(_Answer):
    """Delivery data fields; quoteId comes back in save."""

    quote_id: str


class ResponseCalculate(_Answer):
    code: Annotated[str, Meta(description="The offer id, carrier:service")]
    group: str
    name: str
    type: TariffType
    description: str
    cost: Rubles
    min_term: Annotated[int, Meta(description="Business days")]
    max_term: int
    extra_data: CalculatedData
    pickuppoint_list: list[Terminal] | UnsetType = UNSET


class Tariff(_Answer):
    code: str
    name: str
    description: str
    type: TariffType


class DeliveryData(_Answer):
    quote_id: str
    pickup_point: str | UnsetType = UNSET
    shipment_id: Annotated[str, Meta(description="The shipment booked with the carrier")] | UnsetType = UNSET


class PickupData(_Answer):
    carrier: str
    status: str
    carrier_pickup_id: str | UnsetType = UNSET
    note: str | UnsetType = UNSET


class ResponseShipmentSave(_Answer):
    shipment_id: Annotated[str, Meta(description="The pick-up's id here; shipmentDelete names it")]
    extra_data: PickupData


class ResponseSave(_Answer):
    delivery_id: str
    cost: Rubles
    status: str
    extra_data: DeliveryData
    track_number: Annotated[str, Meta(description="The carrier's tracking number, once booked")] | UnsetType = UNSET


class StatusInfo(_Answer):
    code: str
    updated_at: Annotated[str, Meta(extra_json_schema={"format": "date-time"})]


Handed = Annotated[dict[str, Any], Meta(description="A DeliveryAddress, as the CRM sent it")]


class ResponseLoadDeliveryData(_Answer):
    cost: Rubles
    shipment_date: date
    delivery_date: date
    tariff: str
    tariff_name: str
    status: StatusInfo
    extra_data: DeliveryData
    payer_type: str | UnsetType = UNSET
    shipment_address: Handed | UnsetType = UNSET
    delivery_address: Handed | UnsetType = UNSET
    track_number: str | UnsetType = UNSET


def success(result: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True}
    if result is not None:
        body["result"] = result
    return body


def failure(message: str) -> Failure:
    return Failure(success=False, error_msg=message)


def terminal(point: PickupPoint, cost: Decimal | None = None) -> Terminal:
    return Terminal(
        code=point.id,
        name=point.name,
        address=", ".join(part for part in (point.city, point.address) if part),
        schedule=format_hours(point.hours),
        description=_POINT_KINDS.get(point.type.value, point.type.value),
        coordinates=Coordinates(latitude=point.lat, longitude=point.lon),
        cost=UNSET if cost is None else cost,
    )


def _description(offer: Offer) -> str:
    eta = offer.eta
    days = str(eta.min_days) if eta.min_days == eta.max_days else f"{eta.min_days}–{eta.max_days}"
    estimate = (
        "Оценка, цена не закреплена (служба доставки не отвечает): рассчитайте заново перед сохранением. "
        if offer.stale
        else ""
    )
    return (
        f"{estimate}{days} раб. дн.; отправка {eta.ship_date:%d.%m}, доставка {eta.min_date:%d.%m}–{eta.max_date:%d.%m}"
    )


def tariff_name(offer: Offer) -> str:
    """The tariff as the CRM's managers read it: in Russian, the language the CRM speaks."""
    return f"{offer.carrier_name_ru or offer.carrier_name}: {offer.service_name_ru or offer.service_name}"


def calculate_result(offered: Sequence[Offered]) -> list[ResponseCalculate]:
    results = []
    for item in offered:
        offer = item.offer
        pickup = offer.delivery_type is DeliveryType.PICKUP
        results.append(
            ResponseCalculate(
                code=offer.id,
                group=offer.carrier_name_ru or offer.carrier_name,
                name=tariff_name(offer),
                type=TARIFF_TYPES[offer.delivery_type],
                description=_description(offer),
                cost=offer.price.total,
                min_term=offer.eta.min_days,
                max_term=offer.eta.max_days,
                extra_data=CalculatedData(quote_id=item.quote_id),
                pickuppoint_list=[terminal(p, offer.price.total) for p in item.points] if pickup else UNSET,
            )
        )
    return results


def tariff_list(tariffs: Iterable[tuple[CarrierInfo, ServiceInfo]]) -> list[Tariff]:
    return [
        Tariff(
            code=f"{carrier.code}:{service.code}",
            name=f"{carrier.name_ru or carrier.name}: {service.name_ru or service.name}",
            description=f"{carrier.name_ru or carrier.name}, "
            + ("в пункт выдачи" if service.delivery_type is DeliveryType.PICKUP else "до двери"),
            type=TARIFF_TYPES[service.delivery_type],
        )
        for carrier, service in tariffs
    ]


def _extra(saved: SavedDelivery) -> DeliveryData:
    return DeliveryData(
        quote_id=saved.quote_id, pickup_point=saved.pickup_point or UNSET, shipment_id=saved.shipment_id or UNSET
    )


def save_result(saved: SavedDelivery) -> ResponseSave:
    return ResponseSave(
        delivery_id=saved.id,
        cost=saved.cost,
        status=saved.status,
        extra_data=_extra(saved),
        track_number=saved.track_number or UNSET,
    )


def shipment_save_result(pickup: Pickup) -> ResponseShipmentSave:
    return ResponseShipmentSave(
        shipment_id=pickup.id,
        extra_data=PickupData(
            carrier=pickup.carrier,
            status=pickup.status,
            carrier_pickup_id=pickup.carrier_pickup_id or UNSET,
            note=pickup.note or UNSET,
        ),
    )


def load_result(saved: SavedDelivery) -> ResponseLoadDeliveryData:
    return ResponseLoadDeliveryData(
        cost=saved.cost,
        shipment_date=saved.ship_date,
        delivery_date=saved.delivery_date,
        tariff=saved.tariff,
        tariff_name=saved.tariff_name,
        status=StatusInfo(code=saved.status, updated_at=saved.saved_at.isoformat(timespec="seconds")),
        extra_data=_extra(saved),
        payer_type=saved.payer_type or UNSET,
        shipment_address=saved.shipment_address or UNSET,
        delivery_address=saved.delivery_address or UNSET,
        track_number=saved.track_number or UNSET,
    )
