"""RetailCRM (Simla abroad) delivery-integration module.

The CRM calls this service from its order screen: `calculate` quotes every carrier the shop
uses and offers their pickup points, `save` records the offer the buyer took at the price the
buyer saw, `get`/`delete` read and cancel it, `tariffList` and `shipmentPointList` fill the
CRM's settings pages. Each connected CRM account is known by its own `clientId`.

Modules, outside in: `handlers` (HTTP, form fields, answers' envelope), `entities` (the CRM's
request types), `callbacks` (what each callback does), `answers` (the CRM's response types),
`accounts` and `deliveries` (state), `registration` and `crm` (connecting an account),
`cli`, `openapi`.
"""
