"""The `integrationModule` that registers this service in a CRM account as a delivery module.

Field names follow `RetailCrm\\Api\\Model\\Entity\\Integration\\IntegrationModule` and
`…\\Integration\\Delivery\\DeliveryConfiguration` (with `Status` and `DeliveryDataField`) in the
CRM's PHP client. The CRM calls `baseUrl` followed by each action's path.
"""

from __future__ import annotations

from typing import Any

from router.integrations.retailcrm.accounts import Account
from router.integrations.retailcrm.entities import QUOTE_ID_FIELD

PREFIX = "/integrations/retailcrm"
# The CRM calls `{baseUrl}/{action path}` (its docs write it so, and its own module bundle
# registers paths without a leading slash), so baseUrl carries the prefix and each path is
# relative to it. Every action listed here is served (router/api/routes.py). The published API
# also defines `print`, `shipmentSave` and `shipmentDelete`; they are left out because this
# service books nothing with the carriers: it has no label to print and no courier to send for
# the parcels, and advertising them would have the CRM's managers wait for what never comes.
ACTIONS = {
    "calculate": "calculate",
    "save": "save",
    "get": "get",
    "delete": "delete",
    "shipmentPointList": "shipmentPointList",
    "tariffList": "tariffList",
}


def path(action: str) -> str:
    """Where the service serves an action: what the CRM calls, baseUrl being the public URL."""
    return f"{PREFIX}/{ACTIONS[action]}"


PAYER_TYPES = ["receiver", "sender"]
COUNTRIES = ["RU"]
# The one status a delivery has here: saved with its quoted price. Carrier tracking would add more.
STATUSES = [
    {
        "code": "new",
        "name": "Saved at the quoted price",
        "isEditable": True,
        "isError": False,
        "isPreprocessing": False,
    }
]
DELIVERY_DATA_FIELDS = [
    {
        "code": QUOTE_ID_FIELD,
        "label": "Quote",
        "hint": "The quote whose price this delivery keeps; filled in by the calculation",
        "type": "text",
        "multiple": False,
        "visible": True,
        "required": False,
        "affectsCost": False,
        "editable": False,
    }
]


def integration_module(account: Account, client_id: str, public_url: str, name: str) -> dict[str, Any]:
    service_url = public_url.rstrip("/")
    return {
        "code": account.module_code,
        "integrationCode": account.module_code,
        "active": account.active,
        "name": name,
        "clientId": client_id,
        "baseUrl": service_url + PREFIX,
        "accountUrl": service_url + "/",
        "availableCountries": COUNTRIES,
        "integrations": {
            "delivery": {
                "description": "Quotes every carrier at once, offers their pickup points, and keeps the price the buyer saw.",
                "actions": ACTIONS,
                "payerType": PAYER_TYPES,
                "rateDeliveryCost": True,
                "allowPackages": True,
                "codAvailable": True,
                "selfShipmentAvailable": True,
                "allowTrackNumber": True,
                "availableCountries": COUNTRIES,
                "statusList": STATUSES,
                "deliveryDataFieldList": DELIVERY_DATA_FIELDS,
            }
        },
    }
