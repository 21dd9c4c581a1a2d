"""An on-demand city courier through a Dostavista/Borzo-style business API 1.5.

wire     calculate-order, create-order, cancel-order and GET /orders as msgspec Structs
client   the only module that does HTTP with the courier API: JSON POSTs and GETs with a static token
carrier  `CourierCarrier`: the request built from a shipment, the answer read into one offer
         (pure functions, tested without a network)
booking  `CourierBooking`: orders made, followed, found by our number and cancelled
"""

from carriers.courier.booking import CourierBooking
from carriers.courier.carrier import CourierCarrier
from carriers.courier.client import CourierClient

__all__ = ["CourierBooking", "CourierCarrier", "CourierClient"]
