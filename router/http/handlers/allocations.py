from __future__ import annotations

from aiohttp import web

from router.allocation import allocate, check_warehouses
from router.allocation.codec import plan_answer, rejected_line
from router.core.codec import encode
from router.core.errors import FieldError, InvalidRequest
from router.http import appkeys as keys
from router.http.schemas.allocations import parse_allocation, parse_allocation_ndjson
from router.http.schemas.wire import MAX_ORDERS

NDJSON_TYPES = ("application/x-ndjson", "application/jsonl")
# Far above the quote limit, read here rather than by aiohttp's client_max_size (which caps every
# other route at a few kilobytes), and capped by kind before anything is decoded. One JSON
# document is decoded whole, into objects some twenty times its size: 16 MiB holds 100,000
# orders of a parcel each. An NDJSON body is decoded a line at a time, so it may be larger; what
# bounds its memory is the count of lines, checked as they arrive.
MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_NDJSON_BYTES = 32 * 1024 * 1024
# The header, every order, and as many blank lines again at most: `{}` lines by the million
# would each become an object before the order count could refuse them.
MAX_NDJSON_LINES = 2 * (MAX_ORDERS + 1)


async def create_allocation(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    engine = request.app[keys.ENGINE]
    if request.content_type in NDJSON_TYPES:
        raw = await _body(request, MAX_NDJSON_BYTES, max_lines=MAX_NDJSON_LINES)
        parsed = parse_allocation_ndjson(raw, max_parcels=settings.max_parcels)
    else:
        raw = await _body(request, MAX_JSON_BYTES)
        parsed = parse_allocation(raw, max_parcels=settings.max_parcels)
    check_warehouses(engine, parsed.warehouses)
    plan = await allocate(
        engine, parsed.orders, parsed.warehouses, parsed.terms, parsed.options, parsed.method, parsed.ship_at
    )
    rejected = [rejected_line(r.line, ((e.path, e.message) for e in r.errors)) for r in parsed.rejected]
    return web.Response(body=encode(plan_answer(plan, rejected)), content_type="application/json")


async def _body(request: web.Request, max_bytes: int, max_lines: int | None = None) -> bytes:
    if request.content_length is not None and request.content_length > max_bytes:
        # Refused on its announced length, before any of it is read.
        raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=request.content_length)
    chunks: list[bytes] = []
    size = lines = 0
    while chunk := await request.content.read(1 << 16):
        size += len(chunk)
        if size > max_bytes:
            raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=size)
        if max_lines is not None:
            lines += chunk.count(b"\n")
            if lines > max_lines:
                message = f"more than {max_lines} lines; at most {MAX_ORDERS} orders in one request"
                raise InvalidRequest([FieldError("body", message)])
        chunks.append(chunk)
    return b"".join(chunks)
