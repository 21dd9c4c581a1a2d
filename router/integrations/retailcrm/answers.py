"""The CRM's response types, from domain values.

Field names follow `RetailCrm\\Api\\Model\\Callback\\Entity\\Delivery\\ResponseProperty` and
`…\\Delivery\\Terminal`/`Tariff` in the CRM's PHP client. Absent values are left out rather
than sent as null.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from pickup_points.hours import format_hours
from pickup_points.model import PickupPoint
from router.core.models import CarrierInfo, DeliveryType, Offer, ServiceInfo
from router.integrations.retailcrm.callbacks import Offered
from router.integrations.retailcrm.deliveries import SavedDelivery
from router.integrations.retailcrm.entities import QUOTE_ID_FIELD

# The CRM's two kinds of tariff.
TARIFF_TYPES = {DeliveryType.COURIER: "courier", DeliveryType.PICKUP: "selfDelivery"}
_POINT_KINDS = {"pvz": "pickup point", "locker": "parcel locker", "post": "post office", "store": "store"}


def rubles(amount: Decimal) -> float:
    # The CRM's costs are JSON numbers (PHP floats); kopecks survive the trip, the shortest
    # float text of a two-place Decimal being those same digits.
    return float(amount)


def success(result: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"success": True}
    if result is not None:
        body["result"] = result
    return body


def failure(message: str) -> dict[str, Any]:
    return {"success": False, "errorMsg": message}


def terminal(point: PickupPoint, cost: Decimal | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": point.id,
        "name": point.name,
        "address": ", ".join(part for part in (point.city, point.address) if part),
        "schedule": format_hours(point.hours),
        "description": _POINT_KINDS.get(point.type.value, point.type.value),
        "coordinates": {"latitude": point.lat, "longitude": point.lon},
    }
    if cost is not None:
        body["cost"] = rubles(cost)
    return body


def _description(offer: Offer) -> str:
    eta = offer.eta
    days = str(eta.min_days) if eta.min_days == eta.max_days else f"{eta.min_days}–{eta.max_days}"
    return f"{days} business days; ships {eta.ship_date:%d.%m}, arrives {eta.min_date:%d.%m}–{eta.max_date:%d.%m}"


def calculate_result(offered: Sequence[Offered]) -> list[dict[str, Any]]:
    results = []
    for item in offered:
        offer = item.offer
        body: dict[str, Any] = {
            "code": offer.id,
            "group": offer.carrier_name,
            "name": f"{offer.carrier_name}: {offer.service_name}",
            "type": TARIFF_TYPES[offer.delivery_type],
            "description": _description(offer),
            "cost": rubles(offer.price.total),
            "minTerm": offer.eta.min_days,
            "maxTerm": offer.eta.max_days,
            "extraData": {QUOTE_ID_FIELD: item.quote_id},
        }
        if offer.delivery_type is DeliveryType.PICKUP:
            body["pickuppointList"] = [terminal(p, offer.price.total) for p in item.points]
        results.append(body)
    return results


def tariff_list(tariffs: Iterable[tuple[CarrierInfo, ServiceInfo]]) -> list[dict[str, Any]]:
    return [
        {
            "code": f"{carrier.code}:{service.code}",
            "name": f"{carrier.name}: {service.name}",
            "description": f"{carrier.name}, {'to a pickup point' if service.delivery_type is DeliveryType.PICKUP else 'to the door'}",
            "type": TARIFF_TYPES[service.delivery_type],
        }
        for carrier, service in tariffs
    ]


def _extra(saved: SavedDelivery) -> dict[str, Any]:
    extra: dict[str, Any] = {QUOTE_ID_FIELD: saved.quote_id}
    if saved.pickup_point:
        extra["pickupPoint"] = saved.pickup_point
    return extra


def save_result(saved: SavedDelivery) -> dict[str, Any]:
    return {
        "deliveryId": saved.id,
        "cost": rubles(saved.cost),
        "status": saved.status,
        "extraData": _extra(saved),
    }


def load_result(saved: SavedDelivery) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cost": rubles(saved.cost),
        "shipmentDate": saved.ship_date.isoformat(),
        "deliveryDate": saved.delivery_date.isoformat(),
        "tariff": saved.tariff,
        "tariffName": saved.tariff_name,
        "status": {"code": saved.status, "updatedAt": saved.saved_at.isoformat(timespec="seconds")},
        "extraData": _extra(saved),
    }
    if saved.payer_type:
        body["payerType"] = saved.payer_type
    if saved.shipment_address:
        body["shipmentAddress"] = saved.shipment_address
    if saved.delivery_address:
        body["deliveryAddress"] = saved.delivery_address
    return body
