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
# Action name (the CRM's) → path under the service's public URL (router/api/routes.py).
ACTIONS = {
    "calculate": f"{PREFIX}/calculate",
    "save": f"{PREFIX}/save",
    "get": f"{PREFIX}/get",
    "delete": f"{PREFIX}/delete",
    "shipmentPointList": f"{PREFIX}/shipmentPointList",
    "tariffList": f"{PREFIX}/tariffList",
}
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
    base_url = public_url.rstrip("/")
    return {
        "code": account.module_code,
        "integrationCode": account.module_code,
        "active": account.active,
        "name": name,
        "clientId": client_id,
        "baseUrl": base_url,
        "accountUrl": base_url + "/",
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
