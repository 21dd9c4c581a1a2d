from __future__ import annotations

from aiohttp import web

from router.core.errors import FieldError, InvalidRequest
from router.http import appkeys as keys
from router.http.handlers.answering import json_answer
from router.http.handlers.quotes import readers
from router.http.middlewares.access import API_KEY
from router.http.schemas.decode import decode_json, read_query
from router.http.schemas.shipments import LabelQuery, ManifestQuery, ShipmentQuery
from router.printing import Paper
from router.quoting.book import OPEN
from router.shipping.ledger import Filters
from router.shipping.model import LabelsRequest, PickupRequest, ShipmentRequest

IDEMPOTENCY_KEY = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def owner(request: web.Request) -> str:
    caller = request.get(API_KEY)
    return caller.id if caller is not None else OPEN


def idempotency_key(request: web.Request) -> str:
    key = request.headers.get(IDEMPOTENCY_KEY, "").strip()
    if not key:
        raise InvalidRequest(
            [FieldError(IDEMPOTENCY_KEY, "required: a key of your own (a UUID) that a retry of this booking repeats")],
            title="Missing Idempotency-Key",
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest([FieldError(IDEMPOTENCY_KEY, f"1 to {MAX_KEY_LENGTH} printable characters")])
    return key


async def create_shipment(request: web.Request) -> web.Response:
    key = idempotency_key(request)
    body = decode_json(await request.read(), ShipmentRequest, title="Invalid shipment")
    shipment, made = await request.app[keys.SHIPPER].book(
        body, owner=owner(request), idempotency_key=key, readers=await readers(request)
    )
    # Every answer for the key is the first one's: the same status, the same body.
    response = json_answer(shipment, 201)
    if not made:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/shipments/{shipment.id}"
    return response


async def list_shipments(request: web.Request) -> web.Response:
    query = read_query(request.query, ShipmentQuery, title="Invalid shipment query")
    filters = Filters(
        status=query.status,
        carrier=query.carrier,
        order_number=query.order_number,
        created_from=query.created_from,
        created_to=query.created_to,
        ship_date=query.ship_date,
        warehouse=query.warehouse,
    )
    page = await request.app[keys.SHIPPER].page(owner(request), filters, limit=query.limit, cursor=query.cursor)
    return json_answer(page)


async def get_shipment(request: web.Request) -> web.Response:
    return json_answer(await request.app[keys.SHIPPER].get(request.match_info["shipment_id"], owner(request)))


async def cancel_shipment(request: web.Request) -> web.Response:
    return json_answer(await request.app[keys.SHIPPER].cancel(request.match_info["shipment_id"], owner(request)))


def _pdf(body: bytes, name: str) -> web.Response:
    return web.Response(
        body=body, content_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


async def shipment_label(request: web.Request) -> web.Response:
    query = read_query(request.query, LabelQuery, title="Invalid label query")
    shipment_id = request.match_info["shipment_id"]
    pdf = await request.app[keys.SHIPPER].papers.label(shipment_id, owner(request), Paper(query.format))
    return _pdf(pdf, f"{shipment_id}.pdf")


async def merge_labels(request: web.Request) -> web.Response:
    body = decode_json(await request.read(), LabelsRequest, title="Invalid labels request")
    pdf = await request.app[keys.SHIPPER].papers.labels(body.shipment_ids, owner(request), Paper(body.format))
    return _pdf(pdf, "labels.pdf")


async def manifest(request: web.Request) -> web.Response:
    query = read_query(request.query, ManifestQuery, title="Invalid manifest query")
    document = await request.app[keys.SHIPPER].papers.manifest(
        owner(request), query.carrier, query.date, query.warehouse, query.format
    )
    name = f"manifest-{query.carrier}-{query.date.isoformat()}{'-' + query.warehouse if query.warehouse else ''}"
    if query.format == "pdf":
        return _pdf(document, name + ".pdf")
    return web.Response(
        body=document,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


async def create_pickup(request: web.Request) -> web.Response:
    body = decode_json(await request.read(), PickupRequest, title="Invalid pick-up")
    return json_answer(await request.app[keys.SHIPPER].papers.request_pickup(owner(request), body), 201)


async def cancel_pickup(request: web.Request) -> web.Response:
    return json_answer(
        await request.app[keys.SHIPPER].papers.cancel_pickup(owner(request), request.match_info["pickup_id"])
    )
