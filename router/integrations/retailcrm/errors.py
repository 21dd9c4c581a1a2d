"""Why a callback is refused; each becomes `{"success": false, "errorMsg": …}` with its status.

    CallbackError
    ├── Malformed       a field is missing, not JSON, or of the wrong type; names the field (400)
    ├── UnknownClient   no clientId, or one no connected account has (403)
    ├── Refused         understood, but cannot be done: an expired or unknown quote on save (400)
    ├── DeliveryUnknown no saved delivery with that id for this account (404)
    └── PickupUnknown   no courier pick-up with that id for this account (404)

The CRM shows `errorMsg` to the manager as it is, so each message says what to do next. Outside
the tree, a store or records database that does not answer (`router.store.StoreUnavailable`,
`router.records.RecordsUnavailable`) is a 503 with Retry-After that says so, never a "not
found" for a delivery that is only out of reach for a moment.
"""

from __future__ import annotations

from router.core.errors import RouterError


class CallbackError(RouterError):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Malformed(CallbackError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class UnknownClient(CallbackError):
    status = 403


class Refused(CallbackError):
    pass


class DeliveryUnknown(CallbackError):
    status = 404

    def __init__(self, delivery_id: str) -> None:
        super().__init__(f"no delivery {delivery_id!r} was saved through this module")
        self.delivery_id = delivery_id


class PickupUnknown(CallbackError):
    status = 404

    def __init__(self, pickup_id: str) -> None:
        super().__init__(f"no courier pick-up {pickup_id!r} was arranged through this module")
        self.pickup_id = pickup_id
