"""RetailCRM (Simla abroad) delivery-integration module.

The CRM calls this service from its order screen: `calculate` quotes every carrier the shop
uses and offers their pickup points, `save` records the offer the buyer took at the price the
buyer saw, `get`/`delete` read and cancel it, `tariffList` and `shipmentPointList` fill the
CRM's settings pages. Each connected CRM account is known by its own `clientId`.

Modules, outside in: `handlers` (HTTP, form fields, answers' envelope), `entities` (the CRM's
request types, msgspec Structs), `reading` (those requests decoded and checked, in the
service's units), `callbacks` (what each callback does), `answers` (the CRM's response types,
Structs too), `accounts` and `deliveries` (rows of the records database, router.records),
`registration` and `crm` (connecting an account, the CRM's own API), `pushes` (the parcels'
statuses pushed to the CRM), `openapi` (the callbacks' paths, their
schemas generated from the Structs).
"""
