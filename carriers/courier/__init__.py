"""An on-demand city courier through a Dostavista/Borzo-style business API 1.5 (`calculate-order`).

wire     the calculate-order request and answer as msgspec Structs
client   the only module that does HTTP with the courier API: one JSON POST with a static token
carrier  `CourierCarrier`: the request built from a shipment, the answer read into one offer
         (pure functions, tested without a network)
"""

from carriers.courier.carrier import CourierCarrier
from carriers.courier.client import CourierClient

__all__ = ["CourierCarrier", "CourierClient"]
