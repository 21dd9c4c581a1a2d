from __future__ import annotations

from aiohttp import web

from router.allocation import allocate, check_warehouses
from router.allocation.codec import plan_answer, rejected_line
from router.core.codec import encode
from router.http import appkeys as keys
from router.http.schemas.allocations import parse_allocation, parse_allocation_ndjson

NDJSON_TYPES = ("application/x-ndjson", "application/jsonl")
# Far above the quote limit: a day's orders for a big shop. Read here, not by aiohttp's
# client_max_size, which caps every other route at a few kilobytes.
MAX_ALLOCATION_BYTES = 32 * 1024 * 1024


async def create_allocation(request: web.Request) -> web.Response:
    settings = request.app[keys.SETTINGS]
    engine = request.app[keys.ENGINE]
    raw = await _body(request)
    if request.content_type in NDJSON_TYPES:
        parsed = parse_allocation_ndjson(raw, max_parcels=settings.max_parcels)
    else:
        parsed = parse_allocation(raw, max_parcels=settings.max_parcels)
    check_warehouses(engine, parsed.warehouses)
    plan = await allocate(
        engine, parsed.orders, parsed.warehouses, parsed.terms, parsed.options, parsed.method, parsed.ship_at
    )
    rejected = [rejected_line(r.line, ((e.path, e.message) for e in r.errors)) for r in parsed.rejected]
    return web.Response(body=encode(plan_answer(plan, rejected)), content_type="application/json")


async def _body(request: web.Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(1 << 16):
        size += len(chunk)
        if size > MAX_ALLOCATION_BYTES:
            raise web.HTTPRequestEntityTooLarge(max_size=MAX_ALLOCATION_BYTES, actual_size=size)
        chunks.append(chunk)
    return b"".join(chunks)
