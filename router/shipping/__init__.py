"""Shipping: a held quote booked with its carrier, exactly once, and everything after it.

Outside in: `POST /v1/shipments` (router/http/handlers/shipments.py), the RetailCRM module and
`carrier-router allocate --book` hand a `ShipmentRequest` to the `Shipper` (`shipper.py`), which
checks it against the quote it names (`ordering.py`: the price booked is the price quoted; a bad
phone or a missing office is refused before any carrier is called) and writes the shipment and
its booking job in one transaction, keyed by the caller's idempotency key (`ledger.py`). The
job (`router.records.jobs`, claimed by any worker on any machine) books with the carrier's API
(`carriers.booking`) or, for a rate-card partner without one, here with a number from the
partner's range; it follows an asynchronous carrier until it decides, and keeps every call it
made. Labels are the carrier's own where it prints them, ours otherwise (`router.printing`);
partners get a daily manifest; carriers' couriers are asked to collect (`pickups`).

    ShippingError (router.core.errors.Refused)   its own HTTP status
    ├── ShipmentNotFound          404: none of the caller's shipments has this id
    ├── IdempotencyConflict       409: the key was used with another body
    ├── QuoteNotBookable          409: an estimate, an old quote, an offer not in it
    ├── NotCancellable            409: the carrier has the parcel, or it is past cancelling
    ├── LabelNotReady             409 with Retry-After: the carrier is still making it
    ├── PickupRefused             409: the carrier would not send a courier
    ├── PickupNotFound            404: none of the caller's pick-ups has this id
    └── CarrierUnknown            404: no carrier of this code is booked here
"""
