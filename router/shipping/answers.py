"""A shipment as the records keep it, read into the answers the API gives; its carrier's answer changed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

from carriers.errors import CarrierApiError, CarriersError
from router.core.models import money
from router.shipping.ledger import ShipmentRow
from router.shipping.model import CarrierProblem, Shipment, ShipmentStatus


def replace_booking(row: ShipmentRow, **changes: Any) -> Any:
    """The shipment's document with its carrier's answer changed."""
    return msgspec.structs.replace(row.document, booking=msgspec.structs.replace(row.document.booking, **changes))


def error_detail(exc: CarriersError) -> dict[str, Any]:
    detail: dict[str, Any] = {"error": str(exc)}
    if isinstance(exc, CarrierApiError):
        if exc.status is not None:
            detail["http_status"] = exc.status
        if exc.errors:
            detail["errors"] = [{"code": e.code, "message": e.message} for e in exc.errors]
    return detail


def shipment_answer(row: ShipmentRow) -> Shipment:
    document = row.document
    offer, booking = document.offer, document.booking
    errors = list(booking.errors)
    if booking.failure:
        errors.append(CarrierProblem(code="booking_failed", message=booking.failure))
    return Shipment(
        id=row.id,
        status=row.status,
        order_number=row.shop_order_number,
        quote_id=document.request.quote_id,
        offer_id=offer.id,
        carrier=row.carrier,
        carrier_name=offer.carrier_name,
        service=row.service,
        service_name=offer.service_name,
        delivery_type=offer.delivery_type,
        pickup_point_id=document.request.pickup_point_id,
        warehouse=row.warehouse,
        price=str(money(Decimal(row.price_kopecks) / 100)),
        currency=offer.price.currency,
        cash_to_collect=str(money(document.request.cash_to_collect)),
        ship_date=row.ship_date,
        tracking_number=row.tracking_number,
        tracking_url=booking.tracking_url,
        tracking_status=row.tracking_status,
        carrier_order_id=row.carrier_ref,
        label_url=f"/v1/shipments/{row.id}/label" if row.status is ShipmentStatus.BOOKED else None,
        errors=errors,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
