"""Tracking: where every booked parcel is, in one status language, and what that teaches.

Outside in: carriers tell of their parcels in their own words; `carriers.tracking` maps each
carrier's codes to one small set of statuses (`Status`: created … delivered, returned, lost).
Events reach a shipment three ways, and `Tracker.take` (`tracker.py`) keeps each once however
often and in whatever order it comes, its history ordered by the carrier's time, not arrival:

- CDEK calls the service's inbound URL (`inbound.py`: `POST /v1/inbound/cdek/{token}`; CDEK signs
  nothing, so the URL carries a secret and each event is matched to one of our orders by CDEK's
  uuid or number);
- every open shipment of a carrier with an API is polled (`poll` jobs, spread over all workers
  through the records' job claims, within each carrier's rate limit shared through the store),
  which also covers events a webhook missed;
- partners without an API are told by import or by hand (`POST /v1/shipments/{id}/events`).

When a shipment's latest status changes, its row is updated and the shop's webhooks told in the
same transaction (`shipment.status_changed`). A final status (delivered, returned, lost,
damaged) becomes a delivery outcome for the statistics that feed learned dates, badges and
suspensions (`router.history`), so the service learns from what happens without a CSV.
`GET /v1/track/{tracking_number}` shows a buyer the history with city-level places and nothing
personal (`public.py`).
"""
