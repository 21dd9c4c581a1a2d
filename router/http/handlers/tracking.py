from __future__ import annotations

import hmac
import logging

import sqlalchemy as sa
from aiohttp import web

from carriers.booking import BookingApi
from carriers.cdek.booking import PRINT_FORM, CdekBooking, call_type, read_print_call
from carriers.cdek.orders_wire import PrintFormCall
from carriers.cdek.statuses import read_webhook
from carriers.errors import CarrierResponseError, CarriersError
from carriers.tracking import TrackingEvent
from router.core.errors import FieldError, InvalidRequest
from router.http import appkeys as keys
from router.http.handlers.answering import json_answer
from router.http.handlers.shipments import owner
from router.http.schemas.decode import decode_json
from router.records.tables import shipments
from router.tracking.model import EventsRequest
from router.tracking.public import track

log = logging.getLogger(__name__)


async def public_tracking(request: web.Request) -> web.Response:
    return json_answer(await track(request.app[keys.RECORDS], request.match_info["tracking_number"]))


async def add_events(request: web.Request) -> web.Response:
    """Statuses of a partner without an API, as the shop (or the partner's file) tells them."""
    body = decode_json(await request.read(), EventsRequest, title="Invalid tracking events")
    shipper = request.app[keys.SHIPPER]
    row = await shipper.ledger.get(request.match_info["shipment_id"], owner(request))
    events = [
        TrackingEvent(
            carrier=row.carrier,
            carrier_code=e.code or e.status.value,
            carrier_text=e.text or e.status.value,
            status=e.status,
            at=e.at,
            city=e.city,
        )
        for e in body.events
    ]
    await request.app[keys.TRACKER].take(row.id, events, "manual")
    return json_answer(await shipper.get(row.id, owner(request)))


async def inbound(request: web.Request) -> web.Response:
    """A carrier's call: a status, or a label made. CDEK signs nothing: the URL's token is the
    only proof, an event is taken only for an order of ours that it names, and a label only for
    a print request of ours, fetched from CDEK's own host with the account's token."""
    settings = request.app[keys.SETTINGS]
    token = settings.inbound_token
    if not token or not hmac.compare_digest(request.match_info["token"].encode(), token.encode()):
        raise web.HTTPNotFound()
    carrier = request.match_info["carrier"]
    api: BookingApi | None = request.app[keys.SHIPPER].bookings.get(carrier)
    if not isinstance(api, CdekBooking):
        raise web.HTTPNotFound()
    body = await request.read()
    try:
        if call_type(body, carrier) == PRINT_FORM:
            return await _label_made(request, carrier, read_print_call(body, carrier))
        call = read_webhook(body, carrier=carrier)
    except CarrierResponseError as exc:
        raise InvalidRequest([FieldError("body", str(exc))], title="Not a status call") from None
    matches = [shipments.c.carrier_ref == call.uuid]
    if call.cdek_number:
        matches.append(shipments.c.tracking_number == call.cdek_number)
    if call.number:
        matches.append(shipments.c.id == call.number)
    query = sa.select(shipments.c.id).where(shipments.c.carrier == carrier, sa.or_(*matches)).limit(1)
    async with request.app[keys.RECORDS].read() as conn:
        shipment_id = (await conn.execute(query)).scalar_one_or_none()
    if shipment_id is None:
        # Not ours (another system on the same account): answered, so the carrier stops resending it.
        log.info("inbound %s status call for an order not booked here (%s)", carrier, call.uuid)
        return web.json_response({"taken": False})
    changed = await request.app[keys.TRACKER].take(shipment_id, [call.event], "webhook")
    return web.json_response({"taken": True, "changed": changed})


async def _label_made(request: web.Request, carrier: str, call: PrintFormCall) -> web.Response:
    try:
        taken = await request.app[keys.SHIPPER].papers.label_made(carrier, call.uuid, call.attributes.url)
    except CarriersError as exc:
        # Not fetched now: the label job still looks for it, so the call need not come again.
        log.warning("inbound %s print form %s: the label was not fetched (%s)", carrier, call.uuid, exc)
        taken = False
    if not taken:
        # Another system's print request on the same account, or a label kept already (a
        # duplicate call, or the job was first): answered, so the carrier stops resending it.
        log.info("inbound %s print form %s: nothing to keep", carrier, call.uuid)
    return web.json_response({"taken": taken})
