"""Webhooks for the shop: what happens to its shipments, told to its own URLs, signed, at least once.

Outside in: the shop registers an endpoint (`POST /v1/webhooks`: a URL and the events it wants)
and is shown its signing secret once. A change to a shipment writes its event in the same
transaction as the change (`outbox.emit`: the outbox), with one delivery per endpoint that wants
it and a job for the endpoint's lane of that shipment; a crash between the two loses nothing.
The job (`sender.Sender.run`, on any worker) delivers the lane's events one at a time in the
order they happened, so a shipment's events arrive in order; a delivery that fails is retried
with exponential backoff for 24 hours, then marked failed (the lane moves on) and can be replayed
(`POST /v1/webhooks/{id}/replay`). Every attempt is kept with its delivery.

Each request carries `Carrier-Router-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the secret>` (the scheme Stripe's receivers know) and the event's id, which a
receiver uses to drop the duplicates at-least-once delivery may bring.
"""

from router.webhooks.model import EVENT_TYPES, EventType
from router.webhooks.outbox import emit

__all__ = ["EVENT_TYPES", "EventType", "emit"]
