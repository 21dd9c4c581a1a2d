"""What shipping refuses, each with its HTTP status (the tree is in the package docstring)."""

from __future__ import annotations

from router.core.errors import Refused


class ShippingError(Refused):
    title = "Shipping refused"


class ShipmentNotFound(ShippingError):
    status = 404
    title = "Shipment not found"

    def __init__(self, shipment_id: str) -> None:
        super().__init__(f"no shipment {shipment_id!r}")
        self.shipment_id = shipment_id


class IdempotencyConflict(ShippingError):
    title = "Idempotency-Key reused with another request"


class QuoteNotBookable(ShippingError):
    title = "The quote cannot be booked"


class NotCancellable(ShippingError):
    title = "The shipment cannot be cancelled"


class LabelNotReady(ShippingError):
    title = "The label is not ready yet"


class PickupRefused(ShippingError):
    title = "The carrier refused the pick-up"


class PickupNotFound(ShippingError):
    status = 404
    title = "Pick-up not found"


class CarrierUnknown(ShippingError):
    status = 404
    title = "Carrier unknown"
