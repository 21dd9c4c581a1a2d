from __future__ import annotations

import msgspec
from aiohttp import web

from router.core.errors import FieldError, InvalidRequest
from router.http import appkeys as keys
from router.http.handlers.quotes import readers
from router.http.middlewares.access import API_KEY
from router.http.schemas.decode import decode_json, read_query
from router.http.schemas.shipments import ShipmentQuery
from router.quoting.book import OPEN
from router.shipping.ledger import Filters
from router.shipping.model import ShipmentRequest

IDEMPOTENCY_KEY = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def owner(request: web.Request) -> str:
    caller = request.get(API_KEY)
    return caller.id if caller is not None else OPEN


def _json(answer: msgspec.Struct, status: int = 200) -> web.Response:
    return web.Response(status=status, body=msgspec.json.encode(answer), content_type="application/json")


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
    response = _json(shipment, 201)
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
    return _json(page)


async def get_shipment(request: web.Request) -> web.Response:
    return _json(await request.app[keys.SHIPPER].get(request.match_info["shipment_id"], owner(request)))


async def cancel_shipment(request: web.Request) -> web.Response:
    return _json(await request.app[keys.SHIPPER].cancel(request.match_info["shipment_id"], owner(request)))
