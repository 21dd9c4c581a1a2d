from __future__ import annotations

from aiohttp import web

from router.http import appkeys as keys
from router.http.handlers.answering import json_answer
from router.http.handlers.shipments import owner
from router.http.schemas.decode import decode_json, read_query
from router.webhooks.model import DeliveryQuery, ReplayRequest, WebhookRequest


async def create_webhook(request: web.Request) -> web.Response:
    body = decode_json(await request.read(), WebhookRequest, title="Invalid webhook")
    return json_answer(await request.app[keys.WEBHOOKS].create(owner(request), body), 201)


async def list_webhooks(request: web.Request) -> web.Response:
    return json_answer(await request.app[keys.WEBHOOKS].endpoints(owner(request)))


async def delete_webhook(request: web.Request) -> web.Response:
    await request.app[keys.WEBHOOKS].delete(owner(request), request.match_info["webhook_id"])
    return web.Response(status=204)


async def webhook_deliveries(request: web.Request) -> web.Response:
    query = read_query(request.query, DeliveryQuery)
    answer = await request.app[keys.WEBHOOKS].deliveries(
        owner(request), request.match_info["webhook_id"], state=query.state, limit=query.limit
    )
    return json_answer(answer)


async def replay_webhook(request: web.Request) -> web.Response:
    raw = await request.read()
    body = decode_json(raw, ReplayRequest) if raw.strip() else ReplayRequest()
    ids = None if body.event_ids is None else [int(i) for i in body.event_ids]
    return json_answer(await request.app[keys.WEBHOOKS].replay(owner(request), request.match_info["webhook_id"], ids))
